#include "engine/job_builder.h"

#include <fmt/format.h>

#include "base/status.h"
#include "base/strings.h"
#include "runtime/calc.h"
#include "runtime/interval_join.h"
#include "runtime/lookup_join.h"
#include "runtime/regular_join.h"
#include "runtime/temporal_join.h"
#include "sql/sql_error.h"

namespace eddy {

std::string ExplainPlan(const PlanPtr& plan) {
  std::string out;
  std::function<void(const PlanNode*, int)> walk = [&](const PlanNode* n, int depth) {
    out += std::string(depth * 2, ' ') + (depth ? "+- " : "") + n->Describe() + "\n";
    if (n->input) walk(n->input.get(), depth + 1);
    if (n->right) walk(n->right.get(), depth + 1);
  };
  walk(plan.get(), 0);
  return out;
}

std::string BuiltJob::Explain() const {
  std::string out;
  for (size_t v = 0; v < graph.vertices.size(); ++v) {
    const auto& spec = graph.vertices[v];
    std::string in;
    for (const auto& e : spec.inputs) {
      std::string part = e.partitioning == runtime::Partitioning::kHash     ? "HASH"
                         : e.partitioning == runtime::Partitioning::kGlobal ? "GLOBAL"
                                                                            : "FORWARD";
      if (e.partitioning == runtime::Partitioning::kHash) {
        std::vector<std::string> k;
        for (int c : e.key_columns) k.push_back(fmt::format("${}", c));
        part += "[" + fmt::format("{}", fmt::join(k, ", ")) + "]";
      }
      in +=
          fmt::format("{}{} from #{}{}{}", in.empty() ? "" : ", ", part, e.from,
                      e.ordered ? " (in file order)" : "", e.output_tag == 1 ? " (late rows)" : "");
    }
    out += fmt::format("#{} {} [parallelism={}]{}\n", v, spec.name, spec.parallelism,
                       in.empty() ? "" : " <- " + in);
  }
  return out;
}

namespace {

const auto kStateTtl =
    catalog::SessionOption("table.exec.state.ttl")
        .Duration("0 ms")
        .Min(absl::ZeroDuration())
        .Doc(
            "Unbounded state (Flink's state TTL, processing time): in an unwindowed GROUP BY and "
            "in Top-N a key not updated for this long is dropped and a later row of it starts "
            "over (+I); in a regular join a stored row joins nothing once this old and is then "
            "dropped without a retraction; 0 ms = keep forever. Windows, interval joins, OVER and "
            "MATCH_RECOGNIZE free their state as the watermark passes.");

// A source option a table may set, else the session's value (both checked when set).
std::string TableOrSession(const TableDef& t, const catalog::ConfigOption<std::string>& o,
                           const SessionConfig& config) {
  auto v = o.Find(t.options);
  if (v.ok() && *v) return **v;
  return config.Get(o);
}

const auto kBufferTimeout =
    catalog::SessionOption("execution.buffer-timeout")
        .Duration("1 ms")
        .Min(absl::ZeroDuration())
        .Doc(
            "A source's rows wait at most this long to be gathered into a fuller batch before "
            "they go downstream (a batch of 'eddy.batch-size' rows goes at once); 0 ms = every "
            "poll's rows go at once. Only sources gather: exchanges and sinks pass batches on as "
            "they come, so this is the most a row waits in the whole job.");

const auto kStateMaxBytes =
    catalog::SessionOption("table.exec.state.max-bytes")
        .MemorySize("0")
        .Min(0)
        .Doc(
            "A subtask whose operators hold more state than this fails the job with a clear "
            "error (checked about once a second and at the end of the input) instead of exhausting "
            "memory; 0 = no limit.");

using OpFactory = std::function<absl::StatusOr<std::unique_ptr<runtime::StreamOperator>>(
    const runtime::SubtaskInfo&)>;

struct VertexDraft {
  runtime::VertexSpec spec;
  std::vector<OpFactory> ops;
  std::vector<std::string> op_names;
};

void Seal(VertexDraft* d) {
  auto ops = d->ops;
  d->spec.make_chain = [ops](const runtime::SubtaskInfo& info)
      -> absl::StatusOr<std::vector<std::unique_ptr<runtime::StreamOperator>>> {
    std::vector<std::unique_ptr<runtime::StreamOperator>> chain;
    for (const auto& f : ops) {
      EDDY_ASSIGN_OR_RETURN(auto op, f(info));
      chain.push_back(std::move(op));
    }
    return chain;
  };
  if (!d->op_names.empty()) {
    d->spec.name += " -> " + fmt::format("{}", fmt::join(d->op_names, " -> "));
  }
}

OpFactory CalcFactory(BoundExprPtr filter, std::vector<BoundExprPtr> proj, int wm_col = -1) {
  return
      [filter, proj, wm_col](
          const runtime::SubtaskInfo&) -> absl::StatusOr<std::unique_ptr<runtime::StreamOperator>> {
        return runtime::MakeCalc(filter, proj, wm_col);
      };
}

}  // namespace

absl::StatusOr<BuiltJob> BuildJob(const PlanPtr& plan, const SessionConfig& config,
                                  const SinkTarget& sink, const SinkTarget* late_sink) {
  BuiltJob job;
  int n = static_cast<int>(config.Get(options::kParallelism));
  int64_t maxp = config.Get(options::kMaxParallelism);
  job.graph.max_parallelism = static_cast<int>(std::max<int64_t>(maxp, n));
  size_t batch = static_cast<size_t>(config.Get(options::kBatchSize));
  job.graph.max_state_bytes = config.Get(kStateMaxBytes);
  job.graph.buffer_timeout_us = absl::ToInt64Microseconds(config.Get(kBufferTimeout));
  job.graph.batch_rows = batch;

  // Source vertices, one per scan.
  std::vector<VertexDraft> drafts;
  auto add_source = [&](const PlanNode* scan) -> absl::StatusOr<bool> {
    connectors::ScanSpec ss;
    ss.table = scan->table;
    ss.computed = scan->computed;
    ss.batch_size = batch;
    ss.error_policy = TableOrSession(*scan->table, options::kErrorPolicy, config);
    ss.dead_letter_path = TableOrSession(*scan->table, options::kDeadLetterPath, config);
    ss.idle_timeout_ms = absl::ToInt64Milliseconds(config.Get(options::kSourceIdleTimeout));
    ss.checkpointing = config.Get(options::kCheckpointInterval) > absl::ZeroDuration();
    EDDY_ASSIGN_OR_RETURN(auto factory, connectors::MakeSourceFactory(ss));
    job.sources.push_back(factory->metrics);
    job.source_vertices.push_back(static_cast<int>(drafts.size()));
    VertexDraft d;
    d.spec.name = fmt::format("Source: {}", scan->table->name);
    d.spec.parallelism = n;
    d.spec.make_source = [factory](const runtime::SubtaskInfo& info) {
      return factory->Create(info);
    };
    drafts.push_back(std::move(d));
    return factory->chunked();
  };

  // Builds the vertices of `node`'s subtree; returns the (unsealed) draft whose chain ends with
  // the node's output, and whether that output still carries a file source's ordered chunks
  // (consumers then read it in file order).
  struct Built {
    int draft;
    bool ordered;
  };
  std::function<absl::StatusOr<Built>(const PlanNode*)> build;
  using MakeOp = std::function<OpFactory(std::shared_ptr<runtime::OperatorMetrics>)>;
  // A vertex behind a key-group exchange on `keys` of its input (everything to one subtask
  // without keys), running the operator `make(metrics)`; `late`: its late rows are counted in
  // the job summary.
  auto keyed_vertex = [&](const PlanNode* node, const Built& in, const std::vector<int>& keys,
                          const std::string& name, bool late, const MakeOp& make) -> Built {
    Seal(&drafts[in.draft]);
    VertexDraft d;
    d.spec.name = node->Describe();
    d.spec.parallelism = keys.empty() ? 1 : n;
    runtime::EdgeSpec e;
    e.from = in.draft;
    e.partitioning = keys.empty() ? runtime::Partitioning::kGlobal : runtime::Partitioning::kHash;
    e.key_columns = keys;
    e.ordered = in.ordered;
    e.row_watermark_column = in.ordered ? node->input->schema.IndexOf(kRowWatermarkColumn) : -1;
    d.spec.inputs.push_back(e);
    auto metrics = d.spec.metrics;
    metrics->name = name;
    if (late) job.windows.push_back(metrics);
    d.ops.push_back(make(metrics));
    drafts.push_back(std::move(d));
    return Built{static_cast<int>(drafts.size()) - 1, false};
  };
  // A vertex joining the subtrees `node->input` (input 0) and `node->right` (input 1). Both sides
  // hash on their key columns when the keys are plain columns of the same physical type (equal
  // values hash alike); otherwise everything meets in one subtask.
  auto join_vertex = [&](const PlanNode* node, const std::vector<BoundExprPtr>& left_keys,
                         const std::vector<BoundExprPtr>& right_keys, const std::string& name,
                         bool late, const MakeOp& make) -> absl::StatusOr<Built> {
    EDDY_ASSIGN_OR_RETURN(Built l, build(node->input.get()));
    EDDY_ASSIGN_OR_RETURN(Built r, build(node->right.get()));
    Seal(&drafts[l.draft]);
    Seal(&drafts[r.draft]);
    std::vector<int> lk, rk;
    bool hashed = true;
    for (size_t i = 0; i < left_keys.size(); ++i) {
      int a = left_keys[i]->column_index(), b = right_keys[i]->column_index();
      hashed &=
          a >= 0 && b >= 0 && left_keys[i]->type().physical() == right_keys[i]->type().physical();
      lk.push_back(a);
      rk.push_back(b);
    }
    hashed &= !left_keys.empty();  // a join without keys (a cross product) runs in one subtask
    VertexDraft d;
    d.spec.name = node->Describe();
    d.spec.parallelism = hashed ? n : 1;
    for (int side = 0; side < 2; ++side) {
      runtime::EdgeSpec e;
      e.from = side == 0 ? l.draft : r.draft;
      e.partitioning = hashed ? runtime::Partitioning::kHash : runtime::Partitioning::kGlobal;
      e.key_columns = side == 0 ? lk : rk;
      d.spec.inputs.push_back(e);
    }
    auto metrics = d.spec.metrics;
    metrics->name = name;
    if (late) job.windows.push_back(metrics);
    d.ops.push_back(make(metrics));
    drafts.push_back(std::move(d));
    return Built{static_cast<int>(drafts.size()) - 1, false};
  };
  // The factory of an operator built from a copy of `cfg` with its metrics set.
  auto op_of = [](auto cfg, auto make_op) -> MakeOp {
    return [cfg, make_op](std::shared_ptr<runtime::OperatorMetrics> m) -> OpFactory {
      auto c = cfg;
      c.metrics = m;
      return [c, make_op](const runtime::SubtaskInfo& info)
                 -> absl::StatusOr<std::unique_ptr<runtime::StreamOperator>> {
        auto x = c;
        x.subtask = info;  // the key groups its keyed state holds
        return make_op(x);
      };
    };
  };
  int64_t state_ttl_ms = absl::ToInt64Milliseconds(config.Get(kStateTtl));

  std::function<absl::StatusOr<Built>(const PlanNode*)> build_node;
  // Errors about a node (a source's options, a lookup table that cannot be read, …) get the
  // position of the nearest node with one: the FROM item of a scan, else the enclosing query.
  build = [&](const PlanNode* node) -> absl::StatusOr<Built> {
    absl::StatusOr<Built> r = build_node(node);
    if (!r.ok() && !node->script.empty()) {
      return sql::AtSqlPosition(r.status(), node->script, node->pos);
    }
    return r;
  };
  build_node = [&](const PlanNode* node) -> absl::StatusOr<Built> {
    switch (node->kind) {
      case PlanNode::Kind::kScan: {
        EDDY_ASSIGN_OR_RETURN(bool chunked, add_source(node));
        return Built{static_cast<int>(drafts.size()) - 1, chunked};
      }
      case PlanNode::Kind::kValues: {
        VertexDraft d;
        d.spec.name = "Source: Values";
        d.spec.parallelism = n;
        auto values = node->values;
        d.spec.make_source = [values, batch](const runtime::SubtaskInfo& info)
            -> absl::StatusOr<std::unique_ptr<runtime::SourceOperator>> {
          return runtime::MakeValuesSource(values, info, batch);
        };
        drafts.push_back(std::move(d));
        return Built{static_cast<int>(drafts.size()) - 1, false};
      }
      case PlanNode::Kind::kTemporalJoin: {
        const auto& c = *node->temporal;
        return join_vertex(node, c.left_keys, c.right_keys, c.name, true,
                           op_of(c, [](const runtime::TemporalJoinConfig& x) {
                             return runtime::MakeTemporalJoin(x);
                           }));
      }
      case PlanNode::Kind::kRegularJoin: {
        runtime::RegularJoinConfig c = *node->regular_join;
        c.state_ttl_ms = state_ttl_ms;
        return join_vertex(node, c.left_keys, c.right_keys, c.name, false,
                           op_of(c, [](const runtime::RegularJoinConfig& x) {
                             return runtime::MakeRegularJoin(x);
                           }));
      }
      case PlanNode::Kind::kIntervalJoin: {
        const auto& c = *node->interval;
        return join_vertex(node, c.left_keys, c.right_keys, c.name, true,
                           op_of(c, [](const runtime::IntervalJoinConfig& x) {
                             return runtime::MakeIntervalJoin(x);
                           }));
      }
      case PlanNode::Kind::kJoin:
        return absl::InternalError("a logical join reached the job builder unplanned");
      default:
        break;
    }
    EDDY_ASSIGN_OR_RETURN(Built in, build(node->input.get()));
    if (node->kind == PlanNode::Kind::kCalc) {
      drafts[in.draft].ops.push_back(CalcFactory(node->filter, node->projections,
                                                 node->input->schema.IndexOf(kRowWatermarkColumn)));
      drafts[in.draft].op_names.push_back("Calc");
      return in;
    }
    if (node->kind == PlanNode::Kind::kLookupJoin) {
      // The table is read by key as rows come (a connector with a lookup source), or once, now,
      // and shared (read-only) by every subtask.
      connectors::ScanSpec ts;
      ts.table = node->table;
      for (const auto& c : node->table->computed) {
        // Computed columns of the table: bound by the binder for scans only; lookup tables
        // with computed columns are rejected below.
        if (c) {
          return absl::InvalidArgumentError(fmt::format(
              "lookup table '{}' has computed columns, which lookup joins do not support yet",
              node->table->name));
        }
      }
      ts.computed.assign(node->table->columns.size(), nullptr);
      ts.batch_size = batch;
      ts.error_policy = TableOrSession(*node->table, options::kErrorPolicy, config);
      ts.dead_letter_path = TableOrSession(*node->table, options::kDeadLetterPath, config);
      runtime::LookupJoinConfig lc;
      // A connector that reads by key (jdbc) gives a lookup source; the others are read whole.
      connectors::LookupSpec ls_spec;
      ls_spec.table = node->table;
      for (const auto& k : node->right_keys) ls_spec.key_columns.push_back(k->column_index());
      EDDY_ASSIGN_OR_RETURN(auto by_key, connectors::MakeLookup(ls_spec));
      if (by_key) {
        lc.function = by_key->make;
        lc.cache = by_key->cache;
        lc.table_schema.fields = node->table->columns;
        lc.right_keys = node->right_keys;
      } else {
        EDDY_ASSIGN_OR_RETURN(Batch rows, connectors::ReadBoundedTable(ts));
        EDDY_ASSIGN_OR_RETURN(lc.table,
                              runtime::LookupTable::Build(std::move(rows), node->right_keys));
      }
      lc.left_keys = node->left_keys;
      const Schema& ls = node->input->schema;
      while (lc.left_visible < static_cast<int>(ls.fields.size()) &&
             ls.fields[lc.left_visible].name.rfind("$", 0) != 0) {
        ++lc.left_visible;
      }
      lc.wm_col = ls.IndexOf(kRowWatermarkColumn);
      lc.residual = node->join_filter;
      lc.left_outer = node->left_outer;
      drafts[in.draft].ops.push_back(
          [lc](const runtime::SubtaskInfo& info)
              -> absl::StatusOr<std::unique_ptr<runtime::StreamOperator>> {
            EDDY_ASSIGN_OR_RETURN(auto op, runtime::MakeLookupJoin(lc, info));
            return std::unique_ptr<runtime::StreamOperator>(std::move(op));
          });
      drafts[in.draft].op_names.push_back(fmt::format("LookupJoin({})", node->table->name));
      return in;
    }
    if (node->kind == PlanNode::Kind::kRank) {
      runtime::RankConfig c = *node->rank;
      if (c.limit < 1) {
        return absl::InvalidArgumentError(
            "ROW_NUMBER() OVER is only supported as Top-N: the enclosing query must bound it, "
            "e.g. SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY c DESC) "
            "AS rn FROM t) WHERE rn <= 3");
      }
      c.state_ttl_ms = state_ttl_ms;
      return keyed_vertex(
          node, in, c.key_columns, c.name, false,
          op_of(c, [](const runtime::RankConfig& x) { return runtime::MakeRank(x); }));
    }
    if (node->kind == PlanNode::Kind::kWindowRank) {
      runtime::WindowRankConfig c = *node->window_rank;
      if (c.limit < 1) {
        return absl::InvalidArgumentError(
            "ROW_NUMBER() OVER is only supported as Top-N: the enclosing query must bound it, "
            "e.g. WHERE rn <= 3");
      }
      // Hash on the PARTITION BY columns of the input (the windows a TVF assigns are not there
      // yet: rows of every window of a key meet in one subtask).
      std::vector<int> keys;
      for (int k : c.key_columns) {
        if (k < c.input_columns) keys.push_back(k);
      }
      MakeOp make = [c](std::shared_ptr<runtime::OperatorMetrics> m) -> OpFactory {
        auto cfg = c;
        cfg.metrics = m;
        return [cfg](const runtime::SubtaskInfo& info)
                   -> absl::StatusOr<std::unique_ptr<runtime::StreamOperator>> {
          auto x = cfg;
          x.subtask = info;  // the key groups its keyed state holds
          return runtime::MakeWindowRank(x);
        };
      };
      Built b = keyed_vertex(node, in, keys, c.name, true, make);
      drafts[b.draft].spec.has_late_output = late_sink != nullptr;
      return b;
    }
    if (node->kind == PlanNode::Kind::kOverAgg) {
      const auto& c = *node->over_agg;
      return keyed_vertex(node, in, c.key_columns, c.name, true,
                          op_of(c, [](const runtime::OverAggregateConfig& x) {
                            return runtime::MakeOverAggregate(x);
                          }));
    }
    if (node->kind == PlanNode::Kind::kMatchRecognize) {
      const auto& c = *node->match;
      return keyed_vertex(node, in, c.key_columns, c.name, true,
                          op_of(c, [](const runtime::MatchRecognizeConfig& x) {
                            return runtime::MakeMatchRecognize(x);
                          }));
    }
    // Aggregation.
    runtime::AggregateConfig cfg = node->agg;
    cfg.name = node->Describe();
    bool window = node->kind == PlanNode::Kind::kWindowAgg;
    cfg.processing_time = node->proctime_window;
    cfg.state_ttl_ms = state_ttl_ms;
    MakeOp make = [cfg, window](std::shared_ptr<runtime::OperatorMetrics> m) -> OpFactory {
      auto c = cfg;
      c.metrics = m;
      return [c, window](const runtime::SubtaskInfo& info)
                 -> absl::StatusOr<std::unique_ptr<runtime::StreamOperator>> {
        auto x = c;
        x.subtask = info;  // the key groups its keyed state holds
        if (window) return runtime::MakeWindowAggregate(std::move(x));
        return runtime::MakeGroupAggregate(std::move(x));
      };
    };
    Built b = keyed_vertex(node, in, cfg.key_columns, cfg.name, window, make);
    if (window) drafts[b.draft].spec.has_late_output = late_sink != nullptr;
    return b;
  };

  EDDY_ASSIGN_OR_RETURN(Built root, build(plan.get()));
  bool from_source = root.ordered;
  const PlanNode* last = plan.get();
  // Final projection: drop hidden columns and cast to the sink's types.
  std::vector<BoundExprPtr> out;
  bool identity = true;
  int vis = 0;
  for (size_t c = 0; c < last->schema.fields.size(); ++c) {
    const Field& f = last->schema.fields[c];
    if (f.name.rfind("$", 0) == 0) {
      identity = false;
      continue;
    }
    BoundExprPtr ref = MakeColumnRef(static_cast<int>(c), f.type, f.name);
    if (vis < static_cast<int>(sink.casts.size()) && sink.casts[vis]) {
      ref = sink.casts[vis];
      identity = false;
    }
    out.push_back(ref);
    ++vis;
  }
  VertexDraft& tail = drafts[root.draft];
  int tail_parallelism = tail.spec.parallelism;
  Seal(&tail);
  VertexDraft sd;
  sd.spec.name = sink.name;
  sd.spec.parallelism = sink.parallelism == tail_parallelism ? sink.parallelism : 1;
  runtime::EdgeSpec se;
  se.from = root.draft;
  se.partitioning = sd.spec.parallelism == tail_parallelism && tail_parallelism > 1
                        ? runtime::Partitioning::kForward
                        : runtime::Partitioning::kGlobal;
  se.ordered = from_source;
  sd.spec.inputs.push_back(se);
  if (!identity) {
    sd.ops.push_back(CalcFactory(nullptr, out));
    sd.op_names.push_back("Calc");
  }
  sd.spec.committer = sink.committer;
  SinkFactory make = sink.make;
  sd.ops.push_back([make](const runtime::SubtaskInfo& info) { return make(info); });
  Seal(&sd);
  if (sink.metrics) job.sinks.push_back(sink.metrics);
  drafts.push_back(std::move(sd));

  bool any_late_output = false;
  for (const auto& d : drafts) any_late_output |= d.spec.has_late_output;
  // Only window aggregations and window Top-N send late rows to the late-row sink (other
  // operators count them).
  if (late_sink && any_late_output) {
    VertexDraft ld;
    ld.spec.name = late_sink->name + " (late rows)";
    ld.spec.parallelism = 1;
    for (size_t v = 0; v < drafts.size(); ++v) {
      if (!drafts[v].spec.has_late_output) continue;
      runtime::EdgeSpec le;
      le.from = static_cast<int>(v);
      le.output_tag = 1;
      le.partitioning = runtime::Partitioning::kGlobal;
      ld.spec.inputs.push_back(le);
    }
    std::vector<BoundExprPtr> casts;
    Schema ls = runtime::LateRowSchema();
    bool cast_needed = false;
    for (size_t c = 0; c < ls.fields.size(); ++c) {
      BoundExprPtr ref = MakeColumnRef(static_cast<int>(c), ls.fields[c].type, ls.fields[c].name);
      if (c < late_sink->casts.size() && late_sink->casts[c]) {
        ref = late_sink->casts[c];
        cast_needed = true;
      }
      casts.push_back(ref);
    }
    if (cast_needed) ld.ops.push_back(CalcFactory(nullptr, casts));
    ld.spec.committer = late_sink->committer;
    SinkFactory lmake = late_sink->make;
    ld.ops.push_back([lmake](const runtime::SubtaskInfo& info) { return lmake(info); });
    Seal(&ld);
    if (late_sink->metrics) job.sinks.push_back(late_sink->metrics);
    drafts.push_back(std::move(ld));
  }
  for (auto& d : drafts) job.graph.vertices.push_back(std::move(d.spec));
  return job;
}

}  // namespace eddy
