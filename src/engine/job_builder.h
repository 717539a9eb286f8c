// Lowers a logical plan to a runtime::JobGraph (DESIGN.md §3: key groups, exchanges, parallel
// subtasks), attaching the sources and sinks of its connectors.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/session_config.h"
#include "catalog/table.h"
#include "connectors/connector.h"
#include "engine/plan.h"
#include "runtime/operator.h"

namespace eddy {

/// Makes the terminal operator of a job (a connector sink or the result collector) for subtask i.
using SinkFactory = std::function<absl::StatusOr<std::unique_ptr<runtime::StreamOperator>>(
    const runtime::SubtaskInfo&)>;

/// A job ready to run, with handles on its counters.
struct BuiltJob {
  runtime::JobGraph graph;
  std::vector<std::shared_ptr<connectors::SourceMetrics>> sources;
  std::vector<int> source_vertices;  // the vertex of each of `sources`
  std::vector<std::shared_ptr<connectors::SinkMetrics>> sinks;
  std::vector<std::shared_ptr<runtime::OperatorMetrics>> windows;  // for late-row counts
  /// The job graph as text (EXPLAIN).
  std::string Explain() const;
};

/// Where the job's rows go.
struct SinkTarget {
  std::string name;  // "Sink: print_table" / "Collect"
  SinkFactory make;
  int parallelism = 1;
  /// Casts from the plan's visible columns to the sink's columns (null = identity), evaluated
  /// over the plan's output.
  std::vector<BoundExprPtr> casts;
  std::shared_ptr<connectors::SinkMetrics> metrics;
  /// Publishes what the sink prepares (two-phase commit sinks), or null.
  std::shared_ptr<runtime::SinkCommitter> committer;
  /// The sink needs checkpoints (connectors::SinkPlan::requires_checkpoints).
  bool requires_checkpoints = false;
};

/// Builds the job for `plan` writing into `sink`. `late_sink` (optional) receives the late rows of
/// every window aggregate (runtime::LateRowSchema columns, cast by `late_sink->casts`). Sources
/// are opened to validate their options (nothing runs). Errors are SqlErrors at the position of
/// the plan node they are about (PlanNode::pos: a scan's FROM item, else the enclosing query).
absl::StatusOr<BuiltJob> BuildJob(const PlanPtr& plan, const SessionConfig& config,
                                  const SinkTarget& sink, const SinkTarget* late_sink);

/// The logical plan as an indented tree (EXPLAIN's first section).
std::string ExplainPlan(const PlanPtr& plan);

}  // namespace eddy
