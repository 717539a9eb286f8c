// The local-log transport of the kafka source and sink (transport.h): inside `eddy server`, a
// table whose bootstrap servers name the server itself reads and appends record batches through
// LocalTopics, without librdkafka, a socket or the Kafka protocol in between.
#include <fmt/format.h>

#include <chrono>
#include <random>

#include "base/log.h"
#include "base/status.h"
#include "connectors/kafka/transport.h"

namespace eddy::connectors::kafka {

namespace {

// Bytes asked of the log per read (Kafka clients' fetch.max.bytes is larger; one read per poll
// of a partition keeps the decoded records of a read in memory only until they are delivered).
constexpr int64_t kReadBytes = 1 << 20;
// A partition's pending records are appended as one batch once they reach this size, well below
// the default max.message.bytes (1048588).
constexpr size_t kMaxBatchBytes = 512 << 10;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class LocalConsumer final : public ConsumerTransport {
 public:
  LocalConsumer(std::shared_ptr<LocalTopics> local, const KafkaTableOptions& o, bool want_headers)
      : local_(std::move(local)), o_(o), want_headers_(want_headers) {}

  const char* name() const override { return "from the local log"; }

  absl::StatusOr<OffsetRange> Offsets(int32_t p) override {
    auto r = local_->Offsets(o_.topic, p);
    if (!r.ok()) {
      return absl::UnavailableError(fmt::format("table '{}': offsets of {} partition {}: {}",
                                                o_.table, Where(o_), p,
                                                std::string(r.status().message())));
    }
    // read_committed readers end at the last stable offset (ListOffsets with read_committed).
    if (o_.read_committed) r->high_watermark = r->last_stable;
    return r;
  }

  std::optional<int64_t> KnownEndOffset(int32_t p) override {
    auto r = Offsets(p);
    if (!r.ok()) return std::nullopt;
    return r->high_watermark;
  }

  absl::StatusOr<std::optional<int64_t>> OffsetForTimestamp(int32_t p, int64_t ts_ms) override {
    auto r = local_->OffsetForTimestamp(o_.topic, p, ts_ms);
    if (!r.ok()) {
      return absl::UnavailableError(fmt::format("table '{}': offsets by timestamp of {}: {}",
                                                o_.table, Where(o_),
                                                std::string(r.status().message())));
    }
    return r;
  }

  absl::StatusOr<std::optional<int64_t>> Committed(int32_t p) override {
    auto r = local_->CommittedOffset(o_.group_id, o_.topic, p);
    if (!r.ok()) {
      return absl::UnavailableError(
          fmt::format("table '{}': committed offsets of group '{}' on {}: {}", o_.table,
                      o_.group_id, Where(o_), std::string(r.status().message())));
    }
    return r;
  }

  absl::Status Assign(const std::vector<std::pair<int32_t, int64_t>>& starts) override {
    parts_.clear();
    parts_.reserve(starts.size());
    for (const auto& [p, off] : starts) {
      parts_.emplace_back();
      parts_.back().id = p;
      parts_.back().next = off;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<size_t> Poll(size_t max, const RecordFn& on_record, const EndFn& on_end) override {
    size_t delivered = 0;
    for (size_t k = 0; k < parts_.size() && delivered < max; ++k) {
      Part& p = parts_[(next_part_ + k) % parts_.size()];
      while (delivered < max) {
        if (p.index == p.records.size()) {
          EDDY_ASSIGN_OR_RETURN(bool more, Fetch(&p));
          if (more) continue;
          if (!p.end_reported) {
            p.end_reported = true;
            on_end(p.id, p.next);
            ++delivered;
          }
          break;
        }
        const LocalRecord& lr = p.records[p.index++];
        p.next = lr.offset + 1;
        p.end_reported = false;
        ConsumedRecord r;
        r.partition = p.id;
        r.offset = lr.offset;
        r.has_key = lr.has_key;
        r.key = lr.key;
        r.has_value = lr.has_value;
        r.value = lr.value;
        r.timestamp_ms = lr.timestamp_ms;
        r.timestamp_kind =
            lr.log_append_time ? TimestampKind::kLogAppendTime : TimestampKind::kCreateTime;
        if (want_headers_) {
          local_->DecodeHeaders(lr, &headers_);
          r.headers = &headers_;
        }
        EDDY_RETURN_IF_ERROR(on_record(r));
        ++delivered;
      }
    }
    if (!parts_.empty()) next_part_ = (next_part_ + 1) % parts_.size();
    return delivered;
  }

  void Commit(const std::vector<std::pair<int32_t, int64_t>>& offsets, bool sync) override {
    for (const auto& [p, next] : offsets) {
      absl::Status st = local_->CommitOffset(o_.group_id, o_.topic, p, next);
      if (!st.ok() && sync) {
        spdlog::warn("table '{}': committing offsets of group '{}' on {} failed: {}", o_.table,
                     o_.group_id, Where(o_), std::string(st.message()));
      }
    }
  }

 private:
  struct Part {
    int32_t id = 0;
    int64_t next = 0;  // next offset to deliver
    bool end_reported = false;
    std::string fetched;               // batches of the last read
    std::deque<std::string> scratch;   // their decompressed records
    std::vector<LocalRecord> records;  // views into `fetched`/`scratch`
    size_t index = 0;                  // next of `records` to deliver
  };

  // Reads and decodes the batches after p->next. Returns false at the end of the partition.
  absl::StatusOr<bool> Fetch(Part* p) {
    p->records.clear();
    p->scratch.clear();
    p->index = 0;
    auto rr = local_->Read(o_.topic, p->id, p->next, kReadBytes, o_.read_committed);
    if (!rr.ok()) {
      return absl::UnavailableError(fmt::format("table '{}': reading {} partition {}: {}", o_.table,
                                                Where(o_), p->id,
                                                std::string(rr.status().message())));
    }
    if (rr->records.empty()) return false;
    p->fetched = std::move(rr->records);
    int64_t after = p->next;
    absl::Status st = local_->DecodeRecords(p->fetched, p->next, &p->scratch, &p->records, &after,
                                            o_.read_committed ? &rr->aborted : nullptr);
    if (!st.ok()) {
      return absl::DataLossError(fmt::format("table '{}': reading {} partition {} at offset {}: {}",
                                             o_.table, Where(o_), p->id, p->next,
                                             std::string(st.message())));
    }
    if (p->records.empty()) {
      // Only control batches, aborted records or records before p->next: move past them.
      if (after <= p->next) {
        return absl::DataLossError(
            fmt::format("table '{}': reading {} partition {}: no progress at offset {}", o_.table,
                        Where(o_), p->id, p->next));
      }
      p->next = after;
    }
    return true;
  }

  std::shared_ptr<LocalTopics> local_;
  KafkaTableOptions o_;
  bool want_headers_;
  std::vector<Part> parts_;
  size_t next_part_ = 0;  // where the next poll starts, so partitions share the polls fairly
  std::vector<HeaderView> headers_;
};

class LocalProducer final : public TransactionalProducer {
 public:
  LocalProducer(std::shared_ptr<LocalTopics> local, const KafkaTableOptions& o, int32_t partitions,
                std::string transactional_id = "")
      : local_(std::move(local)),
        o_(o),
        partitions_(partitions),
        transactional_id_(std::move(transactional_id)),
        pending_(partitions),
        pending_bytes_(partitions, 0),
        written_(partitions, false),
        sequence_(partitions, 0),
        rng_(std::random_device()()) {
    sticky_ = static_cast<int32_t>(rng_() % static_cast<uint32_t>(partitions_));
  }

  // Transactional: InitProducerId for the id (fencing its earlier producers).
  absl::Status InitTransactions() {
    auto p = local_->InitTransactions(transactional_id_, o_.transaction_timeout_ms);
    if (!p.ok()) {
      return absl::Status(
          p.status().code(),
          fmt::format("table '{}': initializing transactional id '{}': {}", o_.table,
                      transactional_id_, std::string(p.status().message())));
    }
    producer_ = *p;
    return absl::OkStatus();
  }

  const char* name() const override { return "to the local log"; }

  absl::Status Produce(int32_t partition, std::string_view key, bool has_key,
                       std::string_view value, int64_t timestamp_ms,
                       const std::vector<HeaderView>& headers) override {
    if (partition < 0) {
      // Kafka's default partitioner: murmur2 of the key; records without a key stick to one
      // partition per input batch (librdkafka's sticky partitioning of unkeyed records).
      partition = has_key ? Murmur2Partition(key, partitions_) : sticky_;
    }
    OutgoingRecord r;
    r.has_key = has_key;
    if (has_key) r.key.assign(key);
    r.value.assign(value);
    r.timestamp_ms = timestamp_ms == 0 ? NowMs() : timestamp_ms;
    for (const HeaderView& h : headers) r.headers.emplace_back(h.key, h.value);
    pending_bytes_[partition] += r.key.size() + r.value.size() + 16;
    pending_[partition].push_back(std::move(r));
    if (pending_bytes_[partition] >= kMaxBatchBytes) return AppendPending(partition);
    return absl::OkStatus();
  }

  absl::Status EndOfBatch() override {
    for (int32_t p = 0; p < partitions_; ++p) EDDY_RETURN_IF_ERROR(AppendPending(p));
    sticky_ = static_cast<int32_t>(rng_() % static_cast<uint32_t>(partitions_));
    return absl::OkStatus();
  }

  absl::Status Flush() override {
    EDDY_ASSIGN_OR_RETURN(auto sync, FlushDetached());
    return sync ? sync() : absl::OkStatus();
  }

  absl::StatusOr<std::function<absl::Status()>> FlushDetached() override {
    EDDY_RETURN_IF_ERROR(EndOfBatch());
    std::vector<int32_t> written;
    for (int32_t p = 0; p < partitions_; ++p) {
      if (written_[p]) written.push_back(p);
      written_[p] = false;
    }
    if (written.empty()) return std::function<absl::Status()>();
    // The log's Sync is thread-safe and never waits for appends: later records go on being
    // appended while this fsyncs (it may cover some of them too).
    return std::function<absl::Status()>([local = local_, topic = o_.topic, table = o_.table,
                                          where = Where(o_),
                                          written = std::move(written)]() -> absl::Status {
      for (int32_t p : written) {
        absl::Status st = local->Sync(topic, p);
        if (!st.ok()) {
          return absl::UnavailableError(
              fmt::format("table '{}': writing to {} partition {} failed: {}", table, where, p,
                          std::string(st.message())));
        }
      }
      return absl::OkStatus();
    });
  }

  TxnProducer producer() const override { return producer_; }
  const std::string& transactional_id() const override { return transactional_id_; }

  absl::Status Commit() override {
    EDDY_RETURN_IF_ERROR(Flush());
    return End(true);
  }
  absl::Status Abort() override { return End(false); }

 private:
  absl::Status End(bool commit) {
    absl::Status st = local_->EndTransaction(transactional_id_, producer_, commit);
    if (!st.ok()) {
      return absl::Status(st.code(), fmt::format("table '{}': {} transaction '{}': {}", o_.table,
                                                 commit ? "committing" : "aborting",
                                                 transactional_id_, std::string(st.message())));
    }
    return absl::OkStatus();
  }

  absl::Status AppendPending(int32_t p) {
    if (pending_[p].empty()) return absl::OkStatus();
    absl::StatusOr<int64_t> r;
    if (transactional_id_.empty()) {
      r = local_->Append(o_.topic, p, local_->EncodeBatch(pending_[p]));
    } else {
      std::string batch = local_->EncodeTransactionalBatch(pending_[p], producer_, sequence_[p]);
      sequence_[p] += static_cast<int32_t>(pending_[p].size());
      r = local_->AppendTransactional(transactional_id_, producer_, o_.topic, p, batch);
    }
    pending_[p].clear();
    pending_bytes_[p] = 0;
    if (!r.ok()) {
      return absl::Status(absl::IsFailedPrecondition(r.status()) ? r.status().code()
                                                                 : absl::StatusCode::kUnavailable,
                          fmt::format("table '{}': writing to {} partition {} failed: {}", o_.table,
                                      Where(o_), p, std::string(r.status().message())));
    }
    written_[p] = true;
    return absl::OkStatus();
  }

  std::shared_ptr<LocalTopics> local_;
  KafkaTableOptions o_;
  int32_t partitions_;
  std::string transactional_id_;  // empty: not transactional
  TxnProducer producer_;
  std::vector<std::vector<OutgoingRecord>> pending_;  // per partition, not yet appended
  std::vector<size_t> pending_bytes_;
  std::vector<bool> written_;      // appended since the last Flush (to fsync)
  std::vector<int32_t> sequence_;  // transactional: the next sequence number per partition
  std::mt19937 rng_;
  int32_t sticky_ = 0;
};

// Ends transactions through the local broker's transaction coordinator.
class LocalResolver final : public TransactionResolver {
 public:
  explicit LocalResolver(std::shared_ptr<LocalTopics> local) : local_(std::move(local)) {}

  absl::Status Commit(const std::string& id, const TxnProducer& producer) override {
    return local_->EndTransaction(id, producer, true);
  }
  absl::Status Abort(const std::string& id, const TxnProducer& producer) override {
    return local_->EndTransaction(id, producer, false);
  }
  absl::StatusOr<std::vector<OpenTransaction>> OpenTransactions(
      const std::string& prefix) override {
    return local_->OpenTransactions(prefix);
  }

 private:
  std::shared_ptr<LocalTopics> local_;
};

}  // namespace

std::unique_ptr<ConsumerTransport> NewLocalConsumer(std::shared_ptr<LocalTopics> local,
                                                    const KafkaTableOptions& o, bool want_headers) {
  return std::make_unique<LocalConsumer>(std::move(local), o, want_headers);
}

std::unique_ptr<ProducerTransport> NewLocalProducer(std::shared_ptr<LocalTopics> local,
                                                    const KafkaTableOptions& o,
                                                    int32_t partitions) {
  return std::make_unique<LocalProducer>(std::move(local), o, partitions);
}

absl::StatusOr<std::unique_ptr<TransactionalProducer>> NewLocalTransactionalProducer(
    std::shared_ptr<LocalTopics> local, const KafkaTableOptions& o, int32_t partitions,
    const std::string& transactional_id) {
  auto p = std::make_unique<LocalProducer>(std::move(local), o, partitions, transactional_id);
  EDDY_RETURN_IF_ERROR(p->InitTransactions());
  return std::unique_ptr<TransactionalProducer>(std::move(p));
}

std::unique_ptr<TransactionResolver> NewLocalResolver(std::shared_ptr<LocalTopics> local) {
  return std::make_unique<LocalResolver>(std::move(local));
}

int32_t Murmur2Partition(std::string_view key, int32_t partitions) {
  // Kafka's Utils.murmur2 (seed 0x9747b28c), in 32-bit unsigned arithmetic.
  const uint32_t m = 0x5bd1e995;
  const int r = 24;
  const auto* data = reinterpret_cast<const uint8_t*>(key.data());
  uint32_t length = static_cast<uint32_t>(key.size());
  uint32_t h = 0x9747b28cu ^ length;
  uint32_t length4 = length / 4;
  for (uint32_t i = 0; i < length4; ++i) {
    uint32_t i4 = i * 4;
    uint32_t k = data[i4] | (uint32_t{data[i4 + 1]} << 8) | (uint32_t{data[i4 + 2]} << 16) |
                 (uint32_t{data[i4 + 3]} << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  uint32_t tail = length & ~3u;
  switch (length % 4) {
    case 3:
      h ^= uint32_t{data[tail + 2]} << 16;
      [[fallthrough]];
    case 2:
      h ^= uint32_t{data[tail + 1]} << 8;
      [[fallthrough]];
    case 1:
      h ^= data[tail];
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>((h & 0x7fffffffu) % static_cast<uint32_t>(partitions));
}

}  // namespace eddy::connectors::kafka
