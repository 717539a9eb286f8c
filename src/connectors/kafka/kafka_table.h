// The 'kafka' connector of Flink SQL (docs/connectors/table/kafka): options, formats and the
// librdkafka client handles shared by the source and the sink. Internal to src/connectors/.
#pragma once

#include <librdkafka/rdkafka.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/table.h"
#include "connectors/filesystem/options.h"
#include "connectors/kafka/local_topics.h"
#include "formats/row_decoder.h"
#include "formats/row_encoder.h"

namespace eddy::connectors::kafka {

/// The format of a record's key or value: Flink's 'csv', 'json' or 'raw' (the bytes as one
/// STRING column).
struct RecordFormat {
  enum class Kind { kNone, kCsv, kJson, kRaw };
  Kind kind = Kind::kNone;
  FileFormatOptions text;  // csv.* / json.* options (with the 'key.'/'value.' prefix when given)
};

/// Where a scan starts (Flink 'scan.startup.mode') or ends ('scan.bounded.mode').
enum class OffsetSpec {
  kNone,            // bounded mode only: unbounded (the default)
  kEarliest,        // 'earliest-offset'
  kLatest,          // 'latest-offset' (the high watermark when the job starts)
  kGroupOffsets,    // 'group-offsets': the offsets committed by 'properties.group.id'
  kTimestamp,       // 'timestamp': the first offset whose timestamp is >= the given ms
  kSpecificOffsets  // 'specific-offsets': 'partition:0,offset:42;partition:1,offset:300'
};

/// Flink's 'sink.delivery-guarantee'.
enum class DeliveryGuarantee {
  kNone,         // 'none': nothing is waited for at checkpoints (records may be lost)
  kAtLeastOnce,  // 'at-least-once': every record acknowledged before a checkpoint completes
  kExactlyOnce,  // 'exactly-once': a Kafka transaction per checkpoint, committed when it completes
};

/// Parsed options of a kafka table. Column indexes refer to the table's physical columns.
struct KafkaTableOptions {
  std::string table;
  std::string topic;
  std::string bootstrap_servers;  // 'properties.bootstrap.servers'
  std::string group_id;           // 'properties.group.id' ("" when not set)
  /// Other 'properties.*' options, without the prefix, passed to librdkafka as they are.
  std::vector<std::pair<std::string, std::string>> client_properties;
  OffsetSpec startup = OffsetSpec::kGroupOffsets;  // Flink's default
  int64_t startup_timestamp_ms = 0;
  std::map<int32_t, int64_t> startup_offsets;
  OffsetSpec bounded = OffsetSpec::kNone;
  int64_t bounded_timestamp_ms = 0;
  std::map<int32_t, int64_t> bounded_offsets;
  /// 'properties.auto.offset.reset' for group-offsets without a committed offset: "earliest",
  /// "latest", or "" (Flink's default 'none': the scan fails, naming the partition).
  std::string auto_offset_reset;
  RecordFormat value;
  RecordFormat key;
  std::vector<int> key_columns;         // 'key.fields', in the order given
  std::vector<int> value_columns;       // data columns in the value ('value.fields-include')
  std::vector<std::string> metadata;    // per physical column: metadata key or ""
  std::string partitioner = "default";  // 'sink.partitioner': default | fixed | round-robin
  int64_t idle_timeout_ms = 0;          // 'scan.watermark.idle-timeout', else the session's
  /// 'source.max-record-size' (eddy): a record whose key or value is longer is a bad row.
  size_t max_record_bytes = kDefaultMaxRecordBytes;
  int sink_parallelism = 0;  // 'sink.parallelism', 0 when not set
  /// 'properties.isolation.level' = 'read_committed' (default read_uncommitted, as Kafka's and
  /// Flink's consumers): read only committed transactions, up to the last stable offset.
  bool read_committed = false;
  /// 'sink.delivery-guarantee' (Flink's option; default at-least-once).
  DeliveryGuarantee delivery = DeliveryGuarantee::kAtLeastOnce;
  /// 'sink.transactional-id-prefix': transactional ids are '<prefix>-<subtask>-<n>'.
  std::string transactional_id_prefix;
  /// 'properties.transaction.timeout.ms' (ms) of exactly-once sinks; default 900000 (15 min,
  /// Kafka's transaction.max.timeout.ms).
  int32_t transaction_timeout_ms = 900000;
};

/// Reads the WITH options of a kafka table. `session_idle_timeout_ms` is
/// 'table.exec.source.idle-timeout'. Errors: InvalidArgument naming the option and the value.
absl::StatusOr<KafkaTableOptions> ParseKafkaOptions(const TableDef& t,
                                                    int64_t session_idle_timeout_ms);

/// Owns a librdkafka client handle (rd_kafka_destroy on destruction).
struct ClientDeleter {
  void operator()(rd_kafka_t* rk) const;
};
using Client = std::unique_ptr<rd_kafka_t, ClientDeleter>;

/// A librdkafka producer or consumer for `o` ('bootstrap.servers', the client properties, then
/// `extra` which wins). Errors: InvalidArgument naming a rejected property.
/// `tweak`, when set, is applied to the configuration last (callbacks, opaque).
absl::StatusOr<Client> NewClient(rd_kafka_type_t type, const KafkaTableOptions& o,
                                 const std::vector<std::pair<std::string, std::string>>& extra,
                                 const std::function<void(rd_kafka_conf_t*)>& tweak = nullptr);

/// The number of partitions of the topic (Kafka protocol: Metadata). Errors: NotFound when the
/// topic does not exist, Unavailable when the cluster cannot be reached within `timeout_ms`.
absl::StatusOr<int32_t> PartitionCount(rd_kafka_t* rk, const KafkaTableOptions& o, int timeout_ms);

/// "topic 'x' at localhost:9092" for messages.
std::string Where(const KafkaTableOptions& o);

/// A text decoder (csv/json) for `schema` in `format`. Errors as MakeCsvDecoder/MakeJsonDecoder.
absl::StatusOr<std::unique_ptr<RowDecoder>> MakeDecoder(const RecordFormat& format,
                                                        const Schema& schema);
/// A text encoder (csv/json) for `schema` in `format`.
absl::StatusOr<std::unique_ptr<RowEncoder>> MakeEncoder(const RecordFormat& format,
                                                        const Schema& schema);

/// Headers as a JSON object {"name":"value",…} (values as UTF-8 text, a null value as ""; a name
/// repeated keeps the last value), the representation of the 'headers' metadata column.
std::string HeadersToJson(const std::vector<HeaderView>& headers);

}  // namespace eddy::connectors::kafka
