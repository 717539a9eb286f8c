// Idempotent producer state of `eddy server` (Kafka protocol: KIP-98 idempotence, KIP-360 epoch
// bumps): producer ids, and per partition and producer the epoch and the last five batches
// written, so a retried batch is answered with its first offsets instead of being written twice.
// Kafka keeps producer state snapshots; eddy rebuilds a producer's entry from the tail of the log
// the first time it writes to a partition after a restart.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "log/partition.h"

namespace eddy::kafka {

/// Thread-safe through its mutex: Find() and the entries it returns may be used only with
/// mu() held (the Produce handler holds it from the sequence check to the bookkeeping after the
/// append, so retries cannot race). NextProducerId() needs no lock.
class ProducerStateTable {
 public:
  /// How many batches per producer and partition are remembered (Kafka: 5, the most
  /// max.in.flight.requests.per.connection an idempotent producer may use).
  static constexpr size_t kRecentBatches = 5;
  /// How many records at the tail of a partition are read to rebuild a producer's entry.
  static constexpr int64_t kRecoverRecords = 100000;

  /// A batch a producer wrote: its sequence numbers and where it went.
  struct ProducedBatch {
    int32_t first_seq, last_seq;
    int64_t base_offset, log_append_time_ms;  // log_append_time_ms: -1 for CreateTime
  };
  /// One producer on one partition.
  struct Entry {
    int16_t epoch = -1;                 // -1: nothing written yet
    std::vector<ProducedBatch> recent;  // oldest first, at most kRecentBatches

    /// Records a batch just written (dropping the oldest beyond kRecentBatches).
    void Remember(const ProducedBatch& b);
  };

  ProducerStateTable();

  std::mutex& mu() { return mu_; }

  /// The entry of producer `producer_id` on `topic`-`partition` (whose log is `log`), rebuilt
  /// from the tail of the log when the producer has not written there since the broker started.
  /// Requires mu().
  Entry& Find(const std::string& topic, int32_t partition, const log::Partition& log,
              int64_t producer_id);

  /// A new producer id (ids start at the broker's start time in ms × 1000, so they do not repeat
  /// across restarts). Thread-safe.
  int64_t NextProducerId() { return next_producer_id_.fetch_add(1); }

 private:
  // The state of `producer_id` as the last batches it wrote to `partition` show it.
  static Entry Recover(const log::Partition& partition, int64_t producer_id);

  std::mutex mu_;
  std::map<std::pair<std::string, int32_t>, std::map<int64_t, Entry>> entries_;
  std::atomic<int64_t> next_producer_id_;
};

}  // namespace eddy::kafka
