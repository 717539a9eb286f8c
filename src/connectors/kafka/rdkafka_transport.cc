// The librdkafka transport of the kafka source and sink (transport.h): any Kafka-compatible
// cluster, eddy's own broker included, over its socket.
#include <fmt/format.h>

#include "base/log.h"
#include "base/status.h"
#include "connectors/kafka/transport.h"

namespace eddy::connectors::kafka {

namespace {

constexpr int kMetadataTimeoutMs = 10'000;
constexpr int kFlushTimeoutMs = 60'000;

struct TopicPartitionList {
  rd_kafka_topic_partition_list_t* list;
  explicit TopicPartitionList(int n) : list(rd_kafka_topic_partition_list_new(n)) {}
  ~TopicPartitionList() { rd_kafka_topic_partition_list_destroy(list); }
};

class RdKafkaConsumer final : public ConsumerTransport {
 public:
  RdKafkaConsumer(const KafkaTableOptions& o, bool want_headers)
      : o_(o), want_headers_(want_headers) {}
  ~RdKafkaConsumer() override {
    if (queue_) rd_kafka_queue_destroy(queue_);
    if (rk_) rd_kafka_consumer_close(rk_.get());
  }

  absl::Status Open() {
    std::vector<std::pair<std::string, std::string>> extra = {
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "true"},
        {"allow.auto.create.topics", "false"},
        // Flink's (and Kafka's Java consumer's) default; librdkafka's own is read_committed.
        {"isolation.level", o_.read_committed ? "read_committed" : "read_uncommitted"},
    };
    // librdkafka needs a group id even for assigned partitions; without
    // 'properties.group.id' nothing is committed under it.
    extra.emplace_back("group.id", o_.group_id.empty() ? "eddy-" + o_.table : o_.group_id);
    EDDY_ASSIGN_OR_RETURN(rk_, NewClient(RD_KAFKA_CONSUMER, o_, extra));
    rd_kafka_poll_set_consumer(rk_.get());
    queue_ = rd_kafka_queue_get_consumer(rk_.get());
    return absl::OkStatus();
  }

  const char* name() const override { return "through librdkafka"; }

  absl::StatusOr<OffsetRange> Offsets(int32_t p) override {
    OffsetRange r;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
        rk_.get(), o_.topic.c_str(), p, &r.log_start, &r.high_watermark, kMetadataTimeoutMs);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(fmt::format("table '{}': offsets of {} partition {}: {}",
                                                o_.table, Where(o_), p, rd_kafka_err2str(e)));
    }
    return r;
  }

  std::optional<int64_t> KnownEndOffset(int32_t p) override {
    int64_t low = -1, high = -1;
    if (rd_kafka_get_watermark_offsets(rk_.get(), o_.topic.c_str(), p, &low, &high) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        high < 0) {
      return std::nullopt;
    }
    return high;
  }

  absl::StatusOr<std::optional<int64_t>> OffsetForTimestamp(int32_t p, int64_t ts_ms) override {
    TopicPartitionList list(1);
    rd_kafka_topic_partition_list_add(list.list, o_.topic.c_str(), p)->offset = ts_ms;
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(rk_.get(), list.list, kMetadataTimeoutMs);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(fmt::format("table '{}': offsets by timestamp of {}: {}",
                                                o_.table, Where(o_), rd_kafka_err2str(e)));
    }
    int64_t off = list.list->elems[0].offset;
    if (off < 0) return std::optional<int64_t>();
    return std::optional<int64_t>(off);
  }

  absl::StatusOr<std::optional<int64_t>> Committed(int32_t p) override {
    TopicPartitionList list(1);
    rd_kafka_topic_partition_list_add(list.list, o_.topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_INVALID;
    rd_kafka_resp_err_t e = rd_kafka_committed(rk_.get(), list.list, kMetadataTimeoutMs);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(
          fmt::format("table '{}': committed offsets of group '{}' on {}: {}", o_.table,
                      o_.group_id, Where(o_), rd_kafka_err2str(e)));
    }
    int64_t off = list.list->elems[0].offset;
    if (off < 0) return std::optional<int64_t>();
    return std::optional<int64_t>(off);
  }

  absl::Status Assign(const std::vector<std::pair<int32_t, int64_t>>& starts) override {
    TopicPartitionList assign(static_cast<int>(starts.size()));
    for (const auto& [p, off] : starts) {
      rd_kafka_topic_partition_list_add(assign.list, o_.topic.c_str(), p)->offset = off;
    }
    rd_kafka_resp_err_t e = rd_kafka_assign(rk_.get(), assign.list);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(
          fmt::format("table '{}': cannot assign the partitions of {}: {}", o_.table, Where(o_),
                      rd_kafka_err2str(e)));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<size_t> Poll(size_t max, const RecordFn& on_record, const EndFn& on_end) override {
    size_t want = std::min(max, msgs_.size());
    ssize_t n = rd_kafka_consume_batch_queue(queue_, 0, msgs_.data(), want);
    if (n < 0) {
      return absl::UnavailableError(fmt::format("table '{}': reading {}: {}", o_.table, Where(o_),
                                                rd_kafka_err2str(rd_kafka_last_error())));
    }
    absl::Status st;
    for (ssize_t i = 0; i < n && st.ok(); ++i) st = Deliver(msgs_[i], on_record, on_end);
    for (ssize_t i = 0; i < n; ++i) rd_kafka_message_destroy(msgs_[i]);
    if (!st.ok()) return st;
    return static_cast<size_t>(n);
  }

  void Commit(const std::vector<std::pair<int32_t, int64_t>>& offsets, bool sync) override {
    TopicPartitionList list(static_cast<int>(offsets.size()));
    for (const auto& [p, next] : offsets) {
      rd_kafka_topic_partition_list_add(list.list, o_.topic.c_str(), p)->offset = next;
    }
    rd_kafka_resp_err_t e = rd_kafka_commit(rk_.get(), list.list, sync ? 0 : 1);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR && sync) {
      spdlog::warn("table '{}': committing offsets of group '{}' on {} failed: {}", o_.table,
                   o_.group_id, Where(o_), rd_kafka_err2str(e));
    }
  }

 private:
  absl::Status Deliver(rd_kafka_message_t* m, const RecordFn& on_record, const EndFn& on_end) {
    if (m->err) {
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        on_end(m->partition, m->offset);
        return absl::OkStatus();
      }
      if (rd_kafka_fatal_error(rk_.get(), nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR ||
          m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
          m->err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
          m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
        return absl::UnavailableError(fmt::format("table '{}': reading {} partition {}: {}",
                                                  o_.table, Where(o_), m->partition,
                                                  rd_kafka_message_errstr(m)));
      }
      spdlog::warn("table '{}': {}: {} (the Kafka client retries)", o_.table, Where(o_),
                   rd_kafka_message_errstr(m));
      return absl::OkStatus();
    }
    ConsumedRecord r;
    r.partition = m->partition;
    r.offset = m->offset;
    r.has_key = m->key != nullptr;
    if (m->key) r.key = std::string_view(static_cast<const char*>(m->key), m->key_len);
    r.has_value = m->payload != nullptr;
    if (m->payload) r.value = std::string_view(static_cast<const char*>(m->payload), m->len);
    rd_kafka_timestamp_type_t tt;
    r.timestamp_ms = rd_kafka_message_timestamp(m, &tt);
    r.timestamp_kind = tt == RD_KAFKA_TIMESTAMP_CREATE_TIME       ? TimestampKind::kCreateTime
                       : tt == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? TimestampKind::kLogAppendTime
                                                                  : TimestampKind::kNone;
    if (want_headers_) {
      headers_.clear();
      rd_kafka_headers_t* h = nullptr;
      if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR) h = nullptr;
      const char* name = nullptr;
      const void* value = nullptr;
      size_t size = 0;
      for (size_t i = 0;
           h && rd_kafka_header_get_all(h, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
           ++i) {
        HeaderView hv;
        hv.key = name;
        hv.is_null = value == nullptr;
        if (value) hv.value = std::string_view(static_cast<const char*>(value), size);
        headers_.push_back(hv);
      }
      r.headers = &headers_;
    }
    return on_record(r);
  }

  KafkaTableOptions o_;
  bool want_headers_;
  Client rk_;
  rd_kafka_queue_t* queue_ = nullptr;
  std::vector<rd_kafka_message_t*> msgs_ = std::vector<rd_kafka_message_t*>(4096);
  std::vector<HeaderView> headers_;
};

// A librdkafka error object's text, freeing it.
std::string TakeErrorText(rd_kafka_error_t* e) {
  std::string s = rd_kafka_error_string(e);
  rd_kafka_error_destroy(e);
  return s;
}

class RdKafkaProducer final : public TransactionalProducer {
 public:
  explicit RdKafkaProducer(const KafkaTableOptions& o, std::string transactional_id = "")
      : o_(o), transactional_id_(std::move(transactional_id)) {}
  ~RdKafkaProducer() override {
    if (topic_) rd_kafka_topic_destroy(topic_);
    if (rk_ && transactional_id_.empty()) rd_kafka_flush(rk_.get(), 1000);
  }

  absl::Status Open() {
    std::vector<std::pair<std::string, std::string>> extra = {{"partitioner", "murmur2_random"},
                                                              {"linger.ms", "5"}};
    if (!transactional_id_.empty()) {
      extra.emplace_back("transactional.id", transactional_id_);
      extra.emplace_back("transaction.timeout.ms", std::to_string(o_.transaction_timeout_ms));
    }
    EDDY_ASSIGN_OR_RETURN(rk_,
                          NewClient(RD_KAFKA_PRODUCER, o_, extra, [this](rd_kafka_conf_t* conf) {
                            rd_kafka_conf_set_opaque(conf, this);
                            rd_kafka_conf_set_dr_msg_cb(conf, &RdKafkaProducer::OnDelivery);
                          }));
    topic_ = rd_kafka_topic_new(rk_.get(), o_.topic.c_str(), nullptr);
    if (transactional_id_.empty()) return absl::OkStatus();
    // InitProducerId (fences earlier producers of the id), then the transaction begins.
    if (rd_kafka_error_t* e = rd_kafka_init_transactions(rk_.get(), kFlushTimeoutMs)) {
      bool fenced = rd_kafka_error_is_fatal(e);
      std::string text = TakeErrorText(e);
      return absl::Status(
          fenced ? absl::StatusCode::kFailedPrecondition : absl::StatusCode::kUnavailable,
          fmt::format("table '{}': initializing transactional id '{}' at {}: {}", o_.table,
                      transactional_id_, o_.bootstrap_servers, text));
    }
    if (rd_kafka_error_t* e = rd_kafka_begin_transaction(rk_.get())) {
      return absl::UnavailableError(fmt::format("table '{}': beginning transaction '{}': {}",
                                                o_.table, transactional_id_, TakeErrorText(e)));
    }
    return absl::OkStatus();
  }

  TxnProducer producer() const override { return TxnProducer(); }
  const std::string& transactional_id() const override { return transactional_id_; }

  absl::Status Commit() override {
    EDDY_RETURN_IF_ERROR(first_error_);
    return End(rd_kafka_commit_transaction(rk_.get(), kFlushTimeoutMs), "committing");
  }
  absl::Status Abort() override {
    return End(rd_kafka_abort_transaction(rk_.get(), kFlushTimeoutMs), "aborting");
  }

  const char* name() const override { return "through librdkafka"; }

  absl::Status Produce(int32_t partition, std::string_view key, bool has_key,
                       std::string_view value, int64_t timestamp_ms,
                       const std::vector<HeaderView>& headers) override {
    EDDY_RETURN_IF_ERROR(first_error_);
    rd_kafka_headers_t* h = nullptr;
    if (!headers.empty()) {
      h = rd_kafka_headers_new(headers.size());
      for (const HeaderView& hv : headers) {
        rd_kafka_header_add(h, hv.key.data(), static_cast<ssize_t>(hv.key.size()),
                            hv.is_null ? nullptr : hv.value.data(),
                            static_cast<ssize_t>(hv.value.size()));
      }
    }
    while (true) {
      rd_kafka_resp_err_t e = rd_kafka_producev(
          rk_.get(), RD_KAFKA_V_RKT(topic_),
          RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
          RD_KAFKA_V_KEY(has_key ? key.data() : nullptr, has_key ? key.size() : 0),
          RD_KAFKA_V_TIMESTAMP(timestamp_ms), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();  // headers now owned
      if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        // The client's buffer is full: wait for acknowledgements (backpressure).
        rd_kafka_poll(rk_.get(), 10);
        if (!first_error_.ok()) {
          if (h) rd_kafka_headers_destroy(h);
          return first_error_;
        }
        continue;
      }
      if (h) rd_kafka_headers_destroy(h);
      return absl::UnavailableError(
          fmt::format("table '{}': producing to {}: {}", o_.table, Where(o_), rd_kafka_err2str(e)));
    }
  }

  absl::Status EndOfBatch() override {
    rd_kafka_poll(rk_.get(), 0);  // serve delivery reports
    return first_error_;
  }

  absl::Status Flush() override {
    rd_kafka_resp_err_t e = rd_kafka_flush(rk_.get(), kFlushTimeoutMs);
    EDDY_RETURN_IF_ERROR(first_error_);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::DeadlineExceededError(
          fmt::format("table '{}': {} records to {} were not acknowledged within {} s", o_.table,
                      rd_kafka_outq_len(rk_.get()), Where(o_), kFlushTimeoutMs / 1000));
    }
    return absl::OkStatus();
  }

 private:
  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<RdKafkaProducer*>(opaque);
    if (!m->err || !self->first_error_.ok()) return;
    if (m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
        m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      // The topic existed when the job started (the sink checks); it was deleted since.
      self->first_error_ = absl::NotFoundError(
          fmt::format("table '{}': {} does not exist (any more): writing partition {} failed",
                      self->o_.table, Where(self->o_), m->partition));
      return;
    }
    self->first_error_ = absl::UnavailableError(
        fmt::format("table '{}': writing to {} partition {} failed: {}", self->o_.table,
                    Where(self->o_), m->partition, rd_kafka_err2str(m->err)));
  }

  absl::Status End(rd_kafka_error_t* e, const char* what) {
    if (!e) return absl::OkStatus();
    bool fenced = rd_kafka_error_is_fatal(e);
    std::string text = TakeErrorText(e);
    return absl::Status(
        fenced ? absl::StatusCode::kFailedPrecondition : absl::StatusCode::kUnavailable,
        fmt::format("table '{}': {} transaction '{}' at {}: {}", o_.table, what, transactional_id_,
                    o_.bootstrap_servers, text));
  }

  KafkaTableOptions o_;
  std::string transactional_id_;  // empty: not transactional
  Client rk_;
  rd_kafka_topic_t* topic_ = nullptr;
  absl::Status first_error_;  // first failed delivery (set from rd_kafka_poll/flush callbacks)
};

}  // namespace

absl::StatusOr<std::unique_ptr<ConsumerTransport>> NewRdKafkaConsumer(const KafkaTableOptions& o,
                                                                      bool want_headers) {
  auto c = std::make_unique<RdKafkaConsumer>(o, want_headers);
  EDDY_RETURN_IF_ERROR(c->Open());
  return std::unique_ptr<ConsumerTransport>(std::move(c));
}

absl::StatusOr<std::unique_ptr<ProducerTransport>> NewRdKafkaProducer(const KafkaTableOptions& o) {
  auto p = std::make_unique<RdKafkaProducer>(o);
  EDDY_RETURN_IF_ERROR(p->Open());
  return std::unique_ptr<ProducerTransport>(std::move(p));
}

absl::StatusOr<std::unique_ptr<TransactionalProducer>> NewRdKafkaTransactionalProducer(
    const KafkaTableOptions& o, const std::string& transactional_id) {
  auto p = std::make_unique<RdKafkaProducer>(o, transactional_id);
  EDDY_RETURN_IF_ERROR(p->Open());
  return std::unique_ptr<TransactionalProducer>(std::move(p));
}

}  // namespace eddy::connectors::kafka
