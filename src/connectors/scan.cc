// Scan helpers shared by every source connector.
#include <fmt/format.h>

#include "base/status.h"
#include "connectors/connector.h"
#include "runtime/calc.h"

namespace eddy::connectors {

absl::Status KeepTimedRows(Batch* b, int rowtime, int64_t watermark,
                           const std::function<absl::Status(size_t row)>& bad,
                           const std::function<void(size_t row, int64_t ts)>& seen) {
  const Column& ts = b->columns[static_cast<size_t>(rowtime)];
  size_t rows = b->num_rows();
  std::vector<uint32_t> keep;
  keep.reserve(rows);
  for (size_t r = 0; r < rows; ++r) {
    if (ts.valid[r]) {
      keep.push_back(static_cast<uint32_t>(r));
      seen(r, ts.i64[r]);
    } else {
      EDDY_RETURN_IF_ERROR(bad(r));
    }
  }
  if (keep.size() != rows) *b = b->Gather(keep);
  Column wm(DataType::Bigint());
  wm.Reserve(b->num_rows());
  for (size_t r = 0; r < b->num_rows(); ++r) wm.AppendInt(watermark);
  b->columns.push_back(std::move(wm));
  return absl::OkStatus();
}

absl::StatusOr<Batch> CompleteScanBatch(const ScanSpec& spec, Batch physical,
                                        const std::string& where) {
  const TableDef& t = *spec.table;
  size_t n = physical.num_rows();
  Batch full;
  full.arenas = physical.arenas;
  EvalContext ctx;
  ctx.now_micros = runtime::NowMicros();
  ctx.arena = full.NewArena();
  // Computed columns are evaluated over the physical batch first; then the physical columns
  // move into place (no copies).
  std::vector<Column> computed(t.columns.size());
  for (size_t i = 0; i < t.columns.size(); ++i) {
    if (!spec.computed[i]) continue;
    computed[i] = Column(spec.computed[i]->type());
    computed[i].Reserve(n);
    absl::Status s = spec.computed[i]->Eval(physical, &ctx, &computed[i]);
    if (!s.ok()) {
      return absl::InvalidArgumentError(fmt::format("{}: computed column '{}' of table '{}': {}",
                                                    where, t.columns[i].name, t.name,
                                                    std::string(s.message())));
    }
  }
  for (size_t i = 0, p = 0; i < t.columns.size(); ++i) {
    full.columns.push_back(spec.computed[i] ? std::move(computed[i])
                                            : std::move(physical.columns[p++]));
  }
  full.kinds = std::move(physical.kinds);
  return full;
}

namespace {

// Collects what a source emits.
class CollectOutput final : public runtime::SourceOutput {
 public:
  absl::Status Emit(Batch b) override {
    batches.push_back(std::move(b));
    return absl::OkStatus();
  }
  absl::Status EmitWatermark(int64_t) override { return absl::OkStatus(); }
  absl::Status EmitChunkEnd(int64_t, int64_t) override { return absl::OkStatus(); }
  bool cancelled() const override { return false; }
  std::vector<Batch> batches;
};

}  // namespace

absl::StatusOr<Batch> ReadBoundedTable(const ScanSpec& spec) {
  EDDY_ASSIGN_OR_RETURN(auto factory, MakeSourceFactory(spec));
  runtime::SubtaskInfo info;
  EDDY_ASSIGN_OR_RETURN(auto source, factory->Create(info));
  CollectOutput out;
  while (true) {
    EDDY_ASSIGN_OR_RETURN(auto step, source->NextStep(&out));
    if (step == runtime::SourceOperator::Step::kEnd) break;
    if (step == runtime::SourceOperator::Step::kHalt) {
      return absl::InternalError(
          fmt::format("reading table '{}' stopped without an error", spec.table->name));
    }
    if (step == runtime::SourceOperator::Step::kIdle) {
      return absl::FailedPreconditionError(fmt::format(
          "table '{}' is unbounded; a lookup join needs a table it can read to the end when the "
          "job starts (a connector with lookup = TRUE in SHOW CONNECTORS)",
          spec.table->name));
    }
  }
  const TableDef& t = *spec.table;
  Schema schema;
  schema.fields = t.columns;
  Batch all = Batch::Empty(schema);
  for (const Batch& b : out.batches) {
    for (const auto& a : b.arenas) all.arenas.push_back(a);
    for (size_t c = 0; c < all.columns.size(); ++c) {
      for (size_t r = 0; r < b.num_rows(); ++r) all.columns[c].AppendFrom(b.columns[c], r);
    }
    all.kinds.insert(all.kinds.end(), b.kinds.begin(), b.kinds.end());
  }
  return all;
}

}  // namespace eddy::connectors
