// Runs a JobGraph: every subtask is a task on the worker pool, bounded channels between them.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "base/log.h"
#include "base/status.h"
#include "runtime/checkpoint_coordinator.h"
#include "runtime/operator.h"
#include "runtime/stream.h"
#include "runtime/subtask_outputs.h"
#include "runtime/timer_service.h"
#include "runtime/worker_pool.h"
#include "state/serializer.h"

namespace eddy::runtime {

namespace {

using internal::ChainOutput;
using internal::CoalescingOutput;
using internal::EdgeOutput;
using internal::FanOutput;

class Job;

// One subtask of a vertex, scheduled on the worker pool. A slice handles a bounded number of input
// elements (or one source step) and stops early when an output channel is full (backpressure) or
// the input it needs next is not there.
class Subtask final : public Task {
 public:
  Subtask(WorkerPool* pool, Job* job) : Task(pool), job_(job) {}
  ~Subtask() override { CloseAll(); }

  Slice RunSlice() override;
  void OnDone() override;

  int vertex = 0;
  SubtaskInfo info;
  const VertexSpec* spec = nullptr;
  CancelFlag* cancel = nullptr;
  std::unique_ptr<InputGate> gate;
  std::unique_ptr<SourceOperator> source;
  std::vector<std::unique_ptr<StreamOperator>> chain;
  std::unique_ptr<FanOutput> out;
  std::unique_ptr<FanOutput> late_out;
  std::vector<std::unique_ptr<ChainOutput>> links;
  SourceOutput* head_out = nullptr;                 // output of chain[0] (the next link or `out`)
  std::unique_ptr<ChainOutput> source_out;          // sources: into chain[0], when there is one
  std::unique_ptr<CoalescingOutput> coalesce;       // sources: gathers small batches, or null
  std::vector<std::pair<InputGate*, int>> targets;  // every channel this subtask writes to
  int64_t current_wm = INT64_MIN;
  SubtaskMetrics* metrics = nullptr;  // this subtask's live figures (never null once built)

  /// Input-side state (consumers).
  void InitInput();
  /// Opens every operator (and restores its state when the job restores). Called before the
  /// job starts, on the thread that builds the job.
  absl::Status OpenAll(const std::vector<const state::SubtaskSnapshot*>* restore,
                       bool ignore_unclaimed);
  /// Closes every operator once (idempotent).
  void CloseAll();
  /// The next processing-time timer of any operator (ms), INT64_MAX when none.
  int64_t NextProcessingTime() const;

 private:
  // Elements one slice takes from its input gate before handing the thread back.
  static constexpr int kSliceElements = 16;
  // Slot layout of a subtask snapshot: the source, the chain's operators, the input gate.
  int GateSlot() const { return 1 + static_cast<int>(chain.size()); }

  absl::Status Slice1(Slice* result);
  absl::Status SourceSlice(Slice* result);
  absl::Status InputSlice(Slice* result);
  absl::Status Housekeeping();
  /// Publishes the operators' state size and keys to `metrics` and checks
  /// 'table.exec.state.max-bytes', at most once a second (`now_ns`: steady clock) or now with
  /// `force` (at the end of the input, when a short job may never have reached a timed check).
  absl::Status CheckState(int64_t now_ns, bool force);
  bool OutputFull() {
    for (const auto& [g, ch] : targets) {
      if (g->Full(ch)) return output_full_ = true;
    }
    return false;
  }
  absl::Status Advance(int64_t wm) {
    if (wm <= current_wm) return absl::OkStatus();
    current_wm = wm;
    return chain[0]->ProcessWatermark(wm, head_out);
  }
  absl::Status Process(StreamElement& e, int ch);
  absl::Status Handle(StreamElement& e, int ch);
  absl::Status OnBarrier(int64_t id, int ch);
  absl::Status MaybeCompleteAlignment();
  absl::Status MinWatermarkChanged();
  absl::Status End();
  absl::Status FinishChain();
  SourceOutput* OutputOf(size_t k) const {
    return k + 1 < chain.size() ? static_cast<SourceOutput*>(links[chain.size() - 2 - k].get())
                                : static_cast<SourceOutput*>(out.get());
  }
  // Snapshots every slot into `snap` (and the sink's committables); `full`: operator state too
  // (false: committables only, for a job without checkpoints).
  absl::Status TakeSnapshot(int64_t id, bool full, state::SubtaskSnapshot* snap);
  // Runs the asynchronous parts TakeSnapshot collected on this thread now (final snapshots),
  // after any checkpoint's acknowledgement still in flight.
  absl::Status RunAsyncPartsNow();
  // Waits for the acknowledgement of the last checkpoint, if it is still in flight.
  void WaitAsyncAck() {
    if (async_ack_.valid()) async_ack_.wait();
  }
  // Snapshot, barrier downstream, acknowledgement: the subtask's part of checkpoint `id`.
  absl::Status Checkpoint(int64_t id);

  Job* job_;
  std::vector<std::unique_ptr<TimerService>> timers_;  // per chain operator
  std::vector<OperatorContext> ctxs_;                  // per chain operator
  std::unique_ptr<TimerService> source_timers_;
  OperatorContext source_ctx_;
  bool opened_ = false;
  bool closed_ = false;
  bool ordered_ = false;
  int wm_col_ = -1;
  std::vector<int64_t> ch_wm_;
  std::vector<bool> ended_;
  std::vector<bool> idle_;          // channel sent kIdle and nothing since
  std::vector<int> channel_input_;  // channel → input edge index
  bool sent_idle_ = false;          // this subtask told its consumers it is idle
  int ended_count_ = 0;
  int64_t base_wm_ = INT64_MIN;  // ordered: watermark after all fully consumed chunks
  int64_t next_chunk_ = 0;
  bool draining_ = false;  // ordered: the next chunk does not exist; wait for every End
  // Checkpoints.
  int64_t last_barrier_ = 0;   // the last checkpoint this subtask took part in
  int64_t aligning_ = 0;       // checkpoint whose barriers are being aligned, 0 when none
  std::vector<char> blocked_;  // channels whose barrier of `aligning_` has arrived
  int64_t notified_ = 0;       // last completed checkpoint the operators were told of
  int64_t last_state_check_ns_ = 0;
  bool output_full_ = false;  // the current slice stopped at a full output channel
  // Asynchronous parts of the snapshot being taken (TakeAsyncPreCommit), and the thread that
  // runs the last checkpoint's parts and then acknowledges it.
  std::vector<std::function<absl::Status()>> async_parts_;
  std::future<void> async_ack_;
};

class Job {
 public:
  Job(JobGraph& g, CancelFlag* cancel, WorkerPool* pool, const CheckpointConfig* cp,
      CheckpointStats* stats)
      : g_(g), cancel_(cancel), pool_(pool), cp_(cp ? *cp : CheckpointConfig()), stats_(stats) {}
  ~Job() {
    // Subtasks close their operators before the coordinator (which commits) goes away.
    subtasks_.clear();
  }

  absl::Status Build() {
    auto build_start = std::chrono::steady_clock::now();
    int nv = static_cast<int>(g_.vertices.size());
    subtasks_.resize(nv);
    for (int v = 0; v < nv; ++v) {
      auto& spec = g_.vertices[v];
      for (int i = 0; i < spec.parallelism; ++i) {
        auto st = std::make_unique<Subtask>(pool_, this);
        st->vertex = v;
        st->spec = &spec;
        st->cancel = cancel_;
        st->info = {i, spec.parallelism, g_.max_parallelism};
        int channels = 0;
        for (size_t e = 0; e < spec.inputs.size(); ++e) channels += ChannelsOf(spec.inputs[e]);
        if (channels > 0) {
          st->gate = std::make_unique<InputGate>(channels, g_.channel_capacity);
          st->gate->SetConsumer(st.get());
        }
        subtasks_[v].push_back(std::move(st));
      }
    }
    // Wire outputs: for each consumer edge, producer subtask j writes channel offset+j.
    for (int v = 0; v < nv; ++v) {
      for (auto& st : subtasks_[v]) {
        std::vector<std::unique_ptr<EdgeOutput>> main, late;
        for (int c = 0; c < nv; ++c) {
          auto& cs = g_.vertices[c];
          int offset = 0;
          for (const auto& edge : cs.inputs) {
            if (edge.from == v) {
              std::vector<InputGate*> gates;
              for (auto& cst : subtasks_[c]) gates.push_back(cst->gate.get());
              // A forward edge gives each consumer one channel, from its own producer.
              int ch =
                  edge.partitioning == Partitioning::kForward ? offset : offset + st->info.index;
              auto eo =
                  std::make_unique<EdgeOutput>(edge, gates, ch, st->info.index, g_.max_parallelism);
              for (int t : eo->Targets()) gates[t]->SetProducer(ch, st.get());
              (edge.output_tag == 0 ? main : late).push_back(std::move(eo));
            }
            offset += ChannelsOf(edge);
          }
        }
        st->metrics = g_.vertices[v].metrics->Subtask(st->info.index);
        st->out = std::make_unique<FanOutput>(std::move(main), g_.vertices[v].metrics.get(),
                                              cancel_, st->metrics);
        st->out->CollectTargets(&st->targets);
        if (!late.empty()) {
          st->late_out = std::make_unique<FanOutput>(std::move(late), &late_metrics_, cancel_);
          st->late_out->CollectTargets(&st->targets);
        }
        auto& spec = g_.vertices[v];
        if (spec.make_source) {
          EDDY_ASSIGN_OR_RETURN(st->source, spec.make_source(st->info));
        }
        if (spec.make_chain) {
          EDDY_ASSIGN_OR_RETURN(st->chain, spec.make_chain(st->info));
        }
        if (!st->source && st->chain.empty()) {
          return absl::InternalError(fmt::format("vertex {} has no operators", spec.name));
        }
        for (size_t k = 1; k < st->chain.size(); ++k) {
          if (st->chain[k]->num_inputs() != 1) {
            return absl::InternalError(
                fmt::format("vertex {}: a two-input operator must head its chain", spec.name));
          }
        }
        if (!st->chain.empty() &&
            st->chain[0]->num_inputs() != std::max<int>(1, static_cast<int>(spec.inputs.size()))) {
          return absl::InternalError(fmt::format(
              "vertex {}: its first operator takes {} inputs, the vertex has {} input edges",
              spec.name, st->chain[0]->num_inputs(), spec.inputs.size()));
        }
        // Link chain: op[k] → op[k+1] → … → out.
        SourceOutput* next = st->out.get();
        for (int k = static_cast<int>(st->chain.size()) - 1; k >= 1; --k) {
          st->links.push_back(std::make_unique<ChainOutput>(
              static_cast<OneInputOperator*>(st->chain[k].get()), next, &st->current_wm));
          next = st->links.back().get();
        }
        st->head_out = next;
        if (st->source && !st->chain.empty()) {
          st->source_out = std::make_unique<ChainOutput>(
              static_cast<OneInputOperator*>(st->chain[0].get()), next, &st->current_wm);
        }
        if (st->source && g_.buffer_timeout_us > 0) {
          SourceOutput* target = st->source_out ? st->source_out.get() : st->head_out;
          st->coalesce =
              std::make_unique<CoalescingOutput>(target, g_.batch_rows, g_.buffer_timeout_us);
        }
        if (st->gate) st->InitInput();
      }
    }
    // The checkpoint coordinator (also without checkpoints: it commits the sinks at the end).
    std::vector<CheckpointCoordinator::VertexInfo> infos;
    for (int v = 0; v < nv; ++v) {
      CheckpointCoordinator::VertexInfo vi;
      vi.uid = VertexUid(v);
      vi.name = g_.vertices[v].name;
      vi.parallelism = g_.vertices[v].parallelism;
      vi.committer = g_.vertices[v].committer;
      infos.push_back(std::move(vi));
    }
    int64_t first_id = cp_.restore ? cp_.restore->manifest.checkpoint_id + 1 : 1;
    coordinator_ = std::make_unique<CheckpointCoordinator>(cp_, std::move(infos),
                                                           g_.max_parallelism, first_id, stats_);
    // Restore: the old job must have the same vertices; operators get their key groups.
    if (cp_.restore) {
      const auto& m = cp_.restore->manifest;
      if (m.max_parallelism != g_.max_parallelism) {
        return absl::FailedPreconditionError(fmt::format(
            "cannot restore {}: it was taken with 'pipeline.max-parallelism' = {}, the job has {} "
            "(key groups cannot change)",
            cp_.restore->path, m.max_parallelism, g_.max_parallelism));
      }
      if (m.vertices.size() != static_cast<size_t>(nv)) {
        return absl::FailedPreconditionError(fmt::format(
            "cannot restore {}: it holds the state of a job with {} vertices, this job has {} "
            "(the query changed)",
            cp_.restore->path, m.vertices.size(), nv));
      }
    }
    for (int v = 0; v < nv; ++v) {
      std::vector<const state::SubtaskSnapshot*> olds;
      if (cp_.restore) {
        for (const auto& s : cp_.restore->vertices[v]) olds.push_back(&s);
      }
      for (auto& st : subtasks_[v]) {
        absl::Status s = st->OpenAll(cp_.restore ? &olds : nullptr, cp_.ignore_unclaimed_state);
        if (!s.ok()) {
          return absl::Status(s.code(),
                              fmt::format("{}: {}", g_.vertices[v].name, std::string(s.message())));
        }
      }
    }
    if (cp_.restore) {
      int64_t bytes = 0;
      for (const auto& v : cp_.restore->manifest.vertices) {
        for (uint64_t b : v.bytes) bytes += static_cast<int64_t>(b);
      }
      spdlog::info(
          "job {}: state of checkpoint {} restored ({} bytes) in {:.0f} ms", cp_.job_id,
          cp_.restore->manifest.checkpoint_id, bytes,
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - build_start)
              .count());
    }
    // Only once the restored state fits every operator: publish what the checkpoint had prepared
    // (again: committing is idempotent) and drop what later attempts left unpublished.
    if (cp_.restore) {
      EDDY_RETURN_IF_ERROR(coordinator_->RecommitRestored(*cp_.restore));
    } else {
      // A fresh start: what earlier runs of this job prepared and never committed is garbage.
      EDDY_RETURN_IF_ERROR(coordinator_->CleanUpAtStart());
    }
    return absl::OkStatus();
  }

  // Channels an edge contributes to each consumer's gate.
  int ChannelsOf(const EdgeSpec& e) const {
    return e.partitioning == Partitioning::kForward ? 1 : g_.vertices[e.from].parallelism;
  }
  // What a vertex is, for the manifest: its name (the operators' descriptions).
  std::string VertexUid(int v) const { return g_.vertices[v].name; }

  absl::Status Run() {
    int total = 0;
    for (auto& vs : subtasks_) total += static_cast<int>(vs.size());
    running_ = total;
    // Every subtask runs once at the start; consumers park until their input arrives.
    for (auto& vs : subtasks_) {
      for (auto& st : vs) st->Wake();
    }
    std::unique_lock<std::mutex> l(mu_);
    bool woke_for_cancel = false;
    while (running_ > 0) {
      // Cancellation from outside (Ctrl-C) sets the flag without telling anyone: look every
      // 50 ms (1 ms while sources sleep or a timer is near) and wake every subtask so each one
      // sees it.
      auto wait = std::chrono::milliseconds(ticking_ ? 1 : 50);
      if (!proc_wakes_.empty()) {
        int64_t due = proc_wakes_.begin()->first - NowMs();
        wait = std::min<std::chrono::milliseconds>(
            wait, std::chrono::milliseconds(std::max<int64_t>(0, due)));
      }
      done_cv_.wait_for(l, wait);
      if (!sleeping_.empty()) {
        std::vector<Subtask*> wake;
        wake.swap(sleeping_);
        l.unlock();
        for (Subtask* t : wake) t->Wake();
        l.lock();
      }
      if (!proc_wakes_.empty()) {
        std::vector<Subtask*> wake;
        int64_t now = NowMs();
        while (!proc_wakes_.empty() && proc_wakes_.begin()->first <= now) {
          wake.push_back(proc_wakes_.begin()->second);
          proc_wakes_.erase(proc_wakes_.begin());
        }
        l.unlock();
        for (Subtask* t : wake) t->Wake();
        l.lock();
      }
      if (cancel_->cancelled.load() && !woke_for_cancel) {
        woke_for_cancel = true;
        l.unlock();
        WakeAll();
        l.lock();
      }
      if (!cancel_->cancelled.load()) {
        l.unlock();
        CheckpointTick();
        l.lock();
      }
    }
    l.unlock();
    absl::Status status;
    {
      std::lock_guard<std::mutex> g(mu_);
      status = first_error_;
    }
    // Cancelled from outside (Ctrl-C): the job did not finish, even if no subtask failed.
    if (status.ok() && cancel_->cancelled.load()) {
      status = absl::CancelledError("the job was cancelled");
    }
    if (status.ok()) status = coordinator_->FinishJob();
    if (!status.ok()) coordinator_->AbortJob();
    return status;
  }

  // Triggers periodic checkpoints (and a requested stop with savepoint) and tells subtasks which
  // completed.
  void CheckpointTick() {
    int64_t triggered = 0;
    if (cp_.stop_requested && cp_.stop_requested->load() && savepoint_id_.load() == 0) {
      triggered = coordinator_->TriggerSavepoint(cp_.savepoint_dir);
      savepoint_id_.store(triggered);
    } else if (savepoint_id_.load() == 0) {
      triggered = coordinator_->MaybeTrigger();
    }
    if (triggered > 0) {
      // Sources see the trigger at their next slice: wake them now.
      for (auto& vs : subtasks_) {
        for (auto& st : vs) {
          if (st->source) st->Wake();
        }
      }
    }
    for (int64_t id : coordinator_->TakeCompleted()) {
      completed_.store(id, std::memory_order_release);
      WakeAll();
      if (id == savepoint_id_.load()) {
        // Stop with savepoint: the output up to it is committed; the rest is dropped.
        spdlog::info("job {} stopped with a savepoint in {}", cp_.job_id, cp_.savepoint_dir);
        if (!cancel_->cancelled.exchange(true)) WakeAll();
      }
    }
    absl::Status e = coordinator_->error();
    if (!e.ok()) Fail(e);
  }

  void Fail(const absl::Status& s) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (first_error_.ok() && !(absl::IsCancelled(s) && cancel_->cancelled.load()))
        first_error_ = s;
    }
    if (!cancel_->cancelled.exchange(true)) WakeAll();
  }

  // A source with nothing to read: woken again by Run() about 1 ms later.
  void Sleep(Subtask* t) {
    std::lock_guard<std::mutex> l(mu_);
    sleeping_.push_back(t);
    // The first sleeper switches Run() from 50 ms to 1 ms ticks.
    if (!ticking_) {
      ticking_ = true;
      done_cv_.notify_all();
    }
  }

  // Wakes `t` at processing time `at_ms` (its next processing-time timer).
  void WakeAt(Subtask* t, int64_t at_ms) {
    std::lock_guard<std::mutex> l(mu_);
    for (auto it = proc_wakes_.begin(); it != proc_wakes_.end(); ++it) {
      if (it->second == t) {
        if (it->first <= at_ms) return;
        proc_wakes_.erase(it);
        break;
      }
    }
    proc_wakes_.emplace(at_ms, t);
    done_cv_.notify_all();
  }

  void SubtaskDone() {
    std::lock_guard<std::mutex> l(mu_);
    if (--running_ == 0) done_cv_.notify_all();
  }

  CheckpointCoordinator* coordinator() { return coordinator_.get(); }
  int64_t max_state_bytes() const { return g_.max_state_bytes; }
  bool checkpointing() const { return !cp_.dir.empty() && cp_.interval_ms > 0; }
  int64_t completed_checkpoint() const { return completed_.load(std::memory_order_acquire); }
  /// The stop-with-savepoint checkpoint once triggered, else 0.
  int64_t savepoint_id() const { return savepoint_id_.load(); }
  static int64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

 private:
  void WakeAll() {
    for (auto& vs : subtasks_) {
      for (auto& st : vs) st->Wake();
    }
  }

  JobGraph& g_;
  CancelFlag* cancel_;
  WorkerPool* pool_;
  CheckpointConfig cp_;
  CheckpointStats* stats_;
  std::unique_ptr<CheckpointCoordinator> coordinator_;
  std::vector<std::vector<std::unique_ptr<Subtask>>> subtasks_;
  OperatorMetrics late_metrics_;
  std::mutex mu_;
  std::condition_variable done_cv_;
  int running_ = 0;
  std::vector<Subtask*> sleeping_;               // idle sources to wake at the next tick
  bool ticking_ = false;                         // a source has slept: tick every 1 ms
  std::multimap<int64_t, Subtask*> proc_wakes_;  // processing-time timers: when to wake whom
  std::atomic<int64_t> completed_{0};
  // The stop-with-savepoint checkpoint, once triggered (read by source subtasks).
  std::atomic<int64_t> savepoint_id_{0};
  absl::Status first_error_;
};

void Subtask::InitInput() {
  ordered_ = !spec->inputs.empty() && spec->inputs[0].ordered;
  wm_col_ = ordered_ ? spec->inputs[0].row_watermark_column : -1;
  int n = gate->channels();
  ch_wm_.assign(n, INT64_MIN);
  ended_.assign(n, false);
  idle_.assign(n, false);
  // Which input (edge) each channel belongs to: edges contribute channels in order.
  channel_input_.assign(n, 0);
  int ch = 0;
  for (size_t e = 0; e < spec->inputs.size(); ++e) {
    int count = job_->ChannelsOf(spec->inputs[e]);
    for (int k = 0; k < count && ch < n; ++k) channel_input_[ch++] = static_cast<int>(e);
  }
}

absl::Status Subtask::OpenAll(const std::vector<const state::SubtaskSnapshot*>* restore,
                              bool ignore_unclaimed) {
  state::KeyGroupRange range =
      state::KeyGroupRange::Of(info.index, info.parallelism, info.max_parallelism);
  auto clock = [] { return Job::NowMs(); };
  // The old subtasks' snapshots of slot `slot`, and a check that they fit `uid`.
  auto olds_of = [&](int slot, const std::string& uid,
                     const std::string& what) -> absl::StatusOr<state::OperatorRestore> {
    if (!restore) return state::OperatorRestore();
    std::vector<const state::OperatorSnapshot*> olds;
    for (const auto* snap : *restore) {
      if (slot >= static_cast<int>(snap->operators.size())) continue;
      const state::OperatorSnapshot& o = snap->operators[static_cast<size_t>(slot)];
      if (o.empty() && o.uid.empty()) continue;
      if (uid.empty()) {
        if (!o.empty() && !ignore_unclaimed) {
          return absl::FailedPreconditionError(fmt::format(
              "the restored state of operator '{}' has no operator to take it in this job ({} "
              "keeps no state); set 'execution.savepoint.ignore-unclaimed-state' = 'true' to drop "
              "it",
              o.uid, what));
        }
        continue;
      }
      if (o.uid != uid) {
        return absl::FailedPreconditionError(fmt::format(
            "the restored state of operator '{}' does not fit operator '{}' of this job (the "
            "query changed)",
            o.uid, uid));
      }
      olds.push_back(&o);
    }
    return state::OperatorRestore(std::move(olds), range);
  };
  if (source) {
    source_timers_ = std::make_unique<TimerService>(range);
    source_ctx_.subtask = info;
    source_ctx_.key_groups = range;
    source_ctx_.timers = source_timers_.get();
    source_ctx_.metrics = spec->metrics.get();
    source_ctx_.clock_ms = clock;
    source_ctx_.cancelled = &cancel->cancelled;
    EDDY_RETURN_IF_ERROR(source->Open(source_ctx_));
    EDDY_ASSIGN_OR_RETURN(state::OperatorRestore r, olds_of(0, source->uid(), "the source"));
    if (r.restored()) EDDY_RETURN_IF_ERROR(source->InitializeState(r));
  }
  timers_.clear();
  ctxs_.assign(chain.size(), OperatorContext());
  for (size_t k = 0; k < chain.size(); ++k) {
    timers_.push_back(std::make_unique<TimerService>(range));
    OperatorContext& c = ctxs_[k];
    c.subtask = info;
    c.key_groups = range;
    c.timers = timers_.back().get();
    c.late = late_out.get();
    c.metrics = spec->metrics.get();
    c.clock_ms = clock;
    c.cancelled = &cancel->cancelled;
  }
  opened_ = true;
  for (size_t k = 0; k < chain.size(); ++k) {
    EDDY_RETURN_IF_ERROR(chain[k]->Open(ctxs_[k]));
    EDDY_ASSIGN_OR_RETURN(state::OperatorRestore r,
                          olds_of(1 + static_cast<int>(k), chain[k]->uid(), "an operator"));
    if (r.restored()) {
      EDDY_RETURN_IF_ERROR(timers_[k]->Restore(r, kTimerSection));
      EDDY_RETURN_IF_ERROR(chain[k]->InitializeState(r));
    }
  }
  if (restore && gate) {
    // The input gate's position: its watermark (the lowest of the old subtasks') and, on an
    // ordered edge, the next chunk (the same in every old subtask: barriers are chunk-aligned).
    bool any = false;
    int64_t wm = INT64_MAX, base = INT64_MAX, chunk = -1;
    for (const auto* snap : *restore) {
      size_t slot = static_cast<size_t>(GateSlot());
      if (slot >= snap->operators.size() || snap->operators[slot].operator_state.empty()) {
        continue;
      }
      state::StateReader r(snap->operators[slot].operator_state);
      int64_t w = 0, b = 0, c = 0;
      EDDY_RETURN_IF_ERROR(r.GetInt64(&w));
      EDDY_RETURN_IF_ERROR(r.GetInt64(&b));
      EDDY_RETURN_IF_ERROR(r.GetInt64(&c));
      // With several channels the next chunk is the file position of the barrier, the same in
      // every old subtask. A one-channel gate (a forward edge) counts only its producer's chunks,
      // which differ between subtasks and do not matter: its next chunk always comes from
      // channel 0.
      if (any && c != chunk && gate->channels() > 1) {
        return absl::DataLossError(
            fmt::format("restored input gates disagree on the next chunk ({} and {})", chunk, c));
      }
      any = true;
      wm = std::min(wm, w);
      base = std::min(base, b);
      chunk = c;
    }
    if (any) {
      current_wm = wm;
      base_wm_ = base;
      next_chunk_ = chunk;
    }
  }
  return absl::OkStatus();
}

void Subtask::CloseAll() {
  WaitAsyncAck();
  if (!opened_ || closed_) return;
  closed_ = true;
  for (auto& op : chain) {
    absl::Status s = op->Close();
    if (!s.ok())
      spdlog::warn("closing an operator of {} failed: {}", spec->name, std::string(s.message()));
  }
  if (source) {
    absl::Status s = source->Close();
    if (!s.ok())
      spdlog::warn("closing the source of {} failed: {}", spec->name, std::string(s.message()));
  }
}

int64_t Subtask::NextProcessingTime() const {
  int64_t t = INT64_MAX;
  for (const auto& ts : timers_) t = std::min(t, ts->NextProcessingTime());
  return t;
}

namespace {
int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

Task::Slice Subtask::RunSlice() {
  // Busy and backpressured time (two clock reads per slice, relaxed stores).
  int64_t start_ns = SteadyNs();
  if (int64_t since = metrics->backpressured_since_ns.load(std::memory_order_relaxed); since > 0) {
    metrics->backpressured_since_ns.store(0, std::memory_order_relaxed);
    metrics->backpressured_ns.fetch_add(start_ns - since, std::memory_order_relaxed);
  }
  output_full_ = false;
  Slice result = Slice::kBlocked;
  absl::Status st =
      cancel->cancelled.load() ? absl::CancelledError("job cancelled") : Slice1(&result);
  int64_t end_ns = SteadyNs();
  metrics->busy_ns.fetch_add(end_ns - start_ns, std::memory_order_relaxed);
  if (!st.ok()) {
    job_->Fail(st);
    return Slice::kDone;
  }
  if (result == Slice::kBlocked && output_full_) {
    metrics->backpressured_since_ns.store(end_ns, std::memory_order_relaxed);
  }
  if (result != Slice::kDone) {
    int64_t next = NextProcessingTime();
    if (next != INT64_MAX) job_->WakeAt(this, next);
    st = CheckState(end_ns, /*force=*/false);
    if (!st.ok()) {
      job_->Fail(st);
      return Slice::kDone;
    }
  }
  return result;
}

// About once a second (or now, `force`): the state of this subtask's operators, walked once
// (a join's StateBytes visits every stored row) for both the metrics and
// 'table.exec.state.max-bytes'.
absl::Status Subtask::CheckState(int64_t now_ns, bool force) {
  if (!force && now_ns - last_state_check_ns_ < 1'000'000'000) return absl::OkStatus();
  last_state_check_ns_ = now_ns;
  int64_t limit = job_->max_state_bytes();
  size_t bytes = source ? source->StateBytes() : 0, keys = source ? source->StateKeys() : 0;
  absl::Status over;
  for (const auto& op : chain) {
    size_t b = op->StateBytes();
    bytes += b;
    keys += op->StateKeys();
    if (limit > 0 && over.ok() && static_cast<int64_t>(b) > limit) {
      over = absl::ResourceExhaustedError(fmt::format(
          "{} (subtask {} of {}) holds {:.1f} MiB of state, more than 'table.exec.state.max-bytes' "
          "= {:.1f} MiB: the job stops instead of exhausting the machine's memory (raise the "
          "limit, set 'table.exec.state.ttl', or bound the state with a window)",
          spec->name, info.index + 1, info.parallelism, b / 1048576.0, limit / 1048576.0));
    }
  }
  metrics->state_bytes.store(static_cast<int64_t>(bytes), std::memory_order_relaxed);
  metrics->state_keys.store(static_cast<int64_t>(keys), std::memory_order_relaxed);
  return over;
}

void Subtask::OnDone() {
  CloseAll();
  job_->SubtaskDone();
}

// Checkpoint notifications and due processing-time timers, at the start of every slice.
absl::Status Subtask::Housekeeping() {
  int64_t done = job_->completed_checkpoint();
  if (done > notified_) {
    notified_ = done;
    if (source) EDDY_RETURN_IF_ERROR(source->NotifyCheckpointComplete(done));
    for (auto& op : chain) EDDY_RETURN_IF_ERROR(op->NotifyCheckpointComplete(done));
  }
  if (!timers_.empty()) {
    int64_t now = Job::NowMs();
    for (size_t k = 0; k < chain.size(); ++k) {
      if (timers_[k]->NextProcessingTime() <= now) {
        EDDY_RETURN_IF_ERROR(chain[k]->OnProcessingTime(now, OutputOf(k)));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Subtask::Slice1(Slice* result) {
  EDDY_RETURN_IF_ERROR(Housekeeping());
  return source ? SourceSlice(result) : InputSlice(result);
}

absl::Status Subtask::TakeSnapshot(int64_t id, bool full, state::SubtaskSnapshot* snap) {
  snap->operators.assign(static_cast<size_t>(GateSlot()) + 1, state::OperatorSnapshot());
  if (source && full) {
    snap->operators[0].uid = source->uid();
    EDDY_RETURN_IF_ERROR(source->SnapshotState(id, &snap->operators[0]));
  }
  for (size_t k = 0; k < chain.size(); ++k) {
    EDDY_RETURN_IF_ERROR(chain[k]->PrepareCommit(&snap->committables));
    if (auto part = chain[k]->TakeAsyncPreCommit()) async_parts_.push_back(std::move(part));
    if (!full) continue;
    state::OperatorSnapshot& o = snap->operators[k + 1];
    o.uid = chain[k]->uid();
    timers_[k]->Snapshot(&o, kTimerSection);
    EDDY_RETURN_IF_ERROR(chain[k]->SnapshotState(id, &o));
  }
  if (gate && full) {
    std::string& g = snap->operators[static_cast<size_t>(GateSlot())].operator_state;
    state::StateWriter w(&g);
    w.PutInt64(current_wm);
    w.PutInt64(base_wm_);
    w.PutInt64(next_chunk_);
  }
  return absl::OkStatus();
}

absl::Status Subtask::Checkpoint(int64_t id) {
  state::SubtaskSnapshot snap;
  EDDY_RETURN_IF_ERROR(TakeSnapshot(id, true, &snap));
  last_barrier_ = id;
  out->EmitBarrier(id);
  if (late_out) late_out->EmitBarrier(id);
  if (async_parts_.empty()) {
    job_->coordinator()->Ack(id, vertex, info.index, std::move(snap));
    return absl::OkStatus();
  }
  // A sink's wait for durability (an fsync) runs beside the processing of what follows the
  // barrier; the acknowledgement follows it, after the previous checkpoint's.
  async_ack_ = std::async(std::launch::async,
                          [this, id, parts = std::move(async_parts_), snap = std::move(snap),
                           prev = std::move(async_ack_)]() mutable {
                            if (prev.valid()) prev.wait();
                            for (auto& part : parts) {
                              absl::Status st = part();
                              if (!st.ok()) return job_->Fail(st);
                            }
                            job_->coordinator()->Ack(id, vertex, info.index, std::move(snap));
                          });
  async_parts_.clear();
  return absl::OkStatus();
}

absl::Status Subtask::RunAsyncPartsNow() {
  WaitAsyncAck();
  std::vector<std::function<absl::Status()>> parts = std::move(async_parts_);
  async_parts_.clear();
  for (auto& part : parts) EDDY_RETURN_IF_ERROR(part());
  return absl::OkStatus();
}

absl::Status Subtask::SourceSlice(Slice* result) {
  int64_t pending = job_->coordinator()->pending();
  if (pending > last_barrier_ && source->BarrierReady(pending)) {
    // Rows read before the barrier belong to the checkpoint: none may wait behind it.
    if (coalesce) EDDY_RETURN_IF_ERROR(coalesce->Flush());
    EDDY_RETURN_IF_ERROR(Checkpoint(pending));
  }
  int64_t savepoint = job_->savepoint_id();
  if (savepoint != 0 && last_barrier_ >= savepoint) {
    // Stop with savepoint (Flink: sources stop after the savepoint barrier): nothing past it is
    // read, so the job cannot run on to the end of its input and commit output the savepoint
    // will replay. The job is cancelled once the savepoint completes.
    job_->Sleep(this);
    *result = Slice::kBlocked;
    return absl::OkStatus();
  }
  if (OutputFull()) {
    *result = Slice::kBlocked;
    return absl::OkStatus();
  }
  SourceOutput* o = coalesce     ? static_cast<SourceOutput*>(coalesce.get())
                    : source_out ? source_out.get()
                                 : head_out;
  EDDY_ASSIGN_OR_RETURN(SourceOperator::Step step, source->NextStep(o));
  if (coalesce) {
    EDDY_RETURN_IF_ERROR(step == SourceOperator::Step::kMore || step == SourceOperator::Step::kIdle
                             ? coalesce->FlushIfDue()
                             : coalesce->Flush());
  }
  switch (step) {
    case SourceOperator::Step::kMore:
      *result = Slice::kYield;
      return absl::OkStatus();
    case SourceOperator::Step::kHalt:
      *result = Slice::kDone;
      return absl::OkStatus();
    case SourceOperator::Step::kIdle:
      job_->Sleep(this);
      *result = Slice::kBlocked;
      return absl::OkStatus();
    case SourceOperator::Step::kEnd:
      break;
  }
  // Operators chained after a source get no maximum watermark here: the consumers' gates apply
  // it when every producer has ended.
  EDDY_RETURN_IF_ERROR(FinishChain());
  state::SubtaskSnapshot final_snap;
  EDDY_RETURN_IF_ERROR(TakeSnapshot(last_barrier_, job_->checkpointing(), &final_snap));
  EDDY_RETURN_IF_ERROR(RunAsyncPartsNow());
  job_->coordinator()->Finished(vertex, info.index, std::move(final_snap));
  out->Close();
  if (late_out) late_out->Close();
  *result = Slice::kDone;
  return absl::OkStatus();
}

absl::Status Subtask::Process(StreamElement& e, int ch) {
  spec->metrics->rows_in += static_cast<int64_t>(e.batch.num_rows());
  metrics->rows_in.fetch_add(static_cast<int64_t>(e.batch.num_rows()), std::memory_order_relaxed);
  RowWatermarks rw;
  rw.base = ordered_ ? base_wm_ : current_wm;
  if (wm_col_ >= 0) rw.local = e.batch.columns[wm_col_].i64.data();
  if (chain[0]->num_inputs() == 2) {
    auto* op = static_cast<TwoInputOperator*>(chain[0].get());
    return channel_input_[ch] == 0 ? op->ProcessBatch1(e.batch, rw, head_out)
                                   : op->ProcessBatch2(e.batch, rw, head_out);
  }
  return static_cast<OneInputOperator*>(chain[0].get())->ProcessBatch(e.batch, rw, head_out);
}

absl::Status Subtask::MinWatermarkChanged() {
  int64_t m = INT64_MAX;
  bool active = false;
  for (size_t c = 0; c < ch_wm_.size(); ++c) {
    if (ended_[c] || idle_[c]) continue;
    m = std::min(m, ch_wm_[c]);
    active = true;
  }
  // Every open input idle: this subtask is idle too (Flink propagates WatermarkStatus.IDLE).
  if (!active) {
    if (sent_idle_ || ended_count_ == static_cast<int>(ended_.size())) return absl::OkStatus();
    sent_idle_ = true;
    return out->EmitIdle();
  }
  if (sent_idle_) {
    // Active again: consumers count this channel from now on, at the watermark they last had
    // from it (INT64_MIN moves nothing), even when ours does not advance.
    sent_idle_ = false;
    EDDY_RETURN_IF_ERROR(out->EmitWatermark(INT64_MIN));
  }
  return Advance(m);
}

absl::Status Subtask::OnBarrier(int64_t id, int ch) {
  if (id <= last_barrier_) return absl::OkStatus();  // of a checkpoint given up already
  if (aligning_ != id) {
    // A newer checkpoint's barrier while an older one aligns: the older one was aborted
    // (timed out) and is given up.
    aligning_ = id;
    blocked_.assign(static_cast<size_t>(gate->channels()), 0);
  }
  blocked_[static_cast<size_t>(ch)] = 1;
  return MaybeCompleteAlignment();
}

// Aligned when every channel has delivered the barrier or has ended (Flink: aligned checkpoints).
absl::Status Subtask::MaybeCompleteAlignment() {
  if (aligning_ == 0) return absl::OkStatus();
  for (size_t c = 0; c < blocked_.size(); ++c) {
    if (!blocked_[c] && !ended_[c]) return absl::OkStatus();
  }
  int64_t id = aligning_;
  aligning_ = 0;
  blocked_.clear();
  return Checkpoint(id);
}

absl::Status Subtask::Handle(StreamElement& e, int ch) {
  switch (e.kind) {
    case StreamElement::Kind::kBatch:
      if (draining_) return absl::InternalError("ordered input: batch after the last chunk");
      if (idle_[ch]) {
        // Active again: its watermark counts from now on (rows below ours are late rows).
        idle_[ch] = false;
        EDDY_RETURN_IF_ERROR(MinWatermarkChanged());
      }
      return Process(e, ch);
    case StreamElement::Kind::kIdle:
      if (ordered_) return absl::OkStatus();
      idle_[ch] = true;
      return MinWatermarkChanged();
    case StreamElement::Kind::kBarrier:
      return OnBarrier(e.checkpoint_id, ch);
    case StreamElement::Kind::kChunkEnd:
      if (ordered_) {
        if (e.watermark > base_wm_) base_wm_ = e.watermark;
        ++next_chunk_;
        return Advance(base_wm_);
      }
      [[fallthrough]];
    case StreamElement::Kind::kWatermark:
      if (ordered_) return absl::OkStatus();
      ch_wm_[ch] = std::max(ch_wm_[ch], e.watermark);
      idle_[ch] = false;
      return MinWatermarkChanged();
    case StreamElement::Kind::kEnd:
      ended_[ch] = true;
      ++ended_count_;
      EDDY_RETURN_IF_ERROR(MaybeCompleteAlignment());
      if (!ordered_ && ended_count_ < static_cast<int>(ended_.size())) return MinWatermarkChanged();
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status Subtask::InputSlice(Slice* result) {
  int n = gate->channels();
  StreamElement e;
  for (int taken = 0; taken < kSliceElements; ++taken) {
    if (ended_count_ == n) break;
    if (OutputFull()) {
      *result = Slice::kBlocked;
      return absl::OkStatus();
    }
    int ch = -1;
    bool got = false;
    if (aligning_ != 0 && ordered_ && !draining_) {
      // Ordered input at a checkpoint barrier: every chunk before the barrier's position has been
      // consumed, so each other channel holds its barrier (or its end) next.
      for (int c = 0; c < n && !got; ++c) {
        if (blocked_[static_cast<size_t>(c)] || ended_[static_cast<size_t>(c)]) continue;
        if (gate->TryPopFrom(c, &e)) {
          got = true;
          ch = c;
          if (e.kind != StreamElement::Kind::kBarrier && e.kind != StreamElement::Kind::kEnd) {
            return absl::InternalError(
                "ordered input: an element arrived ahead of the checkpoint barrier");
          }
        }
      }
    } else if (ordered_ && !draining_) {
      // Chunk k comes from producer k mod n; once that producer has ended, no chunk k exists and
      // every other producer is done too: only their End elements remain.
      ch = static_cast<int>(next_chunk_ % n);
      if (ended_[ch]) {
        draining_ = true;
        --taken;
        continue;
      }
      got = gate->TryPopFrom(ch, &e);
    } else if (aligning_ != 0) {
      got = gate->TryPopAnyExcept(blocked_, &e, &ch);
    } else {
      got = gate->TryPopAny(&e, &ch);
    }
    if (!got) {
      *result = Slice::kBlocked;
      return absl::OkStatus();
    }
    EDDY_RETURN_IF_ERROR(Handle(e, ch));
  }
  if (ended_count_ == n) {
    EDDY_RETURN_IF_ERROR(End());
    *result = Slice::kDone;
    return absl::OkStatus();
  }
  *result = Slice::kYield;
  return absl::OkStatus();
}

absl::Status Subtask::End() {
  EDDY_RETURN_IF_ERROR(CheckState(SteadyNs(), /*force=*/true));
  // End of all inputs: the maximum watermark fires every open window.
  EDDY_RETURN_IF_ERROR(Advance(INT64_MAX));
  EDDY_RETURN_IF_ERROR(FinishChain());
  state::SubtaskSnapshot final_snap;
  EDDY_RETURN_IF_ERROR(TakeSnapshot(last_barrier_, job_->checkpointing(), &final_snap));
  EDDY_RETURN_IF_ERROR(RunAsyncPartsNow());
  job_->coordinator()->Finished(vertex, info.index, std::move(final_snap));
  out->Close();
  if (late_out) late_out->Close();
  return absl::OkStatus();
}

// Finishes every operator of the chain in order (end of input).
absl::Status Subtask::FinishChain() {
  for (size_t k = 0; k < chain.size(); ++k) {
    EDDY_RETURN_IF_ERROR(chain[k]->Finish(OutputOf(k)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ExecuteJob(JobGraph& graph, CancelFlag* cancel, WorkerPool* pool,
                        const CheckpointConfig* checkpoints, CheckpointStats* stats) {
  std::unique_ptr<WorkerPool> own;
  if (!pool) {
    own = std::make_unique<WorkerPool>(
        static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    pool = own.get();
  }
  Job job(graph, cancel, pool, checkpoints, stats);
  absl::Status built = job.Build();
  if (!built.ok()) return built;
  return job.Run();
}

}  // namespace eddy::runtime
