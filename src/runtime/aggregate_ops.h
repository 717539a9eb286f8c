// Keyed aggregation operators: window aggregation over window TVFs (Flink SQL: "Window
// Aggregation": TUMBLE, HOP, CUMULATE, SESSION) and unwindowed GROUP BY producing an updating
// changelog (Flink SQL: "Group Aggregation").
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "function/aggregate.h"
#include "runtime/operator.h"

namespace eddy::runtime {

/// One aggregate call: function, input column of its argument (-1 for COUNT(*)), and the
/// BOOLEAN column of its FILTER (WHERE …) clause (-1 when none).
struct AggCall {
  std::shared_ptr<const AggregateFunction> fn;
  int arg = -1;
  int filter = -1;
};

enum class WindowKind { kTumble, kHop, kCumulate, kSession };

/// Window assignment parameters, all in µs. Windows are aligned to the epoch plus `offset`
/// (Flink: window TVF alignment).
struct WindowSpec {
  WindowKind kind = WindowKind::kTumble;
  int64_t size = 0;    // TUMBLE/HOP size, CUMULATE max size
  int64_t slide = 0;   // HOP slide
  int64_t step = 0;    // CUMULATE step
  int64_t gap = 0;     // SESSION gap
  int64_t offset = 0;  // TUMBLE/HOP/CUMULATE offset
};

/// Configuration shared by both aggregation operators.
struct AggregateConfig {
  std::string name;              // for logs and late-row records
  std::vector<int> key_columns;  // GROUP BY keys (window columns excluded)
  std::vector<AggCall> aggs;
  int time_column = -1;  // event-time column (window aggregation)
  WindowSpec window;
  std::vector<Field> input_fields;  // names/types of the input, for late-row records
  size_t max_output_rows = 4096;    // rows per emitted batch
  /// Processing-time windows (PROCTIME() descriptor): rows are never late and windows fire at
  /// the end of input.
  bool processing_time = false;
  /// Group aggregation: 'table.exec.state.ttl' in ms (0 = keep state forever). A group not
  /// updated for this long (processing time) is dropped; a later row of its key starts a new
  /// group (+I), as in Flink. Checked at most once a second and when a batch arrives.
  int64_t state_ttl_ms = 0;
  /// Processing-time clock in ms for the TTL (tests inject one). Default: steady clock.
  std::function<int64_t()> clock_ms;
  std::shared_ptr<OperatorMetrics> metrics;
  /// The subtask this instance runs as: its keyed state holds the key groups the subtask owns
  /// (the default, subtask 0 of 1, owns them all).
  SubtaskInfo subtask;
};

/// Window aggregation. Output rows (+I): keys…, window_start, window_end, window_time
/// (= window_end - 1 ms as in Flink, the rowtime of the result), aggregates…. A window fires when
/// the watermark reaches window_end - WindowFireLead(type of the time column). A row is late when
/// every window it belongs to has fired (for SESSION: when its merged session has); late rows are
/// counted in metrics and, when the job has a late-row output (OperatorContext::late), emitted as
/// (operator, event_time, watermark, row) records.
std::unique_ptr<OneInputOperator> MakeWindowAggregate(AggregateConfig config);

/// Group aggregation over an append or updating input. Output: keys…, aggregates…, as a
/// changelog: +I for a new group, -U/+U when its result changes (nothing when unchanged), -D when
/// its last row is retracted.
std::unique_ptr<OneInputOperator> MakeGroupAggregate(AggregateConfig config);

/// Fixed schema of late-row records: operator STRING, event_time TIMESTAMP(6), watermark
/// TIMESTAMP(6) (NULL when none yet), row STRING (a JSON object of the row's columns by name).
Schema LateRowSchema();

/// Appends the late-row record of row `i` of `in` (columns named by `fields`; names starting
/// with '$' are left out) to `late`, which starts as an empty Batch. Times in µs.
void AppendLateRow(std::string_view op, int64_t event_time, int64_t watermark, const Batch& in,
                   size_t i, const std::vector<Field>& fields, Batch* late);

/// The late rows of a window operator (window aggregation, window Top-N): each is counted in
/// `metrics->late_rows` and, when the job has a late-row output, recorded with AppendLateRow; the
/// records of one input batch go out together at Flush(). Not thread-safe (one per operator).
class LateRows {
 public:
  LateRows(std::string op, std::vector<Field> fields, OperatorMetrics* metrics, Output* out)
      : op_(std::move(op)), fields_(std::move(fields)), metrics_(metrics), out_(out) {}
  /// Row `row` of `in`, with event time `event_time`, arrived behind `watermark` (µs).
  void Add(const Batch& in, size_t row, int64_t event_time, int64_t watermark) {
    metrics_->late_rows++;
    if (out_) AppendLateRow(op_, event_time, watermark, in, row, fields_, &batch_);
  }
  /// The late-row output (null: late rows are only counted). Set when the operator opens.
  void set_output(Output* out) { out_ = out; }
  /// Sends the recorded rows to the late-row output.
  absl::Status Flush() {
    if (!out_ || batch_.num_rows() == 0) return absl::OkStatus();
    Batch b = std::move(batch_);
    batch_ = Batch();
    return out_->Emit(std::move(b));
  }

 private:
  std::string op_;
  std::vector<Field> fields_;
  OperatorMetrics* metrics_;
  Output* out_;
  Batch batch_;
};

/// The windows [start, end) (µs) of a TUMBLE, HOP or CUMULATE window TVF that contain time `ts`,
/// by ascending start (CUMULATE: ascending end), into `w` (cleared first). Flink SQL: window TVF
/// assignment, aligned to the epoch plus `s.offset`. SESSION windows are not assigned here.
void AssignWindows(const WindowSpec& s, int64_t ts, std::vector<std::pair<int64_t, int64_t>>* w);

/// How long before its end (µs) a window [start, end) fires, i.e. the window fires when the
/// watermark reaches end − lead. Flink SQL: WindowUtils.isWindowFired, `watermark >= windowEnd -
/// 1` in milliseconds, i.e. at the window's window_time (end − 1 ms), its last millisecond: 1000
/// for a time attribute of precision 0 to 3 (Flink's), whose values are whole milliseconds. With
/// a finer precision a row may still fall in the window's last millisecond, so eddy waits for its
/// last microsecond: 1.
inline int64_t WindowFireLead(const DataType& time_type) {
  return time_type.precision <= 3 ? 1000 : 1;
}

/// The watermark a window operator (window aggregation, window Top-N) forwards after firing at
/// input watermark `w` (µs), with windows firing `fire_lead` µs before their end. Its rows carry
/// window_time = window_end − 1 ms (Flink). With a lead of 1 ms (Flink's rule) every window still
/// open at `w` has window_time > `w`, so `w` is forwarded as it is, as in Flink. With a lead of
/// 1 µs a window still open at `w` can have window_time ≤ `w` when `w` falls in its last
/// millisecond; lagging by 1 ms then keeps every row it emits later ahead of the watermark it has
/// forwarded. INT64_MAX (end of input) passes through.
inline int64_t WindowOutputWatermark(int64_t w, int64_t fire_lead) {
  if (w == INT64_MAX || fire_lead >= 1000) return w;
  return w < INT64_MIN + 1000 ? INT64_MIN : w - 1000;
}

}  // namespace eddy::runtime
