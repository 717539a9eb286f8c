// The 'kafka' sink (Flink SQL Kafka connector, write side) over librdkafka, or, inside
// `eddy server` for a table whose bootstrap servers name the server, appending record batches to
// its log directly (transport.h). Both transports get the same records from the code below.
//
// Each sink subtask owns a producer. A record's value holds the value columns in 'format'; its
// key the 'key.fields' in 'key.format' (no key otherwise); a non-VIRTUAL 'timestamp' metadata
// column sets the record timestamp and a 'headers' column (a JSON object of strings) the
// headers. Partitions: 'default' hashes the key with murmur2 as Kafka's Java clients do (records
// without a key are spread by librdkafka), 'fixed' sends subtask i to partition i mod N,
// 'round-robin' cycles through the partitions. A delivery failure fails the job.
//
// 'sink.delivery-guarantee' (Flink's option):
//  * 'at-least-once' (the default): at every checkpoint barrier (PrepareCommit) and at the end of
//    the input every record is flushed and acknowledged (acks=all; on the local log: appended and
//    fsynced) before the checkpoint or the job completes, so a restore never loses a record but
//    may write again what followed the checkpoint.
//  * 'none': nothing is waited for at checkpoints (records in flight may be lost); the end of the
//    input is still flushed.
//  * 'exactly-once': a Kafka transaction per checkpoint (Flink's KafkaSink): each subtask writes
//    into a transactional producer with the id '<sink.transactional-id-prefix>-<subtask>-<n>', n
//    the checkpoint the transaction belongs to; at the barrier the transaction is flushed
//    (pre-committed) and handed to the committer, which commits it once the checkpoint is
//    complete. After a crash the restored checkpoint's transactions are committed (again:
//    idempotent, ending a transaction no live producer holds, see transport.h
//    TransactionResolver), and every other open transaction of the prefix is aborted, so
//    read_committed readers see each row exactly once. Needs checkpoints.
#include "connectors/kafka/kafka_sink.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <map>
#include <mutex>
#include <set>

#include "absl/strings/str_split.h"
#include "base/log.h"
#include "base/status.h"
#include "connectors/connector.h"
#include "connectors/kafka/kafka_table.h"
#include "connectors/kafka/transport.h"
#include "state/serializer.h"

namespace eddy::connectors {

namespace kafka {
namespace {

// A committable: "kafka-txn\t<transactional id>\t<producer id>\t<epoch>" (-1/-1 when the
// transport does not know the producer).
std::string EncodeCommittable(const std::string& id, const TxnProducer& p) {
  return fmt::format("kafka-txn\t{}\t{}\t{}", id, p.producer_id, p.epoch);
}

absl::StatusOr<std::pair<std::string, TxnProducer>> DecodeCommittable(const std::string& s) {
  std::vector<std::string> f = absl::StrSplit(s, '\t');
  if (f.size() == 4 && f[0] == "kafka-txn") {
    try {
      return std::make_pair(f[1],
                            TxnProducer{std::stoll(f[2]), static_cast<int16_t>(std::stoi(f[3]))});
    } catch (...) {
    }
  }
  return absl::DataLossError(fmt::format("not a kafka sink committable: '{}'", s));
}

// What the subtasks of one exactly-once sink share with its committer: the transactions that
// are pre-committed and wait for their checkpoint, by transactional id. Thread-safe.
struct PreparedTransactions {
  std::mutex mu;
  std::map<std::string, std::unique_ptr<TransactionalProducer>> by_id;

  void Put(std::unique_ptr<TransactionalProducer> p) {
    std::lock_guard<std::mutex> l(mu);
    std::string id = p->transactional_id();
    by_id[id] = std::move(p);
  }
  std::unique_ptr<TransactionalProducer> Take(const std::string& id) {
    std::lock_guard<std::mutex> l(mu);
    auto it = by_id.find(id);
    if (it == by_id.end()) return nullptr;
    auto p = std::move(it->second);
    by_id.erase(it);
    return p;
  }
};

// Commits the transactions of completed checkpoints (Flink: KafkaCommitter): through the live
// producer that wrote a transaction when this process holds it, else through the resolver.
class KafkaCommitter final : public runtime::SinkCommitter {
 public:
  KafkaCommitter(KafkaTableOptions opt, std::shared_ptr<LocalTopics> local,
                 std::shared_ptr<PreparedTransactions> prepared)
      : opt_(std::move(opt)), local_(std::move(local)), prepared_(std::move(prepared)) {}

  absl::Status Commit(const std::vector<std::string>& committables) override {
    for (const auto& c : committables) {
      EDDY_ASSIGN_OR_RETURN(auto txn, DecodeCommittable(c));
      const auto& [id, producer] = txn;
      if (auto live = prepared_->Take(id)) {
        EDDY_RETURN_IF_ERROR(live->Commit());
        continue;
      }
      absl::Status st = Resolver()->Commit(id, producer);
      if (absl::IsFailedPrecondition(st)) {
        // As Flink's KafkaCommitter: the transaction is gone (aborted by its timeout while the
        // job was down, or its id reused); failing would fail every restore.
        spdlog::error(
            "table '{}': the transaction of a completed checkpoint cannot be committed, its "
            "records are lost: {} (was the job down longer than "
            "'properties.transaction.timeout.ms' = {} ms?)",
            opt_.table, std::string(st.message()), opt_.transaction_timeout_ms);
        continue;
      }
      EDDY_RETURN_IF_ERROR(st);
      spdlog::info("table '{}': transaction '{}' of the restored checkpoint is committed",
                   opt_.table, id);
    }
    return absl::OkStatus();
  }

  void Abort(const std::vector<std::string>& committables) override {
    for (const auto& c : committables) {
      auto txn = DecodeCommittable(c);
      if (!txn.ok()) continue;
      absl::Status st;
      if (auto live = prepared_->Take(txn->first)) {
        st = live->Abort();
      } else {
        st = Resolver()->Abort(txn->first, txn->second);
      }
      if (!st.ok()) spdlog::warn("table '{}': {}", opt_.table, std::string(st.message()));
    }
  }

  absl::Status CleanUp(const std::vector<std::string>& keep) override {
    // Transactions of this job's prefix that are still open were left by an earlier attempt:
    // abort them, so read_committed readers are not held at their first offset until they time
    // out (Flink aborts such "lingering" transactions on recovery too).
    std::set<std::string> kept;
    for (const auto& c : keep) {
      auto txn = DecodeCommittable(c);
      if (txn.ok()) kept.insert(txn->first);
    }
    // Best effort: a transaction left open that cannot be aborted now only delays
    // read_committed readers until its timeout aborts it; it never shows its records.
    auto open = Resolver()->OpenTransactions(opt_.transactional_id_prefix + "-");
    if (!open.ok()) {
      spdlog::warn(
          "table '{}': cannot list the open transactions of prefix '{}' to abort those an earlier "
          "attempt left ({}); they end at their timeout",
          opt_.table, opt_.transactional_id_prefix, std::string(open.status().message()));
      return absl::OkStatus();
    }
    for (const OpenTransaction& t : *open) {
      if (kept.count(t.transactional_id)) continue;
      absl::Status st = Resolver()->Abort(t.transactional_id, t.producer);
      if (!st.ok()) {
        spdlog::warn(
            "table '{}': cannot abort transaction '{}' left open by an earlier attempt: "
            "{}",
            opt_.table, t.transactional_id, std::string(st.message()));
        continue;
      }
      spdlog::info("table '{}': aborted transaction '{}' left open by an earlier attempt",
                   opt_.table, t.transactional_id);
    }
    return absl::OkStatus();
  }

 private:
  TransactionResolver* Resolver() {
    std::lock_guard<std::mutex> l(mu_);
    if (!resolver_) resolver_ = local_ ? NewLocalResolver(local_) : NewProtocolResolver(opt_);
    return resolver_.get();
  }

  KafkaTableOptions opt_;
  std::shared_ptr<LocalTopics> local_;
  std::shared_ptr<PreparedTransactions> prepared_;
  std::mutex mu_;
  std::unique_ptr<TransactionResolver> resolver_;
};

class KafkaSink final : public runtime::OneInputOperator {
 public:
  // `transport`: the one to write through; null: the local log when `local` is set, else
  // librdkafka (created by Connect).
  KafkaSink(KafkaTableOptions opt, Schema schema, std::vector<int> writable_of_physical,
            int32_t partitions, runtime::SubtaskInfo info, std::shared_ptr<SinkMetrics> m,
            std::shared_ptr<LocalTopics> local, std::shared_ptr<PreparedTransactions> prepared,
            std::unique_ptr<ProducerTransport> transport = nullptr)
      : opt_(std::move(opt)),
        schema_(std::move(schema)),
        wpos_(std::move(writable_of_physical)),
        partitions_(partitions),
        info_(info),
        metrics_(std::move(m)),
        local_(std::move(local)),
        transport_(std::move(transport)),
        prepared_(std::move(prepared)) {}
  ~KafkaSink() override { (void)Close(); }

  std::string uid() const override { return fmt::format("kafka sink '{}'", opt_.table); }

  absl::Status Connect() {
    Schema vs, ks;
    for (int c : opt_.value_columns) vs.fields.push_back(schema_.fields[wpos_[c]]);
    for (int c : opt_.key_columns) ks.fields.push_back(schema_.fields[wpos_[c]]);
    if (opt_.value.kind != RecordFormat::Kind::kRaw) {
      EDDY_ASSIGN_OR_RETURN(value_enc_, MakeEncoder(opt_.value, vs));
    }
    if (opt_.key.kind != RecordFormat::Kind::kNone && opt_.key.kind != RecordFormat::Kind::kRaw) {
      EDDY_ASSIGN_OR_RETURN(key_enc_, MakeEncoder(opt_.key, ks));
    }
    value_is_whole_row_ = opt_.value_columns.size() == schema_.fields.size();
    for (size_t i = 0; i < opt_.value_columns.size(); ++i) {
      value_is_whole_row_ &= wpos_[opt_.value_columns[i]] == static_cast<int>(i);
    }
    for (size_t c = 0; c < opt_.metadata.size(); ++c) {
      if (opt_.metadata[c] == "timestamp" && wpos_[c] >= 0) ts_col_ = wpos_[c];
      if (opt_.metadata[c] == "headers" && wpos_[c] >= 0) headers_col_ = wpos_[c];
    }
    if (opt_.delivery != DeliveryGuarantee::kExactlyOnce && !transport_) {
      if (local_) {
        transport_ = NewLocalProducer(local_, opt_, partitions_);
      } else {
        EDDY_ASSIGN_OR_RETURN(transport_, NewRdKafkaProducer(opt_));
      }
    }
    next_partition_ = info_.index;
    return absl::OkStatus();
  }

  absl::Status ProcessBatch(Batch& b, const runtime::RowWatermarks&, runtime::Output*) override {
    size_t n = b.num_rows();
    if (n == 0) return absl::OkStatus();
    ProducerTransport* transport = transport_.get();
    if (opt_.delivery == DeliveryGuarantee::kExactlyOnce) {
      if (!txn_) {
        // The transaction of the next checkpoint: a new transactional id, which fences an
        // earlier attempt's producer of that id.
        std::string id = fmt::format("{}-{}-{}", opt_.transactional_id_prefix, info_.index,
                                     last_checkpoint_ + 1);
        if (local_) {
          EDDY_ASSIGN_OR_RETURN(txn_, NewLocalTransactionalProducer(local_, opt_, partitions_, id));
        } else {
          EDDY_ASSIGN_OR_RETURN(txn_, NewRdKafkaTransactionalProducer(opt_, id));
        }
      }
      transport = txn_.get();
    }
    for (size_t r = 0; r < n; ++r) {
      if (!IsAccumulate(b.kinds[r])) {
        return absl::InvalidArgumentError(fmt::format(
            "table '{}': the kafka sink received a retraction ({}); it only takes inserts",
            opt_.table, RowKindName(b.kinds[r])));
      }
      value_.clear();
      key_.clear();
      bool has_key = false;
      if (opt_.value.kind == RecordFormat::Kind::kRaw) {
        const Column& c = b.columns[wpos_[opt_.value_columns[0]]];
        if (!c.IsNull(r)) value_.assign(c.str[r]);
      } else {
        if (value_is_whole_row_) {
          value_enc_->Encode(b, r, &value_);
        } else {
          Project(b, r, opt_.value_columns, &vrow_);
          value_enc_->Encode(vrow_, 0, &value_);
        }
        if (!value_.empty() && value_.back() == '\n') value_.pop_back();
      }
      if (opt_.key.kind == RecordFormat::Kind::kRaw) {
        const Column& c = b.columns[wpos_[opt_.key_columns[0]]];
        if (!c.IsNull(r)) {
          key_.assign(c.str[r]);
          has_key = true;
        }
      } else if (opt_.key.kind != RecordFormat::Kind::kNone) {
        Project(b, r, opt_.key_columns, &krow_);
        key_enc_->Encode(krow_, 0, &key_);
        if (!key_.empty() && key_.back() == '\n') key_.pop_back();
        has_key = true;
      }
      int64_t ts = 0;
      if (ts_col_ >= 0 && !b.columns[ts_col_].IsNull(r)) ts = b.columns[ts_col_].i64[r] / 1000;
      headers_.clear();
      if (headers_col_ >= 0 && !b.columns[headers_col_].IsNull(r)) {
        EDDY_RETURN_IF_ERROR(ParseHeaders(b.columns[headers_col_].str[r]));
      }
      int32_t partition = -1;  // the default partitioner
      if (opt_.partitioner == "fixed") {
        partition = info_.index % partitions_;
      } else if (opt_.partitioner == "round-robin") {
        partition = next_partition_ % partitions_;
        next_partition_ = (next_partition_ + 1) % partitions_;
      }
      EDDY_RETURN_IF_ERROR(transport->Produce(partition, key_, has_key, value_, ts, headers_));
    }
    metrics_->rows_written += static_cast<int64_t>(n);
    return transport->EndOfBatch();
  }

  absl::Status ProcessWatermark(int64_t, runtime::Output*) override { return absl::OkStatus(); }

  absl::Status Finish(runtime::Output*) override {
    // Exactly-once: the final PrepareCommit hands the last transaction over.
    return transport_ ? transport_->Flush() : absl::OkStatus();
  }

  absl::Status PrepareCommit(std::vector<std::string>* out) override {
    switch (opt_.delivery) {
      case DeliveryGuarantee::kNone:
        return absl::OkStatus();
      case DeliveryGuarantee::kAtLeastOnce: {
        // Every record written so far is acknowledged before the checkpoint can complete; the
        // wait for it (an fsync of the local log) runs beside the rows after the barrier.
        EDDY_ASSIGN_OR_RETURN(durable_, transport_->FlushDetached());
        return absl::OkStatus();
      }
      case DeliveryGuarantee::kExactlyOnce:
        break;
    }
    if (txn_) {
      // Pre-commit: the transaction's records are durable; its commit waits for the checkpoint.
      EDDY_RETURN_IF_ERROR(txn_->Flush());
      pending_.emplace_back(0, EncodeCommittable(txn_->transactional_id(), txn_->producer()));
      prepared_->Put(std::move(txn_));
    }
    // Transactions of earlier checkpoints that did not complete go with this one.
    for (const auto& [id, c] : pending_) out->push_back(c);
    return absl::OkStatus();
  }

  std::function<absl::Status()> TakeAsyncPreCommit() override { return std::move(durable_); }

  absl::Status SnapshotState(int64_t checkpoint_id, state::OperatorSnapshot* out) override {
    for (auto& [id, c] : pending_) {
      if (id == 0) id = checkpoint_id;
    }
    last_checkpoint_ = std::max(last_checkpoint_, checkpoint_id);
    state::StateWriter w(&out->operator_state);
    w.PutVarint(1);  // state version
    w.PutInt64(last_checkpoint_);
    return absl::OkStatus();
  }

  absl::Status InitializeState(const state::OperatorRestore& in) override {
    // The transactions of the next checkpoint are numbered after the restored one.
    for (std::string_view s : in.OperatorStates()) {
      state::StateReader r(s);
      uint64_t version = 0;
      int64_t id = 0;
      EDDY_RETURN_IF_ERROR(r.GetVarint(&version));
      if (version != 1) return absl::DataLossError("unknown kafka sink state version");
      EDDY_RETURN_IF_ERROR(r.GetInt64(&id));
      last_checkpoint_ = std::max(last_checkpoint_, id);
    }
    return absl::OkStatus();
  }

  absl::Status NotifyCheckpointComplete(int64_t checkpoint_id) override {
    std::erase_if(pending_,
                  [&](const auto& p) { return p.first != 0 && p.first <= checkpoint_id; });
    return absl::OkStatus();
  }

  absl::Status Close() override {
    // A transaction not handed over (a failed or cancelled job): abort it now rather than let
    // it hold read_committed readers until its timeout.
    if (txn_) {
      absl::Status st = txn_->Abort();
      if (!st.ok()) spdlog::warn("{}", std::string(st.message()));
      txn_.reset();
    }
    return absl::OkStatus();
  }

 private:
  // Row `r` of `b`, columns `cols` (physical indexes), as a one-row batch for an encoder.
  void Project(const Batch& b, size_t r, const std::vector<int>& cols, Batch* out) {
    out->columns.resize(cols.size());
    out->kinds.assign(1, RowKind::kInsert);
    for (size_t i = 0; i < cols.size(); ++i) {
      const Column& src = b.columns[wpos_[cols[i]]];
      Column& dst = out->columns[i];
      dst.type = src.type;
      dst.Clear();
      dst.AppendFrom(src, r);
    }
  }

  // Fills headers_ from a JSON object of strings; the views point into parser_'s document.
  absl::Status ParseHeaders(std::string_view json) {
    simdjson::dom::element doc;
    if (parser_.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
      return absl::InvalidArgumentError(
          fmt::format("table '{}': the 'headers' column must hold a JSON object of strings, not {}",
                      opt_.table, std::string(json.substr(0, 80))));
    }
    for (auto field : doc.get_object()) {
      std::string_view v;
      if (field.value.get_string().get(v) != simdjson::SUCCESS) {
        return absl::InvalidArgumentError(
            fmt::format("table '{}': header '{}' must be a JSON string", opt_.table, field.key));
      }
      headers_.push_back({field.key, v, false});
    }
    return absl::OkStatus();
  }

  KafkaTableOptions opt_;
  Schema schema_;
  // At-least-once: the wait for durability of what PrepareCommit flushed (TakeAsyncPreCommit).
  std::function<absl::Status()> durable_;
  std::vector<int> wpos_;  // physical column → column of the incoming batch, -1 for VIRTUAL
  int32_t partitions_;
  runtime::SubtaskInfo info_;
  std::shared_ptr<SinkMetrics> metrics_;
  std::shared_ptr<LocalTopics> local_;  // set: append to the local log instead of librdkafka
  std::unique_ptr<ProducerTransport> transport_;  // none / at-least-once
  // Exactly-once: the open transaction (null until the first row after a barrier), the
  // pre-committed ones waiting for their checkpoint, and the committables handed over and not
  // yet known to be committed: (checkpoint id, committable), id 0 until the checkpoint is taken.
  std::shared_ptr<PreparedTransactions> prepared_;
  std::unique_ptr<TransactionalProducer> txn_;
  std::vector<std::pair<int64_t, std::string>> pending_;
  int64_t last_checkpoint_ = 0;
  std::unique_ptr<RowEncoder> value_enc_;
  std::unique_ptr<RowEncoder> key_enc_;
  bool value_is_whole_row_ = false;  // the value columns are the batch's columns, in order
  int ts_col_ = -1;
  int headers_col_ = -1;
  int32_t next_partition_ = 0;
  simdjson::dom::parser parser_;
  std::vector<HeaderView> headers_;  // of the current row
  std::string value_, key_;
  Batch vrow_, krow_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<runtime::OneInputOperator>> NewKafkaSinkSubtask(
    KafkaTableOptions options, Schema schema, std::vector<int> writable_of_physical,
    int32_t partitions, runtime::SubtaskInfo info, std::shared_ptr<SinkMetrics> metrics,
    std::unique_ptr<ProducerTransport> transport) {
  if (options.delivery == DeliveryGuarantee::kExactlyOnce) {
    return absl::InvalidArgumentError(
        "NewKafkaSinkSubtask: 'exactly-once' sinks are built by MakeKafkaSink");
  }
  auto sink = std::make_unique<KafkaSink>(
      std::move(options), std::move(schema), std::move(writable_of_physical), partitions, info,
      std::move(metrics), nullptr, nullptr, std::move(transport));
  EDDY_RETURN_IF_ERROR(sink->Connect());
  return std::unique_ptr<runtime::OneInputOperator>(std::move(sink));
}

}  // namespace kafka

absl::StatusOr<SinkPlan> MakeKafkaSink(std::shared_ptr<const TableDef> table, const Schema& schema,
                                       int default_parallelism) {
  using namespace kafka;  // NOLINT
  EDDY_ASSIGN_OR_RETURN(KafkaTableOptions opt, ParseKafkaOptions(*table, 0));
  std::vector<int> wpos(table->physical.fields.size(), -1);
  for (size_t c = 0, w = 0; c < table->physical.fields.size(); ++c) {
    bool virt = c < table->virtual_column.size() && table->virtual_column[c];
    if (virt) continue;  // MakeSink has checked that the others are writable
    wpos[c] = static_cast<int>(w++);
  }
  std::shared_ptr<LocalTopics> local = LocalTopicsFor(opt.bootstrap_servers);
  int32_t partitions = 0;
  if (local) {
    auto n = local->PartitionCount(opt.topic);
    if (absl::IsNotFound(n.status())) {
      return absl::NotFoundError(
          fmt::format("table '{}': {} does not exist (create it with `eddy topic create {}`)",
                      opt.table, Where(opt), opt.topic));
    }
    if (!n.ok()) {
      return absl::UnavailableError(fmt::format("table '{}': {}: {}", opt.table, Where(opt),
                                                std::string(n.status().message())));
    }
    partitions = *n;
  } else {
    EDDY_ASSIGN_OR_RETURN(Client probe, NewClient(RD_KAFKA_PRODUCER, opt, {}));
    EDDY_ASSIGN_OR_RETURN(partitions, PartitionCount(probe.get(), opt, 10'000));
  }
  spdlog::info("table '{}': writing {} ({} partitions) {}", table->name, Where(opt), partitions,
               local ? "to the local log" : "through librdkafka");
  SinkPlan plan;
  plan.parallelism = default_parallelism;
  if (opt.sink_parallelism > 0) plan.parallelism = opt.sink_parallelism;
  auto m = plan.metrics;
  std::shared_ptr<PreparedTransactions> prepared;
  if (opt.delivery == DeliveryGuarantee::kExactlyOnce) {
    prepared = std::make_shared<PreparedTransactions>();
    plan.committer = std::make_shared<KafkaCommitter>(opt, local, prepared);
    plan.requires_checkpoints = true;
  }
  plan.make = [=](const runtime::SubtaskInfo& info)
      -> absl::StatusOr<std::unique_ptr<runtime::StreamOperator>> {
    auto sink =
        std::make_unique<KafkaSink>(opt, schema, wpos, partitions, info, m, local, prepared);
    EDDY_RETURN_IF_ERROR(sink->Connect());
    return std::unique_ptr<runtime::StreamOperator>(std::move(sink));
  };
  const char* guarantee = opt.delivery == DeliveryGuarantee::kExactlyOnce   ? ", exactly-once"
                          : opt.delivery == DeliveryGuarantee::kAtLeastOnce ? ""
                                                                            : ", no guarantee";
  plan.description =
      fmt::format("kafka, {}{}{}", Where(opt), local ? " (local log)" : "", guarantee);
  return plan;
}

}  // namespace eddy::connectors
