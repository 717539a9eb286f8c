// A session's configuration (SET/RESET) and the SET keys every part of eddy shares. Keys used by
// one feature only are declared next to it (e.g. 'table.exec.state.ttl' in engine/job_builder.cc);
// docs/options.md lists them all.
#pragma once

#include <map>
#include <string>

#include "absl/status/status.h"
#include "base/status.h"
#include "catalog/options.h"

namespace eddy {

namespace options {
/// 'parallelism.default': parallel subtasks of sources and keyed operators (Flink's name).
extern const catalog::ConfigOption<int64_t> kParallelism;
/// 'pipeline.max-parallelism': number of key groups (Flink's name).
extern const catalog::ConfigOption<int64_t> kMaxParallelism;
/// 'eddy.batch-size': rows per batch read by a source.
extern const catalog::ConfigOption<int64_t> kBatchSize;
/// 'eddy.worker-threads': threads of the worker pool.
extern const catalog::ConfigOption<int64_t> kWorkerThreads;
/// 'error.policy' (fail | skip | dead-letter), also a table option of sources.
extern const catalog::ConfigOption<std::string> kErrorPolicy;
/// 'error.dead-letter.path', also a table option of sources.
extern const catalog::ConfigOption<std::string> kDeadLetterPath;
/// 'table.exec.source.idle-timeout' (Flink's name): a partition idle this long stops holding back
/// the watermark; zero = never.
extern const catalog::ConfigOption<absl::Duration> kSourceIdleTimeout;
/// 'execution.checkpointing.interval' (Flink's name): a checkpoint this often; zero = none. Read
/// by the engine (the checkpoint coordinator) and the job builder (sources that commit offsets).
extern const catalog::ConfigOption<absl::Duration> kCheckpointInterval;
}  // namespace options

/// The SET values of one session: every SET key of the registry (catalog/options.h), at its
/// default until SET. Values are checked when set, so typed reads cannot fail. Not thread-safe
/// (one session, one thread).
class SessionConfig {
 public:
  SessionConfig();

  /// SET 'key' = 'value'. Errors: InvalidArgument for an unknown key (`*hint`: "did you mean …")
  /// or a value the key does not accept (naming the key and what it accepts); nothing changes.
  absl::Status Set(const std::string& key, const std::string& value, std::string* hint = nullptr);
  /// RESET 'key': back to the default. Errors: InvalidArgument for an unknown key, as Set.
  absl::Status Reset(const std::string& key, std::string* hint = nullptr);
  /// RESET: every key back to its default.
  void ResetAll();

  /// The typed value of `option` (a SET key): the value set, else its default.
  template <typename T>
  T Get(const catalog::ConfigOption<T>& option) const {
    auto v = option.Get(values_);
    EDDY_CHECK(v.ok());
    return *std::move(v);
  }

  /// Every key with its value as text, sorted by key (what `SET;` prints).
  const std::map<std::string, std::string>& values() const { return values_; }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace eddy
