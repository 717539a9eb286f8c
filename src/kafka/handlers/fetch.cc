#include <algorithm>

#include "kafka/broker_metrics.h"
#include "kafka/handlers/handler.h"
#include "log/record_batch.h"

namespace eddy::kafka {

namespace {

// The offset after the last of the whole batches in `records`.
Offset EndOfBatches(std::string_view records) {
  int64_t end = 0;
  while (records.size() >= log::kBatchHeaderSize) {
    auto h = log::DecodeBatchHeader(records);
    if (!h.ok() || h->size_bytes() > static_cast<int64_t>(records.size())) break;
    end = h->last_offset() + 1;
    records.remove_prefix(static_cast<size_t>(h->size_bytes()));
  }
  return Offset(end);
}

// Records of the whole data batches in `records` (control batches are not counted).
int64_t RecordsOf(std::string_view records) {
  int64_t n = 0;
  while (records.size() >= log::kBatchHeaderSize) {
    auto h = log::DecodeBatchHeader(records);
    if (!h.ok() || h->size_bytes() > static_cast<int64_t>(records.size())) break;
    if (!h->is_control()) n += h->records_count;
    records.remove_prefix(static_cast<size_t>(h->size_bytes()));
  }
  return n;
}

}  // namespace

// Kafka protocol: Fetch v4-12. No fetch sessions (session id 0: every request is a full fetch,
// KIP-227 allows a broker to decline sessions). read_committed (isolation level 1, KIP-98): only
// batches below the last stable offset, with the aborted transactions of the range returned so
// the consumer drops their records; read_uncommitted: up to the high watermark, no list (null).
absl::StatusOr<Reply> HandleFetch(HandlerContext& ctx, const RequestFrame& req,
                                  bool final_attempt) {
  EDDY_ASSIGN_OR_RETURN(FetchRequest f, DecodeBody<FetchRequest>(req));
  FetchResponse resp;
  resp.session_id = 0;
  // The response's limit: the request's max_bytes, capped by the broker's fetch.max.bytes.
  int64_t budget =
      std::min<int64_t>(f.max_bytes > 0 ? f.max_bytes : INT32_MAX, ctx.options.fetch_max_bytes);
  int64_t total = 0;
  bool any_error = false;
  for (const auto& ft : f.topics) {
    auto& tr = resp.responses.emplace_back();
    tr.topic = ft.topic;
    for (const auto& fp : ft.partitions) {
      auto& pr = tr.partitions.emplace_back();
      pr.partition_index = fp.partition;
      pr.records = std::string();  // never null (some clients reject a null record set)
      auto part = ctx.log->GetPartition(ft.topic, PartitionId(fp.partition));
      if (!part.ok()) {
        pr.error_code = ErrorOf(part.status());
        pr.high_watermark = -1;
        any_error = true;
        continue;
      }
      // KIP-74: until a partition has returned records, the first batch is returned whole even
      // beyond the partition's and the response's limits; after that, a partition returns only
      // the whole batches that fit both (none once the response's budget is spent: offsets
      // only), so the response never exceeds max_bytes by more than that one first batch.
      int64_t limit =
          std::max<int64_t>(0, std::min<int64_t>(fp.partition_max_bytes, budget - total));
      const bool read_committed = f.isolation_level == 1;
      absl::StatusOr<log::ReadResult> rr = (*part)->Read(
          Offset(fp.fetch_offset), limit, /*whole_first_batch=*/total == 0, read_committed);
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
      if (!read_committed) {
        pr.aborted_transactions = std::nullopt;
      } else if (!rr->records.empty()) {
        // The aborted transactions with batches among those returned.
        Offset end = EndOfBatches(rr->records);
        for (const log::AbortedTxn& a :
             (*part)->AbortedTransactions(Offset(fp.fetch_offset), end)) {
          auto& at = pr.aborted_transactions->emplace_back();
          at.producer_id = a.producer_id;
          at.first_offset = a.first_offset.value();
        }
      }
      total += static_cast<int64_t>(rr->records.size());
      BrokerMetrics::Get().Fetched(ft.topic, RecordsOf(rr->records),
                                   static_cast<int64_t>(rr->records.size()));
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

}  // namespace eddy::kafka
