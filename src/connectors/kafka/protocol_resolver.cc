// The transaction resolver of the librdkafka transport (transport.h): a minimal Kafka protocol
// client, with the codecs of src/kafka/protocol, for what librdkafka's producer cannot do: end a
// transaction that another producer began (an earlier attempt of the job, now dead), knowing only
// its transactional id. Flink's KafkaCommitter does the same by setting the producer id and epoch
// of a KafkaProducer through reflection. Requests: Metadata v1 (the brokers), FindCoordinator v1
// (key type 1, the transaction coordinator), DescribeTransactions v0 and ListTransactions v0
// (KIP-664, Kafka 3.0+), EndTxn v1. Plaintext connections only (the connector passes no security
// settings to this client).
#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "base/log.h"
#include "base/status.h"
#include "connectors/kafka/transport.h"
#include "kafka/errors.h"
#include "kafka/messages.h"

namespace eddy::connectors::kafka {

namespace {

namespace wire = ::eddy::kafka;

constexpr int kTimeoutMs = 10'000;

// One blocking connection to a broker.
class Connection {
 public:
  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }

  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& host, int port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
    if (rc != 0) {
      return absl::UnavailableError(
          fmt::format("cannot resolve {}:{}: {}", host, port, gai_strerror(rc)));
    }
    auto c = std::make_unique<Connection>();
    std::string last = "no address";
    for (addrinfo* a = res; a; a = a->ai_next) {
      int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) continue;
      timeval tv{kTimeoutMs / 1000, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
        c->fd_ = fd;
        break;
      }
      last = std::strerror(errno);
      ::close(fd);
    }
    ::freeaddrinfo(res);
    if (c->fd_ < 0) {
      return absl::UnavailableError(fmt::format("cannot connect to {}:{}: {}", host, port, last));
    }
    return c;
  }

  // Sends `req` at `version` and decodes the answer.
  template <typename Resp, typename Req>
  absl::StatusOr<Resp> Call(const Req& req, int16_t version) {
    std::string frame(4, '\0');
    wire::ByteWriter w(&frame);
    wire::RequestHeader h;
    h.request_api_key = Req::kApiKey;
    h.request_api_version = version;
    h.correlation_id = ++correlation_;
    h.client_id = "eddy-txn";
    h.Encode(w, wire::RequestHeaderVersion(Req::kApiKey, version));
    req.Encode(w, version);
    uint32_t size = static_cast<uint32_t>(frame.size() - 4);
    for (int i = 0; i < 4; ++i) frame[i] = static_cast<char>((size >> (24 - 8 * i)) & 0xff);
    EDDY_RETURN_IF_ERROR(WriteAll(frame));
    std::string head(4, '\0');
    EDDY_RETURN_IF_ERROR(ReadAll(&head));
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n = n << 8 | static_cast<uint8_t>(head[i]);
    if (n > (64u << 20)) return absl::DataLossError(fmt::format("a response of {} bytes", n));
    std::string body(n, '\0');
    EDDY_RETURN_IF_ERROR(ReadAll(&body));
    wire::ByteReader r(body);
    wire::ResponseHeader rh;
    EDDY_RETURN_IF_ERROR(rh.Decode(r, wire::ResponseHeaderVersion(Req::kApiKey, version)));
    if (rh.correlation_id != correlation_) {
      return absl::DataLossError("a response to another request");
    }
    Resp resp;
    EDDY_RETURN_IF_ERROR(resp.Decode(r, version));
    return resp;
  }

 private:
  absl::Status WriteAll(std::string_view data) {
    while (!data.empty()) {
      ssize_t k = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) return absl::UnavailableError(fmt::format("send: {}", std::strerror(errno)));
      data.remove_prefix(static_cast<size_t>(k));
    }
    return absl::OkStatus();
  }
  absl::Status ReadAll(std::string* out) {
    size_t got = 0;
    while (got < out->size()) {
      ssize_t k = ::recv(fd_, out->data() + got, out->size() - got, 0);
      if (k < 0 && errno == EINTR) continue;
      if (k == 0) return absl::UnavailableError("the broker closed the connection");
      if (k < 0) return absl::UnavailableError(fmt::format("recv: {}", std::strerror(errno)));
      got += static_cast<size_t>(k);
    }
    return absl::OkStatus();
  }

  int fd_ = -1;
  int32_t correlation_ = 0;
};

// The name of a Kafka error code this client may get (kafka/errors.cc, the broker's table, is not
// linked into connectors).
std::string CodeName(int16_t code) {
  switch (static_cast<wire::ErrorCode>(code)) {
    case wire::ErrorCode::kCoordinatorLoadInProgress:
      return "COORDINATOR_LOAD_IN_PROGRESS";
    case wire::ErrorCode::kCoordinatorNotAvailable:
      return "COORDINATOR_NOT_AVAILABLE";
    case wire::ErrorCode::kNotCoordinator:
      return "NOT_COORDINATOR";
    case wire::ErrorCode::kInvalidProducerEpoch:
      return "INVALID_PRODUCER_EPOCH";
    case wire::ErrorCode::kInvalidTxnState:
      return "INVALID_TXN_STATE";
    case wire::ErrorCode::kInvalidProducerIdMapping:
      return "INVALID_PRODUCER_ID_MAPPING";
    case wire::ErrorCode::kConcurrentTransactions:
      return "CONCURRENT_TRANSACTIONS";
    case wire::ErrorCode::kProducerFenced:
      return "PRODUCER_FENCED";
    case wire::ErrorCode::kUnsupportedVersion:
      return "UNSUPPORTED_VERSION";
    default:
      return fmt::format("Kafka error code {}", code);
  }
}

// "host:port" entries of 'bootstrap.servers' (an optional "PLAINTEXT://" prefix dropped).
std::vector<std::pair<std::string, int>> Brokers(const std::string& bootstrap) {
  std::vector<std::pair<std::string, int>> out;
  size_t pos = 0;
  while (pos <= bootstrap.size()) {
    size_t end = bootstrap.find(',', pos);
    if (end == std::string::npos) end = bootstrap.size();
    std::string e = bootstrap.substr(pos, end - pos);
    pos = end + 1;
    e.erase(0, e.find_first_not_of(" \t"));
    e.erase(e.find_last_not_of(" \t") + 1);
    size_t scheme = e.find("://");
    if (scheme != std::string::npos) e = e.substr(scheme + 3);
    size_t colon = e.rfind(':');
    if (colon == std::string::npos || colon == 0) continue;
    int port = std::atoi(e.c_str() + colon + 1);
    if (port > 0) out.emplace_back(e.substr(0, colon), port);
  }
  return out;
}

class ProtocolResolver final : public TransactionResolver {
 public:
  explicit ProtocolResolver(const KafkaTableOptions& o) : o_(o) {}

  absl::Status Commit(const std::string& id, const TxnProducer& producer) override {
    return End(id, producer, true);
  }
  absl::Status Abort(const std::string& id, const TxnProducer& producer) override {
    return End(id, producer, false);
  }

  absl::StatusOr<std::vector<OpenTransaction>> OpenTransactions(
      const std::string& prefix) override {
    std::lock_guard<std::mutex> l(mu_);
    EDDY_ASSIGN_OR_RETURN(auto any, Bootstrap());
    // Every broker coordinates some transactional ids: ask each.
    wire::MetadataRequest m;
    m.topics = std::vector<wire::MetadataRequest::MetadataRequestTopic>();
    EDDY_ASSIGN_OR_RETURN(auto md, any->Call<wire::MetadataResponse>(m, 1));
    std::vector<OpenTransaction> out;
    for (const auto& b : md.brokers) {
      EDDY_ASSIGN_OR_RETURN(auto c, Connection::Open(b.host, b.port));
      wire::ListTransactionsRequest lr;
      lr.state_filters = {"Ongoing", "PrepareCommit", "PrepareAbort"};
      EDDY_ASSIGN_OR_RETURN(auto list, c->Call<wire::ListTransactionsResponse>(lr, 0));
      if (list.error_code != 0) {
        return absl::UnavailableError(fmt::format("ListTransactions at {}:{}: {}", b.host, b.port,
                                                  CodeName(list.error_code)));
      }
      for (const auto& t : list.transaction_states) {
        if (t.transactional_id.rfind(prefix, 0) != 0) continue;
        out.push_back({t.transactional_id, {t.producer_id, -1}});
      }
    }
    return out;
  }

 private:
  // A connection to the first reachable bootstrap broker.
  absl::StatusOr<std::unique_ptr<Connection>> Bootstrap() {
    absl::Status last = absl::UnavailableError("no bootstrap server");
    for (const auto& [host, port] : Brokers(o_.bootstrap_servers)) {
      auto c = Connection::Open(host, port);
      if (c.ok()) return c;
      last = c.status();
    }
    return last;
  }

  // A connection to the transaction coordinator of `id`.
  absl::StatusOr<std::unique_ptr<Connection>> Coordinator(const std::string& id) {
    EDDY_ASSIGN_OR_RETURN(auto any, Bootstrap());
    wire::FindCoordinatorRequest f;
    f.key = id;
    f.key_type = 1;  // a transactional id
    EDDY_ASSIGN_OR_RETURN(auto r, any->Call<wire::FindCoordinatorResponse>(f, 1));
    if (r.error_code != 0) {
      return absl::UnavailableError(
          fmt::format("FindCoordinator of transactional id '{}': {}", id, CodeName(r.error_code)));
    }
    return Connection::Open(r.host, r.port);
  }

  absl::Status End(const std::string& id, const TxnProducer& producer, bool commit) {
    std::lock_guard<std::mutex> l(mu_);
    const char* what = commit ? "commit" : "abort";
    for (int attempt = 0; attempt < 100; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      auto c = Coordinator(id);
      if (!c.ok()) {
        if (attempt < 20) continue;
        return c.status();
      }
      wire::DescribeTransactionsRequest d;
      d.transactional_ids = {id};
      EDDY_ASSIGN_OR_RETURN(auto desc, (*c)->Call<wire::DescribeTransactionsResponse>(d, 0));
      if (desc.transaction_states.size() != 1) {
        return absl::DataLossError("DescribeTransactions answered another number of ids");
      }
      const auto& t = desc.transaction_states[0];
      if (t.error_code == wire::Wire(wire::ErrorCode::kTransactionalIdNotFound)) {
        if (!commit) return absl::OkStatus();
        return absl::FailedPreconditionError(
            fmt::format("transaction '{}' is unknown to the cluster", id));
      }
      if (t.error_code != 0) {
        if (attempt < 20) continue;  // e.g. COORDINATOR_LOAD_IN_PROGRESS
        return absl::UnavailableError(
            fmt::format("DescribeTransactions of '{}': {}", id, CodeName(t.error_code)));
      }
      const std::string& state = t.transaction_state;
      if (state == (commit ? "CompleteCommit" : "CompleteAbort") ||
          (!commit && (state == "Empty" || state == "CompleteCommit"))) {
        return absl::OkStatus();  // done before (or, for an abort, nothing open)
      }
      if (state == (commit ? "PrepareCommit" : "PrepareAbort")) continue;  // being completed
      if (state != "Ongoing") {
        return absl::FailedPreconditionError(
            fmt::format("transaction '{}' cannot be committed: it is {}", id, state));
      }
      // A known producer (-1 when not known; epoch -1 when only the id is known) must still
      // hold the transaction.
      if ((producer.producer_id >= 0 && t.producer_id != producer.producer_id) ||
          (producer.epoch >= 0 && t.producer_epoch != producer.epoch)) {
        return absl::FailedPreconditionError(fmt::format(
            "transaction '{}' is held by producer {} epoch {}, not {} epoch {}: it cannot be "
            "ended",
            id, t.producer_id, t.producer_epoch, producer.producer_id, producer.epoch));
      }
      wire::EndTxnRequest e;
      e.transactional_id = id;
      e.producer_id = t.producer_id;
      e.producer_epoch = t.producer_epoch;
      e.committed = commit;
      EDDY_ASSIGN_OR_RETURN(auto er, (*c)->Call<wire::EndTxnResponse>(e, 1));
      if (er.error_code == 0) return absl::OkStatus();
      auto err = static_cast<wire::ErrorCode>(er.error_code);
      if (err == wire::ErrorCode::kConcurrentTransactions ||
          err == wire::ErrorCode::kCoordinatorLoadInProgress ||
          err == wire::ErrorCode::kNotCoordinator ||
          err == wire::ErrorCode::kCoordinatorNotAvailable) {
        continue;
      }
      return absl::FailedPreconditionError(
          fmt::format("EndTxn ({}) of transaction '{}': {}", what, id, CodeName(er.error_code)));
    }
    return absl::UnavailableError(
        fmt::format("transaction '{}' could not be ended ({}) in time", id, what));
  }

  KafkaTableOptions o_;
  std::mutex mu_;
};

}  // namespace

std::unique_ptr<TransactionResolver> NewProtocolResolver(const KafkaTableOptions& o) {
  return std::make_unique<ProtocolResolver>(o);
}

}  // namespace eddy::connectors::kafka
