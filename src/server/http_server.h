// The HTTP/1.1 server of `eddy server --http-listen` (Boost.Beast over Boost.Asio: DESIGN.md §4),
// serving the REST API (rest_api.h). Beast stays inside http_server.cc: this header is light.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/rest_api.h"

namespace eddy::server {

/// Limits of the HTTP server.
struct HttpServerOptions {
  size_t body_limit = 1 << 20;  // bytes; a longer request body is answered 413 and closed
  int threads = 2;              // I/O threads running the handlers
  int idle_timeout_ms = 30000;  // a connection that sends nothing this long is closed
  int max_connections = 256;    // beyond it, new connections are closed at once
};

/// An HTTP/1.1 server with keep-alive: each request is parsed (headers and body bounded), handed
/// to `handler` on an I/O thread, and its response written back. A slow client cannot hold a
/// thread: every read and write has a deadline (idle_timeout_ms). A malformed request gets 400
/// and the connection closes, with a debug log line; every request is logged at debug level.
/// Thread-safety: Start/Stop from one thread; `handler` is called from several I/O threads.
class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  /// Binds `host:port` (port 0: a free port, see port()) and starts serving. Errors:
  /// Unavailable naming the address when it cannot be bound (in use, no permission).
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const std::string& host, int port,
                                                           Handler handler,
                                                           HttpServerOptions options = {});
  ~HttpServer();
  /// The bound port.
  int port() const;
  /// Stops accepting, closes connections and joins the I/O threads. Idempotent.
  void Stop();

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace eddy::server
