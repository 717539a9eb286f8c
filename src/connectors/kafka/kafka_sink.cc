// The 'kafka' sink (Flink SQL Kafka connector, write side) over librdkafka, or, inside
// `eddy server` for a table whose bootstrap servers name the server, appending record batches to
// its log directly (transport.h). Both transports get the same records from the code below.
//
// Each sink subtask owns a producer. A record's value holds the value columns in 'format'; its
// key the 'key.fields' in 'key.format' (no key otherwise); a non-VIRTUAL 'timestamp' metadata
// column sets the record timestamp and a 'headers' column (a JSON object of strings) the
// headers. Partitions: 'default' hashes the key with murmur2 as Kafka's Java clients do (records
// without a key are spread by librdkafka), 'fixed' sends subtask i to partition i mod N,
// 'round-robin' cycles through the partitions. At the end of the job every record is flushed and
// acknowledged (librdkafka's default acks=all; on the local log: appended and fsynced) before the
// job reports success; a delivery failure fails the job (Flink: 'sink.delivery-guarantee' =
// 'at-least-once').
#include "connectors/kafka/kafka_sink.h"

#include <fmt/format.h>
#include <simdjson.h>

#include "base/log.h"
#include "base/status.h"
#include "connectors/connector.h"
#include "connectors/kafka/kafka_table.h"
#include "connectors/kafka/transport.h"

namespace eddy::connectors {

namespace kafka {
namespace {

class KafkaSink final : public runtime::OneInputOperator {
 public:
  // `transport`: the one to write through; null: the local log when `local` is set, else
  // librdkafka (created by Open).
  KafkaSink(KafkaTableOptions opt, Schema schema, std::vector<int> writable_of_physical,
            int32_t partitions, runtime::SubtaskInfo info, std::shared_ptr<SinkMetrics> m,
            std::shared_ptr<LocalTopics> local,
            std::unique_ptr<ProducerTransport> transport = nullptr)
      : opt_(std::move(opt)),
        schema_(std::move(schema)),
        wpos_(std::move(writable_of_physical)),
        partitions_(partitions),
        info_(info),
        metrics_(std::move(m)),
        local_(std::move(local)),
        transport_(std::move(transport)) {}

  absl::Status Open() {
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
    if (!transport_ && local_) {
      transport_ = NewLocalProducer(local_, opt_, partitions_);
    } else if (!transport_) {
      EDDY_ASSIGN_OR_RETURN(transport_, NewRdKafkaProducer(opt_));
    }
    next_partition_ = info_.index;
    return absl::OkStatus();
  }

  absl::Status ProcessBatch(Batch& b, const runtime::RowWatermarks&, runtime::Output*) override {
    size_t n = b.num_rows();
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
      EDDY_RETURN_IF_ERROR(transport_->Produce(partition, key_, has_key, value_, ts, headers_));
    }
    metrics_->rows_written += static_cast<int64_t>(n);
    return transport_->EndOfBatch();
  }

  absl::Status ProcessWatermark(int64_t, runtime::Output*) override { return absl::OkStatus(); }

  absl::Status Finish(runtime::Output*) override { return transport_->Flush(); }

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
  std::vector<int> wpos_;  // physical column → column of the incoming batch, -1 for VIRTUAL
  int32_t partitions_;
  runtime::SubtaskInfo info_;
  std::shared_ptr<SinkMetrics> metrics_;
  std::shared_ptr<LocalTopics> local_;  // set: append to the local log instead of librdkafka
  std::unique_ptr<ProducerTransport> transport_;
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
  auto sink = std::make_unique<KafkaSink>(std::move(options), std::move(schema),
                                          std::move(writable_of_physical), partitions, info,
                                          std::move(metrics), nullptr, std::move(transport));
  EDDY_RETURN_IF_ERROR(sink->Open());
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
  plan.make = [=](const runtime::SubtaskInfo& info)
      -> absl::StatusOr<std::unique_ptr<runtime::StreamOperator>> {
    auto sink = std::make_unique<KafkaSink>(opt, schema, wpos, partitions, info, m, local);
    EDDY_RETURN_IF_ERROR(sink->Open());
    return std::unique_ptr<runtime::StreamOperator>(std::move(sink));
  };
  plan.description = fmt::format("kafka, {}{}", Where(opt), local ? " (local log)" : "");
  return plan;
}

}  // namespace eddy::connectors
