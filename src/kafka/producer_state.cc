#include "kafka/producer_state.h"

#include <algorithm>
#include <string_view>

#include "log/record_batch.h"

namespace eddy::kafka {

void ProducerStateTable::Entry::Remember(const ProducedBatch& b) {
  recent.push_back(b);
  if (recent.size() > kRecentBatches) recent.erase(recent.begin());
}

ProducerStateTable::ProducerStateTable() : next_producer_id_(log::WallClockMs() * 1000) {}

ProducerStateTable::Entry& ProducerStateTable::Find(const std::string& topic, int32_t partition,
                                                    const log::Partition& log,
                                                    int64_t producer_id) {
  auto& by_producer = entries_[{topic, partition}];
  auto known = by_producer.find(producer_id);
  if (known == by_producer.end()) {
    // First batch of this producer here since the broker started: rebuild its state from the
    // tail of the log, so a retry of a batch written before a restart is still caught.
    known = by_producer.emplace(producer_id, Recover(log, producer_id)).first;
  }
  return known->second;
}

ProducerStateTable::Entry ProducerStateTable::Recover(const log::Partition& partition,
                                                      int64_t pid) {
  Entry e;
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
      // Transaction markers carry the producer id but no sequence numbers.
      if (h->producer_id == pid && !h->is_control()) {
        if (h->producer_epoch != e.epoch) e.recent.clear();
        e.epoch = h->producer_epoch;
        e.Remember(
            {h->base_sequence, h->base_sequence + h->last_offset_delta, h->base_offset,
             h->timestamp_type() == log::TimestampType::kLogAppendTime ? h->max_timestamp : -1});
      }
      next = h->last_offset() + 1;
      rest.remove_prefix(static_cast<size_t>(h->size_bytes()));
    }
    if (next <= at) break;
    at = next;
  }
  return e;
}

}  // namespace eddy::kafka
