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
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "base/log.h"
#include "base/strings.h"
#include "kafka/broker_metrics.h"

namespace eddy::kafka {

using asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {

// The most bytes read from a socket at once; a read never asks for more than the bytes that have
// arrived, so memory follows what a client sent, not what it announced.
constexpr size_t kReadChunk = 1 << 20;
// A connection's request buffer is freed after a request larger than this (bytes), so an idle
// connection does not keep the memory of its largest request.
constexpr size_t kKeepFrameCapacity = 1 << 20;
// The most answers a connection may owe before its next request is read.
constexpr size_t kMaxOwedAnswers = 16;

constexpr auto kAsTuple = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace

struct KafkaServer::State {
  Broker* broker = nullptr;
  ServerLimits limits;
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
  std::once_flag stopped;
  std::atomic<bool> stopping{false};
  // Backpressure notices: at most one line per key every 10 s.
  LogRateLimiter pause_log{1, 10'000'000};

  // One connection. Touched only on the I/O thread.
  struct Conn {
    Conn(asio::io_context& io, uint64_t id, std::shared_ptr<tcp::socket> s)
        : id(id), socket(std::move(s)), wake(io, asio::steady_timer::time_point::max()) {}
    uint64_t id;
    std::shared_ptr<tcp::socket> socket;
    std::string host = "?", peer = "?";
    // Bytes held for this connection: its request being read or handled, its acks=all requests
    // not yet durable, and answers not yet written (connection_max_queued_bytes).
    int64_t queued = 0;
    // Bytes of the request being read while it is incomplete (0 between requests).
    int64_t partial = 0;
    SteadyClock::time_point last_io = SteadyClock::now();
    bool handling = false;     // a request is being answered
    bool budget_wait = false;  // waiting for queued.max.request.bytes
    int durable_pending = 0;   // acks=all requests waiting for their fsync
    std::string close_reason;  // set when the server closes the connection itself
    asio::steady_timer wake;   // cancelled when budget frees up (see Park)
  };

  // Only touched on the I/O thread.
  std::set<std::shared_ptr<asio::steady_timer>> fetch_waiters;
  std::set<std::shared_ptr<asio::steady_timer>> pending_waiters;  // deferred group answers
  std::map<uint64_t, std::shared_ptr<Conn>> conns;
  std::map<std::string, int> conns_per_ip;
  uint64_t next_conn_id = 0;
  int64_t queued_bytes = 0;                         // against queued.max.request.bytes
  std::set<std::pair<int64_t, uint64_t>> partials;  // (bytes, connection id) of incomplete requests
  std::set<Conn*> parked;                           // connections waiting for budget
  asio::steady_timer* housekeeping_timer = nullptr;

  explicit State(int handler_threads) : handlers(handler_threads) {}

  void WakeFetchWaiters() {
    for (auto& t : fetch_waiters) t->cancel();
    fetch_waiters.clear();
  }

  // Wakes every connection waiting for budget; each checks again.
  void WakeParked() {
    for (Conn* c : parked) c->wake.cancel();
  }

  // Waits until WakeParked() (or the server stops).
  asio::awaitable<void> Park(Conn& c) {
    parked.insert(&c);
    c.wake.expires_at(asio::steady_timer::time_point::max());
    asio::error_code ec;
    co_await c.wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    parked.erase(&c);
  }

  void SetPartial(Conn& c, int64_t bytes) {
    if (c.partial > 0) partials.erase({c.partial, c.id});
    c.partial = bytes;
    if (bytes > 0) partials.insert({bytes, c.id});
  }

  // Gives back request bytes (to both budgets) and answer bytes (to the connection's).
  void Release(Conn& c, int64_t request_bytes, int64_t answer_bytes) {
    queued_bytes -= request_bytes;
    c.queued -= request_bytes + answer_bytes;
    WakeParked();
  }

  void NotePaused(const std::string& key, const std::string& message) {
    LogLimited(pause_log, spdlog::level::info, key, message);
  }

  // Waits until `n` more request bytes fit in queued.max.request.bytes, then charges them to
  // both budgets. While the budget is used up only the connection with the largest incomplete
  // request reads on (so it can complete and free its bytes; memory stays below the budget plus
  // one request). False when the connection or the server is closing.
  asio::awaitable<bool> Acquire(Conn& c, int64_t n) {
    for (;;) {
      if (stopping.load() || !c.socket->is_open()) co_return false;
      int64_t limit = limits.queued_max_request_bytes;
      bool largest = c.partial > 0 && partials.rbegin()->second == c.id;
      if (limit <= 0 || queued_bytes + n <= limit || largest) break;
      c.budget_wait = true;
      NotePaused("kafka.pause",
                 fmt::format("kafka: the request budget (queued.max.request.bytes = {} bytes) is "
                             "used up: connections are read again as requests are handled and "
                             "acks=all batches fsynced (backpressure)",
                             limit));
      co_await Park(c);
    }
    c.budget_wait = false;
    queued_bytes += n;
    c.queued += n;
    SetPartial(c, c.partial + n);
    co_return true;
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
    auto start = SteadyClock::now();
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
      if (SteadyClock::now() >= deadline) break;
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
      bool final = SteadyClock::now() >= deadline;
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
  asio::awaitable<void> Writer(std::shared_ptr<Conn> c, std::shared_ptr<Outbox> out) {
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
      auto [wec, wn] = co_await asio::async_write(*c->socket, bufs, kAsTuple);
      if (wec) {
        c->socket->close(ec);  // the reader notices and ends the session
        break;
      }
      c->last_io = SteadyClock::now();
      Release(*c, 0, static_cast<int64_t>(slot->frame.size()));
    }
    out->writer_done = true;
    out->slots.clear();
    c->wake.cancel();
    if (out->writer_exit) out->writer_exit->cancel();
  }

  // Queues `slot` with its answer `frame` (counted against the connection's budget).
  void SetAnswer(Conn& c, Slot& slot, std::string frame) {
    c.queued += static_cast<int64_t>(frame.size());
    slot.frame = std::move(frame);
    slot.ready = true;
    slot.done.cancel();
  }

  // Reads requests and handles them one at a time, in order (Kafka's rule). A Produce with
  // acks=all hands its fsync wait to the sync pool and the next request is read at once; the
  // Writer sends the answers in request order. The next request is read only while the
  // connection owes fewer than kMaxOwedAnswers answers and holds less than its budget.
  asio::awaitable<void> Session(std::shared_ptr<Conn> c) {
    asio::error_code ec;
    spdlog::debug("kafka: connection from {}", c->peer);
    auto out = std::make_shared<Outbox>(io);
    asio::co_spawn(io, Writer(c, out), asio::detached);
    std::string reason = "closed by the client";
    int64_t charged = 0;  // request bytes of the current request, charged to both budgets
    try {
      std::string frame;
      for (;;) {
        // The connection's own budget: answers owed and requests not yet durable.
        while (!out->writer_done && !stopping.load() &&
               (out->slots.size() >= kMaxOwedAnswers ||
                c->queued >= limits.connection_max_queued_bytes)) {
          if (c->queued >= limits.connection_max_queued_bytes) {
            NotePaused("kafka.pause/" + c->host,
                       fmt::format("kafka: the connection from {} holds {} bytes (connection "
                                   "budget {} bytes): its next request is read once answers are "
                                   "sent and acks=all batches fsynced (backpressure)",
                                   c->peer, c->queued, limits.connection_max_queued_bytes));
          }
          co_await Park(*c);
        }
        if (out->writer_done || stopping.load()) break;
        uint8_t size_bytes[4];
        auto [rec, n] =
            co_await asio::async_read(*c->socket, asio::buffer(size_bytes, 4), kAsTuple);
        if (rec) {
          if (rec != asio::error::eof && rec != asio::error::operation_aborted &&
              rec != asio::error::bad_descriptor)
            reason = rec.message();
          break;
        }
        c->last_io = SteadyClock::now();
        int32_t size =
            static_cast<int32_t>((uint32_t{size_bytes[0]} << 24) | (uint32_t{size_bytes[1]} << 16) |
                                 (uint32_t{size_bytes[2]} << 8) | size_bytes[3]);
        if (size < 8 || size > limits.socket_request_max_bytes) {
          reason = fmt::format(
              "request size {} is outside 8..{} bytes (socket.request.max.bytes); not a Kafka "
              "client?",
              size, limits.socket_request_max_bytes);
          break;
        }
        // The body, as it arrives: wait until bytes are there, take budget for them, read them.
        frame.clear();
        bool complete = true;
        while (frame.size() < static_cast<size_t>(size)) {
          auto [wec] = co_await c->socket->async_wait(tcp::socket::wait_read, kAsTuple);
          size_t avail = wec ? 0 : c->socket->available(ec);
          if (wec || ec) {
            complete = false;
            break;
          }
          size_t take = std::min({std::max<size_t>(avail, 1), size - frame.size(), kReadChunk});
          if (!co_await Acquire(*c, static_cast<int64_t>(take))) {
            complete = false;
            break;
          }
          charged += static_cast<int64_t>(take);
          size_t old = frame.size();
          frame.resize(old + take);
          auto [bec, bn] =
              co_await c->socket->async_read_some(asio::buffer(frame.data() + old, take), kAsTuple);
          frame.resize(old + bn);
          if (bn < take) {
            Release(*c, static_cast<int64_t>(take - bn), 0);
            SetPartial(*c, c->partial - static_cast<int64_t>(take - bn));
            charged -= static_cast<int64_t>(take - bn);
          }
          if (bec) {
            reason = bec == asio::error::eof ? "closed by the client in the middle of a request"
                                             : bec.message();
            complete = false;
            break;
          }
          c->last_io = SteadyClock::now();
        }
        if (!complete) {
          if (reason == "closed by the client") reason = "closed in the middle of a request";
          break;
        }
        SetPartial(*c, 0);
        WakeParked();  // another connection may now hold the largest incomplete request
        auto req = ParseRequestFrame(frame);
        if (!req.ok()) {
          reason = std::string(req.status().message());
          break;
        }
        req->client_host = c->host;
        c->handling = true;
        auto request_start = SteadyClock::now();
        int16_t api_key = req->api_key;
        // The request's latency, when its answer is ready (after the fsync of acks=all).
        auto observe = [request_start, api_key] {
          BrokerMetrics::Get().ObserveRequest(
              api_key, std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() -
                                                                            request_start)
                           .count());
        };
        absl::StatusOr<Reply> reply = co_await Answer(*req);
        c->handling = false;
        c->last_io = SteadyClock::now();
        if (!reply.ok()) {
          reason = fmt::format("{} (correlation id {}, client {})",
                               std::string(reply.status().message()), req->correlation_id,
                               QuoteForLog(req->client_id.value_or("")));
          break;
        }
        if (frame.capacity() > kKeepFrameCapacity) std::string().swap(frame);
        int64_t request_bytes = charged;
        charged = 0;
        if (out->writer_done) {
          Release(*c, request_bytes, 0);
          break;
        }
        if (!reply->respond) {
          observe();
          Release(*c, request_bytes, 0);
          continue;
        }
        auto slot = std::make_shared<Slot>(io);
        if (reply->finish) {
          // The durable part (fsync) runs on the sync pool while this loop goes on; the last
          // step to return encodes the answer. The request's bytes stay charged until then.
          struct DurableWait {
            std::atomic<size_t> remaining;
            std::function<std::string()> finish;
          };
          auto wait = std::make_shared<DurableWait>();
          wait->remaining = reply->sync_steps.size();
          wait->finish = std::move(reply->finish);
          ++c->durable_pending;
          auto complete_answer = [this, c, slot, wait, request_bytes, observe] {
            std::string f = wait->finish();
            observe();
            asio::post(io, [this, c, slot, request_bytes, f = std::move(f)]() mutable {
              --c->durable_pending;
              Release(*c, request_bytes, 0);
              SetAnswer(*c, *slot, std::move(f));
            });
          };
          if (reply->sync_steps.empty()) complete_answer();
          for (auto& step : reply->sync_steps) {
            asio::post(syncs, [wait, complete_answer, step = std::move(step)] {
              step();
              if (wait->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) complete_answer();
            });
          }
        } else {
          observe();
          Release(*c, request_bytes, 0);
          SetAnswer(*c, *slot, std::move(reply->frame));
        }
        out->slots.push_back(slot);
        out->signal.cancel();
      }
    } catch (const std::exception& e) {
      reason = fmt::format("internal error: {}", e.what());
    }
    if (charged > 0) Release(*c, charged, 0);
    SetPartial(*c, 0);
    // Let the writer send what is owed (unless the connection is broken), then close.
    out->reader_done = true;
    out->signal.cancel();
    if (!out->writer_done && !stopping.load()) {
      asio::steady_timer exit(io, std::chrono::seconds(30));
      out->writer_exit = &exit;
      co_await exit.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      out->writer_exit = nullptr;
    }
    if (!c->close_reason.empty()) reason = c->close_reason;
    if (stopping.load()) reason = "the server is stopping";
    if (reason == "closed by the client" || reason == "the server is stopping") {
      spdlog::debug("kafka: connection from {} {}", c->peer, reason);
    } else {
      LogLimited(spdlog::level::warn, "kafka.close/" + c->host,
                 fmt::format("kafka: closing the connection from {}: {}", c->peer, reason));
    }
    c->socket->close(ec);
    conns.erase(c->id);
    BrokerMetrics::Get().ConnectionClosed();
    if (--conns_per_ip[c->host] <= 0) conns_per_ip.erase(c->host);
    WakeParked();
  }

  asio::awaitable<void> Listen() {
    asio::steady_timer backoff(io);
    for (;;) {
      auto socket = std::make_shared<tcp::socket>(io);
      auto [ec] = co_await acceptor.async_accept(*socket, kAsTuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        // Out of file descriptors (EMFILE, ENFILE) and the like: try again a little later
        // instead of spinning.
        LogLimited(spdlog::level::warn, "kafka.accept",
                   fmt::format("kafka: accepting a connection failed: {}", ec.message()));
        backoff.expires_after(std::chrono::milliseconds(100));
        asio::error_code ignored;
        co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
        continue;
      }
      asio::error_code ignored;
      socket->set_option(tcp::no_delay(true), ignored);
      auto c = std::make_shared<Conn>(io, next_conn_id++, socket);
      auto ep = socket->remote_endpoint(ignored);
      if (!ignored) {
        c->host = ep.address().to_string();
        c->peer = fmt::format("{}:{}", c->host, ep.port());
      }
      int per_ip = limits.max_connections_per_ip > 0 ? limits.max_connections_per_ip
                                                     : limits.max_connections;
      std::string refused;
      if (static_cast<int64_t>(conns.size()) >= limits.max_connections) {
        refused = fmt::format("{} connections are open (max.connections)", conns.size());
      } else if (conns_per_ip[c->host] >= per_ip) {
        refused = fmt::format("{} connections from {} are open (max.connections.per.ip)",
                              conns_per_ip[c->host], c->host);
      }
      if (!refused.empty()) {
        if (conns_per_ip[c->host] == 0) conns_per_ip.erase(c->host);
        LogLimited(spdlog::level::warn, "kafka.refuse/" + c->host,
                   fmt::format("kafka: refusing a connection from {}: {}", c->peer, refused));
        socket->close(ignored);
        continue;
      }
      conns[c->id] = c;
      BrokerMetrics::Get().ConnectionOpened();
      ++conns_per_ip[c->host];
      asio::co_spawn(io, Session(c), asio::detached);
    }
  }

  // Every second (or sooner for a short idle limit): closes idle connections and writes the
  // "suppressed" lines of rate-limited warnings.
  asio::awaitable<void> Housekeeping() {
    asio::steady_timer timer(io);
    housekeeping_timer = &timer;
    int64_t idle_ms = limits.connections_max_idle_ms;
    auto period =
        std::chrono::milliseconds(idle_ms > 0 ? std::clamp<int64_t>(idle_ms / 4, 10, 1000) : 1000);
    while (!stopping.load()) {
      timer.expires_after(period);
      asio::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (stopping.load()) break;
      FlushLimitedLogs();
      FlushLimitedLogs(pause_log);
      if (idle_ms <= 0) continue;
      auto now = SteadyClock::now();
      for (auto& [id, c] : conns) {
        // Not idle: a request in progress, or waiting for the server (budget, fsync).
        if (c->handling || c->budget_wait || c->durable_pending > 0) continue;
        if (now - c->last_io < std::chrono::milliseconds(idle_ms)) continue;
        if (!c->close_reason.empty()) continue;
        c->close_reason =
            fmt::format("nothing read or written for {} ms (connections.max.idle.ms)", idle_ms);
        c->socket->close(ec);
        c->wake.cancel();
      }
    }
    housekeeping_timer = nullptr;
  }
};

KafkaServer::KafkaServer(std::unique_ptr<State> state) : state_(std::move(state)) {}

KafkaServer::~KafkaServer() { Stop(); }

absl::StatusOr<std::unique_ptr<KafkaServer>> KafkaServer::Start(Broker* broker,
                                                                const std::string& host, int port,
                                                                int handler_threads,
                                                                ServerLimits limits) {
  if (limits.socket_request_max_bytes < 8) {
    return absl::InvalidArgumentError(fmt::format(
        "socket.request.max.bytes must be at least 8, not {}", limits.socket_request_max_bytes));
  }
  if (limits.queued_max_request_bytes > 0 &&
      limits.queued_max_request_bytes < limits.socket_request_max_bytes) {
    return absl::InvalidArgumentError(fmt::format(
        "queued.max.request.bytes ({}) must be at least socket.request.max.bytes ({}), or 0 for "
        "no limit",
        limits.queued_max_request_bytes, limits.socket_request_max_bytes));
  }
  if (limits.connection_max_queued_bytes < 1 || limits.max_connections < 1 ||
      limits.max_connections_per_ip < 0 || limits.connections_max_idle_ms < 0) {
    return absl::InvalidArgumentError(
        "the connection budget and max.connections must be positive, max.connections.per.ip and "
        "connections.max.idle.ms not negative");
  }
  auto st = std::make_unique<State>(std::max(1, handler_threads));
  st->broker = broker;
  st->limits = limits;
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
  asio::co_spawn(st->io, st->Housekeeping(), asio::detached);
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
      for (auto& [id, c] : s->conns) {
        c->socket->close(ec);
        c->wake.cancel();
      }
      s->WakeFetchWaiters();
      for (auto& t : s->pending_waiters) t->cancel();
      if (s->housekeeping_timer) s->housekeeping_timer->cancel();
    });
    // Let the sessions see their sockets closed (running handlers finish), then stop the loop.
    auto deadline = SteadyClock::now() + std::chrono::seconds(5);
    while (!s->io.stopped() && SteadyClock::now() < deadline) {
      bool idle = false;
      std::promise<bool> p;
      auto f = p.get_future();
      asio::post(s->io, [s, &p] { p.set_value(s->conns.empty()); });
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
