#include "kafka/broker.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "base/log.h"
#include "base/status.h"
#include "base/strings.h"
#include "kafka/errors.h"
#include "kafka/messages.h"
#include "log/log_error.h"
#include "log/record_batch.h"
#include "log/topic_config.h"

namespace eddy::kafka {

namespace {

// The versions advertised per API. Fetch starts at 4: older versions carry message sets v0/v1,
// and the log stores record batches v2 only. Produce is advertised from v0 although v0-2 are
// answered with UNSUPPORTED_FOR_MESSAGE_FORMAT: librdkafka up to 2.11 compresses with gzip, snappy
// or lz4 only when the broker lists Produce v0 (it asks whether Produce is supported within
// [0, 0]) and otherwise silently sends uncompressed batches; it still produces with v3+.
// ListOffsets starts at 1 (v0 has different semantics, and every supported client sends v1+).
const std::vector<ApiRange> kApis = {
    {ProduceRequest::kApiKey, 0, 9},         {FetchRequest::kApiKey, 4, 12},
    {ListOffsetsRequest::kApiKey, 1, 6},     {MetadataRequest::kApiKey, 0, 12},
    {OffsetCommitRequest::kApiKey, 0, 8},    {OffsetFetchRequest::kApiKey, 1, 8},
    {FindCoordinatorRequest::kApiKey, 0, 4}, {JoinGroupRequest::kApiKey, 0, 7},
    {HeartbeatRequest::kApiKey, 0, 4},       {LeaveGroupRequest::kApiKey, 0, 5},
    {SyncGroupRequest::kApiKey, 0, 5},       {DescribeGroupsRequest::kApiKey, 0, 5},
    {ListGroupsRequest::kApiKey, 0, 4},      {ApiVersionsRequest::kApiKey, 0, 3},
    {CreateTopicsRequest::kApiKey, 0, 7},    {DeleteTopicsRequest::kApiKey, 0, 6},
    {DeleteGroupsRequest::kApiKey, 0, 2},    {InitProducerIdRequest::kApiKey, 0, 4},
    {DescribeConfigsRequest::kApiKey, 0, 4}, {CreatePartitionsRequest::kApiKey, 0, 3},
    {DescribeClusterRequest::kApiKey, 0, 1},
};

bool IsGroupApi(int16_t key) {
  switch (key) {
    case OffsetCommitRequest::kApiKey:
    case OffsetFetchRequest::kApiKey:
    case JoinGroupRequest::kApiKey:
    case HeartbeatRequest::kApiKey:
    case LeaveGroupRequest::kApiKey:
    case SyncGroupRequest::kApiKey:
    case DescribeGroupsRequest::kApiKey:
    case ListGroupsRequest::kApiKey:
    case DeleteGroupsRequest::kApiKey:
      return true;
  }
  return false;
}

const ApiRange* FindApi(int16_t key) {
  for (const auto& a : kApis) {
    if (a.key == key) return &a;
  }
  return nullptr;
}

int16_t ErrorOf(const absl::Status& st) { return static_cast<int16_t>(log::KafkaErrorOf(st)); }

// Encodes a response frame: header then body.
template <typename Body>
std::string EncodeResponse(const RequestFrame& req, const Body& body) {
  std::string out;
  ByteWriter w(&out);
  ResponseHeader h;
  h.correlation_id = req.correlation_id;
  h.Encode(w, ResponseHeaderVersion(req.api_key, req.api_version));
  body.Encode(w, req.api_version);
  return out;
}

template <typename Msg>
absl::StatusOr<Msg> DecodeBody(const RequestFrame& req) {
  Msg m;
  ByteReader r(req.body);
  absl::Status st = m.Decode(r, req.api_version);
  if (!st.ok()) {
    return absl::InvalidArgumentError(fmt::format("malformed {} v{} request: {}",
                                                  ApiName(req.api_key), req.api_version,
                                                  std::string(st.message())));
  }
  return m;
}

Uuid ToUuid(const std::array<uint8_t, 16>& id) {
  Uuid u;
  u.bytes = id;
  return u;
}

}  // namespace

const std::vector<ApiRange>& SupportedApis() { return kApis; }

absl::StatusOr<RequestFrame> ParseRequestFrame(std::string_view frame) {
  if (frame.size() < 8) {
    return absl::InvalidArgumentError(
        fmt::format("request frame of {} bytes is shorter than a request header", frame.size()));
  }
  RequestFrame f;
  ByteReader peek(frame);
  EDDY_RETURN_IF_ERROR(peek.ReadInt16(&f.api_key));
  EDDY_RETURN_IF_ERROR(peek.ReadInt16(&f.api_version));
  RequestHeader h;
  ByteReader r(frame);
  absl::Status st = h.Decode(r, RequestHeaderVersion(f.api_key, f.api_version));
  if (!st.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("malformed request header: {}", std::string(st.message())));
  }
  f.correlation_id = h.correlation_id;
  f.client_id = h.client_id;
  f.body = frame.substr(frame.size() - r.remaining());
  return f;
}

void PendingReply::Complete(std::string frame) {
  std::function<void()> w;
  {
    std::lock_guard<std::mutex> l(mu_);
    frame_ = std::move(frame);
    done_ = true;
    w = std::move(waiter_);
  }
  if (w) w();
}

void PendingReply::OnComplete(std::function<void()> waiter) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!done_) {
      waiter_ = std::move(waiter);
      return;
    }
  }
  waiter();
}

bool PendingReply::done() {
  std::lock_guard<std::mutex> l(mu_);
  return done_;
}

std::string PendingReply::TakeFrame() {
  std::lock_guard<std::mutex> l(mu_);
  return std::move(frame_);
}

Broker::Broker(log::LogManager* log, GroupCoordinator* groups, BrokerOptions options)
    : next_producer_id_(log::WallClockMs() * 1000),
      log_(log),
      groups_(groups),
      options_(std::move(options)) {}

absl::StatusOr<Reply> Broker::Handle(const RequestFrame& request, bool final_attempt) {
  const ApiRange* api = FindApi(request.api_key);
  if (api && !groups_ &&
      (IsGroupApi(request.api_key) || request.api_key == FindCoordinatorRequest::kApiKey)) {
    api = nullptr;
  }
  if (request.api_key == ApiVersionsRequest::kApiKey) {
    Reply r;
    r.frame = ApiVersions(request);
    return r;
  }
  if (!api) {
    const char* name = ApiName(request.api_key);
    return absl::UnimplementedError(fmt::format("unsupported API key {}{}", request.api_key,
                                                name ? fmt::format(" ({})", name) : ""));
  }
  if (request.api_version < api->min_version || request.api_version > api->max_version) {
    return absl::UnimplementedError(fmt::format("unsupported version {} of {} (supported: {}-{})",
                                                request.api_version, ApiName(request.api_key),
                                                api->min_version, api->max_version));
  }
  return Dispatch(request, final_attempt);
}

absl::StatusOr<Reply> Broker::Dispatch(const RequestFrame& req, bool final_attempt) {
  Reply r;
  switch (req.api_key) {
    case MetadataRequest::kApiKey: {
      EDDY_ASSIGN_OR_RETURN(r.frame, Metadata(req));
      return r;
    }
    case ProduceRequest::kApiKey:
      return Produce(req);
    case FetchRequest::kApiKey:
      return Fetch(req, final_attempt);
    case ListOffsetsRequest::kApiKey: {
      EDDY_ASSIGN_OR_RETURN(r.frame, ListOffsets(req));
      return r;
    }
    case CreateTopicsRequest::kApiKey: {
      EDDY_ASSIGN_OR_RETURN(r.frame, CreateTopics(req));
      return r;
    }
    case DeleteTopicsRequest::kApiKey: {
      EDDY_ASSIGN_OR_RETURN(r.frame, DeleteTopics(req));
      return r;
    }
    case FindCoordinatorRequest::kApiKey: {
      EDDY_ASSIGN_OR_RETURN(r.frame, FindCoordinator(req));
      return r;
    }
    case InitProducerIdRequest::kApiKey: {
      EDDY_ASSIGN_OR_RETURN(r.frame, InitProducerId(req));
      return r;
    }
    case CreatePartitionsRequest::kApiKey: {
      EDDY_ASSIGN_OR_RETURN(r.frame, CreatePartitions(req));
      return r;
    }
    case DescribeConfigsRequest::kApiKey: {
      EDDY_ASSIGN_OR_RETURN(r.frame, DescribeConfigs(req));
      return r;
    }
    case DescribeClusterRequest::kApiKey: {
      EDDY_ASSIGN_OR_RETURN(r.frame, DescribeCluster(req));
      return r;
    }
  }
  if (IsGroupApi(req.api_key)) return GroupApi(req);
  return absl::InternalError(fmt::format("no handler for API key {}", req.api_key));
}

// Kafka protocol: ApiVersions. An unsupported version is answered with a v0 body carrying
// UNSUPPORTED_VERSION and the full list, so the client can retry with a version it shares; the
// response header is v0 whatever the version.
std::string Broker::ApiVersions(const RequestFrame& req) {
  ApiVersionsResponse resp;
  for (const auto& a : kApis) {
    if (!groups_ && (IsGroupApi(a.key) || a.key == FindCoordinatorRequest::kApiKey)) continue;
    auto& k = resp.api_keys.emplace_back();
    k.api_key = a.key;
    k.min_version = a.min_version;
    k.max_version = a.max_version;
  }
  const ApiRange* self = FindApi(ApiVersionsRequest::kApiKey);
  if (req.api_version < self->min_version || req.api_version > self->max_version) {
    resp.error_code = Wire(ErrorCode::kUnsupportedVersion);
    RequestFrame v0 = req;
    v0.api_version = 0;
    return EncodeResponse(v0, resp);
  }
  // The request body (client software name/version) is informational; a malformed one is
  // answered with INVALID_REQUEST as Kafka does.
  ApiVersionsRequest body;
  ByteReader r(req.body);
  if (!body.Decode(r, req.api_version).ok()) resp.error_code = Wire(ErrorCode::kInvalidRequest);
  return EncodeResponse(req, resp);
}

absl::StatusOr<log::TopicInfo> Broker::TopicOrAutoCreate(const std::string& name,
                                                         bool allow_create) {
  auto info = log_->DescribeTopic(name);
  if (info.ok() || !absl::IsNotFound(info.status())) return info;
  if (!allow_create || !options_.auto_create_topics) return info;
  auto created = log_->CreateTopic(name, options_.default_partitions);
  if (created.ok()) {
    spdlog::info("kafka: created topic '{}' with {} partition(s) (auto.create.topics.enable)", name,
                 options_.default_partitions);
    return created;
  }
  if (absl::IsAlreadyExists(created.status())) return log_->DescribeTopic(name);  // a race
  return created;
}

// Kafka protocol: Metadata v0-12.
absl::StatusOr<std::string> Broker::Metadata(const RequestFrame& req) {
  EDDY_ASSIGN_OR_RETURN(MetadataRequest m, DecodeBody<MetadataRequest>(req));
  MetadataResponse resp;
  auto& b = resp.brokers.emplace_back();
  b.node_id = options_.node_id;
  b.host = options_.advertised_host;
  b.port = options_.advertised_port;
  resp.cluster_id = options_.cluster_id;
  resp.controller_id = options_.node_id;
  // Which topics: v0 sends an empty array for "all"; v1+ sends null for "all".
  bool all = !m.topics.has_value() || (req.api_version == 0 && m.topics->empty());
  std::vector<std::string> names;
  std::vector<std::optional<log::TopicInfo>> infos;
  std::vector<int16_t> errors;
  if (all) {
    for (auto& t : log_->ListTopics()) {
      names.push_back(t.name);
      infos.push_back(std::move(t));
      errors.push_back(0);
    }
  } else {
    // Auto-creation: v4+ asks per request; older versions follow the broker setting.
    bool allow = req.api_version < 4 || m.allow_auto_topic_creation;
    std::vector<log::TopicInfo> all_topics;
    for (const auto& t : *m.topics) {
      std::string name;
      if (t.name.has_value()) {
        name = *t.name;
      } else {
        // v10+: by topic id.
        if (all_topics.empty()) all_topics = log_->ListTopics();
        for (const auto& info : all_topics) {
          if (info.topic_id == t.topic_id.bytes) name = info.name;
        }
        if (name.empty()) {
          names.push_back("");
          infos.push_back(std::nullopt);
          errors.push_back(Wire(ErrorCode::kUnknownTopicId));
          continue;
        }
      }
      absl::Status valid = log::LogManager::ValidateTopicName(name);
      if (!valid.ok()) {
        names.push_back(name);
        infos.push_back(std::nullopt);
        errors.push_back(Wire(ErrorCode::kInvalidTopicException));
        continue;
      }
      auto info = TopicOrAutoCreate(name, allow);
      names.push_back(name);
      if (info.ok()) {
        infos.push_back(std::move(*info));
        errors.push_back(0);
      } else {
        infos.push_back(std::nullopt);
        errors.push_back(ErrorOf(info.status()));
      }
    }
  }
  for (size_t i = 0; i < names.size(); ++i) {
    auto& t = resp.topics.emplace_back();
    t.error_code = errors[i];
    t.name = names[i];
    if (!infos[i]) continue;
    t.topic_id = ToUuid(infos[i]->topic_id);
    for (int32_t p = 0; p < infos[i]->partition_count; ++p) {
      auto& part = t.partitions.emplace_back();
      part.partition_index = p;
      part.leader_id = options_.node_id;
      part.leader_epoch = 0;
      part.replica_nodes = {options_.node_id};
      part.isr_nodes = {options_.node_id};
    }
  }
  return EncodeResponse(req, resp);
}

// Kafka protocol: Produce v3-9 (record batches v2 only).
absl::StatusOr<Reply> Broker::Produce(const RequestFrame& req) {
  EDDY_ASSIGN_OR_RETURN(ProduceRequest p, DecodeBody<ProduceRequest>(req));
  ProduceResponse resp;
  bool appended = false;
  struct Durable {
    std::shared_ptr<log::Partition> partition;
    Offset last_offset;
    size_t topic_index, partition_index;
  };
  std::vector<Durable> durable;
  int16_t acks_error = 0;
  if (p.acks != 0 && p.acks != 1 && p.acks != -1)
    acks_error = Wire(ErrorCode::kInvalidRequiredAcks);
  int16_t txn_error =
      p.transactional_id.has_value() ? Wire(ErrorCode::kTransactionalIdAuthorizationFailed) : 0;
  // Produce v0-2 carry message sets v0/v1, which the log does not store (see kApis).
  int16_t format_error = req.api_version < 3 ? Wire(ErrorCode::kUnsupportedForMessageFormat) : 0;
  if (acks_error == 0 && format_error) acks_error = format_error;
  for (const auto& td : p.topic_data) {
    auto& tr = resp.responses.emplace_back();
    tr.name = td.name;
    absl::StatusOr<log::TopicInfo> topic = absl::NotFoundError("");
    if (acks_error == 0 && txn_error == 0) topic = TopicOrAutoCreate(td.name, true);
    for (const auto& pd : td.partition_data) {
      auto& pr = tr.partition_responses.emplace_back();
      pr.index = pd.index;
      pr.base_offset = -1;
      if (acks_error || txn_error) {
        pr.error_code = acks_error ? acks_error : txn_error;
        continue;
      }
      if (!topic.ok()) {
        pr.error_code = ErrorOf(topic.status());
        continue;
      }
      auto part = log_->GetPartition(td.name, PartitionId(pd.index));
      if (!part.ok()) {
        pr.error_code = ErrorOf(part.status());
        continue;
      }
      if (!pd.records.has_value() || pd.records->empty()) {
        pr.error_code = Wire(ErrorCode::kInvalidRecord);
        pr.error_message = "the partition's record set is empty";
        continue;
      }
      log::AppendOptions ao;
      ao.partition_leader_epoch = 0;
      // Idempotent producer: check the batch's sequence numbers against what this producer
      // wrote last (under one lock from the check to the bookkeeping, so retries cannot race).
      std::unique_lock<std::mutex> idem;
      ProducerEntry* entry = nullptr;
      log::RecordBatchHeader bh;
      if (pd.records->size() >= log::kBatchHeaderSize) {
        auto h = log::DecodeBatchHeader(*pd.records);
        if (h.ok()) bh = *h;
      }
      if (bh.producer_id >= 0) {
        idem = std::unique_lock<std::mutex>(producers_mu_);
        auto& by_producer = producers_[{td.name, pd.index}];
        auto known = by_producer.find(bh.producer_id);
        if (known == by_producer.end()) {
          // First batch of this producer here since the broker started: rebuild its state from
          // the tail of the log, so a retry of a batch written before a restart is still caught.
          known =
              by_producer.emplace(bh.producer_id, RecoverProducer(**part, bh.producer_id)).first;
        }
        entry = &known->second;
        int32_t last_seq = bh.base_sequence + bh.last_offset_delta;
        const ProducedBatch* dup = nullptr;
        for (const auto& b : entry->recent) {
          if (b.first_seq == bh.base_sequence && b.last_seq == last_seq) dup = &b;
        }
        if (entry->epoch >= 0 && bh.producer_epoch < entry->epoch) {
          pr.error_code = Wire(ErrorCode::kInvalidProducerEpoch);
          continue;
        }
        if (bh.producer_epoch == entry->epoch && dup) {
          // A retry of a batch already written: the first answer again, nothing written.
          spdlog::debug("kafka: producer {} retried sequence {} on {}-{}, already at offset {}",
                        bh.producer_id, bh.base_sequence, td.name, pd.index, dup->base_offset);
          pr.base_offset = dup->base_offset;
          pr.log_append_time_ms = dup->log_append_time_ms;
          pr.log_start_offset = (*part)->LogStartOffset().value();
          continue;
        }
        bool new_epoch = bh.producer_epoch != entry->epoch;
        int32_t expected = entry->recent.empty() ? 0 : entry->recent.back().last_seq + 1;
        if (entry->epoch >= 0 &&
            (new_epoch ? bh.base_sequence != 0 : bh.base_sequence != expected)) {
          pr.error_code = Wire(ErrorCode::kOutOfOrderSequenceNumber);
          pr.error_message =
              fmt::format("sequence {} of producer {} where {} was expected", bh.base_sequence,
                          bh.producer_id, new_epoch ? 0 : expected);
          continue;
        }
        if (new_epoch) entry->recent.clear();
        entry->epoch = bh.producer_epoch;
      }
      auto res = (*part)->Append(*pd.records, ao);
      if (entry && res.ok()) {
        entry->recent.push_back({bh.base_sequence, bh.base_sequence + bh.last_offset_delta,
                                 res->base_offset.value(), res->log_append_time_ms});
        if (entry->recent.size() > 5) entry->recent.erase(entry->recent.begin());
      }
      if (idem.owns_lock()) idem.unlock();
      if (!res.ok()) {
        pr.error_code = ErrorOf(res.status());
        pr.error_message = std::string(res.status().message());
        spdlog::warn("kafka: produce to {}-{} from client {} rejected: {}", td.name, pd.index,
                     QuoteForLog(req.client_id.value_or("")), res.status().ToString());
        continue;
      }
      appended = true;
      if (p.acks == -1) {
        // acks=all: answered only once the data is on disk (see Reply::finish).
        durable.push_back({*part, res->last_offset, resp.responses.size() - 1,
                           tr.partition_responses.size() - 1});
      }
      pr.base_offset = res->base_offset.value();
      pr.log_append_time_ms = res->log_append_time_ms;
      pr.log_start_offset = res->log_start_offset.value();
    }
  }
  if (appended && on_append_) on_append_();
  Reply r;
  if (p.acks == 0) {
    r.respond = false;
    return r;
  }
  if (durable.empty()) {
    r.frame = EncodeResponse(req, resp);
    return r;
  }
  // Group commit: SyncUpTo shares one fsync among every producer waiting at the same time. One
  // step per partition, so the partitions of one request are fsynced in parallel; each step
  // writes only its own partition's entry of the shared response.
  struct PendingDurable {
    RequestFrame head;
    ProduceResponse resp;
  };
  auto pending = std::make_shared<PendingDurable>();
  pending->head = req;
  pending->head.body = {};
  pending->resp = std::move(resp);
  r.sync_steps.reserve(durable.size());
  for (const Durable& d : durable) {
    r.sync_steps.push_back([pending, d] {
      absl::Status st = d.partition->SyncUpTo(d.last_offset);
      if (!st.ok()) {
        auto& pr = pending->resp.responses[d.topic_index].partition_responses[d.partition_index];
        pr.error_code = ErrorOf(st);
        pr.error_message = std::string(st.message());
        pr.base_offset = -1;
      }
    });
  }
  r.finish = [pending] { return EncodeResponse(pending->head, pending->resp); };
  return r;
}

// The state of producer `pid` as the last batches it wrote to `partition` show it: Kafka keeps
// producer state snapshots; eddy reads the tail of the log (the last kRecoverRecords records).
Broker::ProducerEntry Broker::RecoverProducer(const log::Partition& partition, int64_t pid) {
  static constexpr int64_t kRecoverRecords = 100000;
  ProducerEntry e;
  int64_t end = partition.HighWatermark().value();
  int64_t at = std::max(partition.LogStartOffset().value(), end - kRecoverRecords);
  while (at < end) {
    auto rr = partition.Read(Offset(at), 4 << 20);
    if (!rr.ok() || rr->records.empty()) break;
    std::string_view rest = rr->records;
    int64_t next = at;
    while (rest.size() >= log::kBatchHeaderSize) {
      auto h = log::DecodeBatchHeader(rest);
      if (!h.ok() || h->size_bytes() > static_cast<int64_t>(rest.size())) break;
      if (h->producer_id == pid) {
        if (h->producer_epoch != e.epoch) e.recent.clear();
        e.epoch = h->producer_epoch;
        e.recent.push_back(
            {h->base_sequence, h->base_sequence + h->last_offset_delta, h->base_offset,
             h->timestamp_type() == log::TimestampType::kLogAppendTime ? h->max_timestamp : -1});
        if (e.recent.size() > 5) e.recent.erase(e.recent.begin());
      }
      next = h->last_offset() + 1;
      rest.remove_prefix(static_cast<size_t>(h->size_bytes()));
    }
    if (next <= at) break;
    at = next;
  }
  return e;
}

// Kafka protocol: Fetch v4-12. No fetch sessions (session id 0: every request is a full fetch,
// KIP-227 allows a broker to decline sessions); read_uncommitted and read_committed are the same
// because the log has no open transactions.
absl::StatusOr<Reply> Broker::Fetch(const RequestFrame& req, bool final_attempt) {
  EDDY_ASSIGN_OR_RETURN(FetchRequest f, DecodeBody<FetchRequest>(req));
  FetchResponse resp;
  resp.session_id = 0;
  int64_t budget = f.max_bytes > 0 ? f.max_bytes : INT32_MAX;
  int64_t total = 0;
  bool any_error = false;
  for (const auto& ft : f.topics) {
    auto& tr = resp.responses.emplace_back();
    tr.topic = ft.topic;
    for (const auto& fp : ft.partitions) {
      auto& pr = tr.partitions.emplace_back();
      pr.partition_index = fp.partition;
      pr.records = std::string();  // never null (some clients reject a null record set)
      auto part = log_->GetPartition(ft.topic, PartitionId(fp.partition));
      if (!part.ok()) {
        pr.error_code = ErrorOf(part.status());
        pr.high_watermark = -1;
        any_error = true;
        continue;
      }
      // KIP-74: the first non-empty partition gets at least one whole batch even beyond the
      // limits; after the response budget is spent, partitions report offsets only.
      int64_t limit = std::min<int64_t>(fp.partition_max_bytes, budget - total);
      if (limit <= 0 && total > 0) limit = 0;
      absl::StatusOr<log::ReadResult> rr;
      if (limit > 0 || total == 0) {
        rr = (*part)->Read(Offset(fp.fetch_offset), std::max<int64_t>(limit, 1));
      }
      if (rr.ok() && limit <= 0 && total > 0) {
        rr->records.clear();
      }
      if (!rr.ok()) {
        pr.error_code = ErrorOf(rr.status());
        any_error = true;
        pr.high_watermark = (*part)->HighWatermark().value();
        pr.last_stable_offset = pr.high_watermark;
        pr.log_start_offset = (*part)->LogStartOffset().value();
        continue;
      }
      pr.high_watermark = rr->high_watermark.value();
      pr.last_stable_offset = rr->last_stable_offset.value();
      pr.log_start_offset = rr->log_start_offset.value();
      total += static_cast<int64_t>(rr->records.size());
      pr.records = std::move(rr->records);
    }
  }
  Reply r;
  r.frame = EncodeResponse(req, resp);
  if (!final_attempt && !any_error && total < std::max<int32_t>(f.min_bytes, 1) &&
      f.max_wait_ms > 0) {
    r.wants_more_data = true;
    r.max_wait_ms = f.max_wait_ms;
  }
  return r;
}

// Kafka protocol: ListOffsets v1-6. -1 = latest (log end), -2 = earliest (log start), otherwise
// the first offset whose record timestamp is >= the target; offset -1 when there is none.
absl::StatusOr<std::string> Broker::ListOffsets(const RequestFrame& req) {
  EDDY_ASSIGN_OR_RETURN(ListOffsetsRequest l, DecodeBody<ListOffsetsRequest>(req));
  ListOffsetsResponse resp;
  for (const auto& lt : l.topics) {
    auto& tr = resp.topics.emplace_back();
    tr.name = lt.name;
    for (const auto& lp : lt.partitions) {
      auto& pr = tr.partitions.emplace_back();
      pr.partition_index = lp.partition_index;
      pr.timestamp = -1;
      pr.offset = -1;
      auto part = log_->GetPartition(lt.name, PartitionId(lp.partition_index));
      if (!part.ok()) {
        pr.error_code = ErrorOf(part.status());
        continue;
      }
      if (lp.timestamp < 0 && lp.timestamp != log::kLatestTimestamp &&
          lp.timestamp != log::kEarliestTimestamp) {
        // -3 (max timestamp, KIP-734) and others arrive only from versions not advertised.
        pr.error_code = Wire(ErrorCode::kUnsupportedVersion);
        continue;
      }
      auto res = (*part)->OffsetForTimestamp(lp.timestamp);
      if (!res.ok()) {
        pr.error_code = ErrorOf(res.status());
        continue;
      }
      if (res->has_value()) {
        pr.offset = (*res)->offset.value();
        pr.timestamp = (*res)->timestamp_ms;
      }
      pr.leader_epoch = 0;
    }
  }
  return EncodeResponse(req, resp);
}

// Kafka protocol: CreateTopics v0-7. Unknown configs are ignored (clients send broker-specific
// ones); replication factor must be -1 or 1 on a single broker.
absl::StatusOr<std::string> Broker::CreateTopics(const RequestFrame& req) {
  EDDY_ASSIGN_OR_RETURN(CreateTopicsRequest c, DecodeBody<CreateTopicsRequest>(req));
  CreateTopicsResponse resp;
  std::map<std::string, int> seen;
  for (const auto& t : c.topics) seen[t.name]++;
  for (const auto& t : c.topics) {
    auto& tr = resp.topics.emplace_back();
    tr.name = t.name;
    auto fail = [&](ErrorCode code, std::string message) {
      tr.error_code = Wire(code);
      tr.error_message = std::move(message);
    };
    if (seen[t.name] > 1) {
      fail(ErrorCode::kInvalidRequest, "the topic is listed more than once in the request");
      continue;
    }
    if (t.replication_factor != -1 && t.replication_factor != 1) {
      fail(ErrorCode::kInvalidReplicationFactor,
           fmt::format("replication factor {} is larger than the 1 available broker",
                       t.replication_factor));
      continue;
    }
    int32_t partitions = t.num_partitions;
    if (!t.assignments.empty()) partitions = static_cast<int32_t>(t.assignments.size());
    if (partitions == -1) partitions = options_.default_partitions;
    std::map<std::string, std::string> configs;
    for (const auto& kv : t.configs) {
      if (kv.value.has_value()) configs[kv.name] = *kv.value;
    }
    if (c.validate_only) {
      absl::Status st = log::LogManager::ValidateTopicName(t.name);
      if (st.ok() && log_->DescribeTopic(t.name).ok())
        st = absl::AlreadyExistsError(fmt::format("topic '{}' already exists", t.name));
      if (st.ok() && partitions < 1)
        st = absl::InvalidArgumentError("the number of partitions must be at least 1");
      if (!st.ok()) {
        tr.error_code = ErrorOf(st);
        tr.error_message = std::string(st.message());
      }
      tr.num_partitions = partitions;
      tr.replication_factor = 1;
      continue;
    }
    std::vector<std::string> ignored;
    auto info = log_->CreateTopic(t.name, partitions, configs, &ignored);
    if (!info.ok()) {
      tr.error_code = ErrorOf(info.status());
      tr.error_message = std::string(info.status().message());
      continue;
    }
    spdlog::info("kafka: created topic '{}' with {} partition(s){}", t.name, partitions,
                 ignored.empty()
                     ? ""
                     : fmt::format(" (ignored unknown configs: {})", fmt::join(ignored, ", ")));
    tr.topic_id = ToUuid(info->topic_id);
    tr.num_partitions = info->partition_count;
    tr.replication_factor = 1;
  }
  return EncodeResponse(req, resp);
}

// Kafka protocol: DeleteTopics v0-6 (v6 names topics by name or id).
absl::StatusOr<std::string> Broker::DeleteTopics(const RequestFrame& req) {
  EDDY_ASSIGN_OR_RETURN(DeleteTopicsRequest d, DecodeBody<DeleteTopicsRequest>(req));
  DeleteTopicsResponse resp;
  struct Target {
    std::optional<std::string> name;
    Uuid id;
  };
  std::vector<Target> targets;
  for (const auto& n : d.topic_names) targets.push_back({n, Uuid()});
  for (const auto& t : d.topics) targets.push_back({t.name, t.topic_id});
  for (auto& t : targets) {
    auto& tr = resp.responses.emplace_back();
    std::string name;
    if (t.name.has_value()) {
      name = *t.name;
    } else {
      for (const auto& info : log_->ListTopics()) {
        if (info.topic_id == t.id.bytes) name = info.name;
      }
      tr.topic_id = t.id;
      if (name.empty()) {
        tr.name = std::nullopt;
        tr.error_code = Wire(ErrorCode::kUnknownTopicId);
        continue;
      }
    }
    tr.name = name;
    auto info = log_->DescribeTopic(name);
    if (info.ok()) tr.topic_id = ToUuid(info->topic_id);
    absl::Status st = log_->DeleteTopic(name);
    if (!st.ok()) {
      tr.error_code = ErrorOf(st);
      tr.error_message = std::string(st.message());
      continue;
    }
    spdlog::info("kafka: deleted topic '{}'", name);
  }
  return EncodeResponse(req, resp);
}

// Kafka protocol: FindCoordinator v0-4. This node coordinates every group (and would every
// transaction).
absl::StatusOr<std::string> Broker::FindCoordinator(const RequestFrame& req) {
  EDDY_ASSIGN_OR_RETURN(FindCoordinatorRequest f, DecodeBody<FindCoordinatorRequest>(req));
  FindCoordinatorResponse resp;
  if (req.api_version < 4) {
    resp.node_id = options_.node_id;
    resp.host = options_.advertised_host;
    resp.port = options_.advertised_port;
    resp.error_message = std::nullopt;
  } else {
    for (const auto& key : f.coordinator_keys) {
      auto& c = resp.coordinators.emplace_back();
      c.key = key;
      c.node_id = options_.node_id;
      c.host = options_.advertised_host;
      c.port = options_.advertised_port;
      c.error_message = std::nullopt;
    }
  }
  return EncodeResponse(req, resp);
}

// Kafka protocol: InitProducerId v0-4 for idempotent producers (no transactions: a transactional
// id is refused). A producer that already has an id gets its epoch bumped (KIP-360). Ids start at
// the broker's start time in ms × 1000, so they do not repeat across restarts.
absl::StatusOr<std::string> Broker::InitProducerId(const RequestFrame& req) {
  EDDY_ASSIGN_OR_RETURN(InitProducerIdRequest i, DecodeBody<InitProducerIdRequest>(req));
  InitProducerIdResponse resp;
  if (i.transactional_id.has_value() && !i.transactional_id->empty()) {
    resp.error_code = Wire(ErrorCode::kTransactionalIdAuthorizationFailed);
    resp.producer_epoch = -1;
    return EncodeResponse(req, resp);
  }
  if (i.producer_id >= 0 && i.producer_epoch >= 0 && i.producer_epoch < INT16_MAX - 1) {
    resp.producer_id = i.producer_id;
    resp.producer_epoch = static_cast<int16_t>(i.producer_epoch + 1);
  } else {
    resp.producer_id = next_producer_id_.fetch_add(1);
    resp.producer_epoch = 0;
  }
  return EncodeResponse(req, resp);
}

// Kafka protocol: CreatePartitions v0-3 (raise a topic's partition count; replica assignments are
// ignored on a single broker).
absl::StatusOr<std::string> Broker::CreatePartitions(const RequestFrame& req) {
  EDDY_ASSIGN_OR_RETURN(CreatePartitionsRequest c, DecodeBody<CreatePartitionsRequest>(req));
  CreatePartitionsResponse resp;
  for (const auto& t : c.topics) {
    auto& tr = resp.results.emplace_back();
    tr.name = t.name;
    absl::Status st;
    if (c.validate_only) {
      auto info = log_->DescribeTopic(t.name);
      st = info.status();
      if (st.ok() && t.count <= info->partition_count) {
        st = absl::InvalidArgumentError(
            fmt::format("topic '{}' has {} partitions; the new count must be larger", t.name,
                        info->partition_count));
      }
      if (!st.ok())
        st = log::LogError(st.code(), log::KafkaError::kInvalidPartitions,
                           std::string(st.message()));
    } else {
      st = log_->AddPartitions(t.name, t.count);
      if (st.ok()) spdlog::info("kafka: topic '{}' now has {} partitions", t.name, t.count);
    }
    if (!st.ok()) {
      tr.error_code = ErrorOf(st);
      tr.error_message = std::string(st.message());
    }
  }
  return EncodeResponse(req, resp);
}

// Kafka protocol: DescribeConfigs v0-4 for topics (every config with its effective value;
// source DYNAMIC_TOPIC_CONFIG when set on the topic, DEFAULT_CONFIG otherwise) and for this
// broker (no broker configs are exposed yet: an empty list).
absl::StatusOr<std::string> Broker::DescribeConfigs(const RequestFrame& req) {
  EDDY_ASSIGN_OR_RETURN(DescribeConfigsRequest d, DecodeBody<DescribeConfigsRequest>(req));
  constexpr int8_t kTopic = 2, kBroker = 4;
  constexpr int8_t kDynamicTopicConfig = 1, kDefaultConfig = 5;
  DescribeConfigsResponse resp;
  for (const auto& res : d.resources) {
    auto& rr = resp.results.emplace_back();
    rr.resource_type = res.resource_type;
    rr.resource_name = res.resource_name;
    rr.error_message = std::nullopt;
    if (res.resource_type == kBroker) continue;
    if (res.resource_type != kTopic) {
      rr.error_code = Wire(ErrorCode::kInvalidRequest);
      rr.error_message = fmt::format("resource type {} is not supported", res.resource_type);
      continue;
    }
    auto info = log_->DescribeTopic(res.resource_name);
    if (!info.ok()) {
      rr.error_code = ErrorOf(info.status());
      rr.error_message = std::string(info.status().message());
      continue;
    }
    for (const std::string& key : log::TopicConfig::KnownKeys()) {
      if (res.configuration_keys.has_value() && !res.configuration_keys->empty() &&
          std::find(res.configuration_keys->begin(), res.configuration_keys->end(), key) ==
              res.configuration_keys->end())
        continue;
      auto& c = rr.configs.emplace_back();
      c.name = key;
      c.value = info->config.Get(key);
      bool overridden = info->overrides.count(key) > 0;
      c.is_default = !overridden;
      c.config_source = overridden ? kDynamicTopicConfig : kDefaultConfig;
      c.documentation = std::nullopt;
    }
  }
  return EncodeResponse(req, resp);
}

// Kafka protocol: DescribeCluster v0-1: this one broker.
absl::StatusOr<std::string> Broker::DescribeCluster(const RequestFrame& req) {
  EDDY_ASSIGN_OR_RETURN(DescribeClusterRequest d, DecodeBody<DescribeClusterRequest>(req));
  DescribeClusterResponse resp;
  resp.endpoint_type = d.endpoint_type;
  resp.cluster_id = options_.cluster_id;
  resp.controller_id = options_.node_id;
  auto& b = resp.brokers.emplace_back();
  b.broker_id = options_.node_id;
  b.host = options_.advertised_host;
  b.port = options_.advertised_port;
  return EncodeResponse(req, resp);
}

// The consumer group APIs, answered by the GroupCoordinator; JoinGroup and SyncGroup may answer
// later (a PendingReply).
absl::StatusOr<Reply> Broker::GroupApi(const RequestFrame& req) {
  int64_t now = log::WallClockMs();
  Reply r;
  switch (req.api_key) {
    case JoinGroupRequest::kApiKey: {
      EDDY_ASSIGN_OR_RETURN(JoinGroupRequest j, DecodeBody<JoinGroupRequest>(req));
      auto pending = std::make_shared<PendingReply>();
      RequestFrame head = req;
      head.body = {};
      groups_->JoinGroup(j, req.api_version, {req.client_id.value_or(""), req.client_host}, now,
                         [pending, head](JoinGroupResponse resp) {
                           pending->Complete(EncodeResponse(head, resp));
                         });
      r.pending = pending;
      return r;
    }
    case SyncGroupRequest::kApiKey: {
      EDDY_ASSIGN_OR_RETURN(SyncGroupRequest s, DecodeBody<SyncGroupRequest>(req));
      auto pending = std::make_shared<PendingReply>();
      RequestFrame head = req;
      head.body = {};
      groups_->SyncGroup(s, req.api_version, now, [pending, head](SyncGroupResponse resp) {
        pending->Complete(EncodeResponse(head, resp));
      });
      r.pending = pending;
      return r;
    }
    case HeartbeatRequest::kApiKey: {
      EDDY_ASSIGN_OR_RETURN(HeartbeatRequest h, DecodeBody<HeartbeatRequest>(req));
      r.frame = EncodeResponse(req, groups_->Heartbeat(h, req.api_version, now));
      return r;
    }
    case LeaveGroupRequest::kApiKey: {
      EDDY_ASSIGN_OR_RETURN(LeaveGroupRequest l, DecodeBody<LeaveGroupRequest>(req));
      r.frame = EncodeResponse(req, groups_->LeaveGroup(l, req.api_version, now));
      return r;
    }
    case OffsetCommitRequest::kApiKey: {
      EDDY_ASSIGN_OR_RETURN(OffsetCommitRequest c, DecodeBody<OffsetCommitRequest>(req));
      r.frame = EncodeResponse(req, groups_->OffsetCommit(c, req.api_version, now));
      return r;
    }
    case OffsetFetchRequest::kApiKey: {
      EDDY_ASSIGN_OR_RETURN(OffsetFetchRequest f, DecodeBody<OffsetFetchRequest>(req));
      r.frame = EncodeResponse(req, groups_->OffsetFetch(f, req.api_version));
      return r;
    }
    case ListGroupsRequest::kApiKey: {
      EDDY_ASSIGN_OR_RETURN(ListGroupsRequest l, DecodeBody<ListGroupsRequest>(req));
      r.frame = EncodeResponse(req, groups_->ListGroups(l, req.api_version));
      return r;
    }
    case DescribeGroupsRequest::kApiKey: {
      EDDY_ASSIGN_OR_RETURN(DescribeGroupsRequest d, DecodeBody<DescribeGroupsRequest>(req));
      r.frame = EncodeResponse(req, groups_->DescribeGroups(d, req.api_version));
      return r;
    }
    case DeleteGroupsRequest::kApiKey: {
      EDDY_ASSIGN_OR_RETURN(DeleteGroupsRequest d, DecodeBody<DeleteGroupsRequest>(req));
      r.frame = EncodeResponse(req, groups_->DeleteGroups(d, req.api_version));
      return r;
    }
  }
  return absl::InternalError(fmt::format("no group handler for API key {}", req.api_key));
}

}  // namespace eddy::kafka
