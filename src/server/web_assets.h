// The web dashboard's files (ui/), compiled into the binary at build time by
// src/server/embed_assets.py (docs/dashboard.md), and the HTTP route that serves them.
#pragma once

#include <span>
#include <string_view>

#include "server/rest_api.h"

namespace eddy::server {

/// One embedded file of ui/: served at `path` ("/ui/app.js"; ui/index.html also at "/").
struct WebAsset {
  std::string_view path;
  std::string_view content_type;  // "text/javascript; charset=utf-8", ...
  std::string_view body;          // the file's bytes
  std::string_view etag;          // a strong ETag with its quotes: "\"0123456789abcdef\""
};

/// Every embedded file, sorted by path (defined in the generated web_assets.cc).
std::span<const WebAsset> WebAssets();

/// The file served at `path` ("/" is /ui/index.html), or null.
const WebAsset* FindWebAsset(std::string_view path);

/// The dashboard's route: GET of "/" or "/ui/..." answers the embedded file with its
/// Content-Type, its ETag and `Cache-Control: no-cache` (the browser revalidates; an
/// If-None-Match naming the current ETag gets 304 with no body), and security headers that keep
/// the page to its own origin (Content-Security-Policy: no CDN, no inline script). Returns false
/// for any other path (not the dashboard's); 404 for an unknown file under /ui/, 405 for a
/// method other than GET.
bool ServeDashboard(const HttpRequest& req, const std::string& path, HttpResponse* resp);

}  // namespace eddy::server
