#include "connectors/kafka/local_topics.h"

#include <mutex>

namespace eddy::connectors::kafka {

namespace {

std::mutex& RegistryMutex() {
  static std::mutex mu;
  return mu;
}

std::shared_ptr<LocalTopics>& Registered() {
  static std::shared_ptr<LocalTopics> topics;
  return topics;
}

}  // namespace

void SetLocalTopics(std::shared_ptr<LocalTopics> topics) {
  std::lock_guard<std::mutex> l(RegistryMutex());
  Registered() = std::move(topics);
}

std::shared_ptr<LocalTopics> LocalTopicsFor(const std::string& bootstrap_servers) {
  std::shared_ptr<LocalTopics> t;
  {
    std::lock_guard<std::mutex> l(RegistryMutex());
    t = Registered();
  }
  if (t && t->Serves(bootstrap_servers)) return t;
  return nullptr;
}

}  // namespace eddy::connectors::kafka
