#include "server/local_topics.h"

#include <fmt/format.h>

#include "base/status.h"
#include "base/strings.h"
#include "kafka/errors.h"
#include "kafka/messages.h"
#include "log/record_batch.h"

namespace eddy::server {

namespace {

using connectors::kafka::HeaderView;
using connectors::kafka::LocalRecord;
using connectors::kafka::OffsetRange;
using connectors::kafka::OutgoingRecord;
using connectors::kafka::ReadBatches;

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
                               kafka::Broker* broker, std::string listen_host, int listen_port)
    : log_(log),
      groups_(groups),
      broker_(broker),
      listen_host_(std::move(listen_host)),
      listen_port_(listen_port) {}

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
                                                 int64_t offset, int64_t max_bytes) {
  EDDY_ASSIGN_OR_RETURN(auto part, log_->GetPartition(topic, PartitionId(partition)));
  EDDY_ASSIGN_OR_RETURN(log::ReadResult rr, part->Read(Offset(offset), max_bytes));
  ReadBatches out;
  out.records = std::move(rr.records);
  out.high_watermark = rr.high_watermark.value();
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
                                           std::vector<LocalRecord>* out, int64_t* next_offset) {
  std::string unused;
  while (batches.size() >= log::kBatchHeaderSize) {
    EDDY_ASSIGN_OR_RETURN(log::RecordBatchHeader h, log::DecodeBatchHeader(batches));
    if (h.size_bytes() < static_cast<int64_t>(log::kBatchHeaderSize) ||
        h.size_bytes() > static_cast<int64_t>(batches.size())) {
      break;  // a partial batch at the end of a read (not expected from the log)
    }
    std::string_view batch = batches.substr(0, static_cast<size_t>(h.size_bytes()));
    batches.remove_prefix(batch.size());
    *next_offset = std::max(*next_offset, h.last_offset() + 1);
    if (h.is_control() || h.last_offset() < from_offset) continue;
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
  log::RecordBatchBuilder b;
  std::vector<log::RecordHeader> headers;
  for (const OutgoingRecord& r : records) {
    headers.clear();
    for (const auto& [k, v] : r.headers) headers.push_back({k, v, false});
    b.Add(r.key, !r.has_key, r.value, false, r.timestamp_ms, headers);
  }
  return b.Build();
}

}  // namespace eddy::server
