// Scan helpers shared by every source connector.
#include <fmt/format.h>

#include "base/status.h"
#include "connectors/connector.h"
#include "runtime/calc.h"

namespace eddy::connectors {

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

}  // namespace eddy::connectors
