#include "connectors/kafka/kafka_table.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/secrets.h"
#include "base/status.h"
#include "base/strings.h"
#include "catalog/options.h"
#include "connectors/kafka/client_log.h"

namespace eddy::connectors::kafka {

namespace {

// The 'kafka' connector's options (Flink's Kafka connector, docs/connectors/table/kafka).
const auto kTopic = catalog::TableOption({"kafka"}, "topic")
                        .String()
                        .Required()
                        .Doc("The topic to read or write (one topic).");
const auto kBootstrapServers =
    catalog::TableOption({"kafka"}, "properties.bootstrap.servers")
        .String()
        .Required()
        .Doc("host:port[,…] of the Kafka brokers (eddy server's own listener: its log directly).");
const auto kGroupId =
    catalog::TableOption({"kafka"}, "properties.group.id")
        .String()
        .Doc(
            "Consumer group whose committed offsets 'group-offsets' reads; the source commits "
            "under it the offsets of each completed checkpoint (without checkpoints: those it "
            "has read, every 5 s) and at the end of a bounded scan.");
const auto kAutoOffsetReset =
    catalog::TableOption({"kafka"}, "properties.auto.offset.reset")
        .Enum({"earliest", "latest", "none"})
        .Doc(
            "Where 'group-offsets' starts a partition without a committed offset ('none' or "
            "unset: the scan fails, naming the partition).");
const auto kProperties =
    catalog::TableOption({"kafka"}, "properties.")
        .Prefix()
        .Doc(
            "Passed to librdkafka as they are, without the prefix (not used on eddy server's "
            "local log).");
const std::vector<std::string> kStartModes = {"earliest-offset", "latest-offset", "group-offsets",
                                              "timestamp", "specific-offsets"};
const auto kStartupMode =
    catalog::TableOption({"kafka"}, "scan.startup.mode")
        .Enum("group-offsets", kStartModes)
        .Doc(
            "Where the scan starts ('group-offsets' needs 'properties.group.id'; 'timestamp' and "
            "'specific-offsets' need the options below).");
const auto kStartupTimestamp =
    catalog::TableOption({"kafka"}, "scan.startup.timestamp-millis")
        .Int()
        .Min(0)
        .Doc(
            "'timestamp' mode: start at the first record at or after this time (ms since the "
            "epoch).");
const auto kStartupOffsets =
    catalog::TableOption({"kafka"}, "scan.startup.specific-offsets")
        .String()
        .Doc(
            "'specific-offsets' mode: 'partition:0,offset:42;partition:1,offset:300' "
            "(unlisted partitions start at the earliest offset).");
const auto kBoundedMode =
    catalog::TableOption({"kafka"}, "scan.bounded.mode")
        .Enum("unbounded",
              {"unbounded", "latest-offset", "group-offsets", "timestamp", "specific-offsets"})
        .Doc(
            "Where a bounded scan ends ('latest-offset': the end offsets when the job starts); a "
            "bounded scan ends, which fires every window.");
const auto kBoundedTimestamp =
    catalog::TableOption({"kafka"}, "scan.bounded.timestamp-millis")
        .Int()
        .Min(0)
        .Doc("'timestamp' bounded mode: read the records before this time (ms since the epoch).");
const auto kBoundedOffsets =
    catalog::TableOption({"kafka"}, "scan.bounded.specific-offsets")
        .String()
        .Doc("'specific-offsets' bounded mode: the offsets to stop at, as for the start.");
const auto kIdleTimeout =
    catalog::TableOption({"kafka"}, "scan.watermark.idle-timeout")
        .Duration()
        .Min(absl::ZeroDuration())
        .DefaultDoc("'table.exec.source.idle-timeout'")
        .Doc("A partition without records for this long stops holding back the watermark.");
const std::vector<std::string> kFormats = {"json", "csv", "raw"};
const auto kFormat =
    catalog::TableOption({"kafka"}, "format")
        .Enum(kFormats)
        .Doc(
            "The value format ('raw': the whole value as one STRING column); this or "
            "'value.format' is required.");
const auto kValueFormat =
    catalog::TableOption({"kafka"}, "value.format")
        .Enum(kFormats)
        .Doc("The value format, with its options after 'value.' ('value.json.…').");
const auto kKeyFormat =
    catalog::TableOption({"kafka"}, "key.format")
        .Enum(kFormats)
        .Doc("The key format, with its options after 'key.'; needs 'key.fields'.");
const auto kKeyFields = catalog::TableOption({"kafka"}, "key.fields")
                            .String()
                            .Doc("The physical columns of the record key, separated by ';'.");
const auto kValueFieldsInclude =
    catalog::TableOption({"kafka"}, "value.fields-include")
        .Enum("ALL", {"ALL", "EXCEPT_KEY"})
        .Doc("Whether the value holds every physical column or all but the key fields.");
const auto kSinkPartitioner =
    catalog::TableOption({"kafka"}, "sink.partitioner")
        .Enum("default", {"default", "fixed", "round-robin"})
        .Doc(
            "'default': murmur2 of the key as Kafka's Java clients (keyless records spread by "
            "librdkafka); 'fixed': subtask i writes partition i mod N; 'round-robin'.");
const auto kSinkParallelism = catalog::TableOption({"kafka"}, "sink.parallelism")
                                  .Int()
                                  .Range(1, 1 << 20)
                                  .DefaultDoc("'parallelism.default'")
                                  .Doc("Sink subtasks.");
const auto kDeliveryGuarantee =
    catalog::TableOption({"kafka"}, "sink.delivery-guarantee")
        .Enum("at-least-once", {"exactly-once", "at-least-once", "none"})
        .Doc(
            "'at-least-once': every record is acknowledged at each checkpoint and at the end; "
            "'exactly-once': a Kafka transaction per checkpoint, committed when the checkpoint "
            "completes (needs checkpoints and 'sink.transactional-id-prefix'); 'none': nothing "
            "is waited for at checkpoints.");
const auto kTransactionalIdPrefix =
    catalog::TableOption({"kafka"}, "sink.transactional-id-prefix")
        .String()
        .Doc(
            "'exactly-once': the prefix of the sink's Kafka transactional ids "
            "('<prefix>-<subtask>-<checkpoint>'), unique to the job among the cluster's "
            "producers.");
const auto kIsolationLevel =
    catalog::TableOption({"kafka"}, "properties.isolation.level")
        .Enum("read_uncommitted", {"read_committed", "read_uncommitted"})
        .Doc(
            "'read_committed': read only committed transactions, up to the last stable offset "
            "(records of aborted transactions are skipped).");
const auto kTransactionTimeout =
    catalog::TableOption({"kafka"}, "properties.transaction.timeout.ms")
        .Int(900000)
        .Range(1, INT32_MAX)
        .Doc(
            "'exactly-once' sinks: the broker aborts a transaction open longer than this (ms); "
            "a job down longer loses the output of its last checkpoint.");

absl::Status Bad(const TableDef& t, const std::string& msg) {
  return absl::InvalidArgumentError(fmt::format("table '{}': {}", t.name, msg));
}

// The typed value of `o` in `t`'s options (or its default); errors name the table.
template <typename T>
absl::StatusOr<T> Value(const TableDef& t, const catalog::ConfigOption<T>& o) {
  auto v = o.Get(t.options);
  if (!v.ok()) return Bad(t, std::string(v.status().message()));
  return *std::move(v);
}

absl::StatusOr<int64_t> Millis(const TableDef& t, const catalog::ConfigOption<int64_t>& o) {
  if (!t.options.count(o.key())) {
    return Bad(t, fmt::format("'{}' is required by the chosen mode", o.key()));
  }
  return Value(t, o);
}

// 'partition:0,offset:42;partition:1,offset:300' (Flink's specific-offsets syntax).
absl::StatusOr<std::map<int32_t, int64_t>> SpecificOffsets(
    const TableDef& t, const catalog::ConfigOption<std::string>& o) {
  const std::string& key = o.key();
  std::string v = t.Option(key);
  if (v.empty()) return Bad(t, fmt::format("'{}' is required by 'specific-offsets'", key));
  std::map<int32_t, int64_t> out;
  size_t pos = 0;
  while (pos <= v.size()) {
    size_t end = v.find(';', pos);
    if (end == std::string::npos) end = v.size();
    std::string part = v.substr(pos, end - pos);
    long long p = -1, o = -1;
    int used = 0;
    if (std::sscanf(part.c_str(), "partition:%lld,offset:%lld%n", &p, &o, &used) != 2 ||
        used != static_cast<int>(part.size()) || p < 0 || o < 0 || p > INT32_MAX) {
      return Bad(t, fmt::format("'{}': '{}' is not 'partition:<n>,offset:<n>'", key, part));
    }
    out[static_cast<int32_t>(p)] = o;
    pos = end + 1;
  }
  return out;
}

absl::StatusOr<OffsetSpec> Mode(const TableDef& t, const catalog::ConfigOption<std::string>& o) {
  EDDY_ASSIGN_OR_RETURN(std::string v, Value(t, o));
  if (v == "unbounded") return OffsetSpec::kNone;
  if (v == "earliest-offset") return OffsetSpec::kEarliest;
  if (v == "latest-offset") return OffsetSpec::kLatest;
  if (v == "group-offsets") return OffsetSpec::kGroupOffsets;
  if (v == "timestamp") return OffsetSpec::kTimestamp;
  return OffsetSpec::kSpecificOffsets;
}

absl::StatusOr<RecordFormat> Format(const TableDef& t, const catalog::ConfigOption<std::string>& o,
                                    const std::string& prefix) {
  RecordFormat f;
  if (!t.options.count(o.key())) return f;
  EDDY_ASSIGN_OR_RETURN(std::string v, Value(t, o));
  if (v == "raw") {
    f.kind = RecordFormat::Kind::kRaw;
    return f;
  }
  f.kind = v == "json" ? RecordFormat::Kind::kJson : RecordFormat::Kind::kCsv;
  EDDY_ASSIGN_OR_RETURN(f.text, ParseTextFormatOptions(t, v, prefix));
  return f;
}

int ColumnIndex(const TableDef& t, const std::string& name) {
  for (size_t i = 0; i < t.physical.fields.size(); ++i) {
    if (ToLower(t.physical.fields[i].name) == ToLower(name)) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

absl::StatusOr<KafkaTableOptions> ParseKafkaOptions(const TableDef& t,
                                                    int64_t session_idle_timeout_ms) {
  KafkaTableOptions o;
  o.table = t.name;
  EDDY_ASSIGN_OR_RETURN(o.topic, Value(t, kTopic));
  if (o.topic.empty()) return Bad(t, "the kafka connector needs a 'topic' option");
  if (o.topic.find(';') != std::string::npos) {
    return Bad(t, "'topic' names one topic here (a list of topics is not supported)");
  }
  EDDY_ASSIGN_OR_RETURN(o.bootstrap_servers, Value(t, kBootstrapServers));
  if (o.bootstrap_servers.empty()) {
    return Bad(t, "the kafka connector needs 'properties.bootstrap.servers' (host:port,…)");
  }
  o.group_id = t.Option(kGroupId.key());
  if (t.options.count(kAutoOffsetReset.key())) {
    EDDY_ASSIGN_OR_RETURN(o.auto_offset_reset, Value(t, kAutoOffsetReset));
    if (o.auto_offset_reset == "none") o.auto_offset_reset.clear();
  }
  for (const auto& [k, v] : t.options) {
    if (k.rfind(kProperties.key(), 0) != 0) continue;
    if (k == kBootstrapServers.key() || k == kGroupId.key() || k == kAutoOffsetReset.key() ||
        k == kIsolationLevel.key() || k == kTransactionTimeout.key()) {
      continue;  // set by the connector itself (the timeout on transactional producers only)
    }
    o.client_properties.emplace_back(k.substr(kProperties.key().size()), v);
  }
  EDDY_ASSIGN_OR_RETURN(o.startup, Mode(t, kStartupMode));
  if (o.startup == OffsetSpec::kTimestamp) {
    EDDY_ASSIGN_OR_RETURN(o.startup_timestamp_ms, Millis(t, kStartupTimestamp));
  }
  if (o.startup == OffsetSpec::kSpecificOffsets) {
    EDDY_ASSIGN_OR_RETURN(o.startup_offsets, SpecificOffsets(t, kStartupOffsets));
  }
  if (o.startup == OffsetSpec::kGroupOffsets && o.group_id.empty() &&
      t.options.count(kStartupMode.key())) {
    return Bad(t, "'scan.startup.mode' = 'group-offsets' needs 'properties.group.id'");
  }
  EDDY_ASSIGN_OR_RETURN(o.bounded, Mode(t, kBoundedMode));
  if (o.bounded == OffsetSpec::kTimestamp) {
    EDDY_ASSIGN_OR_RETURN(o.bounded_timestamp_ms, Millis(t, kBoundedTimestamp));
  }
  if (o.bounded == OffsetSpec::kSpecificOffsets) {
    EDDY_ASSIGN_OR_RETURN(o.bounded_offsets, SpecificOffsets(t, kBoundedOffsets));
  }
  if (o.bounded == OffsetSpec::kGroupOffsets && o.group_id.empty()) {
    return Bad(t, "'scan.bounded.mode' = 'group-offsets' needs 'properties.group.id'");
  }
  // Value format: 'format' or 'value.format' (with 'value.'-prefixed format options).
  if (t.options.count(kFormat.key()) && t.options.count(kValueFormat.key())) {
    return Bad(t, "set either 'format' or 'value.format', not both");
  }
  if (t.options.count(kValueFormat.key())) {
    EDDY_ASSIGN_OR_RETURN(o.value, Format(t, kValueFormat, "value."));
  } else {
    EDDY_ASSIGN_OR_RETURN(o.value, Format(t, kFormat, ""));
  }
  if (o.value.kind == RecordFormat::Kind::kNone) {
    return Bad(t, "the kafka connector needs 'format' (or 'value.format'): json, csv or raw");
  }
  EDDY_ASSIGN_OR_RETURN(o.key, Format(t, kKeyFormat, "key."));
  o.metadata = t.metadata;
  o.metadata.resize(t.physical.fields.size());
  std::string kf = t.Option(kKeyFields.key());
  if (!kf.empty()) {
    if (o.key.kind == RecordFormat::Kind::kNone) {
      return Bad(t, "'key.fields' needs 'key.format'");
    }
    size_t pos = 0;
    while (pos <= kf.size()) {
      size_t end = kf.find(';', pos);
      if (end == std::string::npos) end = kf.size();
      std::string name = kf.substr(pos, end - pos);
      int c = ColumnIndex(t, name);
      if (c < 0 || !o.metadata[c].empty()) {
        return Bad(t, fmt::format("'key.fields' names '{}', which is not a physical column", name));
      }
      o.key_columns.push_back(c);
      pos = end + 1;
    }
  } else if (o.key.kind != RecordFormat::Kind::kNone) {
    return Bad(t, "'key.format' needs 'key.fields' (the columns of the key, separated by ';')");
  }
  EDDY_ASSIGN_OR_RETURN(std::string include, Value(t, kValueFieldsInclude));
  for (size_t i = 0; i < t.physical.fields.size(); ++i) {
    if (!o.metadata[i].empty()) continue;
    bool is_key = std::find(o.key_columns.begin(), o.key_columns.end(), static_cast<int>(i)) !=
                  o.key_columns.end();
    if (is_key && include == "EXCEPT_KEY") continue;
    o.value_columns.push_back(static_cast<int>(i));
  }
  auto raw_ok = [&](const RecordFormat& f, const std::vector<int>& cols, const char* what) {
    if (f.kind != RecordFormat::Kind::kRaw) return absl::OkStatus();
    if (cols.size() != 1 || !t.physical.fields[cols[0]].type.is_string()) {
      return Bad(t, fmt::format("the 'raw' {} format needs exactly one STRING column", what));
    }
    return absl::OkStatus();
  };
  EDDY_RETURN_IF_ERROR(raw_ok(o.value, o.value_columns, "value"));
  EDDY_RETURN_IF_ERROR(raw_ok(o.key, o.key_columns, "key"));
  EDDY_ASSIGN_OR_RETURN(o.partitioner, Value(t, kSinkPartitioner));
  EDDY_ASSIGN_OR_RETURN(std::optional<int64_t> sp, kSinkParallelism.Find(t.options));
  o.sink_parallelism = sp.value_or(0);
  EDDY_ASSIGN_OR_RETURN(o.max_record_bytes, ParseMaxRecordSize(t));
  EDDY_ASSIGN_OR_RETURN(std::string isolation, Value(t, kIsolationLevel));
  o.read_committed = isolation == "read_committed";
  EDDY_ASSIGN_OR_RETURN(int64_t txn_timeout, Value(t, kTransactionTimeout));
  o.transaction_timeout_ms = static_cast<int32_t>(txn_timeout);
  EDDY_ASSIGN_OR_RETURN(std::string guarantee, Value(t, kDeliveryGuarantee));
  o.delivery = guarantee == "exactly-once"    ? DeliveryGuarantee::kExactlyOnce
               : guarantee == "at-least-once" ? DeliveryGuarantee::kAtLeastOnce
                                              : DeliveryGuarantee::kNone;
  o.transactional_id_prefix = t.Option(kTransactionalIdPrefix.key());
  if (o.delivery == DeliveryGuarantee::kExactlyOnce && o.transactional_id_prefix.empty()) {
    return Bad(t,
               "'sink.delivery-guarantee' = 'exactly-once' needs 'sink.transactional-id-prefix' "
               "(a prefix of the Kafka transactional ids, unique to this job)");
  }
  o.idle_timeout_ms = session_idle_timeout_ms;
  EDDY_ASSIGN_OR_RETURN(std::optional<absl::Duration> idle, kIdleTimeout.Find(t.options));
  if (idle) o.idle_timeout_ms = absl::ToInt64Milliseconds(*idle);
  return o;
}

void ClientDeleter::operator()(rd_kafka_t* rk) const {
  if (rk) rd_kafka_destroy(rk);
}

absl::StatusOr<Client> NewClient(rd_kafka_type_t type, const KafkaTableOptions& o,
                                 const std::vector<std::pair<std::string, std::string>>& extra,
                                 const std::function<void(rd_kafka_conf_t*)>& tweak) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  auto set = [&](const std::string& k, const std::string& v) -> absl::Status {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      return absl::InvalidArgumentError(
          fmt::format("table '{}': Kafka client property '{}' = '{}': {}", o.table, k,
                      ShownOptionValue(k, v), err));
    }
    return absl::OkStatus();
  };
  absl::Status st = set("bootstrap.servers", o.bootstrap_servers);
  if (st.ok()) st = set("client.id", "eddy");
  for (const auto& [k, v] : o.client_properties) {
    if (st.ok()) st = set(k, v);
  }
  for (const auto& [k, v] : extra) {
    if (st.ok()) st = set(k, v);
  }
  if (!st.ok()) {
    rd_kafka_conf_destroy(conf);
    return st;
  }
  RouteClientLogs(conf);
  if (tweak) tweak(conf);
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof(err));
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(
        fmt::format("table '{}': cannot create a Kafka client: {}", o.table, err));
  }
  return Client(rk);
}

absl::StatusOr<int32_t> PartitionCount(rd_kafka_t* rk, const KafkaTableOptions& o, int timeout_ms) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, o.topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
  rd_kafka_topic_destroy(rkt);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(fmt::format("table '{}': cannot read the metadata of {}: {}",
                                              o.table, Where(o), rd_kafka_err2str(e)));
  }
  int32_t n = 0;
  rd_kafka_resp_err_t terr = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
  for (int i = 0; i < md->topic_cnt; ++i) {
    if (o.topic == md->topics[i].topic) {
      terr = md->topics[i].err;
      n = md->topics[i].partition_cnt;
    }
  }
  rd_kafka_metadata_destroy(md);
  if (terr == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || (terr == 0 && n == 0)) {
    return absl::NotFoundError(
        fmt::format("table '{}': {} does not exist (create it with `eddy topic create {}`)",
                    o.table, Where(o), o.topic));
  }
  if (terr != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(
        fmt::format("table '{}': {}: {}", o.table, Where(o), rd_kafka_err2str(terr)));
  }
  return n;
}

std::string Where(const KafkaTableOptions& o) {
  return fmt::format("topic '{}' at {}", o.topic, o.bootstrap_servers);
}

absl::StatusOr<std::unique_ptr<RowDecoder>> MakeDecoder(const RecordFormat& format,
                                                        const Schema& schema) {
  if (format.kind == RecordFormat::Kind::kJson) {
    return MakeJsonDecoder(schema, format.text.json_options);
  }
  return MakeCsvDecoder(schema, format.text.csv);
}

absl::StatusOr<std::unique_ptr<RowEncoder>> MakeEncoder(const RecordFormat& format,
                                                        const Schema& schema) {
  if (format.kind == RecordFormat::Kind::kJson) {
    return MakeJsonEncoder(schema, format.text.json_options);
  }
  return MakeCsvEncoder(schema, format.text.csv);
}

std::string HeadersToJson(const std::vector<HeaderView>& headers) {
  std::map<std::string_view, std::string_view> kv;
  for (const HeaderView& h : headers) kv[h.key] = h.is_null ? std::string_view() : h.value;
  std::string out = "{";
  for (const auto& [k, v] : kv) {
    if (out.size() > 1) out += ',';
    out += JsonQuote(k);
    out += ':';
    out += JsonQuote(v);
  }
  out += '}';
  return out;
}

}  // namespace eddy::connectors::kafka
