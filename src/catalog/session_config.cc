#include "catalog/session_config.h"

#include <thread>

namespace eddy {

namespace {
int64_t Cores() { return std::max(1u, std::thread::hardware_concurrency()); }
}  // namespace

namespace options {

const catalog::ConfigOption<int64_t> kParallelism =
    catalog::SessionOption("parallelism.default")
        .Int(Cores())
        .Range(1, 1 << 20)
        .DefaultDoc("number of hardware threads")
        .Doc("Parallel subtasks of sources and keyed operators; results do not depend on it.");

const catalog::ConfigOption<int64_t> kMaxParallelism =
    catalog::SessionOption("pipeline.max-parallelism")
        .Int(128)
        .Range(1, 1 << 20)
        .Doc("Number of key groups that keys hash to; keyed state is stored per key group.");

const catalog::ConfigOption<int64_t> kBatchSize = catalog::SessionOption("eddy.batch-size")
                                                      .Int(1024)
                                                      .Range(1, 1 << 20)
                                                      .Doc("Rows per batch read by a source.");

const catalog::ConfigOption<int64_t> kWorkerThreads =
    catalog::SessionOption("eddy.worker-threads")
        .Int(Cores())
        .Range(1, 1 << 20)
        .DefaultDoc("number of hardware threads")
        .Doc(
            "Threads of the worker pool that runs every subtask of a job; 1 runs a whole job on "
            "one core, and parallelism above the thread count is allowed (subtasks take turns).");

const catalog::ConfigOption<std::string> kErrorPolicy =
    catalog::SessionOption("error.policy")
        .Enum("fail", {"fail", "skip", "dead-letter"})
        .AlsoTableOption({"filesystem", "kafka", "mqtt"})
        .Doc(
            "What a source does with a bad row: fail the job naming its position, skip and count "
            "it, or append it to the dead-letter file; a table's option overrides the SET key.");

const catalog::ConfigOption<std::string> kDeadLetterPath =
    catalog::SessionOption("error.dead-letter.path")
        .String("")
        .AlsoTableOption({"filesystem", "kafka", "mqtt"})
        .Doc(
            "The file bad rows are appended to (JSON Lines) under 'error.policy' = "
            "'dead-letter'; a table's option overrides the SET key.");

const catalog::ConfigOption<absl::Duration> kSourceIdleTimeout =
    catalog::SessionOption("table.exec.source.idle-timeout")
        .Duration("0 ms")
        .Min(absl::ZeroDuration())
        .Doc(
            "A source partition without records for this long stops holding back the watermark "
            "(0 ms = never); a kafka table's 'scan.watermark.idle-timeout' overrides it.");

const catalog::ConfigOption<absl::Duration> kCheckpointInterval =
    catalog::SessionOption("execution.checkpointing.interval")
        .Duration("0 ms")
        .Min(absl::ZeroDuration())
        .Doc(
            "A checkpoint of the job's state this often (needs 'execution.checkpointing.dir'); "
            "0 ms = none, and sinks commit at the end of the job.");

}  // namespace options

// Keys accepted for Flink scripts that change nothing in eddy (registered, never read).
namespace {

[[maybe_unused]] const auto kLocalTimeZone =
    catalog::SessionOption("table.local-time-zone")
        .String("UTC")
        .Doc("Accepted and shown, but no effect: the session time zone is always UTC.");

[[maybe_unused]] const auto kResultMode =
    catalog::SessionOption("sql-client.execution.result-mode")
        .Enum("tableau", {"tableau", "table", "changelog"})
        .Doc(
            "How `eddy sql` shows a SELECT's result, as Flink's SQL client: 'tableau' (rows as "
            "they arrive), 'changelog' (each change with its kind), 'table' (the result table, "
            "updated in place on a terminal). No effect in `eddy run` (its '--format' chooses).");

[[maybe_unused]] const auto kRuntimeMode =
    catalog::SessionOption("execution.runtime-mode")
        .Enum("streaming", {"streaming", "batch", "automatic"})
        .Doc(
            "Accepted for Flink scripts, no effect: eddy reads bounded sources to their end and "
            "unbounded ones until the job is cancelled, whatever the mode.");

}  // namespace

SessionConfig::SessionConfig() { ResetAll(); }

absl::Status SessionConfig::Set(const std::string& key, const std::string& value,
                                std::string* hint) {
  EDDY_RETURN_IF_ERROR(catalog::CheckSetting(key, value, hint));
  values_[key] = value;
  return absl::OkStatus();
}

absl::Status SessionConfig::Reset(const std::string& key, std::string* hint) {
  catalog::OptionSpecPtr spec = catalog::FindSessionOption(key);
  if (!spec) {
    // The same error as SET with an unknown key.
    absl::Status st = catalog::CheckSetting(key, "", hint);
    return st.ok() ? absl::InternalError("unknown key passed the check") : st;
  }
  values_[key] = spec->default_value.value_or("");
  return absl::OkStatus();
}

void SessionConfig::ResetAll() {
  values_.clear();
  for (const auto& o : catalog::SessionOptions()) values_[o->key] = o->default_value.value_or("");
}

}  // namespace eddy
