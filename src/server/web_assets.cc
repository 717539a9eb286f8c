#include "server/web_assets.h"

#include <fmt/format.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace eddy::server {

const WebAsset* FindWebAsset(std::string_view path) {
  if (path == "/") path = "/ui/index.html";
  auto assets = WebAssets();
  auto it =
      std::find_if(assets.begin(), assets.end(), [&](const WebAsset& a) { return a.path == path; });
  return it == assets.end() ? nullptr : &*it;
}

namespace {

// True when the If-None-Match header lists `etag` (or is "*"); weak validators (W/"...") match
// too, as RFC 9110 §13.1.2 has If-None-Match compare weakly.
bool EtagMatches(absl::string_view header, absl::string_view etag) {
  for (absl::string_view tag : absl::StrSplit(header, ',')) {
    tag = absl::StripAsciiWhitespace(tag);
    absl::ConsumePrefix(&tag, "W/");
    if (tag == "*" || tag == etag) return true;
  }
  return false;
}

}  // namespace

bool ServeDashboard(const HttpRequest& req, const std::string& path, HttpResponse* resp) {
  if (path != "/" && path != "/ui" && !absl::StartsWith(path, "/ui/")) return false;
  if (req.method != "GET") {
    *resp = ErrorResponse(405, fmt::format("use GET on {}", path));
    return true;
  }
  const WebAsset* a = FindWebAsset(path == "/ui" ? "/" : path);
  if (!a) {
    *resp = ErrorResponse(404, fmt::format("no file {} in the dashboard", path));
    return true;
  }
  HttpResponse r;
  r.content_type = std::string(a->content_type);
  r.headers = {{"ETag", std::string(a->etag)},
               {"Cache-Control", "no-cache"},
               {"X-Content-Type-Options", "nosniff"},
               {"Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"}};
  if (!req.if_none_match.empty() &&
      EtagMatches(req.if_none_match, absl::string_view(a->etag.data(), a->etag.size()))) {
    r.status = 304;
  } else {
    r.body = std::string(a->body);
  }
  *resp = std::move(r);
  return true;
}

}  // namespace eddy::server
