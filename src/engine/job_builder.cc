#include "engine/job_builder.h"

#include <fmt/format.h>

#include "base/status.h"
#include "base/strings.h"
#include "runtime/calc.h"
#include "runtime/interval_join.h"
#include "runtime/lookup_join.h"
#include "runtime/regular_join.h"
#include "runtime/temporal_join.h"

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

using OpFactory = std::function<absl::StatusOr<std::unique_ptr<runtime::Operator>>(
    const runtime::SubtaskInfo&, const runtime::SideOutputs&)>;

struct VertexDraft {
  runtime::VertexSpec spec;
  std::vector<OpFactory> ops;
  std::vector<std::string> op_names;
};

void Seal(VertexDraft* d) {
  auto ops = d->ops;
  d->spec.make_chain = [ops](const runtime::SubtaskInfo& info, const runtime::SideOutputs& side)
      -> absl::StatusOr<std::vector<std::unique_ptr<runtime::Operator>>> {
    std::vector<std::unique_ptr<runtime::Operator>> chain;
    for (const auto& f : ops) {
      EDDY_ASSIGN_OR_RETURN(auto op, f(info, side));
      chain.push_back(std::move(op));
    }
    return chain;
  };
  if (!d->op_names.empty()) {
    d->spec.name += " -> " + fmt::format("{}", fmt::join(d->op_names, " -> "));
  }
}

OpFactory CalcFactory(BoundExprPtr filter, std::vector<BoundExprPtr> proj, int wm_col = -1) {
  return [filter, proj, wm_col](
             const runtime::SubtaskInfo&,
             const runtime::SideOutputs&) -> absl::StatusOr<std::unique_ptr<runtime::Operator>> {
    return runtime::MakeCalc(filter, proj, wm_col);
  };
}

}  // namespace

absl::StatusOr<BuiltJob> BuildJob(const PlanPtr& plan, const SessionConfig& config,
                                  const SinkTarget& sink, const SinkTarget* late_sink) {
  BuiltJob job;
  int n = static_cast<int>(std::max<int64_t>(1, config.GetInt("parallelism.default")));
  int64_t maxp = std::max<int64_t>(1, config.GetInt("pipeline.max-parallelism"));
  job.graph.max_parallelism = static_cast<int>(std::max<int64_t>(maxp, n));
  size_t batch = static_cast<size_t>(std::max<int64_t>(1, config.GetInt("eddy.batch-size")));

  // Source vertices, one per scan.
  std::vector<VertexDraft> drafts;
  auto add_source = [&](const PlanNode* scan) -> absl::StatusOr<bool> {
    connectors::ScanSpec ss;
    ss.table = scan->table;
    ss.computed = scan->computed;
    ss.batch_size = batch;
    ss.error_policy = scan->table->Option("error.policy", config.Get("error.policy"));
    ss.dead_letter_path =
        scan->table->Option("error.dead-letter.path", config.Get("error.dead-letter.path"));
    ss.idle_timeout_ms = ParseDurationMs(config.Get("table.exec.source.idle-timeout"));
    if (ss.idle_timeout_ms < 0) {
      return absl::InvalidArgumentError(
          fmt::format("'table.exec.source.idle-timeout' must be a duration such as '5 s', not '{}'",
                      config.Get("table.exec.source.idle-timeout")));
    }
    EDDY_ASSIGN_OR_RETURN(auto factory, connectors::MakeSourceFactory(ss));
    job.sources.push_back(factory->metrics);
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
  std::function<absl::StatusOr<Built>(const PlanNode*)> build =
      [&](const PlanNode* node) -> absl::StatusOr<Built> {
    if (node->kind == PlanNode::Kind::kScan) {
      EDDY_ASSIGN_OR_RETURN(bool chunked, add_source(node));
      return Built{static_cast<int>(drafts.size()) - 1, chunked};
    }
    if (node->kind == PlanNode::Kind::kTemporalJoin) {
      EDDY_ASSIGN_OR_RETURN(Built l, build(node->input.get()));
      EDDY_ASSIGN_OR_RETURN(Built r, build(node->right.get()));
      Seal(&drafts[l.draft]);
      Seal(&drafts[r.draft]);
      const auto& jc = *node->temporal;
      std::vector<int> lk, rk;
      bool hashed = true;
      for (size_t i = 0; i < jc.left_keys.size(); ++i) {
        int a = jc.left_keys[i]->column_index(), b = jc.right_keys[i]->column_index();
        hashed &= a >= 0 && b >= 0 &&
                  jc.left_keys[i]->type().physical() == jc.right_keys[i]->type().physical();
        lk.push_back(a);
        rk.push_back(b);
      }
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
      metrics->name = jc.name;
      job.windows.push_back(metrics);  // late rows are reported per operator
      runtime::TemporalJoinConfig cfg = jc;
      cfg.metrics = metrics;
      d.ops.push_back(
          [cfg](const runtime::SubtaskInfo&,
                const runtime::SideOutputs&) -> absl::StatusOr<std::unique_ptr<runtime::Operator>> {
            return runtime::MakeTemporalJoin(cfg);
          });
      drafts.push_back(std::move(d));
      return Built{static_cast<int>(drafts.size()) - 1, false};
    }
    if (node->kind == PlanNode::Kind::kRegularJoin) {
      EDDY_ASSIGN_OR_RETURN(Built l, build(node->input.get()));
      EDDY_ASSIGN_OR_RETURN(Built r, build(node->right.get()));
      Seal(&drafts[l.draft]);
      Seal(&drafts[r.draft]);
      const auto& jc = *node->regular_join;
      std::vector<int> lk, rk;
      bool hashed = true;
      for (size_t i = 0; i < jc.left_keys.size(); ++i) {
        int a = jc.left_keys[i]->column_index(), b = jc.right_keys[i]->column_index();
        hashed &= a >= 0 && b >= 0 &&
                  jc.left_keys[i]->type().physical() == jc.right_keys[i]->type().physical();
        lk.push_back(a);
        rk.push_back(b);
      }
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
      metrics->name = jc.name;
      runtime::RegularJoinConfig cfg = jc;
      cfg.metrics = metrics;
      d.ops.push_back(
          [cfg](const runtime::SubtaskInfo&,
                const runtime::SideOutputs&) -> absl::StatusOr<std::unique_ptr<runtime::Operator>> {
            return runtime::MakeRegularJoin(cfg);
          });
      drafts.push_back(std::move(d));
      return Built{static_cast<int>(drafts.size()) - 1, false};
    }
    if (node->kind == PlanNode::Kind::kIntervalJoin) {
      EDDY_ASSIGN_OR_RETURN(Built l, build(node->input.get()));
      EDDY_ASSIGN_OR_RETURN(Built r, build(node->right.get()));
      Seal(&drafts[l.draft]);
      Seal(&drafts[r.draft]);
      const auto& jc = *node->interval;
      // Both sides hash on their key columns when the keys are plain columns of the same
      // physical type (equal values hash alike); otherwise everything meets in one subtask.
      std::vector<int> lk, rk;
      bool hashed = true;
      for (size_t i = 0; i < jc.left_keys.size(); ++i) {
        int a = jc.left_keys[i]->column_index(), b = jc.right_keys[i]->column_index();
        hashed &= a >= 0 && b >= 0 &&
                  jc.left_keys[i]->type().physical() == jc.right_keys[i]->type().physical();
        lk.push_back(a);
        rk.push_back(b);
      }
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
      metrics->name = jc.name;
      job.windows.push_back(metrics);  // late rows are reported per operator
      runtime::IntervalJoinConfig cfg = jc;
      cfg.metrics = metrics;
      d.ops.push_back(
          [cfg](const runtime::SubtaskInfo&,
                const runtime::SideOutputs&) -> absl::StatusOr<std::unique_ptr<runtime::Operator>> {
            return runtime::MakeIntervalJoin(cfg);
          });
      drafts.push_back(std::move(d));
      return Built{static_cast<int>(drafts.size()) - 1, false};
    }
    EDDY_ASSIGN_OR_RETURN(Built in, build(node->input.get()));
    bool from_source = in.ordered;
    if (node->kind == PlanNode::Kind::kCalc) {
      drafts[in.draft].ops.push_back(CalcFactory(node->filter, node->projections,
                                                 node->input->schema.IndexOf(kRowWatermarkColumn)));
      drafts[in.draft].op_names.push_back("Calc");
      return in;
    }
    if (node->kind == PlanNode::Kind::kLookupJoin) {
      // The table is read once, now, and shared (read-only) by every subtask.
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
      ts.error_policy = node->table->Option("error.policy", config.Get("error.policy"));
      ts.dead_letter_path =
          node->table->Option("error.dead-letter.path", config.Get("error.dead-letter.path"));
      EDDY_ASSIGN_OR_RETURN(Batch rows, connectors::ReadBoundedTable(ts));
      EDDY_ASSIGN_OR_RETURN(auto table,
                            runtime::LookupTable::Build(std::move(rows), node->right_keys));
      runtime::LookupJoinConfig lc;
      lc.table = table;
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
          [lc](const runtime::SubtaskInfo&,
               const runtime::SideOutputs&) -> absl::StatusOr<std::unique_ptr<runtime::Operator>> {
            return runtime::MakeLookupJoin(lc);
          });
      drafts[in.draft].op_names.push_back(fmt::format("LookupJoin({})", node->table->name));
      return in;
    }
    Seal(&drafts[in.draft]);
    int from = in.draft;
    if (node->kind == PlanNode::Kind::kRank) {
      // Top-N: a new vertex behind a key-group exchange on PARTITION BY.
      const auto& rc = *node->rank;
      if (rc.limit < 1) {
        return absl::InvalidArgumentError(
            "ROW_NUMBER() OVER is only supported as Top-N: the enclosing query must bound it, "
            "e.g. SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY c DESC) "
            "AS rn FROM t) WHERE rn <= 3");
      }
      VertexDraft d;
      d.spec.name = node->Describe();
      d.spec.parallelism = rc.key_columns.empty() ? 1 : n;
      runtime::EdgeSpec e;
      e.from = from;
      e.partitioning =
          rc.key_columns.empty() ? runtime::Partitioning::kGlobal : runtime::Partitioning::kHash;
      e.key_columns = rc.key_columns;
      e.ordered = from_source;
      d.spec.inputs.push_back(e);
      auto metrics = d.spec.metrics;
      metrics->name = rc.name;
      runtime::RankConfig cfg = rc;
      cfg.metrics = metrics;
      cfg.state_ttl_ms = std::max<int64_t>(0, ParseDurationMs(config.Get("table.exec.state.ttl")));
      d.ops.push_back(
          [cfg](const runtime::SubtaskInfo&,
                const runtime::SideOutputs&) -> absl::StatusOr<std::unique_ptr<runtime::Operator>> {
            return runtime::MakeRank(cfg);
          });
      drafts.push_back(std::move(d));
      return Built{static_cast<int>(drafts.size()) - 1, false};
    }
    if (node->kind == PlanNode::Kind::kOverAgg) {
      // OVER aggregation: a new vertex behind a key-group exchange on PARTITION BY.
      const auto& oc = *node->over_agg;
      VertexDraft d;
      d.spec.name = node->Describe();
      d.spec.parallelism = oc.key_columns.empty() ? 1 : n;
      runtime::EdgeSpec e;
      e.from = from;
      e.partitioning =
          oc.key_columns.empty() ? runtime::Partitioning::kGlobal : runtime::Partitioning::kHash;
      e.key_columns = oc.key_columns;
      e.ordered = from_source;
      e.row_watermark_column = from_source ? node->input->schema.IndexOf(kRowWatermarkColumn) : -1;
      d.spec.inputs.push_back(e);
      auto metrics = d.spec.metrics;
      metrics->name = oc.name;
      job.windows.push_back(metrics);  // late rows are reported per operator
      runtime::OverAggregateConfig cfg = oc;
      cfg.metrics = metrics;
      d.ops.push_back(
          [cfg](const runtime::SubtaskInfo&,
                const runtime::SideOutputs&) -> absl::StatusOr<std::unique_ptr<runtime::Operator>> {
            return runtime::MakeOverAggregate(cfg);
          });
      drafts.push_back(std::move(d));
      return Built{static_cast<int>(drafts.size()) - 1, false};
    }
    if (node->kind == PlanNode::Kind::kMatchRecognize) {
      // MATCH_RECOGNIZE: a new vertex behind a key-group exchange on PARTITION BY.
      const auto& mc = *node->match;
      VertexDraft d;
      d.spec.name = node->Describe();
      d.spec.parallelism = mc.key_columns.empty() ? 1 : n;
      runtime::EdgeSpec e;
      e.from = from;
      e.partitioning =
          mc.key_columns.empty() ? runtime::Partitioning::kGlobal : runtime::Partitioning::kHash;
      e.key_columns = mc.key_columns;
      e.ordered = from_source;
      e.row_watermark_column = from_source ? node->input->schema.IndexOf(kRowWatermarkColumn) : -1;
      d.spec.inputs.push_back(e);
      auto metrics = d.spec.metrics;
      metrics->name = mc.name;
      job.windows.push_back(metrics);  // late rows are reported per operator
      runtime::MatchRecognizeConfig cfg = mc;
      cfg.metrics = metrics;
      d.ops.push_back(
          [cfg](const runtime::SubtaskInfo&,
                const runtime::SideOutputs&) -> absl::StatusOr<std::unique_ptr<runtime::Operator>> {
            return runtime::MakeMatchRecognize(cfg);
          });
      drafts.push_back(std::move(d));
      return Built{static_cast<int>(drafts.size()) - 1, false};
    }
    // Aggregation: a new vertex behind a key-group exchange.
    const auto& cfg0 = node->agg;
    VertexDraft d;
    d.spec.name = node->Describe();
    d.spec.parallelism = cfg0.key_columns.empty() ? 1 : n;
    runtime::EdgeSpec e;
    e.from = from;
    e.partitioning =
        cfg0.key_columns.empty() ? runtime::Partitioning::kGlobal : runtime::Partitioning::kHash;
    e.key_columns = cfg0.key_columns;
    e.ordered = from_source;
    e.row_watermark_column = from_source ? node->input->schema.IndexOf(kRowWatermarkColumn) : -1;
    d.spec.inputs.push_back(e);
    auto metrics = d.spec.metrics;
    metrics->name = node->Describe();
    runtime::AggregateConfig cfg = cfg0;
    cfg.name = node->Describe();
    cfg.metrics = metrics;
    bool window = node->kind == PlanNode::Kind::kWindowAgg;
    bool proctime = node->proctime_window;
    cfg.processing_time = proctime;
    cfg.state_ttl_ms = ParseDurationMs(config.Get("table.exec.state.ttl"));
    if (cfg.state_ttl_ms < 0) {
      return absl::InvalidArgumentError(
          fmt::format("'table.exec.state.ttl' must be a duration such as '1 h', not '{}'",
                      config.Get("table.exec.state.ttl")));
    }
    if (window) {
      d.spec.has_late_output = late_sink != nullptr;
      job.windows.push_back(metrics);
    }
    d.ops.push_back([cfg, window](const runtime::SubtaskInfo&, const runtime::SideOutputs& side)
                        -> absl::StatusOr<std::unique_ptr<runtime::Operator>> {
      if (window) return runtime::MakeWindowAggregate(cfg, side);
      return runtime::MakeGroupAggregate(cfg);
    });
    drafts.push_back(std::move(d));
    return Built{static_cast<int>(drafts.size()) - 1, false};
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
  SinkFactory make = sink.make;
  sd.ops.push_back(
      [make](const runtime::SubtaskInfo& info, const runtime::SideOutputs&) { return make(info); });
  Seal(&sd);
  if (sink.metrics) job.sinks.push_back(sink.metrics);
  drafts.push_back(std::move(sd));

  if (late_sink && !job.windows.empty()) {
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
    SinkFactory lmake = late_sink->make;
    ld.ops.push_back([lmake](const runtime::SubtaskInfo& info, const runtime::SideOutputs&) {
      return lmake(info);
    });
    Seal(&ld);
    if (late_sink->metrics) job.sinks.push_back(late_sink->metrics);
    drafts.push_back(std::move(ld));
  }
  for (auto& d : drafts) job.graph.vertices.push_back(std::move(d.spec));
  return job;
}

}  // namespace eddy
