#include "server/local_topics.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "base/status.h"
#include "base/strings.h"
#include "kafka/errors.h"
#include "kafka/messages.h"
#include "log/record_batch.h"

namespace eddy::server {

namespace {

using connectors::kafka::AbortedRange;
using connectors::kafka::HeaderView;
using connectors::kafka::LocalRecord;
using connectors::kafka::OffsetRange;
using connectors::kafka::OutgoingRecord;
using connectors::kafka::ReadBatches;
using connectors::kafka::TxnProducer;

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

}  // namespace

bool SplitHostPort(const std::string& s, std::string* host, int* port) {
  size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  *host = s.substr(0, colon);
  try {
    size_t used;
    *port = std::stoi(s.substr(colon + 1), &used);
    return used == s.size() - colon - 1 && *port >= 0 && *port <= 65535;
  } catch (...) {
    return false;
  }
}

LogLocalTopics::LogLocalTopics(log::LogManager* log, kafka::GroupCoordinator* groups,
                               kafka::Broker* broker, std::string listen_host, int listen_port,
                               kafka::TransactionCoordinator* txns)
    : log_(log),
      groups_(groups),
      broker_(broker),
      listen_host_(std::move(listen_host)),
      listen_port_(listen_port),
      txns_(txns) {}

bool LogLocalTopics::Serves(const std::string& bootstrap_servers) const {
  size_t pos = 0;
  while (pos <= bootstrap_servers.size()) {
    size_t end = bootstrap_servers.find(',', pos);
    if (end == std::string::npos) end = bootstrap_servers.size();
    std::string entry = Trim(bootstrap_servers.substr(pos, end - pos));
    pos = end + 1;
    // librdkafka accepts an optional protocol prefix ("PLAINTEXT://host:port").
    size_t scheme = entry.find("://");
    if (scheme != std::string::npos) entry = entry.substr(scheme + 3);
    std::string host;
    int port = 0;
    if (!SplitHostPort(entry, &host, &port) || port != listen_port_) continue;
    host = ToLower(host);
    if (host == listen_host_) return true;
    if ((host == "localhost" || host == "127.0.0.1") &&
        (listen_host_ == "127.0.0.1" || listen_host_ == "0.0.0.0")) {
      return true;
    }
  }
  return false;
}

absl::StatusOr<int32_t> LogLocalTopics::PartitionCount(const std::string& topic) {
  EDDY_ASSIGN_OR_RETURN(log::TopicInfo info, log_->DescribeTopic(topic));
  return info.partition_count;
}

absl::StatusOr<OffsetRange> LogLocalTopics::Offsets(const std::string& topic, int32_t partition) {
  EDDY_ASSIGN_OR_RETURN(auto part, log_->GetPartition(topic, PartitionId(partition)));
  OffsetRange r;
  r.log_start = part->LogStartOffset().value();
  r.high_watermark = part->HighWatermark().value();
  r.last_stable = std::min(r.high_watermark, part->LastStableOffset().value());
  return r;
}

absl::StatusOr<std::optional<int64_t>> LogLocalTopics::OffsetForTimestamp(const std::string& topic,
                                                                          int32_t partition,
                                                                          int64_t timestamp_ms) {
  EDDY_ASSIGN_OR_RETURN(auto part, log_->GetPartition(topic, PartitionId(partition)));
  EDDY_ASSIGN_OR_RETURN(std::optional<log::TimestampOffset> t,
                        part->OffsetForTimestamp(timestamp_ms));
  if (!t.has_value()) return std::optional<int64_t>();
  return std::optional<int64_t>(t->offset.value());
}

absl::StatusOr<std::optional<int64_t>> LogLocalTopics::CommittedOffset(const std::string& group,
                                                                       const std::string& topic,
                                                                       int32_t partition) {
  if (!groups_) return absl::FailedPreconditionError("the server has no group coordinator");
  // Kafka protocol: OffsetFetch v7 (one group, listed partitions).
  kafka::OffsetFetchRequest req;
  req.group_id = group;
  auto& t = req.topics->emplace_back();
  t.name = topic;
  t.partition_indexes = {partition};
  kafka::OffsetFetchResponse resp = groups_->OffsetFetch(req, 7);
  for (const auto& rt : resp.topics) {
    for (const auto& rp : rt.partitions) {
      if (rt.name != topic || rp.partition_index != partition) continue;
      if (rp.error_code != 0) {
        return absl::InternalError(
            fmt::format("OffsetFetch of group '{}': {}", group, kafka::ErrorName(rp.error_code)));
      }
      if (rp.committed_offset < 0) return std::optional<int64_t>();
      return std::optional<int64_t>(rp.committed_offset);
    }
  }
  return std::optional<int64_t>();
}

absl::Status LogLocalTopics::CommitOffset(const std::string& group, const std::string& topic,
                                          int32_t partition, int64_t offset) {
  if (!groups_) return absl::FailedPreconditionError("the server has no group coordinator");
  // Kafka protocol: OffsetCommit v7 from a simple consumer (generation -1, no member id).
  kafka::OffsetCommitRequest req;
  req.group_id = group;
  req.generation_id_or_member_epoch = -1;
  req.member_id = "";
  auto& t = req.topics.emplace_back();
  t.name = topic;
  auto& p = t.partitions.emplace_back();
  p.partition_index = partition;
  p.committed_offset = offset;
  kafka::OffsetCommitResponse resp = groups_->OffsetCommit(req, 7, log::WallClockMs());
  for (const auto& rt : resp.topics) {
    for (const auto& rp : rt.partitions) {
      if (rp.error_code == 0) continue;
      std::string msg = fmt::format("OffsetCommit of group '{}' for {}-{}: {}", group, topic,
                                    partition, kafka::ErrorName(rp.error_code));
      if (rp.error_code == kafka::Wire(kafka::ErrorCode::kUnknownMemberId)) {
        return absl::FailedPreconditionError(msg + " (the group has active members)");
      }
      return absl::InternalError(msg);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ReadBatches> LogLocalTopics::Read(const std::string& topic, int32_t partition,
                                                 int64_t offset, int64_t max_bytes,
                                                 bool read_committed) {
  EDDY_ASSIGN_OR_RETURN(auto part, log_->GetPartition(topic, PartitionId(partition)));
  EDDY_ASSIGN_OR_RETURN(log::ReadResult rr,
                        part->Read(Offset(offset), max_bytes, true, read_committed));
  ReadBatches out;
  out.records = std::move(rr.records);
  out.high_watermark = rr.high_watermark.value();
  out.last_stable_offset = rr.last_stable_offset.value();
  if (read_committed && !out.records.empty()) {
    // The aborted transactions with batches among those read (as a read_committed Fetch).
    int64_t end = offset;
    std::string_view rest = out.records;
    while (rest.size() >= log::kBatchHeaderSize) {
      auto h = log::DecodeBatchHeader(rest);
      if (!h.ok() || h->size_bytes() > static_cast<int64_t>(rest.size())) break;
      end = h->last_offset() + 1;
      rest.remove_prefix(static_cast<size_t>(h->size_bytes()));
    }
    for (const log::AbortedTxn& a : part->AbortedTransactions(Offset(offset), Offset(end))) {
      out.aborted.push_back({a.producer_id, a.first_offset.value()});
    }
  }
  return out;
}

absl::StatusOr<int64_t> LogLocalTopics::Append(const std::string& topic, int32_t partition,
                                               std::string_view batches) {
  EDDY_ASSIGN_OR_RETURN(auto part, log_->GetPartition(topic, PartitionId(partition)));
  // As Broker::Produce: this node is the leader with epoch 0.
  log::AppendOptions ao;
  ao.partition_leader_epoch = 0;
  EDDY_ASSIGN_OR_RETURN(log::AppendResult r, part->Append(batches, ao));
  if (broker_) broker_->NotifyAppended();
  return r.base_offset.value();
}

absl::Status LogLocalTopics::Sync(const std::string& topic, int32_t partition) {
  EDDY_ASSIGN_OR_RETURN(auto part, log_->GetPartition(topic, PartitionId(partition)));
  return part->Sync();
}

absl::Status LogLocalTopics::DecodeRecords(std::string_view batches, int64_t from_offset,
                                           std::deque<std::string>* scratch,
                                           std::vector<LocalRecord>* out, int64_t* next_offset,
                                           const std::vector<AbortedRange>* aborted) {
  std::string unused;
  // read_committed: the aborted transactions by first offset, and the producers whose aborted
  // transaction has begun and not yet reached its abort marker (Kafka's consumer algorithm).
  std::vector<AbortedRange> pending;
  if (aborted) {
    pending = *aborted;
    std::sort(pending.begin(), pending.end(), [](const AbortedRange& a, const AbortedRange& b) {
      return a.first_offset > b.first_offset;  // popped from the back, lowest first
    });
  }
  std::set<int64_t> aborting;
  while (batches.size() >= log::kBatchHeaderSize) {
    EDDY_ASSIGN_OR_RETURN(log::RecordBatchHeader h, log::DecodeBatchHeader(batches));
    if (h.size_bytes() < static_cast<int64_t>(log::kBatchHeaderSize) ||
        h.size_bytes() > static_cast<int64_t>(batches.size())) {
      break;  // a partial batch at the end of a read (not expected from the log)
    }
    std::string_view batch = batches.substr(0, static_cast<size_t>(h.size_bytes()));
    batches.remove_prefix(batch.size());
    *next_offset = std::max(*next_offset, h.last_offset() + 1);
    while (!pending.empty() && pending.back().first_offset <= h.base_offset) {
      aborting.insert(pending.back().producer_id);
      pending.pop_back();
    }
    if (h.is_control()) {
      aborting.erase(h.producer_id);  // the end of that producer's transaction
      continue;
    }
    if (h.is_transactional() && aborting.count(h.producer_id)) continue;
    if (h.last_offset() < from_offset) continue;
    std::string* buffer = &unused;
    if (h.compression() != 0) buffer = &scratch->emplace_back();
    bool log_append_time = h.timestamp_type() == log::TimestampType::kLogAppendTime;
    EDDY_RETURN_IF_ERROR(
        log::ForEachRecordDecompressing(batch, buffer, [&](const log::RecordView& r) {
          if (r.offset < from_offset) return true;
          LocalRecord& lr = out->emplace_back();
          lr.offset = r.offset;
          lr.timestamp_ms = r.timestamp;
          lr.log_append_time = log_append_time;
          lr.has_key = r.key_size >= 0;
          lr.key = r.key;
          lr.has_value = r.value_size >= 0;
          lr.value = r.value;
          lr.headers_count = r.headers_count;
          lr.headers = r.headers;
          return true;
        }));
  }
  return absl::OkStatus();
}

void LogLocalTopics::DecodeHeaders(const LocalRecord& r, std::vector<HeaderView>* out) {
  out->clear();
  log::RecordView v;
  v.headers_count = r.headers_count;
  v.headers = r.headers;
  log::ForEachHeader(v, [&](std::string_view key, std::string_view value, bool is_null) {
    out->push_back({key, value, is_null});
  });
}

std::string LogLocalTopics::EncodeBatch(const std::vector<OutgoingRecord>& records) {
  return EncodeTransactionalBatch(records, TxnProducer(), -1);
}

std::string LogLocalTopics::EncodeTransactionalBatch(const std::vector<OutgoingRecord>& records,
                                                     const TxnProducer& producer,
                                                     int32_t base_sequence) {
  log::RecordBatchBuilder b;
  if (producer.producer_id >= 0) {
    b.SetProducer(producer.producer_id, producer.epoch, base_sequence, true);
  }
  std::vector<log::RecordHeader> headers;
  for (const OutgoingRecord& r : records) {
    headers.clear();
    for (const auto& [k, v] : r.headers) headers.push_back({k, v, false});
    b.Add(r.key, !r.has_key, r.value, false, r.timestamp_ms, headers);
  }
  return b.Build();
}

namespace {

// The status of a transaction coordinator error (local_topics.h: FailedPrecondition for a fenced
// producer or a wrong state, Unavailable otherwise).
absl::Status TxnError(kafka::ErrorCode e, const std::string& what, const std::string& id) {
  std::string msg =
      fmt::format("{} of transactional id '{}': {}", what, id, kafka::ErrorName(kafka::Wire(e)));
  switch (e) {
    case kafka::ErrorCode::kProducerFenced:
    case kafka::ErrorCode::kInvalidProducerEpoch:
    case kafka::ErrorCode::kInvalidProducerIdMapping:
    case kafka::ErrorCode::kInvalidTxnState:
      return absl::FailedPreconditionError(msg);
    default:
      return absl::UnavailableError(msg);
  }
}

}  // namespace

absl::StatusOr<TxnProducer> LogLocalTopics::InitTransactions(const std::string& transactional_id,
                                                             int32_t timeout_ms) {
  if (!txns_) return absl::FailedPreconditionError("the server has no transaction coordinator");
  auto r = txns_->InitProducerId(transactional_id, timeout_ms, -1, -1, log::WallClockMs());
  if (r.error != kafka::ErrorCode::kNone)
    return TxnError(r.error, "InitProducerId", transactional_id);
  return TxnProducer{r.producer_id, r.producer_epoch};
}

absl::StatusOr<int64_t> LogLocalTopics::AppendTransactional(const std::string& transactional_id,
                                                            const TxnProducer& producer,
                                                            const std::string& topic,
                                                            int32_t partition,
                                                            std::string_view batches) {
  if (!txns_) return absl::FailedPreconditionError("the server has no transaction coordinator");
  EDDY_ASSIGN_OR_RETURN(auto part, log_->GetPartition(topic, PartitionId(partition)));
  kafka::ErrorCode e = txns_->AddPartitions(transactional_id, producer.producer_id, producer.epoch,
                                            {{topic, partition}}, log::WallClockMs());
  if (e != kafka::ErrorCode::kNone) return TxnError(e, "AddPartitionsToTxn", transactional_id);
  absl::StatusOr<log::AppendResult> r;
  {
    // As a transactional Produce: no marker between the check and the append.
    auto lock = txns_->LockForAppend(transactional_id, producer.producer_id, producer.epoch,
                                     {topic, partition}, &e);
    if (e != kafka::ErrorCode::kNone) return TxnError(e, "Produce", transactional_id);
    log::AppendOptions ao;
    ao.partition_leader_epoch = 0;
    r = part->Append(batches, ao);
  }
  if (!r.ok()) return r.status();
  if (broker_) broker_->NotifyAppended();
  return r->base_offset.value();
}

absl::Status LogLocalTopics::EndTransaction(const std::string& transactional_id,
                                            const TxnProducer& producer, bool commit) {
  if (!txns_) return absl::FailedPreconditionError("the server has no transaction coordinator");
  kafka::ErrorCode e = txns_->EndTxn(transactional_id, producer.producer_id, producer.epoch, commit,
                                     log::WallClockMs());
  if (e != kafka::ErrorCode::kNone) return TxnError(e, "EndTxn", transactional_id);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<connectors::kafka::OpenTransaction>> LogLocalTopics::OpenTransactions(
    const std::string& prefix) {
  if (!txns_) return absl::FailedPreconditionError("the server has no transaction coordinator");
  kafka::ListTransactionsRequest l;
  l.state_filters = {"Ongoing", "PrepareCommit", "PrepareAbort"};
  kafka::DescribeTransactionsRequest d;
  for (const auto& t : txns_->List(l, log::WallClockMs()).transaction_states) {
    if (t.transactional_id.rfind(prefix, 0) == 0) d.transactional_ids.push_back(t.transactional_id);
  }
  std::vector<connectors::kafka::OpenTransaction> out;
  for (const auto& t : txns_->Describe(d, log::WallClockMs()).transaction_states) {
    if (t.error_code != 0) continue;
    out.push_back({t.transactional_id, {t.producer_id, t.producer_epoch}});
  }
  return out;
}

}  // namespace eddy::server
