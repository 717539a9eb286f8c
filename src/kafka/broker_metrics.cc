#include "kafka/broker_metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "kafka/messages.h"

namespace eddy::kafka {

BrokerMetrics& BrokerMetrics::Get() {
  static BrokerMetrics* m = new BrokerMetrics();  // never destroyed: used until exit
  return *m;
}

void BrokerMetrics::ObserveRequest(int16_t api_key, int64_t ns) {
  if (api_key < 0 || api_key >= kMaxApiKey) return;
  Histogram* h = request_ptrs_[api_key].load(std::memory_order_acquire);
  if (!h) {
    std::lock_guard<std::mutex> l(mu_);
    if (!requests_[api_key]) requests_[api_key] = std::make_unique<Histogram>();
    h = requests_[api_key].get();
    request_ptrs_[api_key].store(h, std::memory_order_release);
  }
  h->ObserveNs(ns);
}

BrokerMetrics::TopicCounters* BrokerMetrics::Topic(const std::string& topic) {
  std::lock_guard<std::mutex> l(mu_);
  auto& t = topics_[topic];
  if (!t) t = std::make_unique<TopicCounters>();
  return t.get();
}

void BrokerMetrics::Produced(const std::string& topic, int64_t records, int64_t bytes) {
  TopicCounters* t = Topic(topic);
  t->records_in.fetch_add(records, std::memory_order_relaxed);
  t->bytes_in.fetch_add(bytes, std::memory_order_relaxed);
}

void BrokerMetrics::Fetched(const std::string& topic, int64_t records, int64_t bytes) {
  if (records == 0 && bytes == 0) return;
  TopicCounters* t = Topic(topic);
  t->records_out.fetch_add(records, std::memory_order_relaxed);
  t->bytes_out.fetch_add(bytes, std::memory_order_relaxed);
}

void BrokerMetrics::AppendPrometheus(std::string* out,
                                     std::string (*escape)(const std::string&)) const {
  std::vector<std::pair<std::string, const Histogram*>> apis;
  for (int k = 0; k < kMaxApiKey; ++k) {
    const Histogram* h = request_ptrs_[k].load(std::memory_order_acquire);
    if (!h) continue;
    const char* name = ApiName(static_cast<int16_t>(k));
    apis.emplace_back(name ? name : fmt::format("ApiKey{}", k), h);
  }
  *out += "# HELP eddy_kafka_requests_total Kafka requests answered, by API.\n";
  *out += "# TYPE eddy_kafka_requests_total counter\n";
  for (const auto& [name, h] : apis) {
    *out +=
        fmt::format("eddy_kafka_requests_total{{api=\"{}\"}} {}\n", escape(name), h->Read().count);
  }
  *out +=
      "# HELP eddy_kafka_request_duration_seconds Time from reading a Kafka request to its "
      "answer, by API.\n";
  *out += "# TYPE eddy_kafka_request_duration_seconds histogram\n";
  for (const auto& [name, h] : apis) {
    h->AppendPrometheus("eddy_kafka_request_duration_seconds",
                        fmt::format("api=\"{}\"", escape(name)), out);
  }
  *out += "# HELP eddy_kafka_connections Open Kafka client connections.\n";
  *out += "# TYPE eddy_kafka_connections gauge\n";
  *out += fmt::format("eddy_kafka_connections {}\n", connections_.load(std::memory_order_relaxed));
  std::vector<std::pair<std::string, const TopicCounters*>> topics;
  {
    std::lock_guard<std::mutex> l(const_cast<std::mutex&>(mu_));
    for (const auto& [name, t] : topics_) topics.emplace_back(name, t.get());
  }
  std::sort(topics.begin(), topics.end());
  struct Family {
    const char* name;
    const char* help;
    std::atomic<int64_t> TopicCounters::*field;
  };
  for (const Family& f : {
           Family{"eddy_kafka_topic_bytes_in_total",
                  "Bytes of record batches appended to a topic by Produce.",
                  &TopicCounters::bytes_in},
           Family{"eddy_kafka_topic_records_in_total", "Records appended to a topic by Produce.",
                  &TopicCounters::records_in},
           Family{"eddy_kafka_topic_bytes_out_total",
                  "Bytes of record batches of a topic returned by Fetch.",
                  &TopicCounters::bytes_out},
           Family{"eddy_kafka_topic_records_out_total", "Records of a topic returned by Fetch.",
                  &TopicCounters::records_out},
       }) {
    *out += fmt::format("# HELP {} {}\n# TYPE {} counter\n", f.name, f.help, f.name);
    for (const auto& [name, t] : topics) {
      *out += fmt::format("{}{{topic=\"{}\"}} {}\n", f.name, escape(name),
                          (t->*f.field).load(std::memory_order_relaxed));
    }
  }
}

}  // namespace eddy::kafka
