// Runs one operator outside a job, as the runtime would (Flink: OneInputStreamOperatorTestHarness):
// opens it with a context and a timer service, feeds batches and watermarks, advances processing
// time, snapshots it (timers included, as a checkpoint barrier would) and restores a new instance
// from snapshots, possibly of several subtasks of another parallelism. For tests and tools.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/operator.h"
#include "runtime/timer_service.h"
#include "state/snapshot.h"
#include "types/value.h"

namespace eddy::runtime {

/// See the file comment. Not thread-safe.
class OperatorHarness {
 public:
  /// `op` runs as subtask `info`; `late` (optional) is its late-row output.
  explicit OperatorHarness(std::unique_ptr<StreamOperator> op, SubtaskInfo info = {},
                           Output* late = nullptr)
      : op_(std::move(op)),
        range_(state::KeyGroupRange::Of(info.index, info.parallelism, info.max_parallelism)),
        timers_(range_) {
    ctx_.subtask = info;
    ctx_.key_groups = range_;
    ctx_.timers = &timers_;
    ctx_.late = late;
    ctx_.metrics = &metrics_;
    ctx_.clock_ms = [this] { return now_ms_; };
    ctx_.cancelled = &cancelled_;
  }
  ~OperatorHarness() {
    if (opened_) (void)op_->Close();
  }

  /// Opens the operator; with `restore` (snapshots of old subtasks of the same operator) its
  /// state and timers are restored from the key groups this subtask owns.
  absl::Status Open(const std::vector<const state::OperatorSnapshot*>& restore = {}) {
    opened_ = true;
    if (absl::Status s = op_->Open(ctx_); !s.ok()) return s;
    if (restore.empty()) return absl::OkStatus();
    state::OperatorRestore r(restore, range_);
    if (absl::Status s = timers_.Restore(r, kTimerSection); !s.ok()) return s;
    return op_->InitializeState(r);
  }

  StreamOperator* op() { return op_.get(); }
  OneInputOperator* one() { return static_cast<OneInputOperator*>(op_.get()); }
  TwoInputOperator* two() { return static_cast<TwoInputOperator*>(op_.get()); }
  TimerService& timers() { return timers_; }
  OperatorMetrics& metrics() { return metrics_; }

  /// Sets or clears the job's cancel flag the operator sees (OperatorBase::cancelled()).
  void SetCancelled(bool cancelled) { cancelled_.store(cancelled); }

  /// The processing time the operator sees (ms), and advancing it (fires due timers).
  int64_t now_ms() const { return now_ms_; }
  absl::Status AdvanceProcessingTime(int64_t now_ms, Output* out) {
    now_ms_ = now_ms;
    if (timers_.NextProcessingTime() > now_ms) return absl::OkStatus();
    return op_->OnProcessingTime(now_ms, out);
  }

  /// What a checkpoint barrier would take: timers and the operator's state.
  absl::StatusOr<state::OperatorSnapshot> Snapshot(int64_t checkpoint_id) {
    state::OperatorSnapshot s;
    s.uid = op_->uid();
    timers_.Snapshot(&s, kTimerSection);
    if (absl::Status st = op_->SnapshotState(checkpoint_id, &s); !st.ok()) return st;
    return s;
  }

 private:
  std::unique_ptr<StreamOperator> op_;
  state::KeyGroupRange range_;
  TimerService timers_;
  OperatorMetrics metrics_;
  OperatorContext ctx_;
  std::atomic<bool> cancelled_{false};
  int64_t now_ms_ = 0;
  bool opened_ = false;
};

/// An Output that keeps every emitted row as "kind|cell|cell|..." (cells as FormatCell prints
/// them, NULL as "NULL"), in emission order; watermarks are ignored. For tests.
class FormattedRowSink : public Output {
 public:
  absl::Status Emit(Batch b) override {
    for (size_t r = 0; r < b.num_rows(); ++r) {
      std::string row = RowKindName(b.kinds[r]);
      for (const auto& c : b.columns) row += "|" + FormatCell(c, r, "NULL", true);
      rows.push_back(row);
    }
    return absl::OkStatus();
  }
  absl::Status EmitWatermark(int64_t) override { return absl::OkStatus(); }
  std::vector<std::string> rows;
};

/// Splits `b` by the subtask (of `parallelism`) owning each row's key group, the key being
/// column 0, as a hash exchange routes it. Returns one batch per subtask (possibly empty).
inline std::vector<Batch> RouteByKeyGroup(const Batch& b, int parallelism, int max_parallelism) {
  std::vector<uint64_t> h(b.num_rows());
  HashRows(b, {0}, h.data());
  std::vector<std::vector<uint32_t>> sel(static_cast<size_t>(parallelism));
  for (size_t r = 0; r < b.num_rows(); ++r) {
    int t = SubtaskOfKeyGroup(KeyGroupOf(h[r], max_parallelism), parallelism, max_parallelism);
    sel[static_cast<size_t>(t)].push_back(static_cast<uint32_t>(r));
  }
  std::vector<Batch> out;
  for (auto& s : sel) out.push_back(b.Gather(s));
  return out;
}

}  // namespace eddy::runtime
