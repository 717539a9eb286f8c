// Push queries (POST /v1/query, docs/rest-api.md): a SQL script whose SELECT results stream to
// the client as they are produced, one JSON object per row with its changelog kind ("op": "+I",
// "-U", "+U", "-D"), as newline-delimited JSON over chunked transfer or, with `Accept:
// text/event-stream`, as Server-Sent Events. The script runs on a thread of its own with its own
// Engine (as `eddy run` runs it, its rows printed in the json format through a FILE that feeds
// a bounded queue: a client that reads slowly slows the job down instead of growing memory).
// When the client goes away the query is cancelled and its Engine, job and state freed.
#include <fmt/format.h>
#include <stdio.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/strings/match.h"
#include "base/log.h"
#include "server/rest_api.h"

namespace eddy::server {

namespace {

std::atomic<int> g_running{0};
std::atomic<int64_t> g_next_id{1};

// Rows queued for the client at most (bytes); the job's sink waits beyond it.
constexpr size_t kMaxQueuedBytes = 1 << 20;

class PushQuery final : public ResponseStream {
 public:
  PushQuery(std::string sql, std::map<std::string, std::string> props, bool sse)
      : id_(g_next_id++), sql_(std::move(sql)), props_(std::move(props)), sse_(sse) {
    g_running++;
    thread_ = std::thread([this] { Run(); });
  }
  ~PushQuery() override {
    Cancel();
    if (thread_.joinable()) thread_.join();
    g_running--;
  }

  bool Next(std::string* chunk) override {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return !lines_.empty() || ended_ || cancelled_; });
    if (lines_.empty()) return false;
    chunk->clear();
    // Everything queued, in one chunk (one write per batch of rows).
    while (!lines_.empty()) {
      const std::string& line = lines_.front();
      *chunk += sse_ ? "data: " + line + "\n\n" : line + "\n";
      bytes_ -= line.size();
      lines_.pop_front();
    }
    cv_.notify_all();  // the job's sink may be waiting for room
    return true;
  }

  void WaitEnded() override {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return ended_; });
  }

  void Cancel() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (cancelled_) return;
      cancelled_ = true;
    }
    cv_.notify_all();
    std::lock_guard<std::mutex> l(engine_mu_);
    if (engine_) engine_->Cancel();
  }

 private:
  void Run() {
    {
      std::lock_guard<std::mutex> l(engine_mu_);
      engine_ = std::make_unique<Engine>();
    }
    for (const auto& [k, v] : props_) (void)engine_->Set(k, v);  // checked before the start
    cookie_io_functions_t io{};
    io.write = &PushQuery::Write;
    FILE* out = fopencookie(this, "w", io);
    OutputOptions o;
    o.format = OutputOptions::Format::kJson;
    o.always_kind = true;
    o.out = out;
    // A job that starts after Cancel() resets the engine's flag: cancel again while it runs.
    o.on_progress = [this](const Progress&) {
      std::lock_guard<std::mutex> l(mu_);
      if (cancelled_ && engine_) engine_->Cancel();
    };
    spdlog::info("push query {}: started", id_);
    absl::Status st = engine_->ExecuteScript(sql_, o);
    if (out) std::fclose(out);
    bool cancelled;
    {
      std::lock_guard<std::mutex> l(mu_);
      cancelled = cancelled_;
      if (!st.ok() && !cancelled) {
        // The last line (an SSE "data:" event like the rows): what failed.
        lines_.push_back(nlohmann::json{{"error", std::string(st.message())}}.dump(
            -1, ' ', false, nlohmann::json::error_handler_t::replace));
      }
      ended_ = true;
    }
    cv_.notify_all();
    if (cancelled) {
      spdlog::info("push query {}: cancelled (the client went away); its job and state are freed",
                   id_);
    } else {
      spdlog::info("push query {}: {}", id_,
                   st.ok() ? "ended" : "failed: " + std::string(st.message()));
    }
    std::lock_guard<std::mutex> l(engine_mu_);
    engine_.reset();
  }

  // fopencookie's write: whole lines go to the queue (waiting while it is full), the rest waits
  // for its line's end. Returns `size` (or 0 once cancelled: the printer's writes then fail).
  static ssize_t Write(void* cookie, const char* data, size_t size) {
    auto* q = static_cast<PushQuery*>(cookie);
    std::unique_lock<std::mutex> l(q->mu_);
    if (q->cancelled_) return 0;
    q->partial_.append(data, size);
    size_t start = 0, nl;
    while ((nl = q->partial_.find('\n', start)) != std::string::npos) {
      std::string line = q->partial_.substr(start, nl - start);
      start = nl + 1;
      if (line.empty()) continue;
      if (q->bytes_ >= kMaxQueuedBytes) {
        q->cv_.notify_all();  // the reader may be asleep on an empty queue: wake it first
        q->cv_.wait(l, [&] { return q->bytes_ < kMaxQueuedBytes || q->cancelled_; });
      }
      if (q->cancelled_) return 0;
      q->bytes_ += line.size();
      q->lines_.push_back(std::move(line));
    }
    q->partial_.erase(0, start);
    q->cv_.notify_all();
    return static_cast<ssize_t>(size);
  }

  const int64_t id_;
  const std::string sql_;
  const std::map<std::string, std::string> props_;
  const bool sse_;
  std::mutex engine_mu_;
  std::unique_ptr<Engine> engine_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> lines_;
  size_t bytes_ = 0;
  std::string partial_;
  bool ended_ = false;
  bool cancelled_ = false;
  std::thread thread_;
};

}  // namespace

int RunningPushQueries() { return g_running.load(); }

HttpResponse RestApi::HandleQuery(const HttpRequest& req) const {
  if (req.method != "POST") return ErrorResponse(405, "use POST on /v1/query");
  if (!absl::StartsWithIgnoreCase(req.content_type, "application/json")) {
    return ErrorResponse(
        415, fmt::format("the body must be application/json, not '{}'", req.content_type));
  }
  nlohmann::json body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object() || !body.contains("sql") ||
      !body["sql"].is_string()) {
    return ErrorResponse(400, "the body must be {\"sql\": \"SELECT ...\"}");
  }
  std::string sql = body["sql"].get<std::string>();
  std::map<std::string, std::string> props;
  if (body.contains("properties") && body["properties"].is_object()) {
    for (const auto& [k, v] : body["properties"].items()) {
      props[k] = v.is_string() ? v.get<std::string>() : v.dump();
    }
  }
  // Checked first (planned, nothing runs): a bad script is a 400 before any row.
  if (auto plan = Pipelines::Explain(sql, props); !plan.ok()) {
    return ErrorResponse(400, std::string(plan.status().message()));
  }
  bool sse = absl::StrContains(req.accept, "text/event-stream");
  HttpResponse r;
  r.content_type = sse ? "text/event-stream" : "application/x-ndjson";
  r.stream = std::make_shared<PushQuery>(std::move(sql), std::move(props), sse);
  return r;
}

}  // namespace eddy::server
