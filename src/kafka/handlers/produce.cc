#include <spdlog/spdlog.h>

#include <memory>
#include <mutex>

#include "base/log.h"
#include "base/strings.h"
#include "kafka/broker_metrics.h"
#include "kafka/handlers/handler.h"
#include "log/record_batch.h"

namespace eddy::kafka {

// Kafka protocol: Produce v3-9 (record batches v2 only). Transactional batches (KIP-98) are
// checked against the transaction coordinator; control batches from clients are refused.
absl::StatusOr<Reply> HandleProduce(HandlerContext& ctx, const RequestFrame& req, bool) {
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
  // Produce v0-2 carry message sets v0/v1, which the log does not store (served_apis.cc).
  int16_t format_error = req.api_version < 3 ? Wire(ErrorCode::kUnsupportedForMessageFormat) : 0;
  if (acks_error == 0 && format_error) acks_error = format_error;
  for (const auto& td : p.topic_data) {
    auto& tr = resp.responses.emplace_back();
    tr.name = td.name;
    absl::StatusOr<log::TopicInfo> topic = absl::NotFoundError("");
    if (acks_error == 0) topic = ctx.TopicOrAutoCreate(td.name, true);
    for (const auto& pd : td.partition_data) {
      auto& pr = tr.partition_responses.emplace_back();
      pr.index = pd.index;
      pr.base_offset = -1;
      if (acks_error) {
        pr.error_code = acks_error;
        continue;
      }
      if (!topic.ok()) {
        pr.error_code = ErrorOf(topic.status());
        continue;
      }
      auto part = ctx.log->GetPartition(td.name, PartitionId(pd.index));
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
      ProducerStateTable::Entry* entry = nullptr;
      log::RecordBatchHeader bh;
      if (pd.records->size() >= log::kBatchHeaderSize) {
        auto h = log::DecodeBatchHeader(*pd.records);
        if (h.ok()) bh = *h;
      }
      if (bh.is_control()) {
        pr.error_code = Wire(ErrorCode::kInvalidRecord);
        pr.error_message = "control batches are written by the transaction coordinator only";
        continue;
      }
      // A transactional batch: its producer must have an open transaction that holds this
      // partition; the lock keeps the transaction from ending until the batch is appended.
      std::unique_lock<std::mutex> txn_lock;
      if (bh.is_transactional()) {
        ErrorCode e = ErrorCode::kInvalidTxnState;
        if (ctx.txns && p.transactional_id.has_value()) {
          txn_lock = ctx.txns->LockForAppend(*p.transactional_id, bh.producer_id, bh.producer_epoch,
                                             {td.name, pd.index}, &e);
        }
        if (e != ErrorCode::kNone) {
          pr.error_code = Wire(e);
          pr.error_message = fmt::format("transactional batch of producer {} epoch {} refused: {}",
                                         bh.producer_id, bh.producer_epoch,
                                         e == ErrorCode::kInvalidTxnState
                                             ? "the partition is not in an open transaction "
                                               "of its transactional id"
                                             : ErrorName(Wire(e)));
          continue;
        }
      }
      if (bh.producer_id >= 0) {
        idem = std::unique_lock<std::mutex>(ctx.producers.mu());
        entry = &ctx.producers.Find(td.name, pd.index, **part, bh.producer_id);
        int32_t last_seq = bh.base_sequence + bh.last_offset_delta;
        const ProducerStateTable::ProducedBatch* dup = nullptr;
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
        entry->Remember({bh.base_sequence, bh.base_sequence + bh.last_offset_delta,
                         res->base_offset.value(), res->log_append_time_ms});
      }
      if (idem.owns_lock()) idem.unlock();
      if (!res.ok()) {
        pr.error_code = ErrorOf(res.status());
        pr.error_message = std::string(res.status().message());
        LogLimited(spdlog::level::warn, "kafka.produce-rejected/" + req.client_host,
                   fmt::format("kafka: produce to {}-{} from client {} at {} rejected: {}", td.name,
                               pd.index, QuoteForLog(req.client_id.value_or("")), req.client_host,
                               res.status().ToString()));
        continue;
      }
      appended = true;
      BrokerMetrics::Get().Produced(td.name, res->record_count, res->size_bytes);
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
  if (appended) ctx.NotifyAppended();
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

}  // namespace eddy::kafka
