#include "engine/catalog.h"

#include <thread>

namespace eddy {

const std::map<std::string, std::string>& SessionConfig::Defaults() {
  static const std::map<std::string, std::string> kDefaults = {
      {"parallelism.default", std::to_string(std::max(1u, std::thread::hardware_concurrency()))},
      {"pipeline.max-parallelism", "128"},
      {"eddy.batch-size", "1024"},
      {"eddy.worker-threads", std::to_string(std::max(1u, std::thread::hardware_concurrency()))},
      {"table.exec.late-rows.sink", ""},
      {"error.policy", "fail"},
      {"error.dead-letter.path", ""},
      {"sql-client.execution.result-mode", "tableau"},
      {"table.local-time-zone", "UTC"},
      {"table.exec.source.idle-timeout", "0 ms"},
      {"eddy.cep.max-partial-matches", "10000"},
      {"table.exec.state.ttl", "0 ms"},
      {"table.exec.state.max-bytes", "0"},
      {"execution.checkpointing.interval", "0 ms"},
      {"execution.checkpointing.dir", ""},
      {"execution.checkpointing.num-retained", "1"},
      {"execution.checkpointing.timeout", "10 min"},
      {"execution.savepoint.path", ""},
      {"execution.savepoint.ignore-unclaimed-state", "false"},
      {"state.backend.type", "hashmap"},
      {"pipeline.name", ""},
      {"restart-strategy.type", "fixed-delay"},
      {"restart-strategy.fixed-delay.attempts", "2147483647"},
      {"restart-strategy.fixed-delay.delay", "1 s"},
      {"restart-strategy.exponential-delay.initial-backoff", "1 s"},
      {"restart-strategy.exponential-delay.max-backoff", "1 min"},
      {"restart-strategy.exponential-delay.backoff-multiplier", "2.0"},
      {"restart-strategy.exponential-delay.attempts-before-reset-backoff", "2147483647"},
  };
  return kDefaults;
}

SessionConfig::SessionConfig() { values_ = Defaults(); }

void SessionConfig::Reset(const std::string& key) {
  auto it = Defaults().find(key);
  if (it == Defaults().end())
    values_.erase(key);
  else
    values_[key] = it->second;
}

void SessionConfig::ResetAll() { values_ = Defaults(); }

std::string SessionConfig::Get(const std::string& key) const {
  auto it = values_.find(key);
  return it == values_.end() ? "" : it->second;
}

int64_t SessionConfig::GetInt(const std::string& key) const {
  try {
    return std::stoll(Get(key));
  } catch (...) {
    return 0;
  }
}

}  // namespace eddy
