#include "kafka/txn_coordinator.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/status.h"
#include "kafka/json_log.h"
#include "log/log_error.h"
#include "log/record_batch.h"

namespace eddy::kafka {

namespace {

using Json = nlohmann::json;

// An epoch at or past this cannot be bumped: the producer id is replaced (Kafka:
// isEpochExhausted, Short.MaxValue - 1).
constexpr int16_t kExhaustedEpoch = INT16_MAX - 1;

constexpr TxnState kAllStates[] = {TxnState::kEmpty,          TxnState::kOngoing,
                                   TxnState::kPrepareCommit,  TxnState::kPrepareAbort,
                                   TxnState::kCompleteCommit, TxnState::kCompleteAbort};

std::optional<TxnState> StateOfName(const std::string& name) {
  for (TxnState s : kAllStates) {
    if (name == TxnStateName(s)) return s;
  }
  return std::nullopt;
}

bool Deciding(TxnState s) { return s == TxnState::kPrepareCommit || s == TxnState::kPrepareAbort; }

}  // namespace

const char* TxnStateName(TxnState s) {
  switch (s) {
    case TxnState::kEmpty:
      return "Empty";
    case TxnState::kOngoing:
      return "Ongoing";
    case TxnState::kPrepareCommit:
      return "PrepareCommit";
    case TxnState::kPrepareAbort:
      return "PrepareAbort";
    case TxnState::kCompleteCommit:
      return "CompleteCommit";
    case TxnState::kCompleteAbort:
      return "CompleteAbort";
  }
  return "Unknown";
}

// The state of one transactional id (what a transactions.log record holds).
struct TxnData {
  std::string id;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int64_t last_producer_id = -1;     // before an epoch exhaustion replaced the producer id
  int16_t last_producer_epoch = -1;  // the epoch before the last bump by its own producer
  int32_t timeout_ms = 60000;
  TxnState state = TxnState::kEmpty;
  int64_t start_ms = -1;  // when the open transaction began
  int64_t update_ms = 0;
  std::set<TopicPartition> partitions;
  std::set<std::string> groups;
  // group → partition → offset committed by the open transaction
  std::map<std::string, std::map<TopicPartition, GroupCoordinator::TxnOffset>> offsets;
};

struct TransactionCoordinator::Txn {
  std::mutex mu;  // serializes every request of this id, markers included
  TxnData d;
  // Expired (transactional.id.expiration.ms) and gone from the map: a request that found it
  // just before treats the id as unknown.
  bool removed = false;
};

namespace {

Json ToJson(const TxnData& d) {
  Json parts = Json::array();
  for (const auto& [topic, p] : d.partitions) parts.push_back(Json::array({topic, p}));
  Json offsets = Json::array();
  for (const auto& [group, by_tp] : d.offsets) {
    for (const auto& [tp, o] : by_tp) {
      offsets.push_back(Json{{"group", group},
                             {"topic", o.topic},
                             {"partition", o.partition},
                             {"offset", o.offset},
                             {"metadata", o.metadata},
                             {"leader_epoch", o.leader_epoch}});
    }
  }
  return Json{{"type", "txn"},
              {"id", d.id},
              {"pid", d.producer_id},
              {"epoch", d.producer_epoch},
              {"last_pid", d.last_producer_id},
              {"last_epoch", d.last_producer_epoch},
              {"timeout_ms", d.timeout_ms},
              {"state", TxnStateName(d.state)},
              {"start_ms", d.start_ms},
              {"update_ms", d.update_ms},
              {"partitions", parts},
              {"groups", Json(d.groups)},
              {"offsets", offsets}};
}

TxnData FromJson(const Json& j) {
  TxnData d;
  d.id = j.at("id").get<std::string>();
  d.producer_id = j.at("pid").get<int64_t>();
  d.producer_epoch = j.at("epoch").get<int16_t>();
  d.last_producer_id = j.value("last_pid", int64_t{-1});
  d.last_producer_epoch = j.value("last_epoch", int16_t{-1});
  d.timeout_ms = j.value("timeout_ms", 60000);
  std::optional<TxnState> state = StateOfName(j.at("state").get<std::string>());
  if (!state) throw std::runtime_error("unknown transaction state " + j.at("state").dump());
  d.state = *state;
  d.start_ms = j.value("start_ms", int64_t{-1});
  d.update_ms = j.value("update_ms", int64_t{0});
  for (const auto& p : j.at("partitions")) {
    d.partitions.emplace(p.at(0).get<std::string>(), p.at(1).get<int32_t>());
  }
  for (const auto& g : j.at("groups")) d.groups.insert(g.get<std::string>());
  for (const auto& o : j.at("offsets")) {
    GroupCoordinator::TxnOffset t;
    t.topic = o.at("topic").get<std::string>();
    t.partition = o.at("partition").get<int32_t>();
    t.offset = o.at("offset").get<int64_t>();
    t.metadata = o.value("metadata", "");
    t.leader_epoch = o.value("leader_epoch", -1);
    d.offsets[o.at("group").get<std::string>()][{t.topic, t.partition}] = t;
  }
  return d;
}

}  // namespace

TransactionCoordinator::TransactionCoordinator(std::string path, log::LogManager* log,
                                               GroupCoordinator* groups, TxnOptions options)
    : path_(std::move(path)), log_(log), groups_(groups), options_(options) {}

TransactionCoordinator::~TransactionCoordinator() = default;

absl::StatusOr<std::unique_ptr<TransactionCoordinator>> TransactionCoordinator::Open(
    const std::string& data_dir, log::LogManager* log, GroupCoordinator* groups, TxnOptions options,
    int64_t now_ms) {
  std::unique_ptr<TransactionCoordinator> c(
      new TransactionCoordinator(data_dir + "/transactions.log", log, groups, options));
  EDDY_RETURN_IF_ERROR(c->Load(now_ms));
  return c;
}

void TransactionCoordinator::SetAppendListener(std::function<void()> listener) {
  on_append_ = std::move(listener);
}

void TransactionCoordinator::SetProducerIdSource(std::function<int64_t()> next_producer_id) {
  next_producer_id_ = std::move(next_producer_id);
}

absl::Status TransactionCoordinator::Load(int64_t now_ms) {
  EDDY_RETURN_IF_ERROR(ReadJsonLinesLog(path_, "transaction", [&](const Json& j) {
    TxnData d = FromJson(j);
    auto& slot = txns_[d.id];
    if (!slot) slot = std::make_shared<Txn>();
    slot->d = std::move(d);
  }));
  {
    std::lock_guard<std::mutex> l(file_mu_);
    for (const auto& [id, t] : txns_) persisted_[id] = ToJson(t->d).dump() + "\n";
    EDDY_RETURN_IF_ERROR(CompactLocked());
  }
  // Transactions decided before a crash: write their markers (again) and complete them.
  size_t open = 0;
  for (auto& [id, t] : txns_) {
    std::lock_guard<std::mutex> l(t->mu);
    if (t->d.state == TxnState::kOngoing) ++open;
    if (!Deciding(t->d.state)) continue;
    spdlog::info("kafka: completing transaction '{}' (producer {}, {}) decided before a restart",
                 id, t->d.producer_id, TxnStateName(t->d.state));
    absl::Status st = Complete(t.get(), now_ms);
    if (!st.ok()) {
      spdlog::error("kafka: completing transaction '{}' failed (retried later): {}", id,
                    st.ToString());
    }
  }
  spdlog::info("kafka: {} transactional ids ({} with an open transaction) loaded from {}",
               txns_.size(), open, path_);
  return absl::OkStatus();
}

absl::Status TransactionCoordinator::Persist(const Txn& t) {
  std::string line = ToJson(t.d).dump() + "\n";
  std::lock_guard<std::mutex> l(file_mu_);
  // A compaction that replaced the file but could not open the new one: write it again first
  // (appending to the replaced file would be lost).
  if (!file_.valid()) EDDY_RETURN_IF_ERROR(CompactLocked());
  EDDY_RETURN_IF_ERROR(log::WriteAt(file_.get(), size_, line, path_));
  size_ += static_cast<int64_t>(line.size());
  EDDY_RETURN_IF_ERROR(log::SyncFile(file_.get(), path_));
  std::string& last = persisted_[t.d.id];
  compact_size_ += static_cast<int64_t>(line.size()) - static_cast<int64_t>(last.size());
  last = std::move(line);
  // Every change appends a record: rewrite the file with the last record of each id once the
  // superseded ones dominate it.
  if (size_ > options_.compact_min_bytes && size_ > 4 * compact_size_) {
    absl::Status st = CompactLocked();
    if (!st.ok()) spdlog::warn("kafka: compacting {} failed (retried): {}", path_, st.ToString());
  }
  return absl::OkStatus();
}

absl::Status TransactionCoordinator::CompactLocked() {
  std::string compact;
  for (const auto& [id, line] : persisted_) compact += line;
  EDDY_RETURN_IF_ERROR(log::WriteFileAtomically(path_, compact));
  file_ = log::FileHandle();  // the old file is gone from the path: never append to it again
  EDDY_ASSIGN_OR_RETURN(file_, log::OpenFile(path_, O_WRONLY | O_CLOEXEC));
  size_ = static_cast<int64_t>(compact.size());
  compact_size_ = size_;
  return absl::OkStatus();
}

std::shared_ptr<TransactionCoordinator::Txn> TransactionCoordinator::Find(const std::string& id) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = txns_.find(id);
  return it == txns_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<TransactionCoordinator::Txn>> TransactionCoordinator::All() {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::shared_ptr<Txn>> all;
  all.reserve(txns_.size());
  for (auto& [id, t] : txns_) all.push_back(t);
  return all;
}

ErrorCode TransactionCoordinator::CheckProducer(const Txn& t, int64_t producer_id,
                                                int16_t producer_epoch) {
  if (t.d.producer_id != producer_id) return ErrorCode::kInvalidProducerIdMapping;
  if (t.d.producer_epoch != producer_epoch) return ErrorCode::kProducerFenced;
  return ErrorCode::kNone;
}

TransactionCoordinator::ProducerIdAndEpoch TransactionCoordinator::InitProducerId(
    const std::string& transactional_id, int32_t timeout_ms, int64_t expected_pid,
    int16_t expected_epoch, int64_t now_ms) {
  ProducerIdAndEpoch r;
  if (transactional_id.empty()) {
    r.error = ErrorCode::kInvalidRequest;
    return r;
  }
  if (timeout_ms <= 0 || timeout_ms > options_.max_timeout_ms) {
    r.error = ErrorCode::kInvalidTransactionTimeout;
    return r;
  }
  std::shared_ptr<Txn> holder;
  std::unique_lock<std::mutex> l;
  do {  // again when the id expired between the lookup and the lock
    {
      std::lock_guard<std::mutex> ml(mu_);
      auto& slot = txns_[transactional_id];
      if (!slot) {
        slot = std::make_shared<Txn>();
        slot->d.id = transactional_id;
      }
      holder = slot;
    }
    l = std::unique_lock<std::mutex>(holder->mu);
  } while (holder->removed);
  Txn* t = holder.get();
  TxnData& d = t->d;
  const TxnData before = d;
  bool expected = expected_pid >= 0 && expected_epoch >= 0;
  if (d.producer_id < 0) {
    // A new transactional id.
    d.producer_id = next_producer_id_();
    d.producer_epoch = 0;
  } else {
    if (expected && !(expected_pid == d.producer_id ||
                      (expected_pid == d.last_producer_id && expected_epoch >= kExhaustedEpoch))) {
      r.error = ErrorCode::kProducerFenced;
      return r;
    }
    if (Deciding(d.state)) {
      absl::Status st = Complete(t, now_ms);
      if (!st.ok()) {
        r.error = ErrorCode::kConcurrentTransactions;
        return r;
      }
    }
    if (d.state == TxnState::kOngoing) {
      // The previous producer left a transaction open: fence it (markers with a new epoch) and
      // abort the transaction.
      spdlog::info(
          "kafka: transaction '{}': a new producer fences epoch {} and aborts its open "
          "transaction",
          transactional_id, d.producer_epoch);
      if (d.producer_epoch < kExhaustedEpoch) ++d.producer_epoch;
      d.last_producer_epoch = -1;
      ErrorCode e = Decide(t, /*commit=*/false, now_ms);
      if (e != ErrorCode::kNone) {
        r.error = e == ErrorCode::kKafkaStorageError ? ErrorCode::kConcurrentTransactions : e;
        return r;
      }
      if (expected) {
        // Kafka answers CONCURRENT_TRANSACTIONS here; the retry finds the epoch fenced.
        r.error = ErrorCode::kProducerFenced;
        return r;
      }
    }
    if (expected && expected_pid == d.producer_id && expected_epoch != d.producer_epoch) {
      if (expected_epoch == d.last_producer_epoch) {
        // A retry of a bump that succeeded: the same answer again.
        r.producer_id = d.producer_id;
        r.producer_epoch = d.producer_epoch;
        return r;
      }
      r.error = ErrorCode::kProducerFenced;
      return r;
    }
    if (d.producer_epoch >= kExhaustedEpoch) {
      d.last_producer_id = d.producer_id;
      d.last_producer_epoch = d.producer_epoch;
      d.producer_id = next_producer_id_();
      d.producer_epoch = 0;
    } else {
      d.last_producer_epoch = expected ? d.producer_epoch : -1;
      ++d.producer_epoch;
    }
  }
  d.timeout_ms = timeout_ms;
  d.state = TxnState::kEmpty;
  d.start_ms = -1;
  d.update_ms = now_ms;
  d.partitions.clear();
  d.groups.clear();
  d.offsets.clear();
  absl::Status st = Persist(*t);
  if (!st.ok()) {
    spdlog::error("kafka: transaction '{}': cannot persist the producer epoch: {}",
                  transactional_id, st.ToString());
    d = before;
    r.error = ErrorCode::kCoordinatorNotAvailable;
    return r;
  }
  r.producer_id = d.producer_id;
  r.producer_epoch = d.producer_epoch;
  return r;
}

ErrorCode TransactionCoordinator::Add(Txn* t, int64_t producer_id, int16_t producer_epoch,
                                      const std::vector<TopicPartition>& partitions,
                                      const std::string* group, int64_t now_ms) {
  TxnData& d = t->d;
  ErrorCode e = CheckProducer(*t, producer_id, producer_epoch);
  if (e != ErrorCode::kNone) return e;
  if (Deciding(d.state)) {
    // The previous transaction's markers are not all written yet.
    if (!Complete(t, now_ms).ok()) return ErrorCode::kConcurrentTransactions;
  }
  if (d.state == TxnState::kOngoing) {
    bool all = !group || d.groups.count(*group);
    for (const auto& tp : partitions) all = all && d.partitions.count(tp);
    if (all) return ErrorCode::kNone;
  }
  const TxnData before = d;
  if (d.state != TxnState::kOngoing) {
    d.state = TxnState::kOngoing;
    d.start_ms = now_ms;
    d.partitions.clear();
    d.groups.clear();
    d.offsets.clear();
  }
  d.partitions.insert(partitions.begin(), partitions.end());
  if (group) d.groups.insert(*group);
  d.update_ms = now_ms;
  absl::Status st = Persist(*t);
  if (!st.ok()) {
    spdlog::error("kafka: transaction '{}': cannot persist its partitions: {}", d.id,
                  st.ToString());
    d = before;
    return ErrorCode::kKafkaStorageError;
  }
  return ErrorCode::kNone;
}

ErrorCode TransactionCoordinator::AddPartitions(const std::string& transactional_id,
                                                int64_t producer_id, int16_t producer_epoch,
                                                const std::vector<TopicPartition>& partitions,
                                                int64_t now_ms) {
  std::shared_ptr<Txn> t = Find(transactional_id);
  if (!t) return ErrorCode::kInvalidProducerIdMapping;
  std::lock_guard<std::mutex> l(t->mu);
  if (t->removed) return ErrorCode::kInvalidProducerIdMapping;
  return Add(t.get(), producer_id, producer_epoch, partitions, nullptr, now_ms);
}

ErrorCode TransactionCoordinator::AddOffsets(const std::string& transactional_id,
                                             int64_t producer_id, int16_t producer_epoch,
                                             const std::string& group, int64_t now_ms) {
  std::shared_ptr<Txn> t = Find(transactional_id);
  if (!t) return ErrorCode::kInvalidProducerIdMapping;
  std::lock_guard<std::mutex> l(t->mu);
  if (t->removed) return ErrorCode::kInvalidProducerIdMapping;
  return Add(t.get(), producer_id, producer_epoch, {}, &group, now_ms);
}

ErrorCode TransactionCoordinator::TxnOffsetCommit(
    const std::string& transactional_id, int64_t producer_id, int16_t producer_epoch,
    const std::string& group, const std::vector<GroupCoordinator::TxnOffset>& offsets) {
  std::shared_ptr<Txn> t = Find(transactional_id);
  if (!t) return ErrorCode::kInvalidProducerIdMapping;
  std::lock_guard<std::mutex> l(t->mu);
  if (t->removed) return ErrorCode::kInvalidProducerIdMapping;
  TxnData& d = t->d;
  ErrorCode e = CheckProducer(*t, producer_id, producer_epoch);
  if (e != ErrorCode::kNone) return e;
  if (d.state != TxnState::kOngoing) return ErrorCode::kInvalidTxnState;
  const TxnData before = d;
  d.groups.insert(group);
  for (const auto& o : offsets) d.offsets[group][{o.topic, o.partition}] = o;
  absl::Status st = Persist(*t);
  if (!st.ok()) {
    spdlog::error("kafka: transaction '{}': cannot persist its offsets: {}", d.id, st.ToString());
    d = before;
    return ErrorCode::kKafkaStorageError;
  }
  return ErrorCode::kNone;
}

ErrorCode TransactionCoordinator::Decide(Txn* t, bool commit, int64_t now_ms) {
  TxnData& d = t->d;
  const TxnData before = d;
  d.state = commit ? TxnState::kPrepareCommit : TxnState::kPrepareAbort;
  d.update_ms = now_ms;
  absl::Status st = Persist(*t);
  if (!st.ok()) {
    spdlog::error("kafka: transaction '{}': cannot persist the decision to {}: {}", d.id,
                  commit ? "commit" : "abort", st.ToString());
    d = before;
    return ErrorCode::kKafkaStorageError;
  }
  st = Complete(t, now_ms);
  if (!st.ok()) {
    spdlog::error("kafka: transaction '{}': writing the {} markers failed (retried): {}", d.id,
                  commit ? "commit" : "abort", st.ToString());
    return ErrorCode::kConcurrentTransactions;
  }
  return ErrorCode::kNone;
}

absl::Status TransactionCoordinator::Complete(Txn* t, int64_t now_ms) {
  TxnData& d = t->d;
  bool commit = d.state == TxnState::kPrepareCommit;
  std::string marker =
      log::BuildControlBatch(d.producer_id, d.producer_epoch,
                             commit ? log::ControlType::kCommit : log::ControlType::kAbort,
                             /*coordinator_epoch=*/0, now_ms);
  std::vector<std::pair<std::shared_ptr<log::Partition>, Offset>> written;
  for (const auto& [topic, p] : d.partitions) {
    auto part = log_->GetPartition(topic, PartitionId(p));
    if (absl::IsNotFound(part.status())) {
      spdlog::warn("kafka: transaction '{}': partition {}-{} no longer exists; no marker written",
                   d.id, topic, p);
      continue;
    }
    if (!part.ok()) return part.status();
    log::AppendOptions ao;
    ao.partition_leader_epoch = 0;
    EDDY_ASSIGN_OR_RETURN(log::AppendResult res, (*part)->Append(marker, ao));
    written.emplace_back(*part, res.last_offset);
  }
  if (!written.empty() && on_append_) on_append_();
  // The markers are durable before the transaction is recorded as complete.
  for (const auto& [part, offset] : written) EDDY_RETURN_IF_ERROR(part->SyncUpTo(offset));
  if (commit && groups_) {
    for (const auto& [group, by_tp] : d.offsets) {
      std::vector<GroupCoordinator::TxnOffset> offsets;
      for (const auto& [tp, o] : by_tp) offsets.push_back(o);
      EDDY_RETURN_IF_ERROR(groups_->CommitTxnOffsets(group, offsets));
    }
  }
  spdlog::debug("kafka: transaction '{}' of producer {} epoch {} {} ({} partitions)", d.id,
                d.producer_id, d.producer_epoch, commit ? "committed" : "aborted",
                d.partitions.size());
  d.state = commit ? TxnState::kCompleteCommit : TxnState::kCompleteAbort;
  d.start_ms = -1;
  d.update_ms = now_ms;
  d.partitions.clear();
  d.groups.clear();
  d.offsets.clear();
  absl::Status st = Persist(*t);
  if (!st.ok()) {
    // The markers are written: a restart writes them again, which changes nothing.
    spdlog::error("kafka: transaction '{}': cannot persist its completion: {}", d.id,
                  st.ToString());
  }
  return absl::OkStatus();
}

ErrorCode TransactionCoordinator::EndTxn(const std::string& transactional_id, int64_t producer_id,
                                         int16_t producer_epoch, bool commit, int64_t now_ms) {
  std::shared_ptr<Txn> t = Find(transactional_id);
  if (!t) return ErrorCode::kInvalidProducerIdMapping;
  std::lock_guard<std::mutex> l(t->mu);
  if (t->removed) return ErrorCode::kInvalidProducerIdMapping;
  TxnData& d = t->d;
  ErrorCode e = CheckProducer(*t, producer_id, producer_epoch);
  if (e != ErrorCode::kNone) return e;
  switch (d.state) {
    case TxnState::kOngoing:
      return Decide(t.get(), commit, now_ms);
    case TxnState::kPrepareCommit:
    case TxnState::kPrepareAbort:
      if ((d.state == TxnState::kPrepareCommit) != commit) return ErrorCode::kInvalidTxnState;
      return Complete(t.get(), now_ms).ok() ? ErrorCode::kNone : ErrorCode::kConcurrentTransactions;
    case TxnState::kCompleteCommit:
      return commit ? ErrorCode::kNone : ErrorCode::kInvalidTxnState;
    case TxnState::kCompleteAbort:
      return commit ? ErrorCode::kInvalidTxnState : ErrorCode::kNone;
    case TxnState::kEmpty:
      return ErrorCode::kInvalidTxnState;
  }
  return ErrorCode::kInvalidTxnState;
}

std::unique_lock<std::mutex> TransactionCoordinator::LockForAppend(
    const std::string& transactional_id, int64_t producer_id, int16_t producer_epoch,
    const TopicPartition& tp, ErrorCode* error) {
  std::shared_ptr<Txn> t = Find(transactional_id);
  if (!t) {
    *error = ErrorCode::kInvalidProducerIdMapping;
    return {};
  }
  std::unique_lock<std::mutex> l(t->mu);
  const TxnData& d = t->d;
  if (t->removed || d.producer_id != producer_id) {
    *error = ErrorCode::kInvalidProducerIdMapping;
  } else if (d.producer_epoch != producer_epoch) {
    *error = ErrorCode::kInvalidProducerEpoch;
  } else if (d.state != TxnState::kOngoing || !d.partitions.count(tp)) {
    *error = ErrorCode::kInvalidTxnState;
  } else {
    *error = ErrorCode::kNone;
    return l;
  }
  return {};
}

bool TransactionCoordinator::HasPendingOffsets(const std::string& group, const TopicPartition& tp) {
  for (const auto& t : All()) {
    std::lock_guard<std::mutex> l(t->mu);
    auto it = t->d.offsets.find(group);
    if (it != t->d.offsets.end() && it->second.count(tp)) return true;
  }
  return false;
}

DescribeTransactionsResponse TransactionCoordinator::Describe(
    const DescribeTransactionsRequest& req, int64_t now_ms) {
  DescribeTransactionsResponse resp;
  for (const std::string& id : req.transactional_ids) {
    auto& ts = resp.transaction_states.emplace_back();
    ts.transactional_id = id;
    std::shared_ptr<Txn> t = Find(id);
    if (!t) {
      ts.error_code = Wire(ErrorCode::kTransactionalIdNotFound);
      ts.producer_id = -1;
      ts.producer_epoch = -1;
      ts.transaction_start_time_ms = -1;
      continue;
    }
    std::lock_guard<std::mutex> l(t->mu);
    const TxnData& d = t->d;
    if (t->removed || d.producer_id < 0) {
      ts.error_code = Wire(ErrorCode::kTransactionalIdNotFound);
      continue;
    }
    ts.transaction_state = TxnStateName(d.state);
    ts.transaction_timeout_ms = d.timeout_ms;
    ts.transaction_start_time_ms = d.start_ms;
    ts.producer_id = d.producer_id;
    ts.producer_epoch = d.producer_epoch;
    for (const auto& [topic, p] : d.partitions) {
      if (ts.topics.empty() || ts.topics.back().topic != topic)
        ts.topics.emplace_back().topic = topic;
      ts.topics.back().partitions.push_back(p);
    }
  }
  return resp;
}

ListTransactionsResponse TransactionCoordinator::List(const ListTransactionsRequest& req,
                                                      int64_t now_ms) {
  ListTransactionsResponse resp;
  std::set<std::string> states;
  for (const std::string& s : req.state_filters) {
    if (StateOfName(s)) {
      states.insert(s);
    } else {
      resp.unknown_state_filters.push_back(s);
    }
  }
  std::set<int64_t> pids(req.producer_id_filters.begin(), req.producer_id_filters.end());
  for (const auto& t : All()) {
    std::lock_guard<std::mutex> l(t->mu);
    const TxnData& d = t->d;
    if (t->removed || d.producer_id < 0) continue;
    std::string state = TxnStateName(d.state);
    if (!req.state_filters.empty() && !states.count(state)) continue;
    if (!pids.empty() && !pids.count(d.producer_id)) continue;
    // v1 (KIP-994): only transactions running longer than the duration (ms).
    if (req.duration_filter >= 0 && (d.start_ms < 0 || now_ms - d.start_ms < req.duration_filter))
      continue;
    auto& ts = resp.transaction_states.emplace_back();
    ts.transactional_id = d.id;
    ts.producer_id = d.producer_id;
    ts.transaction_state = state;
  }
  return resp;
}

void TransactionCoordinator::Tick(int64_t now_ms) {
  ExpireIds(now_ms);
  for (const auto& holder : All()) {
    Txn* t = holder.get();
    std::unique_lock<std::mutex> l(t->mu, std::try_to_lock);
    if (!l.owns_lock()) continue;  // a request is working on it: look again at the next tick
    if (t->removed) continue;
    TxnData& d = t->d;
    if (Deciding(d.state)) {
      absl::Status st = Complete(t, now_ms);
      if (!st.ok()) {
        spdlog::error("kafka: completing transaction '{}' failed (retried): {}", d.id,
                      st.ToString());
      }
      continue;
    }
    if (d.state != TxnState::kOngoing || now_ms - d.start_ms <= d.timeout_ms) continue;
    spdlog::info(
        "kafka: aborting transaction '{}' of producer {}: open for {} ms, longer than its timeout "
        "of {} ms (its producer is fenced)",
        d.id, d.producer_id, now_ms - d.start_ms, d.timeout_ms);
    if (d.producer_epoch < kExhaustedEpoch) ++d.producer_epoch;
    d.last_producer_epoch = -1;
    Decide(t, /*commit=*/false, now_ms);
  }
}

void TransactionCoordinator::ExpireIds(int64_t now_ms) {
  if (options_.id_expiration_ms <= 0) return;
  std::lock_guard<std::mutex> ml(mu_);
  if (now_ms - last_expiry_ms_ < kExpiryCheckIntervalMs) return;
  last_expiry_ms_ = now_ms;
  size_t expired = 0;
  for (auto it = txns_.begin(); it != txns_.end();) {
    Txn* t = it->second.get();
    std::unique_lock<std::mutex> l(t->mu, std::try_to_lock);
    // Only ids without an open or deciding transaction (Kafka: Empty, CompleteCommit,
    // CompleteAbort), idle for the expiration time; one in use is looked at again later.
    bool idle = l.owns_lock() && !Deciding(t->d.state) && t->d.state != TxnState::kOngoing &&
                now_ms - t->d.update_ms > options_.id_expiration_ms;
    if (!idle) {
      ++it;
      continue;
    }
    t->removed = true;
    {
      std::lock_guard<std::mutex> fl(file_mu_);
      auto p = persisted_.find(it->first);
      if (p != persisted_.end()) {
        compact_size_ -= static_cast<int64_t>(p->second.size());
        persisted_.erase(p);
      }
    }
    l.unlock();
    it = txns_.erase(it);
    ++expired;
  }
  if (expired > 0) {
    spdlog::info(
        "kafka: {} transactional ids expired (idle for more than "
        "transactional.id.expiration.ms = {} ms)",
        expired, options_.id_expiration_ms);
  }
}

}  // namespace eddy::kafka
