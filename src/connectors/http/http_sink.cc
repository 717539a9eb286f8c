// The 'http' sink connector: each row, or batches of rows, as JSON in HTTP requests to an endpoint
// (webhooks, alerting and incident tools), over libcurl. docs/connectors.md "http" has the
// options and the delivery rules:
//  * rows are buffered per target URL (the 'url' may take column values: '{col}') and sent when
//    'sink.batch.max-rows' are waiting, when 'sink.batch.interval' has passed since the first of
//    them, at every checkpoint barrier and at the end of input: at-least-once with checkpoints
//    (nothing buffered is left out of a checkpoint);
//  * 2xx is delivered; 5xx, 408, 429 and transport errors (refused, reset, timeout) are retried
//    with exponential backoff up to 'sink.max-retries' times, then the rows follow the error
//    policy; other statuses (4xx) are not retried: the rows follow the error policy at once
//    ('fail' the job naming the status and the response body, 'skip' and count them, or
//    'dead-letter' them with the status and body as the reason);
//  * a request never waits longer than 'sink.request-timeout', and a cancelled job aborts the
//    request in flight and the backoff, so the job never blocks forever.
// Requests are sent from the sink subtask's thread, one at a time (libcurl's easy interface, the
// connection kept alive between them).
#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "base/log.h"
#include "base/secrets.h"
#include "base/status.h"
#include "base/strings.h"
#include "base/utf8.h"
#include "connectors/connector.h"
#include "connectors/dead_letter.h"
#include "connectors/flush_timer.h"
#include "formats/row_encoder.h"
#include "types/value.h"

namespace eddy::connectors {

namespace {

const std::vector<std::string> kHttp = {"http"};

const auto kUrl = catalog::TableOption(kHttp, "url")
                      .String()
                      .Required()
                      .Doc(
                          "The endpoint (http:// or https://). '{col}' takes the row's value of "
                          "column col (URL-encoded); rows of different URLs go in different "
                          "requests.");
const auto kMethod =
    catalog::TableOption(kHttp, "method").Enum("POST", {"POST", "PUT"}).Doc("The request method.");
const auto kHeaders =
    catalog::TableOption(kHttp, "headers")
        .String("")
        .Doc(
            "Extra request headers, 'Name: value' separated by newlines, or by ';' when there is "
            "no newline (e.g. 'Authorization: Bearer x; X-Source: eddy').");
const auto kFormat =
    catalog::TableOption(kHttp, "format")
        .Enum("json-array", {"json-array", "ndjson", "json"})
        .Doc(
            "The request body: 'json-array' (the batch's rows as one JSON array), 'ndjson' (one "
            "JSON object per line) or 'json' (one row per request, its JSON object).");
const auto kBatchRows = catalog::TableOption(kHttp, "sink.batch.max-rows")
                            .Int(100)
                            .Range(1, 1 << 20)
                            .Doc("Rows per request at most ('json-array' and 'ndjson').");
const auto kBatchInterval =
    catalog::TableOption(kHttp, "sink.batch.interval")
        .Duration("1 s")
        .Min(absl::ZeroDuration())
        .Doc(
            "A waiting row is sent at the latest this long after it arrived (0: at the end of "
            "each input batch).");
const auto kRequestTimeout = catalog::TableOption(kHttp, "sink.request-timeout")
                                 .Duration("10 s")
                                 .Min(absl::Milliseconds(1))
                                 .Doc(
                                     "One request's whole time limit; past it the request is "
                                     "retried as a transport error.");
const auto kConnectTimeout = catalog::TableOption(kHttp, "sink.connect-timeout")
                                 .Duration("5 s")
                                 .Min(absl::Milliseconds(1))
                                 .Doc("Time limit to connect (within the request timeout).");
const auto kMaxRetries = catalog::TableOption(kHttp, "sink.max-retries")
                             .Int(3)
                             .Range(0, 100)
                             .Doc(
                                 "Retries of a request after 5xx, 408, 429 or a transport error "
                                 "(4xx is never retried).");
const auto kInitialBackoff =
    catalog::TableOption(kHttp, "sink.retry.initial-backoff")
        .Duration("100 ms")
        .Min(absl::ZeroDuration())
        .Doc("The wait before the first retry; it doubles for each further retry.");
const auto kMaxBackoff = catalog::TableOption(kHttp, "sink.retry.max-backoff")
                             .Duration("10 s")
                             .Min(absl::ZeroDuration())
                             .Doc("The longest wait between two retries.");
const auto kRateLimit = catalog::TableOption(kHttp, "sink.rate-limit")
                            .Int(0)
                            .Range(0, 1'000'000)
                            .Doc("Requests per second at most, per sink subtask (0: no limit).");
const auto kTlsVerify =
    catalog::TableOption(kHttp, "sink.tls.verify")
        .Bool(true)
        .Doc("Verify an https endpoint's certificate and host name (false only for tests).");
const auto kCaFile = catalog::TableOption(kHttp, "sink.tls.ca-file")
                         .String("")
                         .Doc(
                             "A PEM file of CA certificates to verify the endpoint with (default: "
                             "the system's).");
const auto kErrorPolicy =
    catalog::TableOption(kHttp, "sink.error.policy")
        .Enum("fail", {"fail", "skip", "dead-letter"})
        .Doc(
            "What happens to rows the endpoint rejects (4xx) or that fail after every retry: "
            "fail the job, skip and count them, or append them to 'sink.dead-letter.path'.");
const auto kDeadLetterPath =
    catalog::TableOption(kHttp, "sink.dead-letter.path")
        .String("")
        .Doc(
            "The file rejected rows are appended to (JSON Lines, the reason holding the HTTP "
            "status and response body) under 'sink.error.policy' = 'dead-letter'.");
const auto kParallelism = catalog::TableOption(kHttp, "sink.parallelism")
                              .Int(1)
                              .Range(1, 1 << 20)
                              .Doc("Sink subtasks (each sends its own requests).");

// Response bodies are kept up to this size for messages and the dead-letter reason.
constexpr size_t kMaxBodyKept = 1024;

// A 'url' split into literal text and column references: parts alternate literal, column index
// (as -1 - index), ...
struct UrlTemplate {
  std::vector<std::string> literals;  // literals.size() == columns.size() + 1
  std::vector<int> columns;
};

// Splits `url` at '{name}' references to columns of `schema`. Errors: InvalidArgument naming an
// unknown column or an unclosed brace.
absl::StatusOr<UrlTemplate> ParseUrlTemplate(const std::string& table, const std::string& url,
                                             const Schema& schema) {
  UrlTemplate t;
  t.literals.emplace_back();
  for (size_t i = 0; i < url.size(); ++i) {
    if (url[i] != '{') {
      t.literals.back() += url[i];
      continue;
    }
    size_t close = url.find('}', i);
    if (close == std::string::npos) {
      return absl::InvalidArgumentError(fmt::format(
          "table '{}': 'url' has a '{{' without its '}}' at character {}", table, i + 1));
    }
    std::string name = url.substr(i + 1, close - i - 1);
    int c = schema.IndexOf(name);
    if (c < 0) {
      return absl::InvalidArgumentError(fmt::format(
          "table '{}': 'url' refers to '{{{}}}', which is not a column of the table", table, name));
    }
    t.columns.push_back(c);
    t.literals.emplace_back();
    i = close;
  }
  return t;
}

// 'headers' as header lines for libcurl. Errors: InvalidArgument for an entry without ':'.
absl::StatusOr<std::vector<std::string>> ParseHeaders(const std::string& table,
                                                      const std::string& text) {
  std::vector<std::string> out;
  char sep = text.find('\n') != std::string::npos ? '\n' : ';';
  for (absl::string_view part : absl::StrSplit(text, sep)) {
    std::string h(absl::StripAsciiWhitespace(part));
    if (h.empty()) continue;
    size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0) {
      return absl::InvalidArgumentError(fmt::format(
          "table '{}': 'headers' entry '{}' is not 'Name: value'", table, EscapeForMessage(h)));
    }
    out.push_back(std::move(h));
  }
  return out;
}

struct HttpSinkOptions {
  std::string table;
  UrlTemplate url;
  std::string method;
  std::vector<std::string> headers;
  std::string format;
  int64_t batch_rows = 100;
  int64_t batch_interval_ms = 1000;
  int64_t request_timeout_ms = 10000;
  int64_t connect_timeout_ms = 5000;
  int64_t max_retries = 3;
  int64_t initial_backoff_ms = 100;
  int64_t max_backoff_ms = 10000;
  int64_t rate_limit = 0;
  bool tls_verify = true;
  std::string ca_file;
  std::string error_policy;
  std::shared_ptr<DeadLetterWriter> dead_letter;
};

int64_t ToMs(absl::Duration d) { return absl::ToInt64Milliseconds(d); }

absl::StatusOr<HttpSinkOptions> ReadOptions(const TableDef& table, const Schema& schema) {
  HttpSinkOptions o;
  o.table = table.name;
  const auto& opts = table.options;
  EDDY_ASSIGN_OR_RETURN(std::string url, kUrl.Get(opts));
  if (!absl::StartsWith(url, "http://") && !absl::StartsWith(url, "https://")) {
    return absl::InvalidArgumentError(fmt::format(
        "table '{}': 'url' must start with http:// or https://, not '{}'", table.name, url));
  }
  EDDY_ASSIGN_OR_RETURN(o.url, ParseUrlTemplate(table.name, url, schema));
  EDDY_ASSIGN_OR_RETURN(o.method, kMethod.Get(opts));
  EDDY_ASSIGN_OR_RETURN(std::string headers, kHeaders.Get(opts));
  EDDY_ASSIGN_OR_RETURN(o.headers, ParseHeaders(table.name, headers));
  EDDY_ASSIGN_OR_RETURN(o.format, kFormat.Get(opts));
  EDDY_ASSIGN_OR_RETURN(o.batch_rows, kBatchRows.Get(opts));
  if (o.format == "json") o.batch_rows = 1;
  EDDY_ASSIGN_OR_RETURN(absl::Duration interval, kBatchInterval.Get(opts));
  o.batch_interval_ms = ToMs(interval);
  EDDY_ASSIGN_OR_RETURN(absl::Duration timeout, kRequestTimeout.Get(opts));
  o.request_timeout_ms = ToMs(timeout);
  EDDY_ASSIGN_OR_RETURN(absl::Duration connect, kConnectTimeout.Get(opts));
  o.connect_timeout_ms = ToMs(connect);
  EDDY_ASSIGN_OR_RETURN(o.max_retries, kMaxRetries.Get(opts));
  EDDY_ASSIGN_OR_RETURN(absl::Duration b0, kInitialBackoff.Get(opts));
  o.initial_backoff_ms = ToMs(b0);
  EDDY_ASSIGN_OR_RETURN(absl::Duration b1, kMaxBackoff.Get(opts));
  o.max_backoff_ms = ToMs(b1);
  EDDY_ASSIGN_OR_RETURN(o.rate_limit, kRateLimit.Get(opts));
  EDDY_ASSIGN_OR_RETURN(o.tls_verify, kTlsVerify.Get(opts));
  EDDY_ASSIGN_OR_RETURN(o.ca_file, kCaFile.Get(opts));
  EDDY_ASSIGN_OR_RETURN(o.error_policy, kErrorPolicy.Get(opts));
  EDDY_ASSIGN_OR_RETURN(std::string dl, kDeadLetterPath.Get(opts));
  if (o.error_policy == "dead-letter" && dl.empty()) {
    return absl::InvalidArgumentError(
        fmt::format("table '{}': 'sink.error.policy' = 'dead-letter' needs 'sink.dead-letter.path'",
                    table.name));
  }
  return o;
}

// libcurl's global set-up, once per process (not thread-safe in libcurl itself).
void CurlGlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// One request's outcome.
struct Response {
  CURLcode code = CURLE_OK;  // transport outcome
  long status = 0;           // HTTP status when code is CURLE_OK
  std::string body;          // the first kMaxBodyKept bytes of the response body
  std::string error;         // libcurl's message when code is not CURLE_OK
};

class HttpSink final : public runtime::OneInputOperator {
 public:
  HttpSink(std::shared_ptr<const HttpSinkOptions> o, Schema schema, std::shared_ptr<SinkMetrics> m)
      : o_(std::move(o)), schema_(std::move(schema)), metrics_(std::move(m)) {}
  ~HttpSink() override {
    if (curl_) curl_easy_cleanup(curl_);
    if (header_list_) curl_slist_free_all(header_list_);
  }

  absl::Status Open(runtime::OperatorContext& ctx) override {
    EDDY_RETURN_IF_ERROR(OneInputOperator::Open(ctx));
    flush_timer_.Open(ctx.timers, ctx.key_groups.first());
    clock_ms_ = ctx.clock_ms;
    EDDY_ASSIGN_OR_RETURN(encoder_, MakeJsonEncoder(schema_));
    CurlGlobalInit();
    curl_ = curl_easy_init();
    if (!curl_) return absl::InternalError("http sink: curl_easy_init failed");
    const char* type = o_->format == "ndjson" ? "Content-Type: application/x-ndjson"
                                              : "Content-Type: application/json";
    header_list_ = curl_slist_append(header_list_, type);
    for (const std::string& h : o_->headers)
      header_list_ = curl_slist_append(header_list_, h.c_str());
    return absl::OkStatus();
  }

  absl::Status ProcessBatch(Batch& b, const runtime::RowWatermarks&, runtime::Output*) override {
    for (size_t r = 0; r < b.num_rows(); ++r) {
      std::string json;
      encoder_->Encode(b, r, &json);
      if (!json.empty() && json.back() == '\n') json.pop_back();
      std::string url = Url(b, r);
      std::vector<std::string>& rows = pending_[url];
      rows.push_back(std::move(json));
      ++pending_rows_;
      if (static_cast<int64_t>(rows.size()) >= o_->batch_rows) {
        EDDY_RETURN_IF_ERROR(SendRows(url, &rows));
        pending_.erase(url);
      }
    }
    if (pending_rows_ == 0) return absl::OkStatus();
    if (o_->batch_interval_ms == 0) return FlushAll();
    if (!flush_timer_.armed()) flush_timer_.Arm(Now() + o_->batch_interval_ms);
    return absl::OkStatus();
  }

  absl::Status ProcessWatermark(int64_t, runtime::Output*) override { return absl::OkStatus(); }

  absl::Status OnProcessingTime(int64_t now_ms, runtime::Output*) override {
    return flush_timer_.Fired(now_ms) ? FlushAll() : absl::OkStatus();
  }

  // At a checkpoint barrier: every buffered row is sent before the checkpoint is taken, so a
  // restore from it never loses one (at-least-once).
  absl::Status PrepareCommit(std::vector<std::string>*) override { return FlushAll(); }
  absl::Status Finish(runtime::Output*) override { return FlushAll(); }

 private:
  int64_t Now() const {
    if (clock_ms_) return clock_ms_();
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  std::string Url(const Batch& b, size_t r) const {
    const UrlTemplate& t = o_->url;
    if (t.columns.empty()) return t.literals[0];
    std::string url = t.literals[0];
    for (size_t i = 0; i < t.columns.size(); ++i) {
      std::string v = FormatCell(b.columns[static_cast<size_t>(t.columns[i])], r, "", true);
      char* esc = curl_easy_escape(curl_, v.data(), static_cast<int>(v.size()));
      if (esc) {
        url += esc;
        curl_free(esc);
      }
      url += t.literals[i + 1];
    }
    return url;
  }

  // Sends every waiting row; the flush timer, if any, is no longer needed (and so is not part of
  // a checkpoint: the sink holds no state).
  absl::Status FlushAll() {
    flush_timer_.Cancel();
    for (auto& [url, rows] : pending_) EDDY_RETURN_IF_ERROR(SendRows(url, &rows));
    pending_.clear();
    pending_rows_ = 0;
    return absl::OkStatus();
  }

  // Sends `rows` to `url` in requests of at most batch_rows rows.
  absl::Status SendRows(const std::string& url, std::vector<std::string>* rows) {
    size_t n = rows->size();
    for (size_t i = 0; i < n; i += static_cast<size_t>(o_->batch_rows)) {
      size_t end = std::min(n, i + static_cast<size_t>(o_->batch_rows));
      EDDY_RETURN_IF_ERROR(SendRequest(url, *rows, i, end));
    }
    pending_rows_ -= static_cast<int64_t>(std::min<size_t>(n, pending_rows_));
    rows->clear();
    return absl::OkStatus();
  }

  std::string Body(const std::vector<std::string>& rows, size_t from, size_t to) const {
    std::string body;
    if (o_->format == "json") return rows[from];
    if (o_->format == "ndjson") {
      for (size_t i = from; i < to; ++i) body += rows[i] + "\n";
      return body;
    }
    body += '[';
    for (size_t i = from; i < to; ++i) {
      if (i > from) body += ',';
      body += rows[i];
    }
    body += ']';
    return body;
  }

  static size_t OnBody(char* data, size_t size, size_t n, void* user) {
    auto* out = static_cast<std::string*>(user);
    size_t len = size * n;
    if (out->size() < kMaxBodyKept) out->append(data, std::min(len, kMaxBodyKept - out->size()));
    return len;
  }
  static int OnProgress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return static_cast<HttpSink*>(self)->cancelled() ? 1 : 0;  // non-zero aborts the transfer
  }

  Response Perform(const std::string& url, const std::string& body) {
    Response resp;
    CURL* c = curl_;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, o_->method.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, header_list_);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(o_->request_timeout_ms));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o_->connect_timeout_ms));
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, o_->tls_verify ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, o_->tls_verify ? 2L : 0L);
    if (!o_->ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, o_->ca_file.c_str());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &HttpSink::OnBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp.body);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &HttpSink::OnProgress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, this);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    char err[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    resp.code = curl_easy_perform(c);
    if (resp.code == CURLE_OK) {
      curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
    } else {
      resp.error = err[0] ? err : curl_easy_strerror(resp.code);
    }
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
    return resp;
  }

  static bool Retryable(const Response& r) {
    if (r.code != CURLE_OK) return true;
    return r.status >= 500 || r.status == 408 || r.status == 429;
  }
  // Transport errors that another attempt cannot cure and that are no row's fault (a certificate
  // that does not verify, a malformed URL): the job fails whatever the error policy.
  static bool Misconfigured(const Response& r) {
    switch (r.code) {
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        return true;
      default:
        return false;
    }
  }

  // Waits `ms`, in short steps so that a cancelled job stops waiting. False when cancelled.
  bool Wait(int64_t ms) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < until) {
      if (cancelled()) return false;
      auto left = until - std::chrono::steady_clock::now();
      std::this_thread::sleep_for(
          std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(10)));
    }
    return !cancelled();
  }

  // Sends rows [from, to) in one request, with retries; rows that are rejected or fail every
  // retry follow the error policy.
  absl::Status SendRequest(const std::string& url, const std::vector<std::string>& rows,
                           size_t from, size_t to) {
    std::string body = Body(rows, from, to);
    int64_t backoff = o_->initial_backoff_ms;
    Response r;
    for (int64_t attempt = 0;; ++attempt) {
      if (o_->rate_limit > 0) {
        int64_t gap_us = 1'000'000 / o_->rate_limit;
        auto now = std::chrono::steady_clock::now();
        if (now < next_request_ &&
            !Wait(std::chrono::duration_cast<std::chrono::milliseconds>(next_request_ - now)
                      .count())) {
          return absl::CancelledError("job cancelled");
        }
        next_request_ = std::max(now, next_request_) + std::chrono::microseconds(gap_us);
      }
      r = Perform(url, body);
      if (cancelled()) return absl::CancelledError("job cancelled");
      if (r.code == CURLE_OK && r.status >= 200 && r.status < 300) {
        metrics_->rows_written += static_cast<int64_t>(to - from);
        return absl::OkStatus();
      }
      if (Misconfigured(r)) {
        return absl::FailedPreconditionError(fmt::format(
            "table '{}': {} {}: {}", o_->table, o_->method, HideUrlPassword(url), Describe(r)));
      }
      if (!Retryable(r) || attempt >= o_->max_retries) break;
      Warn(
          url, r,
          fmt::format("retrying in {} ms (retry {} of {})", backoff, attempt + 1, o_->max_retries));
      if (!Wait(backoff)) return absl::CancelledError("job cancelled");
      backoff = std::min(o_->max_backoff_ms, std::max<int64_t>(1, backoff * 2));
    }
    std::string what = Describe(r);
    std::string reason =
        Retryable(r) ? fmt::format("{} (after {} retries)", what, o_->max_retries) : what;
    if (o_->error_policy == "fail") {
      return absl::UnavailableError(fmt::format("table '{}': {} {}: {}", o_->table, o_->method,
                                                HideUrlPassword(url), reason));
    }
    Warn(url, r,
         fmt::format("{} rows {} ", to - from,
                     o_->error_policy == "skip" ? "skipped" : "dead-lettered"));
    if (o_->error_policy == "dead-letter") {
      for (size_t i = from; i < to; ++i) {
        o_->dead_letter->Write(fmt::format("{} {}", o_->method, HideUrlPassword(url)), 0, reason,
                               rows[i]);
      }
    }
    return absl::OkStatus();
  }

  static std::string Describe(const Response& r) {
    if (r.code != CURLE_OK) return fmt::format("request failed: {}", r.error);
    std::string body = ToValidUtf8(r.body);
    return body.empty() ? fmt::format("HTTP {}", r.status)
                        : fmt::format("HTTP {}: {}", r.status, EscapeForMessage(body));
  }

  void Warn(const std::string& url, const Response& r, const std::string& then) {
    static LogRateLimiter limiter;
    std::string line = fmt::format("table '{}': {} {}: {}; {}", o_->table, o_->method,
                                   HideUrlPassword(url), Describe(r), then);
    int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::steady_clock::now().time_since_epoch())
                         .count();
    if (limiter.Allow("http-sink/" + o_->table, line, now_us)) spdlog::warn("{}", line);
  }

  std::shared_ptr<const HttpSinkOptions> o_;
  Schema schema_;
  std::shared_ptr<SinkMetrics> metrics_;
  std::function<int64_t()> clock_ms_;
  std::unique_ptr<RowEncoder> encoder_;
  CURL* curl_ = nullptr;
  curl_slist* header_list_ = nullptr;
  // Rows waiting, by target URL (ordered: requests go out in URL order at a flush).
  std::map<std::string, std::vector<std::string>> pending_;
  int64_t pending_rows_ = 0;
  FlushTimer flush_timer_;
  std::chrono::steady_clock::time_point next_request_{};
};

class HttpFactory final : public ConnectorFactory {
 public:
  std::string identifier() const override { return "http"; }
  std::string doc() const override {
    return "Sends rows as JSON in HTTP POST/PUT requests (webhooks, alerting endpoints).";
  }
  ConnectorCapabilities capabilities() const override {
    ConnectorCapabilities c;
    c.sink = true;
    return c;
  }
  absl::Status Validate(const TableDef& table) const override {
    // The columns an INSERT writes: what CreateSink gets.
    return ReadOptions(table, table.physical).status();
  }
  absl::StatusOr<SinkPlan> CreateSink(std::shared_ptr<const TableDef> table, const Schema& schema,
                                      int, const std::string&) const override {
    EDDY_ASSIGN_OR_RETURN(HttpSinkOptions o, ReadOptions(*table, schema));
    if (o.error_policy == "dead-letter") {
      EDDY_ASSIGN_OR_RETURN(std::string path, kDeadLetterPath.Get(table->options));
      EDDY_ASSIGN_OR_RETURN(o.dead_letter, DeadLetterWriter::Open(path));
    }
    auto opts = std::make_shared<const HttpSinkOptions>(std::move(o));
    SinkPlan plan;
    EDDY_ASSIGN_OR_RETURN(int64_t parallelism, kParallelism.Get(table->options));
    plan.parallelism = static_cast<int>(parallelism);
    auto m = plan.metrics;
    plan.make = [opts, schema, m](const runtime::SubtaskInfo&)
        -> absl::StatusOr<std::unique_ptr<runtime::StreamOperator>> {
      return std::unique_ptr<runtime::StreamOperator>(new HttpSink(opts, schema, m));
    };
    std::string url;
    for (size_t i = 0; i < opts->url.literals.size(); ++i) {
      url += opts->url.literals[i];
      if (i < opts->url.columns.size()) {
        url += "{" + schema.fields[static_cast<size_t>(opts->url.columns[i])].name + "}";
      }
    }
    plan.description = fmt::format("http {} {}", opts->method, HideUrlPassword(url));
    return plan;
  }
};

}  // namespace

const ConnectorFactory& HttpConnector() {
  static const HttpFactory kFactory;
  return kFactory;
}

}  // namespace eddy::connectors
