// Runs a JobGraph: every subtask is a task on the worker pool, bounded channels between them.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "base/log.h"
#include "base/status.h"
#include "runtime/operator.h"
#include "runtime/stream.h"
#include "runtime/worker_pool.h"

namespace eddy::runtime {

namespace {

inline uint64_t Mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

constexpr uint64_t kHashSeed = 0x9E3779B97F4A7C15ULL;
constexpr uint64_t kNullHash = 0x5bd1e995;

inline uint64_t StringHash(std::string_view s) {
  uint64_t v = 0xcbf29ce484222325ULL ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    v = (v ^ w) * 0x100000001b3ULL;
    v ^= v >> 29;
  }
  // The tail byte by byte: a memcpy of a variable size would be a library call per row.
  uint64_t tail = 0;
  for (size_t k = i; k < s.size(); ++k)
    tail |= uint64_t{static_cast<uint8_t>(s[k])} << (8 * (k - i));
  return (v ^ tail) * 0x100000001b3ULL;
}

inline uint64_t DoubleHash(double d) {
  if (d == 0) d = 0.0;  // -0.0 and 0.0 are one key
  uint64_t v;
  std::memcpy(&v, &d, 8);
  return v;
}

inline void Combine(uint64_t* h, uint64_t v) { *h = Mix((*h ^ v) + kHashSeed); }

// Column at a time: one type dispatch per column, a tight loop per row.
template <class ColumnAt>
void HashColumnsImpl(size_t num_columns, size_t n, ColumnAt column_at, uint64_t* out) {
  std::fill(out, out + n, kHashSeed);
  for (size_t k = 0; k < num_columns; ++k) {
    const Column& col = column_at(k);
    const uint8_t* valid = col.valid.data();
    switch (col.type.physical()) {
      case Physical::kInt64:
        for (size_t r = 0; r < n; ++r)
          Combine(&out[r], valid[r] ? static_cast<uint64_t>(col.i64[r]) : kNullHash);
        break;
      case Physical::kDouble:
        for (size_t r = 0; r < n; ++r)
          Combine(&out[r], valid[r] ? DoubleHash(col.f64[r]) : kNullHash);
        break;
      case Physical::kString:
        for (size_t r = 0; r < n; ++r)
          Combine(&out[r], valid[r] ? StringHash(col.str[r]) : kNullHash);
        break;
    }
  }
}

}  // namespace

void HashRows(const Batch& batch, const std::vector<int>& columns, uint64_t* out) {
  HashColumnsImpl(
      columns.size(), batch.num_rows(),
      [&](size_t k) -> const Column& { return batch.columns[columns[k]]; }, out);
}

void HashColumns(const std::vector<Column>& columns, size_t num_rows, uint64_t* out) {
  HashColumnsImpl(
      columns.size(), num_rows, [&](size_t k) -> const Column& { return columns[k]; }, out);
}

namespace {

// Sends a producer subtask's output along one edge to the consumer vertex's gates.
class EdgeOutput {
 public:
  EdgeOutput(const EdgeSpec& edge, std::vector<InputGate*> gates, int channel, int producer_index,
             int max_parallelism)
      : edge_(edge),
        gates_(std::move(gates)),
        channel_(channel),
        producer_(producer_index),
        max_parallelism_(max_parallelism) {}

  void Emit(Batch&& b) {
    if (b.num_rows() == 0) return;
    int n = static_cast<int>(gates_.size());
    if (edge_.partitioning == Partitioning::kGlobal || n == 1) return Push(0, std::move(b));
    if (edge_.partitioning == Partitioning::kForward) return Push(producer_ % n, std::move(b));
    // Hash: split rows by key group. Hashes and targets are computed a column at a time into
    // buffers kept across batches; rows are copied only when they go to several subtasks.
    size_t rows = b.num_rows();
    hashes_.resize(rows);
    target_.resize(rows);
    HashRows(b, edge_.key_columns, hashes_.data());
    counts_.assign(n, 0);
    for (size_t r = 0; r < rows; ++r) {
      int t = SubtaskOfKeyGroup(KeyGroupOf(hashes_[r], max_parallelism_), n, max_parallelism_);
      target_[r] = static_cast<uint16_t>(t);
      ++counts_[t];
    }
    for (int t = 0; t < n; ++t) {
      if (counts_[t] == rows) return Push(t, std::move(b));
    }
    sel_.resize(n);
    for (int t = 0; t < n; ++t) {
      sel_[t].clear();
      sel_[t].reserve(counts_[t]);
    }
    for (size_t r = 0; r < rows; ++r) sel_[target_[r]].push_back(static_cast<uint32_t>(r));
    for (int t = 0; t < n; ++t) {
      if (!sel_[t].empty()) Push(t, b.Gather(sel_[t]));
    }
  }

  void Broadcast(StreamElement::Kind kind, int64_t wm, int64_t chunk) {
    for (int t : Targets()) {
      StreamElement e;
      e.kind = kind;
      e.watermark = wm;
      e.chunk = chunk;
      gates_[t]->Push(channel_, std::move(e));
    }
  }

  // The consumer subtasks this producer can send to.
  std::vector<int> Targets() const {
    int n = static_cast<int>(gates_.size());
    if (edge_.partitioning == Partitioning::kForward) return {producer_ % n};
    if (edge_.partitioning == Partitioning::kGlobal) return {0};
    std::vector<int> all(n);
    for (int t = 0; t < n; ++t) all[t] = t;
    return all;
  }
  InputGate* gate(int t) const { return gates_[t]; }
  int channel() const { return channel_; }

 private:
  void Push(int t, Batch&& b) {
    StreamElement e;
    e.kind = StreamElement::Kind::kBatch;
    e.batch = std::move(b);
    gates_[t]->Push(channel_, std::move(e));
  }

  EdgeSpec edge_;
  std::vector<InputGate*> gates_;
  int channel_;
  int producer_;
  int max_parallelism_;
  // Scratch of Emit() for hash partitioning.
  std::vector<uint64_t> hashes_;
  std::vector<uint16_t> target_;
  std::vector<size_t> counts_;
  std::vector<std::vector<uint32_t>> sel_;
};

// The output of the last operator of a chain: fans out to every consumer edge.
class FanOutput : public SourceOutput {
 public:
  FanOutput(std::vector<std::unique_ptr<EdgeOutput>> edges, OperatorMetrics* metrics,
            CancelFlag* cancel)
      : edges_(std::move(edges)), metrics_(metrics), cancel_(cancel) {}
  absl::Status Emit(Batch batch) override {
    if (batch.num_rows() == 0) return absl::OkStatus();
    metrics_->rows_out += static_cast<int64_t>(batch.num_rows());
    if (edges_.size() == 1) {
      edges_[0]->Emit(std::move(batch));
      return absl::OkStatus();
    }
    for (auto& e : edges_) {
      Batch copy = batch;
      e->Emit(std::move(copy));
    }
    return absl::OkStatus();
  }
  absl::Status EmitWatermark(int64_t wm) override {
    for (auto& e : edges_) e->Broadcast(StreamElement::Kind::kWatermark, wm, 0);
    return absl::OkStatus();
  }
  absl::Status EmitChunkEnd(int64_t chunk, int64_t wm) override {
    for (auto& e : edges_) e->Broadcast(StreamElement::Kind::kChunkEnd, wm, chunk);
    return absl::OkStatus();
  }
  absl::Status EmitIdle() override {
    for (auto& e : edges_) e->Broadcast(StreamElement::Kind::kIdle, 0, 0);
    return absl::OkStatus();
  }
  void Close() {
    for (auto& e : edges_) e->Broadcast(StreamElement::Kind::kEnd, 0, 0);
  }
  bool cancelled() const override { return cancel_->cancelled.load(); }
  /// Appends the (gate, channel) pairs this output writes to.
  void CollectTargets(std::vector<std::pair<InputGate*, int>>* out) const {
    for (auto& e : edges_) {
      for (int t : e->Targets()) out->emplace_back(e->gate(t), e->channel());
    }
  }

 private:
  std::vector<std::unique_ptr<EdgeOutput>> edges_;
  OperatorMetrics* metrics_;
  CancelFlag* cancel_;
};

// Connects operator k of a chain to operator k+1.
class ChainOutput : public SourceOutput {
 public:
  ChainOutput(Operator* next, SourceOutput* downstream, int64_t* current_wm)
      : next_(next), downstream_(downstream), current_wm_(current_wm) {}
  absl::Status Emit(Batch batch) override {
    if (batch.num_rows() == 0) return absl::OkStatus();
    RowWatermarks wm;
    wm.base = *current_wm_;
    return next_->ProcessBatch(batch, wm, downstream_);
  }
  absl::Status EmitWatermark(int64_t wm) override {
    // In a source subtask, the source's own watermark is what its chained operators know.
    if (wm > *current_wm_) *current_wm_ = wm;
    return next_->ProcessWatermark(wm, downstream_);
  }
  absl::Status EmitIdle() override { return downstream_->EmitIdle(); }
  absl::Status EmitChunkEnd(int64_t chunk, int64_t wm) override {
    // In a source subtask, the watermark after its own chunks is what its chained operators
    // know of event time.
    if (wm > *current_wm_) *current_wm_ = wm;
    return downstream_->EmitChunkEnd(chunk, wm);
  }
  bool cancelled() const override { return downstream_->cancelled(); }

 private:
  Operator* next_;
  SourceOutput* downstream_;
  int64_t* current_wm_;
};

class Job;

// One subtask of a vertex, scheduled on the worker pool. A slice handles a bounded number of input
// elements (or one source step) and stops early when an output channel is full (backpressure) or
// the input it needs next is not there.
class Subtask final : public Task {
 public:
  Subtask(WorkerPool* pool, Job* job) : Task(pool), job_(job) {}

  Slice RunSlice() override;
  void OnDone() override;

  int vertex = 0;
  SubtaskInfo info;
  const VertexSpec* spec = nullptr;
  CancelFlag* cancel = nullptr;
  std::unique_ptr<InputGate> gate;
  std::unique_ptr<SourceOperator> source;
  std::vector<std::unique_ptr<Operator>> chain;
  std::unique_ptr<FanOutput> out;
  std::unique_ptr<FanOutput> late_out;
  std::vector<std::unique_ptr<ChainOutput>> links;
  SourceOutput* head_out = nullptr;                 // output of chain[0] (the next link or `out`)
  std::unique_ptr<ChainOutput> source_out;          // sources: into chain[0], when there is one
  std::vector<std::pair<InputGate*, int>> targets;  // every channel this subtask writes to
  int64_t current_wm = INT64_MIN;

  /// Input-side state (consumers).
  void InitInput();

 private:
  // Elements one slice takes from its input gate before handing the thread back.
  static constexpr int kSliceElements = 16;

  absl::Status Slice1(Slice* result);
  absl::Status SourceSlice(Slice* result);
  absl::Status InputSlice(Slice* result);
  bool OutputFull() const {
    for (const auto& [g, ch] : targets) {
      if (g->Full(ch)) return true;
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
  absl::Status MinWatermarkChanged();
  absl::Status End();
  absl::Status FinishChain();

  Job* job_;
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
};

class Job {
 public:
  Job(JobGraph& g, CancelFlag* cancel, WorkerPool* pool) : g_(g), cancel_(cancel), pool_(pool) {}

  absl::Status Build() {
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
        st->out =
            std::make_unique<FanOutput>(std::move(main), g_.vertices[v].metrics.get(), cancel_);
        st->out->CollectTargets(&st->targets);
        if (!late.empty()) {
          st->late_out = std::make_unique<FanOutput>(std::move(late), &late_metrics_, cancel_);
          st->late_out->CollectTargets(&st->targets);
        }
        auto& spec = g_.vertices[v];
        if (spec.make_source) {
          EDDY_ASSIGN_OR_RETURN(st->source, spec.make_source(st->info));
        }
        SideOutputs side;
        side.late = st->late_out.get();
        if (spec.make_chain) {
          EDDY_ASSIGN_OR_RETURN(st->chain, spec.make_chain(st->info, side));
        }
        if (!st->source && st->chain.empty()) {
          return absl::InternalError(fmt::format("vertex {} has no operators", spec.name));
        }
        // Link chain: op[k] → op[k+1] → … → out.
        SourceOutput* next = st->out.get();
        for (int k = static_cast<int>(st->chain.size()) - 1; k >= 1; --k) {
          st->links.push_back(
              std::make_unique<ChainOutput>(st->chain[k].get(), next, &st->current_wm));
          next = st->links.back().get();
        }
        st->head_out = next;
        if (st->source && !st->chain.empty()) {
          st->source_out = std::make_unique<ChainOutput>(st->chain[0].get(), next, &st->current_wm);
        }
        if (st->gate) st->InitInput();
      }
    }
    return absl::OkStatus();
  }

  // Channels an edge contributes to each consumer's gate.
  int ChannelsOf(const EdgeSpec& e) const {
    return e.partitioning == Partitioning::kForward ? 1 : g_.vertices[e.from].parallelism;
  }

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
      // 50 ms and wake every subtask so each one sees it.
      done_cv_.wait_for(l, std::chrono::milliseconds(ticking_ ? 1 : 50));
      if (!sleeping_.empty()) {
        std::vector<Subtask*> wake;
        wake.swap(sleeping_);
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
    }
    // Cancelled from outside (Ctrl-C): the job did not finish, even if no subtask failed.
    if (first_error_.ok() && cancel_->cancelled.load()) {
      return absl::CancelledError("the job was cancelled");
    }
    return first_error_;
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

  void SubtaskDone() {
    std::lock_guard<std::mutex> l(mu_);
    if (--running_ == 0) done_cv_.notify_all();
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
  std::vector<std::vector<std::unique_ptr<Subtask>>> subtasks_;
  OperatorMetrics late_metrics_;
  std::mutex mu_;
  std::condition_variable done_cv_;
  int running_ = 0;
  std::vector<Subtask*> sleeping_;  // idle sources to wake at the next tick
  bool ticking_ = false;            // a source has slept: tick every 1 ms
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

Task::Slice Subtask::RunSlice() {
  Slice result = Slice::kBlocked;
  absl::Status st =
      cancel->cancelled.load() ? absl::CancelledError("job cancelled") : Slice1(&result);
  if (!st.ok()) {
    job_->Fail(st);
    return Slice::kDone;
  }
  return result;
}

void Subtask::OnDone() { job_->SubtaskDone(); }

absl::Status Subtask::Slice1(Slice* result) {
  return source ? SourceSlice(result) : InputSlice(result);
}

absl::Status Subtask::SourceSlice(Slice* result) {
  if (OutputFull()) {
    *result = Slice::kBlocked;
    return absl::OkStatus();
  }
  SourceOutput* o = source_out ? source_out.get() : head_out;
  EDDY_ASSIGN_OR_RETURN(SourceOperator::Step step, source->NextStep(o));
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
  out->Close();
  *result = Slice::kDone;
  return absl::OkStatus();
}

absl::Status Subtask::Process(StreamElement& e, int ch) {
  spec->metrics->rows_in += static_cast<int64_t>(e.batch.num_rows());
  RowWatermarks rw;
  rw.base = ordered_ ? base_wm_ : current_wm;
  if (wm_col_ >= 0) rw.local = e.batch.columns[wm_col_].i64.data();
  if (spec->inputs.size() > 1) {
    return chain[0]->ProcessBatchFrom(channel_input_[ch], e.batch, rw, head_out);
  }
  return chain[0]->ProcessBatch(e.batch, rw, head_out);
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
    bool got;
    if (ordered_ && !draining_) {
      // Chunk k comes from producer k mod n; once that producer has ended, no chunk k exists and
      // every other producer is done too: only their End elements remain.
      ch = static_cast<int>(next_chunk_ % n);
      if (ended_[ch]) {
        draining_ = true;
        --taken;
        continue;
      }
      got = gate->TryPopFrom(ch, &e);
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
  // End of all inputs: the maximum watermark fires every open window.
  EDDY_RETURN_IF_ERROR(Advance(INT64_MAX));
  EDDY_RETURN_IF_ERROR(FinishChain());
  out->Close();
  if (late_out) late_out->Close();
  return absl::OkStatus();
}

// Finishes every operator of the chain in order (end of input).
absl::Status Subtask::FinishChain() {
  for (size_t k = 0; k < chain.size(); ++k) {
    SourceOutput* o = out.get();
    // The output of op k is the link to op k+1 (links were built back to front).
    if (k + 1 < chain.size()) o = links[chain.size() - 2 - k].get();
    EDDY_RETURN_IF_ERROR(chain[k]->Finish(o));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ExecuteJob(JobGraph& graph, CancelFlag* cancel, WorkerPool* pool) {
  std::unique_ptr<WorkerPool> own;
  if (!pool) {
    own = std::make_unique<WorkerPool>(
        static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    pool = own.get();
  }
  Job job(graph, cancel, pool);
  EDDY_RETURN_IF_ERROR(job.Build());
  return job.Run();
}

}  // namespace eddy::runtime
