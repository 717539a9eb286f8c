#include "server/rest_api.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/secrets.h"
#include "kafka/broker_metrics.h"
#include "log/log_metrics.h"
#include "log/partition.h"
#include "server/web_assets.h"

namespace eddy::server {

namespace {

using nlohmann::json;

HttpResponse Json(int status, const json& j) {
  HttpResponse r;
  r.status = status;
  r.body = j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  return r;
}

// Wall-clock ms as ISO 8601 UTC with ms ("2026-12-07T14:53:48.123Z"); null for 0.
json IsoTime(int64_t ms) {
  if (ms <= 0) return nullptr;
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

int StatusOf(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
      return 409;
    case absl::StatusCode::kInvalidArgument:
      return 400;
    default:
      return 500;
  }
}

HttpResponse FromStatus(const absl::Status& s) {
  return ErrorResponse(StatusOf(s), std::string(s.message()));
}

bool IsJson(const HttpRequest& req) {
  return absl::StartsWithIgnoreCase(req.content_type, "application/json");
}

// The request body as a JSON object, or the error response.
absl::StatusOr<json> BodyObject(const HttpRequest& req, HttpResponse* error) {
  if (!IsJson(req)) {
    *error = ErrorResponse(
        415, fmt::format("the body must be application/json, not '{}'", req.content_type));
    return absl::InvalidArgumentError("");
  }
  json j = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    *error = ErrorResponse(400, "the body is not a JSON object");
    return absl::InvalidArgumentError("");
  }
  return j;
}

// A string member of `j`, "" when absent; false when present but not a string.
bool StringMember(const json& j, const char* key, std::string* out) {
  auto it = j.find(key);
  if (it == j.end()) return true;
  if (!it->is_string()) return false;
  *out = it->get<std::string>();
  return true;
}

// The "properties" member: string values (numbers and booleans are taken as their text).
bool Properties(const json& j, std::map<std::string, std::string>* out, std::string* bad) {
  auto it = j.find("properties");
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_object()) {
    *bad = "'properties' must be an object of strings";
    return false;
  }
  for (const auto& [k, v] : it->items()) {
    if (v.is_string()) {
      (*out)[k] = v.get<std::string>();
    } else if (v.is_number() || v.is_boolean()) {
      (*out)[k] = v.dump();
    } else {
      *bad = fmt::format("property '{}' must be a string", k);
      return false;
    }
  }
  return true;
}

json SummaryJson(const JobSummary& s) {
  json sources = json::array(), sinks = json::array(), late = json::array();
  for (const auto& x : s.sources) {
    sources.push_back({{"table", x.table},
                       {"rows", x.rows},
                       {"bad_rows_skipped", x.bad_skipped},
                       {"bad_rows_dead_lettered", x.bad_dead_lettered}});
  }
  for (const auto& x : s.sinks) sinks.push_back({{"table", x.table}, {"rows", x.rows}});
  for (const auto& x : s.late) late.push_back({{"operator", x.op}, {"rows", x.rows}});
  return {{"ok", s.ok},
          {"seconds", s.seconds},
          {"sources", sources},
          {"sinks", sinks},
          {"late_rows", late},
          {"checkpoints_completed", s.checkpoints_completed},
          {"checkpoints_failed", s.checkpoints_failed},
          {"restored_from", s.restored_from}};
}

json PipelineSummaryJson(const PipelineInfo& p) {
  return {{"name", p.name},
          {"state", PipelineStateName(p.state)},
          {"start_time", IsoTime(p.start_ms)},
          {"end_time", IsoTime(p.end_ms)},
          {"restarts", p.restarts},
          {"error", p.error.empty() ? json(nullptr) : json(p.error)}};
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A watermark (µs) as JSON: null before the first one and after the end of the input.
json WatermarkJson(int64_t wm) {
  if (wm == INT64_MIN || wm == INT64_MAX) return nullptr;
  return wm;
}

// How far a watermark (µs) is behind the wall clock `now_ms`, in ms; null when there is none.
json WatermarkLagMs(int64_t wm, int64_t now_ms) {
  if (wm == INT64_MIN || wm == INT64_MAX) return nullptr;
  return now_ms - wm / 1000;
}

// A value of a per-vertex, per-subtask table, 0 when missing.
double At(const std::vector<std::vector<double>>& t, size_t v, size_t s) {
  return v < t.size() && s < t[v].size() ? t[v][s] : 0.0;
}

// The subtasks of vertex `v`: counters, rates, watermark, state and backpressure.
json SubtasksJson(const PipelineInfo& p, size_t v, int64_t now_ms) {
  json subtasks = json::array();
  const auto& subs = p.progress.vertices[v].subtasks;
  for (size_t s = 0; s < subs.size(); ++s) {
    const SubtaskProgress& x = subs[s];
    subtasks.push_back({{"subtask", s},
                        {"rows_in", x.rows_in},
                        {"rows_out", x.rows_out},
                        {"rows_out_per_second", At(p.subtask_rows_per_second, v, s)},
                        {"watermark", WatermarkJson(x.watermark)},
                        {"watermark_lag_ms", WatermarkLagMs(x.watermark, now_ms)},
                        {"state_bytes", x.state_bytes},
                        {"state_keys", x.state_keys},
                        {"backpressure_ratio", At(p.subtask_backpressure, v, s)},
                        {"busy_ms", x.busy_ns / 1'000'000},
                        {"backpressured_ms", x.backpressured_ns / 1'000'000}});
  }
  return subtasks;
}

json SourceLagJson(const VertexProgress& x) {
  json lag = json::array();
  for (const PartitionLag& l : x.source_lag) {
    lag.push_back({{"table", l.table},
                   {"topic", l.topic},
                   {"partition", l.partition},
                   {"position", l.position},
                   {"end_offset", l.end_offset},
                   {"lag", std::max<int64_t>(0, l.end_offset - l.position)}});
  }
  return lag;
}

json PipelineJson(const PipelineInfo& p) {
  json j = PipelineSummaryJson(p);
  // As every SQL text eddy shows (errors, logs): secret option values hidden, line by line.
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(p.sql, '\n')) {
    lines.push_back(HideSecretsInSql(std::string_view(line.data(), line.size())));
  }
  j["sql"] = absl::StrJoin(lines, "\n");
  j["properties"] = p.properties;
  j["persisted"] = p.persisted;
  const Progress& pr = p.progress;
  double rate = pr.seconds > 0 ? static_cast<double>(pr.rows) / pr.seconds : 0;
  j["job"] = {{"rows_read", pr.rows},
              {"bytes_read", pr.bytes},
              {"bytes_total", pr.total_bytes},
              {"seconds", pr.seconds},
              {"rows_per_second", rate}};
  // The running job's graph: vertices (operators chained together) and their edges, with
  // counters summed over subtasks.
  json vertices = json::array();
  int64_t now_ms = NowMs();
  for (size_t v = 0; v < pr.vertices.size(); ++v) {
    const VertexProgress& x = pr.vertices[v];
    // The vertex's figures over its subtasks: the lowest watermark (what its consumers see),
    // summed state, the highest backpressure.
    int64_t wm = x.subtasks.empty() ? INT64_MIN : INT64_MAX;
    int64_t state_bytes = 0, state_keys = 0;
    double backpressure = 0;
    for (size_t s = 0; s < x.subtasks.size(); ++s) {
      wm = std::min(wm, x.subtasks[s].watermark);
      state_bytes += x.subtasks[s].state_bytes;
      state_keys += x.subtasks[s].state_keys;
      backpressure = std::max(backpressure, At(p.subtask_backpressure, v, s));
    }
    vertices.push_back({{"id", v},
                        {"name", x.name},
                        {"parallelism", x.parallelism},
                        {"inputs", x.inputs},
                        {"rows_in", x.rows_in},
                        {"rows_out", x.rows_out},
                        {"late_rows", x.late_rows},
                        {"rows_out_per_second",
                         v < p.vertex_rows_per_second.size() ? p.vertex_rows_per_second[v] : 0.0},
                        {"watermark", WatermarkJson(wm)},
                        {"watermark_lag_ms", WatermarkLagMs(wm, now_ms)},
                        {"state_bytes", state_bytes},
                        {"state_keys", state_keys},
                        {"backpressure_ratio", backpressure},
                        {"subtasks", SubtasksJson(p, v, now_ms)},
                        {"source_lag", SourceLagJson(x)}});
  }
  j["job"]["vertices"] = vertices;
  j["jobs_finished"] = p.jobs_finished;
  j["last_finished_job"] = p.jobs_finished > 0 ? SummaryJson(p.last_summary) : json(nullptr);
  return j;
}

// Prometheus text format: a label value with \, " and newline escaped.
std::string Label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

HttpResponse ErrorResponse(int status, const std::string& message) {
  return Json(status, {{"error_code", status}, {"message", message}});
}

HttpResponse RestApi::Handle(const HttpRequest& req) const {
  std::string path = req.target.substr(0, req.target.find('?'));
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (HttpResponse page; ServeDashboard(req, path, &page)) return page;
  if (path == "/v1/pipelines") return HandlePipelines(req, "");
  if (absl::StartsWith(path, "/v1/pipelines/")) return HandlePipelines(req, path.substr(14));
  if (path == "/v1/explain") return HandleExplain(req);
  if (path == "/v1/query") return HandleQuery(req);
  if (path == "/v1/watch") return HandleWatch(req);
  if (path == "/v1/groups") return HandleGroups(req, "");
  if (absl::StartsWith(path, "/v1/groups/")) return HandleGroups(req, path.substr(11));
  if (path == "/v1/topics") return HandleTopics(req, "");
  if (absl::StartsWith(path, "/v1/topics/")) return HandleTopics(req, path.substr(11));
  if (absl::StartsWith(path, "/topics/")) return HandleProduce(req, path.substr(8));
  if (absl::StartsWith(path, "/consumers/")) {
    if (!consumers_) return ErrorResponse(404, "this server has no topics");
    int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now().time_since_epoch())
                         .count();
    return consumers_->Handle(req, path.substr(11), now_ms);
  }
  if (path == "/metrics") {
    if (req.method != "GET") return ErrorResponse(405, "use GET on /metrics");
    return HandleMetrics();
  }
  if (path == "/v1/health" || path == "/health") {
    if (req.method != "GET") return ErrorResponse(405, "use GET on " + path);
    int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    return Json(200,
                {{"status", "ok"},
                 {"pipelines_running", pipelines_->running()},
                 {"push_queries_running", RunningPushQueries()},
                 {"version", info_.version},
                 {"kafka_bootstrap", info_.kafka_bootstrap},
                 {"start_time", IsoTime(info_.start_ms)},
                 {"uptime_seconds", info_.start_ms > 0 ? (now_ms - info_.start_ms) / 1000 : 0}});
  }
  return ErrorResponse(404, fmt::format("no route for {} {}", req.method, path));
}

HttpResponse RestApi::HandlePipelines(const HttpRequest& req, const std::string& name) const {
  if (name.empty()) {
    if (req.method == "GET") {
      json list = json::array();
      for (const PipelineInfo& p : pipelines_->List()) list.push_back(PipelineSummaryJson(p));
      return Json(200, {{"pipelines", list}});
    }
    if (req.method != "POST") return ErrorResponse(405, "use GET or POST on /v1/pipelines");
    HttpResponse err;
    auto body = BodyObject(req, &err);
    if (!body.ok()) return err;
    std::string pname, sql;
    std::map<std::string, std::string> props;
    std::string bad;
    if (!StringMember(*body, "name", &pname) || !StringMember(*body, "sql", &sql)) {
      return ErrorResponse(400, "'name' and 'sql' must be strings");
    }
    if (pname.empty() || sql.empty()) return ErrorResponse(400, "'name' and 'sql' are required");
    if (!Properties(*body, &props, &bad)) return ErrorResponse(400, bad);
    absl::Status st = pipelines_->Create(pname, sql, props, /*persist=*/true);
    if (!st.ok()) return FromStatus(st);
    auto info = pipelines_->Get(pname);
    if (!info.ok()) return FromStatus(info.status());
    return Json(201, PipelineSummaryJson(*info));
  }
  if (req.method == "GET") {
    auto info = pipelines_->Get(name);
    if (!info.ok()) return FromStatus(info.status());
    return Json(200, PipelineJson(*info));
  }
  if (req.method == "DELETE") {
    absl::Status st = pipelines_->Cancel(name);
    if (!st.ok()) return FromStatus(st);
    auto info = pipelines_->Get(name);
    if (!info.ok()) return FromStatus(info.status());
    return Json(200, PipelineSummaryJson(*info));
  }
  return ErrorResponse(405, "use GET or DELETE on /v1/pipelines/{name}");
}

HttpResponse RestApi::HandleExplain(const HttpRequest& req) const {
  if (req.method != "POST") return ErrorResponse(405, "use POST on /v1/explain");
  HttpResponse err;
  auto body = BodyObject(req, &err);
  if (!body.ok()) return err;
  std::string sql, bad;
  std::map<std::string, std::string> props;
  if (!StringMember(*body, "sql", &sql) || sql.empty()) {
    return ErrorResponse(400, "'sql' (a string) is required");
  }
  if (!Properties(*body, &props, &bad)) return ErrorResponse(400, bad);
  auto plan = Pipelines::Explain(sql, props);
  if (!plan.ok()) return FromStatus(plan.status());
  return Json(200, {{"plan", *plan}});
}

HttpResponse RestApi::HandleTopics(const HttpRequest& req, const std::string& name) const {
  if (req.method != "GET") return ErrorResponse(405, "use GET on /v1/topics");
  if (!log_) return ErrorResponse(404, "this server has no log");
  auto rate_of = [&](const std::string& topic) -> json {
    std::optional<double> r = topic_rates_.RecordsPerSecond(topic);
    return r ? json(std::round(*r * 10) / 10) : json(nullptr);
  };
  auto partitions = [&](const log::TopicInfo& t, json* out, int64_t* bytes, int64_t* records) {
    for (int32_t i = 0; i < t.partition_count; ++i) {
      auto p = log_->GetPartition(t.name, PartitionId(i));
      if (!p.ok()) continue;
      int64_t start = (*p)->LogStartOffset().value(), end = (*p)->HighWatermark().value();
      int64_t size = (*p)->SizeBytes();
      *bytes += size;
      *records += end - start;
      if (out) {
        out->push_back(
            {{"partition", i}, {"start_offset", start}, {"end_offset", end}, {"bytes", size}});
      }
    }
  };
  if (name.empty()) {
    json list = json::array();
    for (const log::TopicInfo& t : log_->ListTopics()) {
      int64_t bytes = 0, records = 0;
      partitions(t, nullptr, &bytes, &records);
      list.push_back({{"name", t.name},
                      {"partitions", t.partition_count},
                      {"bytes", bytes},
                      {"records", records},
                      {"records_per_second", rate_of(t.name)}});
    }
    return Json(200, {{"topics", list}});
  }
  auto t = log_->DescribeTopic(name);
  if (!t.ok()) return ErrorResponse(404, fmt::format("no topic '{}'", name));
  json parts = json::array();
  int64_t bytes = 0, records = 0;
  partitions(*t, &parts, &bytes, &records);
  return Json(200, {{"name", t->name},
                    {"partitions", parts},
                    {"bytes", bytes},
                    {"records", records},
                    {"records_per_second", rate_of(t->name)},
                    {"configs", t->overrides}});
}

HttpResponse RestApi::HandleGroups(const HttpRequest& req, const std::string& name) const {
  if (req.method != "GET") return ErrorResponse(405, "use GET on /v1/groups");
  if (!groups_ || !log_) return ErrorResponse(404, "this server has no consumer groups");
  json list = json::array();
  for (const auto& g : groups_->Groups()) {
    if (!name.empty() && g.id != name) continue;
    json parts = json::array();
    int64_t total_lag = 0;
    for (const auto& [tp, committed] : g.committed) {
      auto p = log_->GetPartition(tp.first, PartitionId(tp.second));
      int64_t end = p.ok() ? (*p)->HighWatermark().value() : -1;
      int64_t lag = end >= 0 && committed >= 0 ? std::max<int64_t>(0, end - committed) : 0;
      total_lag += lag;
      parts.push_back({{"topic", tp.first},
                       {"partition", tp.second},
                       {"committed_offset", committed},
                       {"end_offset", end},
                       {"lag", lag}});
    }
    json j = {{"group", g.id},        {"state", g.state}, {"protocol_type", g.protocol_type},
              {"members", g.members}, {"lag", total_lag}, {"partitions", parts}};
    if (!name.empty()) return Json(200, j);
    list.push_back(j);
  }
  if (!name.empty()) return ErrorResponse(404, fmt::format("no consumer group '{}'", name));
  return Json(200, {{"groups", list}});
}

namespace {

// The per-subtask metric families of the pipelines' running jobs, gathered vertex by vertex and
// written family by family (the text format wants each family's samples together).
class SubtaskFamilies {
 public:
  // Adds the subtasks and kafka partitions of vertex `v` of `p`; `labels`: the vertex's labels.
  void Add(const PipelineInfo& p, size_t v, const std::string& labels, int64_t now_ms) {
    const VertexProgress& x = p.progress.vertices[v];
    for (size_t s = 0; s < x.subtasks.size(); ++s) {
      const SubtaskProgress& st = x.subtasks[s];
      std::string l = fmt::format("{{{},subtask=\"{}\"}}", labels, s);
      auto add = [&](int f, auto value) {
        rows_[f] += fmt::format("{}{} {}\n", kNames[f], l, value);
      };
      add(0, st.rows_in);
      add(1, st.rows_out);
      add(2, fmt::format("{:.3f}", At(p.subtask_rows_per_second, v, s)));
      if (st.watermark != INT64_MIN && st.watermark != INT64_MAX) {
        add(3, fmt::format("{:.6f}", static_cast<double>(st.watermark) / 1e6));
        add(4, fmt::format("{:.3f}", static_cast<double>(now_ms - st.watermark / 1000) / 1e3));
      }
      add(5, st.state_bytes);
      add(6, st.state_keys);
      add(7, fmt::format("{:.4f}", At(p.subtask_backpressure, v, s)));
      add(8, fmt::format("{:.6f}", static_cast<double>(st.backpressured_ns) / 1e9));
      add(9, fmt::format("{:.6f}", static_cast<double>(st.busy_ns) / 1e9));
    }
    for (const PartitionLag& g : x.source_lag) {
      rows_[10] += fmt::format("{}{{{},table=\"{}\",topic=\"{}\",partition=\"{}\"}} {}\n",
                               kNames[10], labels, Label(g.table), Label(g.topic), g.partition,
                               std::max<int64_t>(0, g.end_offset - g.position));
    }
  }
  void Append(std::string* out) const {
    for (int f = 0; f < kFamilies; ++f) {
      *out +=
          fmt::format("# HELP {} {}\n# TYPE {} {}\n", kNames[f], kHelp[f], kNames[f], kTypes[f]);
      *out += rows_[f];
    }
  }

 private:
  static constexpr int kFamilies = 11;
  static constexpr const char* kNames[kFamilies] = {"eddy_subtask_rows_in_total",
                                                    "eddy_subtask_rows_out_total",
                                                    "eddy_subtask_rows_out_per_second",
                                                    "eddy_subtask_watermark_seconds",
                                                    "eddy_subtask_watermark_lag_seconds",
                                                    "eddy_subtask_state_bytes",
                                                    "eddy_subtask_state_keys",
                                                    "eddy_subtask_backpressure_ratio",
                                                    "eddy_subtask_backpressured_seconds_total",
                                                    "eddy_subtask_busy_seconds_total",
                                                    "eddy_source_kafka_lag_records"};
  static constexpr const char* kTypes[kFamilies] = {"counter", "counter", "gauge", "gauge",
                                                    "gauge",   "gauge",   "gauge", "gauge",
                                                    "counter", "counter", "gauge"};
  static constexpr const char* kHelp[kFamilies] = {
      "Rows a subtask of a pipeline's vertex received.",
      "Rows a subtask of a pipeline's vertex emitted.",
      "Rows a subtask emitted per second over the last 10 s.",
      "The last watermark a subtask emitted, as seconds since the epoch.",
      "How far a subtask's watermark is behind the wall clock, in seconds.",
      "Approximate bytes of a subtask's operator state.",
      "Keys in a subtask's keyed state.",
      "Share of the last 10 s a subtask waited on a full output channel (0 to 1).",
      "Time a subtask waited on a full output channel (backpressure).",
      "Time a subtask spent working.",
      "Records of a partition a kafka source has not read yet (end offset - position)."};
  std::string rows_[kFamilies];
};

// The process metrics every Prometheus client library exports (their standard names), from
// /proc/self: resident memory, CPU seconds, open file descriptors, start time.
std::string ProcessMetrics() {
  std::string out;
  long page = sysconf(_SC_PAGESIZE), ticks = sysconf(_SC_CLK_TCK);
  std::ifstream statm("/proc/self/statm");
  int64_t size_pages = 0, rss_pages = 0;
  if (statm >> size_pages >> rss_pages) {
    out += "# HELP process_resident_memory_bytes Resident memory size in bytes.\n";
    out += "# TYPE process_resident_memory_bytes gauge\n";
    out += fmt::format("process_resident_memory_bytes {}\n", rss_pages * page);
    out += "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n";
    out += "# TYPE process_virtual_memory_bytes gauge\n";
    out += fmt::format("process_virtual_memory_bytes {}\n", size_pages * page);
  }
  std::ifstream stat("/proc/self/stat");
  std::string line;
  if (std::getline(stat, line)) {
    // Fields after the command name (which may hold spaces, inside parentheses).
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::vector<std::string> f{std::istream_iterator<std::string>(rest), {}};
    if (f.size() > 19 && ticks > 0) {
      double cpu = static_cast<double>(std::stoll(f[11]) + std::stoll(f[12])) / ticks;
      out += "# HELP process_cpu_seconds_total Total user and system CPU time in seconds.\n";
      out += "# TYPE process_cpu_seconds_total counter\n";
      out += fmt::format("process_cpu_seconds_total {:.2f}\n", cpu);
    }
  }
  std::error_code ec;
  int64_t fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  out += "# HELP process_open_fds Number of open file descriptors.\n";
  out += "# TYPE process_open_fds gauge\n";
  out += fmt::format("process_open_fds {}\n", fds);
  return out;
}

}  // namespace

HttpResponse RestApi::HandleMetrics() const {
  std::string out = ProcessMetrics();
  std::vector<PipelineInfo> list = pipelines_->List();
  out += "# HELP eddy_pipelines Pipelines of this server by state.\n";
  out += "# TYPE eddy_pipelines gauge\n";
  for (PipelineState s :
       {PipelineState::kCreated, PipelineState::kRunning, PipelineState::kRestarting,
        PipelineState::kFailed, PipelineState::kFinished, PipelineState::kCanceled}) {
    int n = 0;
    for (const auto& p : list) n += p.state == s ? 1 : 0;
    out += fmt::format("eddy_pipelines{{state=\"{}\"}} {}\n", PipelineStateName(s), n);
  }
  out += "# HELP eddy_pipeline_rows_read Rows read by the pipeline's running job.\n";
  out += "# TYPE eddy_pipeline_rows_read gauge\n";
  for (const auto& p : list) {
    out += fmt::format("eddy_pipeline_rows_read{{pipeline=\"{}\"}} {}\n", Label(p.name),
                       p.progress.rows);
  }
  std::string vin, vout, vlate;
  SubtaskFamilies sub;
  int64_t now_ms = NowMs();
  for (const auto& p : list) {
    const auto& vertices = p.progress.vertices;
    for (size_t v = 0; v < vertices.size(); ++v) {
      std::string labels = fmt::format("pipeline=\"{}\",vertex_id=\"{}\",vertex=\"{}\"",
                                       Label(p.name), v, Label(vertices[v].name));
      vin += fmt::format("eddy_vertex_rows_in_total{{{}}} {}\n", labels, vertices[v].rows_in);
      vout += fmt::format("eddy_vertex_rows_out_total{{{}}} {}\n", labels, vertices[v].rows_out);
      vlate += fmt::format("eddy_vertex_late_rows_total{{{}}} {}\n", labels, vertices[v].late_rows);
      sub.Add(p, v, labels, now_ms);
    }
  }
  out += "# HELP eddy_vertex_rows_in_total Rows received by a vertex of a pipeline's job.\n";
  out += "# TYPE eddy_vertex_rows_in_total counter\n" + vin;
  out += "# HELP eddy_vertex_rows_out_total Rows emitted by a vertex of a pipeline's job.\n";
  out += "# TYPE eddy_vertex_rows_out_total counter\n" + vout;
  out += "# HELP eddy_vertex_late_rows_total Late rows of a vertex of a pipeline's job.\n";
  out += "# TYPE eddy_vertex_late_rows_total counter\n" + vlate;
  sub.Append(&out);
  out += "# HELP eddy_pipeline_restarts_total Restarts of the pipeline after failures.\n";
  out += "# TYPE eddy_pipeline_restarts_total counter\n";
  for (const auto& p : list) {
    out += fmt::format("eddy_pipeline_restarts_total{{pipeline=\"{}\"}} {}\n", Label(p.name),
                       p.restarts);
  }
  if (log_) {
    std::string end, size;
    for (const log::TopicInfo& t : log_->ListTopics()) {
      for (int32_t i = 0; i < t.partition_count; ++i) {
        auto p = log_->GetPartition(t.name, PartitionId(i));
        if (!p.ok()) continue;
        end += fmt::format("eddy_topic_partition_end_offset{{topic=\"{}\",partition=\"{}\"}} {}\n",
                           Label(t.name), i, (*p)->HighWatermark().value());
        size += fmt::format("eddy_topic_partition_bytes{{topic=\"{}\",partition=\"{}\"}} {}\n",
                            Label(t.name), i, (*p)->SizeBytes());
      }
    }
    if (groups_) {
      std::string lag;
      for (const auto& g : groups_->Groups()) {
        for (const auto& [tp, committed] : g.committed) {
          auto p = log_->GetPartition(tp.first, PartitionId(tp.second));
          if (!p.ok() || committed < 0) continue;
          lag += fmt::format(
              "eddy_consumer_group_lag{{group=\"{}\",topic=\"{}\",partition=\"{}\"}} {}\n",
              Label(g.id), Label(tp.first), tp.second,
              std::max<int64_t>(0, (*p)->HighWatermark().value() - committed));
        }
      }
      out +=
          "# HELP eddy_consumer_group_lag Records between a group's committed offset and the "
          "partition's end.\n";
      out += "# TYPE eddy_consumer_group_lag gauge\n" + lag;
    }
    out += "# HELP eddy_topic_partition_end_offset The log end offset (high watermark).\n";
    out += "# TYPE eddy_topic_partition_end_offset gauge\n" + end;
    out += "# HELP eddy_topic_partition_bytes Bytes of the partition's segments.\n";
    out += "# TYPE eddy_topic_partition_bytes gauge\n" + size;
    kafka::BrokerMetrics::Get().AppendPrometheus(&out, &Label);
    out += "# HELP eddy_log_fsync_duration_seconds Time of each fsync of a partition's data.\n";
    out += "# TYPE eddy_log_fsync_duration_seconds histogram\n";
    log::FsyncLatency().AppendPrometheus("eddy_log_fsync_duration_seconds", "", &out);
  }
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = std::move(out);
  return r;
}

}  // namespace eddy::server
