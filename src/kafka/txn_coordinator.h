// The transaction coordinator of `eddy server` (Kafka protocol: KIP-98 transactions; Kafka's
// TransactionCoordinator and its state names): per transactional id the producer id and epoch
// (a new InitProducerId fences the previous producer, a "zombie"), the partitions and consumer
// groups a transaction wrote to, and the two-phase end of a transaction: the decision
// (PrepareCommit / PrepareAbort) is made durable, then a commit or abort marker (a control batch)
// is written to every partition of the transaction and its consumer offsets are applied, then the
// transaction is complete (CompleteCommit / CompleteAbort). Transactions open longer than their
// timeout are aborted with a fenced epoch, as Kafka does.
//
// Durability: every state change is appended to `<data-dir>/transactions.log` (JSON Lines, one
// record with the whole state of a transactional id, fsynced before the request is answered) and
// replayed on start (docs/kafka-broker.md "Transactions"); the file is rewritten with the last
// record of each id on start and whenever superseded records dominate it. Ids idle longer than
// transactional.id.expiration.ms are forgotten. A transaction whose decision was made
// before a crash is completed on start (its markers written again, which is harmless); an
// ongoing one stays open, invisible to read_committed readers, until its producer ends it or its
// timeout aborts it. Markers are fsynced before a transaction is recorded as complete.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "kafka/errors.h"
#include "kafka/group_coordinator.h"
#include "kafka/messages.h"
#include "log/file_util.h"
#include "log/log_manager.h"

namespace eddy::kafka {

/// Coordinator settings (Kafka broker config names).
struct TxnOptions {
  /// transaction.max.timeout.ms: the longest transaction timeout a producer may ask for (ms).
  int32_t max_timeout_ms = 900000;
  /// transactional.id.expiration.ms: a transactional id without an open transaction and
  /// without any request for this long is forgotten (ms; Kafka's default, 7 days; 0: never).
  /// Exactly-once sinks use a new id per checkpoint, so without this the ids would pile up.
  int64_t id_expiration_ms = 604800000;
  /// transactions.log is rewritten with the last record of each id once it is larger than
  /// this and 4 times that (bytes).
  int64_t compact_min_bytes = 1 << 20;
};

/// Kafka's transaction states (DescribeTransactions and ListTransactions name them so).
enum class TxnState {
  kEmpty,
  kOngoing,
  kPrepareCommit,
  kPrepareAbort,
  kCompleteCommit,
  kCompleteAbort,
};

/// "Ongoing", "PrepareCommit", … (Kafka's names).
const char* TxnStateName(TxnState s);

/// A topic partition.
using TopicPartition = std::pair<std::string, int32_t>;

/// See the file comment. Thread-safe: every method may be called from any thread. Calls for one
/// transactional id are serialized (markers are written under its lock); calls for different
/// ids run concurrently.
class TransactionCoordinator {
 public:
  /// Loads `<data_dir>/transactions.log` (a torn last line is ignored with a warning), completes
  /// the transactions decided before a crash (markers through `log`, offsets through `groups`,
  /// which may be null) and rewrites the file compactly. Errors: I/O errors, DataLoss for a
  /// corrupt line before the last.
  static absl::StatusOr<std::unique_ptr<TransactionCoordinator>> Open(const std::string& data_dir,
                                                                      log::LogManager* log,
                                                                      GroupCoordinator* groups,
                                                                      TxnOptions options,
                                                                      int64_t now_ms);
  ~TransactionCoordinator();

  /// Called after markers were appended (wakes long-polling fetches). Set before serving.
  void SetAppendListener(std::function<void()> listener);
  /// Hands out new producer ids: the broker's, shared with idempotent producers so ids never
  /// collide (the Broker sets it). Set before serving.
  void SetProducerIdSource(std::function<int64_t()> next_producer_id);

  /// What InitProducerId answers.
  struct ProducerIdAndEpoch {
    ErrorCode error = ErrorCode::kNone;
    int64_t producer_id = -1;
    int16_t producer_epoch = -1;
  };
  /// Kafka protocol: InitProducerId with a transactional id. Gives the id's producer id with its
  /// epoch bumped (fencing the producer that had the old epoch), first aborting a transaction
  /// the old producer left open; a new id gets a new producer id at epoch 0. `expected_pid` /
  /// `expected_epoch` (KIP-360, -1 when not given): a producer bumping its own epoch; a stale one
  /// gets PRODUCER_FENCED. Errors (ErrorCode): INVALID_TRANSACTION_TIMEOUT (timeout <= 0 or above
  /// transaction.max.timeout.ms), PRODUCER_FENCED, CONCURRENT_TRANSACTIONS (the previous
  /// transaction's markers cannot be written yet), INVALID_REQUEST (empty id).
  ProducerIdAndEpoch InitProducerId(const std::string& transactional_id, int32_t timeout_ms,
                                    int64_t expected_pid, int16_t expected_epoch, int64_t now_ms);

  /// Kafka protocol: AddPartitionsToTxn (v0-3). Starts the transaction when none is open.
  /// Errors: INVALID_PRODUCER_ID_MAPPING (unknown id or another producer id), PRODUCER_FENCED
  /// (another epoch), CONCURRENT_TRANSACTIONS (the previous transaction is being ended),
  /// KAFKA_STORAGE_ERROR (transactions.log could not be written).
  ErrorCode AddPartitions(const std::string& transactional_id, int64_t producer_id,
                          int16_t producer_epoch, const std::vector<TopicPartition>& partitions,
                          int64_t now_ms);
  /// Kafka protocol: AddOffsetsToTxn: the transaction will commit offsets of `group`. Errors as
  /// AddPartitions.
  ErrorCode AddOffsets(const std::string& transactional_id, int64_t producer_id,
                       int16_t producer_epoch, const std::string& group, int64_t now_ms);
  /// Kafka protocol: TxnOffsetCommit: offsets of `group` that become the group's committed
  /// offsets when the transaction commits (and are dropped if it aborts). Errors as
  /// AddPartitions, and INVALID_TXN_STATE when no transaction is open.
  ErrorCode TxnOffsetCommit(const std::string& transactional_id, int64_t producer_id,
                            int16_t producer_epoch, const std::string& group,
                            const std::vector<GroupCoordinator::TxnOffset>& offsets);
  /// Kafka protocol: EndTxn: commits (`commit`) or aborts the open transaction: the decision is
  /// persisted, markers are written to (and fsynced on) every partition of the transaction, the
  /// consumer offsets applied, then the transaction is complete. Ending a transaction again the
  /// same way is answered with success (a retry). Errors: INVALID_PRODUCER_ID_MAPPING,
  /// PRODUCER_FENCED, INVALID_TXN_STATE (nothing open, or already ended the other way),
  /// CONCURRENT_TRANSACTIONS (markers could not be written yet; retried by Tick and the client's
  /// retry), KAFKA_STORAGE_ERROR.
  ErrorCode EndTxn(const std::string& transactional_id, int64_t producer_id, int16_t producer_epoch,
                   bool commit, int64_t now_ms);

  /// Checks that a transactional batch of `producer_id`/`producer_epoch` for `tp` may be
  /// appended now and returns the lock to hold until it is (so no marker can be written between
  /// the check and the append). Errors (in `*error`, the lock is then not held):
  /// INVALID_PRODUCER_ID_MAPPING, INVALID_PRODUCER_EPOCH (an older epoch: a fenced producer),
  /// INVALID_TXN_STATE (no open transaction, or `tp` was not added to it).
  std::unique_lock<std::mutex> LockForAppend(const std::string& transactional_id,
                                             int64_t producer_id, int16_t producer_epoch,
                                             const TopicPartition& tp, ErrorCode* error);

  /// Whether an open or deciding transaction holds offsets of `group` for `tp` (OffsetFetch
  /// with require_stable answers UNSTABLE_OFFSET_COMMIT then, KIP-447).
  bool HasPendingOffsets(const std::string& group, const TopicPartition& tp);

  /// Kafka protocol: DescribeTransactions (one state per id; TRANSACTIONAL_ID_NOT_FOUND for an
  /// unknown one).
  DescribeTransactionsResponse Describe(const DescribeTransactionsRequest& req, int64_t now_ms);
  /// Kafka protocol: ListTransactions v0-1 (filters by state, producer id and, v1, by running
  /// longer than a duration).
  ListTransactionsResponse List(const ListTransactionsRequest& req, int64_t now_ms);

  /// Aborts transactions open longer than their timeout (fencing their producer's epoch),
  /// completes decided transactions whose markers could not be written before, and (about once
  /// a minute) forgets the transactional ids expired by TxnOptions::id_expiration_ms. Call every
  /// ~100 ms.
  void Tick(int64_t now_ms);

  struct Txn;

 private:
  TransactionCoordinator(std::string path, log::LogManager* log, GroupCoordinator* groups,
                         TxnOptions options);
  absl::Status Load(int64_t now_ms);
  // Appends `t`'s state to transactions.log and fsyncs (t->mu held); rewrites the file with
  // the last state of each id once superseded records make up most of it.
  absl::Status Persist(const Txn& t);
  // Writes persisted_ as the whole file, atomically (file_mu_ held).
  absl::Status CompactLocked();
  // The entry of `id`, or null. The caller checks Txn::removed once it holds the entry's lock.
  std::shared_ptr<Txn> Find(const std::string& id);
  // Every entry (a snapshot of the map).
  std::vector<std::shared_ptr<Txn>> All();
  // Forgets expired ids (see TxnOptions::id_expiration_ms), at most once a minute.
  void ExpireIds(int64_t now_ms);
  // Checks the producer id and epoch of a request against `t`'s (t->mu held).
  static ErrorCode CheckProducer(const Txn& t, int64_t producer_id, int16_t producer_epoch);
  // Decides the open transaction of `t` (commit or abort), then completes it (t->mu held).
  ErrorCode Decide(Txn* t, bool commit, int64_t now_ms);
  // Writes the markers and applies the offsets of a decided transaction, then records it as
  // complete. Errors leave it decided, to be retried (t->mu held).
  absl::Status Complete(Txn* t, int64_t now_ms);
  // Adds `partitions`/`group` to `t`, opening its transaction when needed (t->mu held).
  ErrorCode Add(Txn* t, int64_t producer_id, int16_t producer_epoch,
                const std::vector<TopicPartition>& partitions, const std::string* group,
                int64_t now_ms);

  std::string path_;
  log::LogManager* log_;
  GroupCoordinator* groups_;
  std::function<int64_t()> next_producer_id_;
  TxnOptions options_;
  std::function<void()> on_append_;

  // Lock order: mu_, then an entry's mu (ExpireIds only tries it), then file_mu_.
  std::mutex mu_;  // guards txns_ (the map, not the entries: each has its own mutex)
  std::map<std::string, std::shared_ptr<Txn>> txns_;
  int64_t last_expiry_ms_ = 0;  // guarded by mu_

  static constexpr int64_t kExpiryCheckIntervalMs = 60'000;
  std::mutex file_mu_;    // guards file_, size_, persisted_ and compact_size_
  log::FileHandle file_;  // transactions.log, appended at `size_`
  int64_t size_ = 0;
  // The last record written of each id (what a compaction keeps) and their total size.
  std::map<std::string, std::string> persisted_;
  int64_t compact_size_ = 0;
};

}  // namespace eddy::kafka
