#include "server/http_server.h"

#include <fmt/format.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "base/log.h"

namespace eddy::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

class HttpServer::Impl {
 public:
  Impl(Handler handler, HttpServerOptions options)
      : handler_(std::move(handler)), options_(options), acceptor_(net::make_strand(ioc_)) {}

  absl::Status Listen(const std::string& host, int port) {
    beast::error_code ec;
    auto address = net::ip::make_address(host, ec);
    if (ec) return absl::InvalidArgumentError(fmt::format("'{}' is not an IP address", host));
    tcp::endpoint ep(address, static_cast<unsigned short>(port));
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(
          fmt::format("cannot listen for HTTP on {}:{}: {}", host, port, ec.message()));
    }
    port_ = acceptor_.local_endpoint().port();
    Accept();
    for (int i = 0; i < std::max(1, options_.threads); ++i) {
      threads_.emplace_back([this] { ioc_.run(); });
    }
    return absl::OkStatus();
  }

  void Stop() {
    if (stopped_.exchange(true)) return;
    // 1. No new connections: the acceptor closes on its own strand (Asio objects are not
    // thread-safe), while the I/O threads still run.
    auto closed = std::make_shared<std::promise<void>>();
    net::post(acceptor_.get_executor(), [this, closed] {
      beast::error_code ec;
      acceptor_.close(ec);
      closed->set_value();
    });
    closed->get_future().wait_for(std::chrono::seconds(2));
    // 2. Streamed responses: cancel them, join their writer threads, and wait until their
    // producers (push queries' jobs) have ended, so nothing of theirs outlives the server.
    std::vector<std::shared_ptr<ResponseStream>> live;
    std::vector<Pump> pumps;
    {
      std::lock_guard<std::mutex> l(streams_mu_);
      for (auto& w : streams_) {
        if (auto s = w.lock()) live.push_back(std::move(s));
      }
      streams_.clear();
      pumps = std::move(pumps_);
    }
    for (auto& s : live) s->Cancel();
    for (auto& p : pumps) {
      if (p.thread.joinable()) p.thread.join();
    }
    for (auto& s : live) s->WaitEnded();
    live.clear();
    // 3. The I/O threads.
    ioc_.stop();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  // Registers a stream (cancelled at once when the server is stopping). False: stopping.
  bool AddStream(const std::shared_ptr<ResponseStream>& s) {
    std::lock_guard<std::mutex> l(streams_mu_);
    if (stopped_) {
      s->Cancel();
      return false;
    }
    std::erase_if(streams_, [](const std::weak_ptr<ResponseStream>& w) { return w.expired(); });
    streams_.push_back(s);
    return true;
  }
  // Runs `fn` on a writer thread that Stop() joins (finished ones are joined here). False when
  // the server is stopping (nothing started).
  bool StartPump(std::function<void()> fn) {
    std::lock_guard<std::mutex> l(streams_mu_);
    if (stopped_) return false;
    std::erase_if(pumps_, [](Pump& p) {
      if (!p.done->load()) return false;
      p.thread.join();
      return true;
    });
    auto done = std::make_shared<std::atomic<bool>>(false);
    pumps_.push_back(Pump{std::thread([fn = std::move(fn), done] {
                            fn();
                            done->store(true);
                          }),
                          done});
    return true;
  }

  int port() const { return port_; }
  bool stopping() const { return stopped_.load(); }
  const Handler& handler() const { return handler_; }
  const HttpServerOptions& options() const { return options_; }
  std::atomic<int>& connections() { return connections_; }

 private:
  void Accept();

  // Declared before the io_context: sessions still queued in it are destroyed with it and
  // decrement connections_.
  Handler handler_;
  HttpServerOptions options_;
  std::atomic<int> connections_{0};
  std::atomic<bool> stopped_{false};
  struct Pump {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::mutex streams_mu_;  // guards streams_ and pumps_
  std::vector<std::weak_ptr<ResponseStream>> streams_;
  std::vector<Pump> pumps_;  // threads writing streamed responses
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  int port_ = 0;
};

namespace {

// One connection: reads requests one after another (keep-alive), answers each.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, HttpServer::Impl* server)
      : stream_(std::move(socket)), server_(server) {
    server_->connections()++;
  }
  ~Session() { server_->connections()--; }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(server_->options().body_limit);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(std::chrono::milliseconds(server_->options().idle_timeout_ms));
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
        ec == beast::error::timeout || ec == net::error::connection_reset) {
      return Close();
    }
    if (ec == http::error::body_limit) {
      return Reply(ErrorResponse(413, fmt::format("the request body is over {} bytes",
                                                  server_->options().body_limit)),
                   /*keep_alive=*/false, 11);
    }
    if (ec) {
      spdlog::debug("http: closing a connection after a bad request: {}", ec.message());
      return Reply(ErrorResponse(400, fmt::format("bad HTTP request: {}", ec.message())), false,
                   11);
    }
    const auto& req = parser_->get();
    HttpRequest r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    r.content_type = std::string(req[http::field::content_type]);
    r.accept = std::string(req[http::field::accept]);
    r.if_none_match = std::string(req[http::field::if_none_match]);
    r.host = std::string(req[http::field::host]);
    r.body = req.body();
    spdlog::debug("http: {} {} ({} bytes)", r.method, r.target, r.body.size());
    HttpResponse resp;
    try {
      resp = server_->handler()(r);
    } catch (const std::exception& ex) {
      resp = ErrorResponse(500, fmt::format("internal error: {}", ex.what()));
    }
    if (resp.stream) return StartStream(resp, req.version());
    Reply(resp, req.keep_alive(), req.version());
  }

  // A streamed body: the headers (chunked transfer encoding), then each chunk the stream gives,
  // written by a thread of its own (the stream's Next blocks), then the last chunk and the
  // connection closes. A read that completes meanwhile means the client closed the connection
  // (or sent more than it should): the stream is cancelled.
  void StartStream(const HttpResponse& resp, unsigned version) {
    auto res = std::make_shared<http::response<http::empty_body>>(http::status::ok, version);
    res->set(http::field::server, "eddy");
    res->set(http::field::content_type, resp.content_type);
    res->set(http::field::cache_control, "no-cache");
    res->chunked(true);
    res->keep_alive(false);
    auto sr = std::make_shared<http::response_serializer<http::empty_body>>(*res);
    auto stream = resp.stream;
    if (!server_->AddStream(stream)) return Close();
    stream_.expires_never();  // a live tail may be quiet for long; writes have their own limit
    http::async_write_header(
        stream_, *sr, [self = shared_from_this(), res, sr, stream](beast::error_code ec, size_t) {
          if (ec || !self->server_->StartPump([self, stream] { self->Pump(stream); })) {
            stream->Cancel();
            return self->Close();
          }
          self->WatchDisconnect(stream);
        });
  }

  // Closes the socket on the connection's strand (a pending read completes, aborted).
  void CloseOnStrand() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      self->stream_.socket().close(ec);
    });
  }

  void WatchDisconnect(std::shared_ptr<ResponseStream> stream) {
    stream_.async_read_some(
        net::buffer(discard_),
        [self = shared_from_this(), stream](beast::error_code, size_t) { stream->Cancel(); });
  }

  // Runs on its own thread: writes each chunk on the connection's strand and waits for it (at
  // most idle_timeout_ms: a client that stops reading is dropped and its stream cancelled), then
  // the last chunk, and closes the connection.
  void Pump(std::shared_ptr<ResponseStream> stream) {
    std::string chunk;
    bool ok = true;
    auto wait = [&](std::future<bool>& fut) {
      auto deadline = std::chrono::steady_clock::now() +
                      std::chrono::milliseconds(server_->options().idle_timeout_ms);
      while (fut.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
        if (server_->stopping() || std::chrono::steady_clock::now() > deadline) return false;
      }
      return fut.get();
    };
    while (ok && stream->Next(&chunk)) {
      auto done = std::make_shared<std::promise<bool>>();
      auto fut = done->get_future();
      auto data = std::make_shared<std::string>(std::move(chunk));
      net::post(stream_.get_executor(), [self = shared_from_this(), data, done] {
        net::async_write(self->stream_, http::make_chunk(net::buffer(*data)),
                         [data, done](beast::error_code ec, size_t) { done->set_value(!ec); });
      });
      ok = wait(fut);
      chunk.clear();
    }
    stream->Cancel();
    if (ok && !server_->stopping()) {
      auto done = std::make_shared<std::promise<bool>>();
      auto fut = done->get_future();
      net::post(stream_.get_executor(), [self = shared_from_this(), done] {
        net::async_write(self->stream_, http::make_chunk_last(),
                         [done](beast::error_code ec, size_t) { done->set_value(!ec); });
      });
      wait(fut);
    }
    CloseOnStrand();
  }

  void Reply(const HttpResponse& resp, bool keep_alive, unsigned version) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(resp.status), version);
    res->set(http::field::server, "eddy");
    res->set(http::field::content_type, resp.content_type);
    for (const auto& [name, value] : resp.headers) res->set(name, value);
    res->keep_alive(keep_alive);
    res->body() = resp.body;
    res->prepare_payload();
    stream_.expires_after(std::chrono::milliseconds(server_->options().idle_timeout_ms));
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
                        if (ec || !keep_alive) return self->Close();
                        self->Read();
                      });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  char discard_[512];
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpServer::Impl* server_;
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted) return;
      spdlog::warn("http: accept failed: {}", ec.message());
    } else if (connections_.load() >= options_.max_connections) {
      spdlog::warn("http: {} connections open (the limit): closing a new one", connections_.load());
      beast::error_code ignored;
      socket.close(ignored);
    } else {
      std::make_shared<Session>(std::move(socket), this)->Start();
    }
    if (!stopped_) Accept();
  });
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { Stop(); }

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& host, int port,
                                                              Handler handler,
                                                              HttpServerOptions options) {
  auto impl = std::make_unique<Impl>(std::move(handler), options);
  if (absl::Status st = impl->Listen(host, port); !st.ok()) return st;
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

int HttpServer::port() const { return impl_->port(); }

void HttpServer::Stop() {
  if (impl_) impl_->Stop();
}

}  // namespace eddy::server
