// GET /v1/watch (docs/rest-api.md): Server-Sent Events carrying the JSON of one or more GET routes
// of the REST API, once per interval, for the web dashboard's live pages (issue 12: "live updates
// via SSE"). Each event is `data: {"<path>": {"status": N, "body": <the route's JSON>}, ...}`,
// taken from RestApi::Handle in the same instant for every path, so figures of different routes
// stay consistent with each other. The stream runs until the client goes away.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "base/strings.h"
#include "server/rest_api.h"

namespace eddy::server {

namespace {

constexpr int kMaxPaths = 16;
constexpr int64_t kMinIntervalMs = 100;
constexpr int64_t kMaxIntervalMs = 60'000;

// Whether GET `path` may be watched: the JSON routes of the API, not streams or the dashboard.
bool Watchable(const std::string& path) {
  std::string p = path.substr(0, path.find('?'));
  return absl::StartsWith(p, "/v1/") && p != "/v1/query" && p != "/v1/watch" &&
         !absl::StartsWith(p, "/v1/watch/");
}

class WatchStream final : public ResponseStream {
 public:
  WatchStream(const RestApi* api, std::vector<std::string> paths, int64_t interval_ms)
      : api_(api), paths_(std::move(paths)), interval_(interval_ms) {}

  bool Next(std::string* chunk) override {
    {
      std::unique_lock<std::mutex> l(mu_);
      if (!first_) cv_.wait_for(l, interval_, [&] { return cancelled_; });
      first_ = false;
      if (cancelled_) return false;
    }
    nlohmann::json event = nlohmann::json::object();
    for (const std::string& path : paths_) {
      HttpRequest get;
      get.method = "GET";
      get.target = path;
      get.accept = "application/json";
      HttpResponse r = api_->Handle(get);
      nlohmann::json body = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
      if (body.is_discarded()) body = r.body;  // a text route: kept as a string
      event[path] = {{"status", r.status}, {"body", std::move(body)}};
    }
    *chunk =
        "data: " + event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n\n";
    return true;
  }

  void Cancel() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      cancelled_ = true;
    }
    cv_.notify_all();
  }

 private:
  const RestApi* api_;
  std::vector<std::string> paths_;
  std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool cancelled_ = false;
  bool first_ = true;  // the first event goes at once
};

}  // namespace

HttpResponse RestApi::HandleWatch(const HttpRequest& req) const {
  if (req.method != "GET") return ErrorResponse(405, "use GET on /v1/watch");
  size_t q = req.target.find('?');
  std::vector<std::string> paths;
  int64_t interval_ms = 1000;
  if (q != std::string::npos) {
    for (absl::string_view kv : absl::StrSplit(req.target.substr(q + 1), '&', absl::SkipEmpty())) {
      std::pair<std::string, std::string> p = absl::StrSplit(kv, absl::MaxSplits('=', 1));
      std::string value = PercentDecode(p.second);
      if (p.first == "path") {
        if (!Watchable(value)) {
          return ErrorResponse(400, "cannot watch '" + value +
                                        "': a path is a GET route of the API under /v1/ (not "
                                        "/v1/query or /v1/watch)");
        }
        paths.push_back(std::move(value));
      } else if (p.first == "interval_ms") {
        if (!absl::SimpleAtoi(value, &interval_ms) || interval_ms < kMinIntervalMs ||
            interval_ms > kMaxIntervalMs) {
          return ErrorResponse(400, "interval_ms must be a whole number of milliseconds from " +
                                        std::to_string(kMinIntervalMs) + " to " +
                                        std::to_string(kMaxIntervalMs));
        }
      } else {
        return ErrorResponse(400, "unknown parameter '" + p.first +
                                      "' of /v1/watch (it takes path and interval_ms)");
      }
    }
  }
  if (paths.empty()) return ErrorResponse(400, "/v1/watch needs at least one path=/v1/...");
  if (static_cast<int>(paths.size()) > kMaxPaths) {
    return ErrorResponse(400, "/v1/watch takes at most " + std::to_string(kMaxPaths) + " paths");
  }
  HttpResponse r;
  r.content_type = "text/event-stream";
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.stream = std::make_shared<WatchStream>(this, std::move(paths), interval_ms);
  return r;
}

}  // namespace eddy::server
