#include "connectors/kafka/kafka_table.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/status.h"
#include "base/strings.h"
#include "connectors/kafka/client_log.h"

namespace eddy::connectors::kafka {

namespace {

absl::Status Bad(const TableDef& t, const std::string& msg) {
  return absl::InvalidArgumentError(fmt::format("table '{}': {}", t.name, msg));
}

absl::StatusOr<int64_t> Millis(const TableDef& t, const std::string& key) {
  std::string v = t.Option(key);
  if (v.empty()) return Bad(t, fmt::format("'{}' is required by the chosen mode", key));
  try {
    size_t used = 0;
    int64_t n = std::stoll(v, &used);
    if (used == v.size()) return n;
  } catch (...) {
  }
  return Bad(t, fmt::format("'{}' must be milliseconds since the epoch, not '{}'", key, v));
}

// 'partition:0,offset:42;partition:1,offset:300' (Flink's specific-offsets syntax).
absl::StatusOr<std::map<int32_t, int64_t>> SpecificOffsets(const TableDef& t,
                                                           const std::string& key) {
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

absl::StatusOr<OffsetSpec> Mode(const TableDef& t, const std::string& key, bool bounded) {
  std::string v = t.Option(key);
  if (v.empty()) return bounded ? OffsetSpec::kNone : OffsetSpec::kGroupOffsets;
  if (bounded && v == "unbounded") return OffsetSpec::kNone;
  if (!bounded && v == "earliest-offset") return OffsetSpec::kEarliest;
  if (v == "latest-offset") return OffsetSpec::kLatest;
  if (v == "group-offsets") return OffsetSpec::kGroupOffsets;
  if (v == "timestamp") return OffsetSpec::kTimestamp;
  if (v == "specific-offsets") return OffsetSpec::kSpecificOffsets;
  return Bad(t, fmt::format("'{}' must be one of {}, not '{}'", key,
                            bounded ? "'unbounded', 'latest-offset', 'group-offsets', "
                                      "'timestamp', 'specific-offsets'"
                                    : "'earliest-offset', 'latest-offset', 'group-offsets', "
                                      "'timestamp', 'specific-offsets'",
                            v));
}

absl::StatusOr<RecordFormat> Format(const TableDef& t, const std::string& key,
                                    const std::string& prefix) {
  RecordFormat f;
  std::string v = t.Option(key);
  if (v.empty()) return f;
  if (v == "raw") {
    f.kind = RecordFormat::Kind::kRaw;
    return f;
  }
  if (v != "csv" && v != "json") {
    return Bad(
        t, fmt::format("'{}' = '{}' is not supported (eddy reads 'json', 'csv', 'raw')", key, v));
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
  o.topic = t.Option("topic");
  if (o.topic.empty()) return Bad(t, "the kafka connector needs a 'topic' option");
  if (o.topic.find(';') != std::string::npos) {
    return Bad(t, "'topic' names one topic here (a list of topics is not supported)");
  }
  o.bootstrap_servers = t.Option("properties.bootstrap.servers");
  if (o.bootstrap_servers.empty()) {
    return Bad(t, "the kafka connector needs 'properties.bootstrap.servers' (host:port,…)");
  }
  o.group_id = t.Option("properties.group.id");
  for (const auto& [k, v] : t.options) {
    if (k.rfind("properties.", 0) != 0) continue;
    std::string name = k.substr(strlen("properties."));
    if (name == "bootstrap.servers" || name == "group.id") continue;
    if (name == "auto.offset.reset") {
      if (v != "earliest" && v != "latest" && v != "none") {
        return Bad(
            t, fmt::format(
                   "'properties.auto.offset.reset' must be earliest, latest or none, not '{}'", v));
      }
      o.auto_offset_reset = v == "none" ? "" : v;
      continue;
    }
    o.client_properties.emplace_back(name, v);
  }
  EDDY_ASSIGN_OR_RETURN(o.startup, Mode(t, "scan.startup.mode", false));
  if (o.startup == OffsetSpec::kTimestamp) {
    EDDY_ASSIGN_OR_RETURN(o.startup_timestamp_ms, Millis(t, "scan.startup.timestamp-millis"));
  }
  if (o.startup == OffsetSpec::kSpecificOffsets) {
    EDDY_ASSIGN_OR_RETURN(o.startup_offsets, SpecificOffsets(t, "scan.startup.specific-offsets"));
  }
  if (o.startup == OffsetSpec::kGroupOffsets && o.group_id.empty() &&
      t.options.count("scan.startup.mode")) {
    return Bad(t, "'scan.startup.mode' = 'group-offsets' needs 'properties.group.id'");
  }
  EDDY_ASSIGN_OR_RETURN(o.bounded, Mode(t, "scan.bounded.mode", true));
  if (o.bounded == OffsetSpec::kTimestamp) {
    EDDY_ASSIGN_OR_RETURN(o.bounded_timestamp_ms, Millis(t, "scan.bounded.timestamp-millis"));
  }
  if (o.bounded == OffsetSpec::kSpecificOffsets) {
    EDDY_ASSIGN_OR_RETURN(o.bounded_offsets, SpecificOffsets(t, "scan.bounded.specific-offsets"));
  }
  if (o.bounded == OffsetSpec::kGroupOffsets && o.group_id.empty()) {
    return Bad(t, "'scan.bounded.mode' = 'group-offsets' needs 'properties.group.id'");
  }
  // Value format: 'format' or 'value.format' (with 'value.'-prefixed format options).
  if (t.options.count("format") && t.options.count("value.format")) {
    return Bad(t, "set either 'format' or 'value.format', not both");
  }
  if (t.options.count("value.format")) {
    EDDY_ASSIGN_OR_RETURN(o.value, Format(t, "value.format", "value."));
  } else {
    EDDY_ASSIGN_OR_RETURN(o.value, Format(t, "format", ""));
  }
  if (o.value.kind == RecordFormat::Kind::kNone) {
    return Bad(t, "the kafka connector needs 'format' (or 'value.format'): json, csv or raw");
  }
  EDDY_ASSIGN_OR_RETURN(o.key, Format(t, "key.format", "key."));
  o.metadata = t.metadata;
  o.metadata.resize(t.physical.fields.size());
  std::string kf = t.Option("key.fields");
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
  std::string include = t.Option("value.fields-include", "ALL");
  if (include != "ALL" && include != "EXCEPT_KEY") {
    return Bad(t,
               fmt::format("'value.fields-include' must be ALL or EXCEPT_KEY, not '{}'", include));
  }
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
  o.partitioner = t.Option("sink.partitioner", "default");
  if (o.partitioner != "default" && o.partitioner != "fixed" && o.partitioner != "round-robin") {
    return Bad(
        t, fmt::format("'sink.partitioner' must be 'default', 'fixed' or 'round-robin', not '{}'",
                       o.partitioner));
  }
  EDDY_ASSIGN_OR_RETURN(o.max_record_bytes, ParseMaxRecordSize(t));
  o.idle_timeout_ms = session_idle_timeout_ms;
  if (t.options.count("scan.watermark.idle-timeout")) {
    o.idle_timeout_ms = ParseDurationMs(t.Option("scan.watermark.idle-timeout"));
    if (o.idle_timeout_ms < 0) {
      return Bad(t, fmt::format("'scan.watermark.idle-timeout' must be a duration such as '5 s', "
                                "not '{}'",
                                t.Option("scan.watermark.idle-timeout")));
    }
  }
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
          fmt::format("table '{}': Kafka client property '{}' = '{}': {}", o.table, k, v, err));
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
