// Runs a JobGraph: one thread per subtask, bounded channels between them.
#include <fmt/format.h>

#include <map>
#include <mutex>
#include <thread>

#include "base/log.h"
#include "base/status.h"
#include "runtime/operator.h"
#include "runtime/stream.h"

namespace eddy::runtime {

uint64_t HashRow(const Batch& batch, const std::vector<int>& columns, size_t row) {
  auto mix = [](uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
  };
  uint64_t h = 0x9E3779B97F4A7C15ULL;
  for (int c : columns) {
    const Column& col = batch.columns[c];
    uint64_t v = 0;
    if (!col.valid[row]) {
      v = 0x5bd1e995;
    } else {
      switch (col.type.physical()) {
        case Physical::kInt64:
          v = static_cast<uint64_t>(col.i64[row]);
          break;
        case Physical::kDouble: {
          double d = col.f64[row] == 0 ? 0.0 : col.f64[row];
          std::memcpy(&v, &d, 8);
          break;
        }
        case Physical::kString: {
          std::string_view s = col.str[row];
          v = 0xcbf29ce484222325ULL ^ s.size();
          size_t i = 0;
          for (; i + 8 <= s.size(); i += 8) {
            uint64_t w;
            std::memcpy(&w, s.data() + i, 8);
            v = (v ^ w) * 0x100000001b3ULL;
            v ^= v >> 29;
          }
          uint64_t tail = 0;
          std::memcpy(&tail, s.data() + i, s.size() - i);
          v = (v ^ tail) * 0x100000001b3ULL;
          break;
        }
      }
    }
    h = mix(h ^ mix(v + 0x9E3779B97F4A7C15ULL));
  }
  return h;
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

  absl::Status Emit(Batch&& b) {
    if (b.num_rows() == 0) return absl::OkStatus();
    int n = static_cast<int>(gates_.size());
    if (edge_.partitioning == Partitioning::kGlobal || n == 1) return Push(0, std::move(b));
    if (edge_.partitioning == Partitioning::kForward) return Push(producer_ % n, std::move(b));
    // Hash: split rows by key group.
    std::vector<std::vector<uint32_t>> sel(n);
    for (size_t r = 0; r < b.num_rows(); ++r) {
      uint64_t h = HashRow(b, edge_.key_columns, r);
      sel[SubtaskOfKeyGroup(KeyGroupOf(h, max_parallelism_), n, max_parallelism_)].push_back(
          static_cast<uint32_t>(r));
    }
    for (int t = 0; t < n; ++t) {
      if (sel[t].empty()) continue;
      if (sel[t].size() == b.num_rows()) return Push(t, std::move(b));
      Batch part = b.Gather(sel[t]);
      EDDY_RETURN_IF_ERROR(Push(t, std::move(part)));
    }
    return absl::OkStatus();
  }

  absl::Status Broadcast(StreamElement::Kind kind, int64_t wm, int64_t chunk) {
    for (size_t t = 0; t < gates_.size(); ++t) {
      if (edge_.partitioning == Partitioning::kForward &&
          static_cast<int>(t) != producer_ % static_cast<int>(gates_.size()))
        continue;
      if (edge_.partitioning == Partitioning::kGlobal && t != 0) continue;
      StreamElement e;
      e.kind = kind;
      e.watermark = wm;
      e.chunk = chunk;
      if (!gates_[t]->Push(channel_, std::move(e))) return absl::CancelledError("job cancelled");
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Push(int t, Batch&& b) {
    StreamElement e;
    e.kind = StreamElement::Kind::kBatch;
    e.batch = std::move(b);
    if (!gates_[t]->Push(channel_, std::move(e))) return absl::CancelledError("job cancelled");
    return absl::OkStatus();
  }

  EdgeSpec edge_;
  std::vector<InputGate*> gates_;
  int channel_;
  int producer_;
  int max_parallelism_;
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
    if (edges_.size() == 1) return edges_[0]->Emit(std::move(batch));
    for (auto& e : edges_) {
      Batch copy = batch;
      EDDY_RETURN_IF_ERROR(e->Emit(std::move(copy)));
    }
    return absl::OkStatus();
  }
  absl::Status EmitWatermark(int64_t wm) override {
    for (auto& e : edges_)
      EDDY_RETURN_IF_ERROR(e->Broadcast(StreamElement::Kind::kWatermark, wm, 0));
    return absl::OkStatus();
  }
  absl::Status EmitChunkEnd(int64_t chunk, int64_t wm) override {
    for (auto& e : edges_) {
      EDDY_RETURN_IF_ERROR(e->Broadcast(StreamElement::Kind::kChunkEnd, wm, chunk));
    }
    return absl::OkStatus();
  }
  absl::Status Close() {
    for (auto& e : edges_) EDDY_RETURN_IF_ERROR(e->Broadcast(StreamElement::Kind::kEnd, 0, 0));
    return absl::OkStatus();
  }
  bool cancelled() const override { return cancel_->cancelled.load(); }

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
    return next_->ProcessWatermark(wm, downstream_);
  }
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

struct Subtask {
  int vertex = 0;
  SubtaskInfo info;
  std::unique_ptr<InputGate> gate;
  std::unique_ptr<SourceOperator> source;
  std::vector<std::unique_ptr<Operator>> chain;
  std::unique_ptr<FanOutput> out;
  std::unique_ptr<FanOutput> late_out;
  std::vector<std::unique_ptr<ChainOutput>> links;
  int64_t current_wm = INT64_MIN;
};

class Job {
 public:
  Job(JobGraph& g, CancelFlag* cancel) : g_(g), cancel_(cancel) {}

  absl::Status Build() {
    int nv = static_cast<int>(g_.vertices.size());
    subtasks_.resize(nv);
    for (int v = 0; v < nv; ++v) {
      auto& spec = g_.vertices[v];
      for (int i = 0; i < spec.parallelism; ++i) {
        auto st = std::make_unique<Subtask>();
        st->vertex = v;
        st->info = {i, spec.parallelism, g_.max_parallelism};
        int channels = 0;
        for (size_t e = 0; e < spec.inputs.size(); ++e) channels += ChannelsOf(spec.inputs[e]);
        if (channels > 0)
          st->gate = std::make_unique<InputGate>(channels, g_.channel_capacity, cancel_);
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
              (edge.output_tag == 0 ? main : late).push_back(std::move(eo));
            }
            offset += ChannelsOf(edge);
          }
        }
        st->out =
            std::make_unique<FanOutput>(std::move(main), g_.vertices[v].metrics.get(), cancel_);
        if (!late.empty()) {
          st->late_out = std::make_unique<FanOutput>(std::move(late), &late_metrics_, cancel_);
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
        // Link chain: op[k] → op[k+1] → … → out.
        SourceOutput* next = st->out.get();
        for (int k = static_cast<int>(st->chain.size()) - 1; k >= 1; --k) {
          st->links.push_back(
              std::make_unique<ChainOutput>(st->chain[k].get(), next, &st->current_wm));
          next = st->links.back().get();
        }
        head_out_[st.get()] = next;
      }
    }
    return absl::OkStatus();
  }

  // Channels an edge contributes to each consumer's gate.
  int ChannelsOf(const EdgeSpec& e) const {
    return e.partitioning == Partitioning::kForward ? 1 : g_.vertices[e.from].parallelism;
  }

  absl::Status Run() {
    std::vector<std::thread> threads;
    for (auto& vs : subtasks_) {
      for (auto& st : vs) {
        threads.emplace_back([this, s = st.get()] {
          absl::Status status = RunSubtask(s);
          if (!status.ok()) Fail(status);
        });
      }
    }
    for (auto& t : threads) t.join();
    std::lock_guard<std::mutex> l(mu_);
    // Cancelled from outside (Ctrl-C): the job did not finish, even if no subtask failed.
    if (first_error_.ok() && cancel_->cancelled.load()) {
      return absl::CancelledError("the job was cancelled");
    }
    return first_error_;
  }

 private:
  void Fail(const absl::Status& s) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (first_error_.ok() && !(absl::IsCancelled(s) && cancel_->cancelled.load()))
        first_error_ = s;
    }
    cancel_->cancelled = true;
    for (auto& vs : subtasks_) {
      for (auto& st : vs) {
        if (st->gate) st->gate->WakeAll();
      }
    }
  }

  // Output that the first element of the chain writes to.
  SourceOutput* HeadOut(Subtask* s) { return head_out_[s]; }

  absl::Status RunSubtask(Subtask* s) {
    auto& spec = g_.vertices[s->vertex];
    SourceOutput* head_out = HeadOut(s);
    if (s->source) {
      // Source: its output goes through chain[0] (if any) first.
      std::unique_ptr<ChainOutput> first;
      SourceOutput* out = head_out;
      if (!s->chain.empty()) {
        first = std::make_unique<ChainOutput>(s->chain[0].get(), head_out, &s->current_wm);
        out = first.get();
      }
      EDDY_RETURN_IF_ERROR(s->source->Run(out));
      // Operators chained after a source get no maximum watermark here: the consumers' gates
      // apply it when every producer has ended.
      EDDY_RETURN_IF_ERROR(FinishChain(s));
      return s->out->Close();
    }
    Operator* head = s->chain.empty() ? nullptr : s->chain[0].get();
    if (!head) return absl::InternalError(fmt::format("vertex {} has no operators", spec.name));
    bool ordered = !spec.inputs.empty() && spec.inputs[0].ordered;
    int n = s->gate->channels();
    std::vector<int64_t> ch_wm(n, INT64_MIN);
    std::vector<bool> ended(n, false);
    int ended_count = 0;
    int64_t base_wm = INT64_MIN;  // ordered: watermark after all fully consumed chunks
    int64_t next_chunk = 0;
    int wm_col = ordered ? spec.inputs[0].row_watermark_column : -1;
    auto advance = [&](int64_t wm) -> absl::Status {
      if (wm <= s->current_wm) return absl::OkStatus();
      s->current_wm = wm;
      return head->ProcessWatermark(wm, head_out);
    };
    auto process = [&](StreamElement& e) -> absl::Status {
      spec.metrics->rows_in += static_cast<int64_t>(e.batch.num_rows());
      RowWatermarks rw;
      rw.base = ordered ? base_wm : s->current_wm;
      if (wm_col >= 0) rw.local = e.batch.columns[wm_col].i64.data();
      return head->ProcessBatch(e.batch, rw, head_out);
    };
    StreamElement e;
    while (ended_count < n) {
      if (cancel_->cancelled.load()) return absl::CancelledError("job cancelled");
      if (ordered) {
        int ch = static_cast<int>(next_chunk % n);
        if (ended[ch]) {
          // Chunk `next_chunk` does not exist: every producer is done. Drain the rest.
          for (int c = 0; c < n; ++c) {
            while (!ended[c]) {
              if (!s->gate->PopFrom(c, &e)) return absl::CancelledError("job cancelled");
              if (e.kind == StreamElement::Kind::kEnd) {
                ended[c] = true;
                ++ended_count;
              } else if (e.kind == StreamElement::Kind::kBatch) {
                return absl::InternalError("ordered input: batch after the last chunk");
              }
            }
          }
          break;
        }
        if (!s->gate->PopFrom(ch, &e)) return absl::CancelledError("job cancelled");
        switch (e.kind) {
          case StreamElement::Kind::kBatch:
            EDDY_RETURN_IF_ERROR(process(e));
            break;
          case StreamElement::Kind::kChunkEnd:
            if (e.watermark > base_wm) base_wm = e.watermark;
            ++next_chunk;
            EDDY_RETURN_IF_ERROR(advance(base_wm));
            break;
          case StreamElement::Kind::kWatermark:
            break;
          case StreamElement::Kind::kEnd:
            ended[ch] = true;
            ++ended_count;
            break;
        }
        continue;
      }
      int ch;
      if (!s->gate->PopAny(&e, &ch)) return absl::CancelledError("job cancelled");
      switch (e.kind) {
        case StreamElement::Kind::kBatch:
          EDDY_RETURN_IF_ERROR(process(e));
          break;
        case StreamElement::Kind::kChunkEnd:
        case StreamElement::Kind::kWatermark: {
          ch_wm[ch] = std::max(ch_wm[ch], e.watermark);
          int64_t m = INT64_MAX;
          for (int c = 0; c < n; ++c) {
            if (!ended[c]) m = std::min(m, ch_wm[c]);
          }
          EDDY_RETURN_IF_ERROR(advance(m));
          break;
        }
        case StreamElement::Kind::kEnd: {
          ended[ch] = true;
          ++ended_count;
          int64_t m = INT64_MAX;
          for (int c = 0; c < n; ++c) {
            if (!ended[c]) m = std::min(m, ch_wm[c]);
          }
          if (ended_count < n) EDDY_RETURN_IF_ERROR(advance(m));
          break;
        }
      }
    }
    // End of all inputs: the maximum watermark fires every open window.
    EDDY_RETURN_IF_ERROR(advance(INT64_MAX));
    EDDY_RETURN_IF_ERROR(FinishChain(s));
    EDDY_RETURN_IF_ERROR(s->out->Close());
    if (s->late_out) EDDY_RETURN_IF_ERROR(s->late_out->Close());
    return absl::OkStatus();
  }

  // Finishes every operator of the chain in order (end of input).
  absl::Status FinishChain(Subtask* s) {
    // Finish operators in order; each one's output goes to the next link.
    for (size_t k = 0; k < s->chain.size(); ++k) {
      SourceOutput* out = s->out.get();
      // The output of op k is link for op k+1 (links were built back to front).
      if (k + 1 < s->chain.size()) out = s->links[s->chain.size() - 2 - k].get();
      EDDY_RETURN_IF_ERROR(s->chain[k]->Finish(out));
    }
    return absl::OkStatus();
  }

  JobGraph& g_;
  CancelFlag* cancel_;
  std::vector<std::vector<std::unique_ptr<Subtask>>> subtasks_;
  std::map<Subtask*, SourceOutput*> head_out_;
  OperatorMetrics late_metrics_;
  std::mutex mu_;
  absl::Status first_error_;
};

}  // namespace

absl::Status ExecuteJob(JobGraph& graph, CancelFlag* cancel) {
  Job job(graph, cancel);
  EDDY_RETURN_IF_ERROR(job.Build());
  return job.Run();
}

}  // namespace eddy::runtime
