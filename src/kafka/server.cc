#include "kafka/server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "base/strings.h"

namespace eddy::kafka {

using asio::ip::tcp;

struct KafkaServer::State {
  Broker* broker = nullptr;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  asio::thread_pool handlers;
  // Produce with acks=all waits here for fsync (Reply::sync_steps), so a slow disk never holds
  // the handler threads that Fetch, Metadata and the next Produce need. One step per partition:
  // the partitions of one request are fsynced in parallel, up to kSyncThreads at a time.
  static constexpr int kSyncThreads = 8;
  asio::thread_pool syncs{kSyncThreads};
  std::thread io_thread;
  std::atomic<uint64_t> append_seq{0};
  // Only touched on the I/O thread.
  std::set<std::shared_ptr<asio::steady_timer>> fetch_waiters;
  std::set<std::shared_ptr<asio::steady_timer>> pending_waiters;  // deferred group answers
  std::set<std::shared_ptr<tcp::socket>> sockets;
  std::once_flag stopped;
  std::atomic<bool> stopping{false};

  explicit State(int handler_threads) : handlers(handler_threads) {}

  void WakeFetchWaiters() {
    for (auto& t : fetch_waiters) t->cancel();
    fetch_waiters.clear();
  }

  asio::awaitable<absl::StatusOr<Reply>> HandleOffLoop(const RequestFrame& req, bool final) {
    co_return co_await asio::co_spawn(
        handlers,
        [this, &req, final]() -> asio::awaitable<absl::StatusOr<Reply>> {
          co_return broker->Handle(req, final);
        },
        asio::use_awaitable);
  }

  // Answers one request, long-polling a Fetch until MinBytes or MaxWaitMs.
  asio::awaitable<absl::StatusOr<Reply>> Answer(const RequestFrame& req) {
    auto start = std::chrono::steady_clock::now();
    uint64_t seq = append_seq.load();
    absl::StatusOr<Reply> reply = co_await HandleOffLoop(req, false);
    if (reply.ok() && reply->pending) {
      // JoinGroup/SyncGroup: the coordinator answers when the group is ready.
      auto timer = std::make_shared<asio::steady_timer>(io, asio::steady_timer::time_point::max());
      pending_waiters.insert(timer);
      reply->pending->OnComplete([this, timer] { asio::post(io, [timer] { timer->cancel(); }); });
      asio::error_code ec;
      co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
      pending_waiters.erase(timer);
      if (!reply->pending->done()) co_return absl::CancelledError("the server is stopping");
      reply->frame = reply->pending->TakeFrame();
      co_return reply;
    }
    while (reply.ok() && reply->wants_more_data) {
      auto deadline = start + std::chrono::milliseconds(reply->max_wait_ms);
      if (std::chrono::steady_clock::now() >= deadline) break;
      if (append_seq.load() == seq) {
        auto timer = std::make_shared<asio::steady_timer>(io, deadline);
        fetch_waiters.insert(timer);
        // An append between the handler's read and now would have been missed: look again.
        if (append_seq.load() == seq) {
          asio::error_code ec;
          co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
        fetch_waiters.erase(timer);
      }
      seq = append_seq.load();
      bool final = std::chrono::steady_clock::now() >= deadline;
      reply = co_await HandleOffLoop(req, final);
      if (final) break;
    }
    co_return reply;
  }

  // One response of a connection, in request order. Touched only on the I/O thread.
  struct Slot {
    explicit Slot(asio::io_context& io) : done(io, asio::steady_timer::time_point::max()) {}
    asio::steady_timer done;  // cancelled when `frame` is ready
    bool ready = false;
    std::string frame;
  };
  // The responses a connection owes, oldest first, and the writer that sends them in order.
  struct Outbox {
    explicit Outbox(asio::io_context& io) : signal(io, asio::steady_timer::time_point::max()) {}
    std::deque<std::shared_ptr<Slot>> slots;
    asio::steady_timer signal;  // cancelled when a slot is added or the reader ends
    bool reader_done = false;
    bool writer_done = false;
    asio::steady_timer* writer_exit = nullptr;
  };

  // Sends the outbox's responses in order as they become ready.
  asio::awaitable<void> Writer(std::shared_ptr<tcp::socket> socket, std::shared_ptr<Outbox> out) {
    asio::error_code ec;
    while (true) {
      if (out->slots.empty()) {
        if (out->reader_done) break;
        out->signal.expires_at(asio::steady_timer::time_point::max());
        co_await out->signal.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      std::shared_ptr<Slot> slot = out->slots.front();
      if (!slot->ready) {
        co_await slot->done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (!slot->ready) break;  // the server is stopping
      }
      out->slots.pop_front();
      uint32_t out_size = static_cast<uint32_t>(slot->frame.size());
      uint8_t out_bytes[4] = {static_cast<uint8_t>(out_size >> 24),
                              static_cast<uint8_t>(out_size >> 16),
                              static_cast<uint8_t>(out_size >> 8), static_cast<uint8_t>(out_size)};
      std::array<asio::const_buffer, 2> bufs = {asio::buffer(out_bytes, 4),
                                                asio::buffer(slot->frame)};
      auto [wec, wn] = co_await asio::async_write(
          *socket, bufs, asio::experimental::as_tuple(asio::use_awaitable));
      if (wec) {
        socket->close(ec);  // the reader notices and ends the session
        break;
      }
    }
    out->writer_done = true;
    out->slots.clear();
    if (out->writer_exit) out->writer_exit->cancel();
  }

  // Reads requests and handles them one at a time, in order (Kafka's rule). A Produce with
  // acks=all hands its fsync wait to the handler pool and the next request is read at once;
  // the Writer sends the answers in request order. At most kMaxInFlight answers are owed.
  asio::awaitable<void> Session(std::shared_ptr<tcp::socket> socket) {
    static constexpr size_t kMaxInFlight = 16;
    std::string peer = "?", host = "?";
    asio::error_code ec;
    auto ep = socket->remote_endpoint(ec);
    if (!ec) {
      host = ep.address().to_string();
      peer = fmt::format("{}:{}", host, ep.port());
    }
    spdlog::debug("kafka: connection from {}", peer);
    auto out = std::make_shared<Outbox>(io);
    asio::co_spawn(io, Writer(socket, out), asio::detached);
    std::string reason = "closed by the client";
    try {
      std::string frame;
      for (;;) {
        uint8_t size_bytes[4];
        auto [rec, n] =
            co_await asio::async_read(*socket, asio::buffer(size_bytes, 4),
                                      asio::experimental::as_tuple(asio::use_awaitable));
        if (rec) {
          if (rec != asio::error::eof && rec != asio::error::operation_aborted &&
              rec != asio::error::bad_descriptor)
            reason = rec.message();
          break;
        }
        int32_t size =
            static_cast<int32_t>((uint32_t{size_bytes[0]} << 24) | (uint32_t{size_bytes[1]} << 16) |
                                 (uint32_t{size_bytes[2]} << 8) | size_bytes[3]);
        if (size < 8 || size > broker->options().max_request_bytes) {
          reason = fmt::format(
              "request size {} is outside 8..{} bytes (socket.request.max.bytes); not a Kafka "
              "client?",
              size, broker->options().max_request_bytes);
          break;
        }
        frame.resize(static_cast<size_t>(size));
        auto [bec, bn] = co_await asio::async_read(
            *socket, asio::buffer(frame), asio::experimental::as_tuple(asio::use_awaitable));
        if (bec) {
          reason = bec == asio::error::eof ? "closed by the client in the middle of a request"
                                           : bec.message();
          break;
        }
        auto req = ParseRequestFrame(frame);
        if (!req.ok()) {
          reason = std::string(req.status().message());
          break;
        }
        req->client_host = host;
        absl::StatusOr<Reply> reply = co_await Answer(*req);
        if (!reply.ok()) {
          reason = fmt::format("{} (correlation id {}, client {})",
                               std::string(reply.status().message()), req->correlation_id,
                               QuoteForLog(req->client_id.value_or("")));
          break;
        }
        if (out->writer_done) break;
        if (!reply->respond) continue;
        auto slot = std::make_shared<Slot>(io);
        if (reply->finish) {
          // The durable part (fsync) runs on the sync pool while this loop goes on; the last
          // step to return encodes the answer.
          struct DurableWait {
            std::atomic<size_t> remaining;
            std::function<std::string()> finish;
          };
          auto wait = std::make_shared<DurableWait>();
          wait->remaining = reply->sync_steps.size();
          wait->finish = std::move(reply->finish);
          auto complete = [this, slot, wait] {
            std::string f = wait->finish();
            asio::post(io, [slot, f = std::move(f)]() mutable {
              slot->frame = std::move(f);
              slot->ready = true;
              slot->done.cancel();
            });
          };
          if (reply->sync_steps.empty()) complete();
          for (auto& step : reply->sync_steps) {
            asio::post(syncs, [wait, complete, step = std::move(step)] {
              step();
              if (wait->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) complete();
            });
          }
        } else {
          slot->frame = std::move(reply->frame);
          slot->ready = true;
        }
        out->slots.push_back(slot);
        out->signal.cancel();
        while (out->slots.size() >= kMaxInFlight && !out->writer_done) {
          std::shared_ptr<Slot> oldest = out->slots.front();
          if (oldest->ready) {
            // Ready but not yet written: give the writer a turn.
            co_await asio::post(io, asio::use_awaitable);
          } else {
            co_await oldest->done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          }
        }
      }
    } catch (const std::exception& e) {
      reason = fmt::format("internal error: {}", e.what());
    }
    // Let the writer send what is owed (unless the connection is broken), then close.
    out->reader_done = true;
    out->signal.cancel();
    if (!out->writer_done && !stopping.load()) {
      asio::steady_timer exit(io, std::chrono::seconds(30));
      out->writer_exit = &exit;
      co_await exit.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      out->writer_exit = nullptr;
    }
    if (stopping.load()) reason = "the server is stopping";
    if (reason == "closed by the client" || reason == "the server is stopping") {
      spdlog::debug("kafka: connection from {} {}", peer, reason);
    } else {
      spdlog::warn("kafka: closing the connection from {}: {}", peer, reason);
    }
    socket->close(ec);
    sockets.erase(socket);
  }

  asio::awaitable<void> Listen() {
    for (;;) {
      auto socket = std::make_shared<tcp::socket>(io);
      auto [ec] = co_await acceptor.async_accept(*socket,
                                                 asio::experimental::as_tuple(asio::use_awaitable));
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        spdlog::warn("kafka: accept failed: {}", ec.message());
        continue;
      }
      asio::error_code ignored;
      socket->set_option(tcp::no_delay(true), ignored);
      sockets.insert(socket);
      asio::co_spawn(io, Session(socket), asio::detached);
    }
  }
};

KafkaServer::KafkaServer(std::unique_ptr<State> state) : state_(std::move(state)) {}

KafkaServer::~KafkaServer() { Stop(); }

absl::StatusOr<std::unique_ptr<KafkaServer>> KafkaServer::Start(Broker* broker,
                                                                const std::string& host, int port,
                                                                int handler_threads) {
  auto st = std::make_unique<State>(std::max(1, handler_threads));
  st->broker = broker;
  asio::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        fmt::format("'{}' is not an IP address to listen on: {}", host, ec.message()));
  }
  tcp::endpoint ep(addr, static_cast<uint16_t>(port));
  st->acceptor.open(ep.protocol(), ec);
  if (!ec) st->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) st->acceptor.bind(ep, ec);
  if (!ec) st->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        fmt::format("cannot listen on {}:{}: {}", host, port, ec.message()));
  }
  State* raw = st.get();
  broker->SetAppendListener([raw] {
    raw->append_seq.fetch_add(1);
    asio::post(raw->io, [raw] { raw->WakeFetchWaiters(); });
  });
  asio::co_spawn(st->io, st->Listen(), asio::detached);
  st->io_thread = std::thread([raw] {
    try {
      raw->io.run();
    } catch (const std::exception& e) {
      spdlog::error("kafka: the network thread stopped: {}", e.what());
    }
  });
  return std::unique_ptr<KafkaServer>(new KafkaServer(std::move(st)));
}

int KafkaServer::port() const {
  asio::error_code ec;
  auto ep = state_->acceptor.local_endpoint(ec);
  return ec ? -1 : ep.port();
}

void KafkaServer::Stop() {
  std::call_once(state_->stopped, [this] {
    State* s = state_.get();
    s->stopping = true;
    asio::post(s->io, [s] {
      asio::error_code ec;
      s->acceptor.close(ec);
      for (auto& sock : s->sockets) sock->close(ec);
      s->WakeFetchWaiters();
      for (auto& t : s->pending_waiters) t->cancel();
    });
    // Let the sessions see their sockets closed (running handlers finish), then stop the loop.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!s->io.stopped() && std::chrono::steady_clock::now() < deadline) {
      bool idle = false;
      std::promise<bool> p;
      auto f = p.get_future();
      asio::post(s->io, [s, &p] { p.set_value(s->sockets.empty()); });
      if (f.wait_for(std::chrono::seconds(1)) == std::future_status::ready) idle = f.get();
      if (idle) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    s->io.stop();
    if (s->io_thread.joinable()) s->io_thread.join();
    s->handlers.join();
    s->syncs.join();
    s->broker->SetAppendListener(nullptr);
  });
}

}  // namespace eddy::kafka
