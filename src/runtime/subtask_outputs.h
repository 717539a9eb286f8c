// The outputs of a subtask inside a running job (internal to the executor): EdgeOutput sends a
// producer's batches and stream elements along one edge to the consumers' input gates (forward,
// global or by key group), FanOutput feeds every outgoing edge of a chain's last operator, and
// ChainOutput hands a chained operator's output to the next operator of the chain, and
// CoalescingOutput gathers a source's small batches (Flink's execution.buffer-timeout). Not
// thread-safe: each belongs to one subtask, which runs on one worker at a time.
#pragma once

#include <chrono>
#include <memory>
#include <utility>
#include <vector>

#include "base/status.h"
#include "runtime/operator.h"
#include "runtime/stream.h"

namespace eddy::runtime::internal {

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

  void Broadcast(StreamElement::Kind kind, int64_t wm, int64_t chunk, int64_t checkpoint = 0) {
    for (int t : Targets()) {
      StreamElement e;
      e.kind = kind;
      e.watermark = wm;
      e.chunk = chunk;
      e.checkpoint_id = checkpoint;
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
  /// `subtask` (optional): the producing subtask's figures (rows out, last watermark).
  FanOutput(std::vector<std::unique_ptr<EdgeOutput>> edges, OperatorMetrics* metrics,
            CancelFlag* cancel, SubtaskMetrics* subtask = nullptr)
      : edges_(std::move(edges)), metrics_(metrics), subtask_(subtask), cancel_(cancel) {}
  absl::Status Emit(Batch batch) override {
    // A cancelled job stops even an operator in the middle of a long burst of output (a join
    // producing millions of rows for one batch): Ctrl-C takes effect within one batch.
    if (cancel_->cancelled.load(std::memory_order_relaxed)) {
      return absl::CancelledError("job cancelled");
    }
    if (batch.num_rows() == 0) return absl::OkStatus();
    metrics_->rows_out += static_cast<int64_t>(batch.num_rows());
    if (subtask_) {
      subtask_->rows_out.fetch_add(static_cast<int64_t>(batch.num_rows()),
                                   std::memory_order_relaxed);
    }
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
    if (subtask_ && wm > subtask_->watermark.load(std::memory_order_relaxed)) {
      subtask_->watermark.store(wm, std::memory_order_relaxed);
    }
    for (auto& e : edges_) e->Broadcast(StreamElement::Kind::kWatermark, wm, 0);
    return absl::OkStatus();
  }
  absl::Status EmitChunkEnd(int64_t chunk, int64_t wm) override {
    if (subtask_ && wm > subtask_->watermark.load(std::memory_order_relaxed)) {
      subtask_->watermark.store(wm, std::memory_order_relaxed);
    }
    for (auto& e : edges_) e->Broadcast(StreamElement::Kind::kChunkEnd, wm, chunk);
    return absl::OkStatus();
  }
  absl::Status EmitIdle() override {
    for (auto& e : edges_) e->Broadcast(StreamElement::Kind::kIdle, 0, 0);
    return absl::OkStatus();
  }
  void EmitBarrier(int64_t checkpoint_id) {
    for (auto& e : edges_) e->Broadcast(StreamElement::Kind::kBarrier, 0, 0, checkpoint_id);
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
  SubtaskMetrics* subtask_;
  CancelFlag* cancel_;
};

// Connects operator k of a chain to operator k+1 (always a one-input operator).
class ChainOutput : public SourceOutput {
 public:
  ChainOutput(OneInputOperator* next, SourceOutput* downstream, int64_t* current_wm)
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
  OneInputOperator* next_;
  SourceOutput* downstream_;
  int64_t* current_wm_;
};

// Between a source and the rest of its subtask: gathers the source's batches into one until it
// holds `max_rows` rows or its first row has waited `timeout_us` (Flink's execution.buffer-timeout,
// applied where small batches are born: a poll of a quiet topic returns a row or two, and every
// operator downstream pays per batch). Everything else a source emits (watermarks, chunk ends,
// idleness) first sends the gathered rows on, so no row ever passes a watermark; the subtask
// calls Flush() before a checkpoint barrier and at the end of the input, and FlushIfDue() after
// every source step. Batches of `max_rows` or more pass through without a copy.
class CoalescingOutput : public SourceOutput {
 public:
  CoalescingOutput(SourceOutput* target, size_t max_rows, int64_t timeout_us)
      : target_(target), max_rows_(max_rows), timeout_us_(timeout_us) {}

  absl::Status Emit(Batch batch) override {
    size_t rows = batch.num_rows();
    if (rows == 0) return absl::OkStatus();
    if (pending_rows() == 0) {
      if (rows >= max_rows_) return target_->Emit(std::move(batch));
      pending_ = std::move(batch);
      first_us_ = NowUs();
      return absl::OkStatus();
    }
    Append(std::move(batch));
    return pending_rows() >= max_rows_ ? Flush() : absl::OkStatus();
  }
  absl::Status EmitWatermark(int64_t wm) override {
    EDDY_RETURN_IF_ERROR(Flush());
    return target_->EmitWatermark(wm);
  }
  absl::Status EmitChunkEnd(int64_t chunk, int64_t wm) override {
    EDDY_RETURN_IF_ERROR(Flush());
    return target_->EmitChunkEnd(chunk, wm);
  }
  absl::Status EmitIdle() override {
    EDDY_RETURN_IF_ERROR(Flush());
    return target_->EmitIdle();
  }
  bool cancelled() const override { return target_->cancelled(); }

  /// Sends the gathered rows on (nothing when there are none).
  absl::Status Flush() {
    if (pending_rows() == 0) return absl::OkStatus();
    Batch b = std::move(pending_);
    pending_ = Batch();
    return target_->Emit(std::move(b));
  }
  /// Sends the gathered rows on when the first of them has waited the buffer timeout.
  absl::Status FlushIfDue() {
    if (pending_rows() == 0 || NowUs() - first_us_ < timeout_us_) return absl::OkStatus();
    return Flush();
  }
  /// Rows gathered and not yet sent.
  size_t pending_rows() const { return pending_.num_rows(); }

 private:
  static int64_t NowUs() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  // Appends `b`'s rows (same columns) to pending_; string views stay valid through its arenas.
  void Append(Batch&& b) {
    for (size_t c = 0; c < pending_.columns.size(); ++c) {
      Column& to = pending_.columns[c];
      Column& from = b.columns[c];
      to.valid.insert(to.valid.end(), from.valid.begin(), from.valid.end());
      to.i64.insert(to.i64.end(), from.i64.begin(), from.i64.end());
      to.f64.insert(to.f64.end(), from.f64.begin(), from.f64.end());
      to.str.insert(to.str.end(), from.str.begin(), from.str.end());
    }
    pending_.kinds.insert(pending_.kinds.end(), b.kinds.begin(), b.kinds.end());
    for (auto& a : b.arenas) pending_.arenas.push_back(std::move(a));
  }

  SourceOutput* target_;
  size_t max_rows_;
  int64_t timeout_us_;
  Batch pending_;
  int64_t first_us_ = 0;
};

}  // namespace eddy::runtime::internal
