// Load generator for `make bench-broker`: produces fixed-size records to a topic through
// librdkafka, measures throughput and the produce latency of every record (enqueue to delivery
// report), then drains the topic with a consumer. Prints one JSON object on stdout.
//
// Usage: kafka_load BOOTSTRAP TOPIC RECORD_BYTES COUNT ACKS [RATE]
//   ACKS: all | 1; RATE: records/s (0 or absent: as fast as possible).
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// Written by delivery callbacks, which run on the poller thread and inside rd_kafka_flush().
struct Stats {
  std::mutex mu;
  std::vector<double> latency_us;  // per delivered record
  int64_t failed = 0;
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* stats = static_cast<Stats*>(opaque);
  std::lock_guard l(stats->mu);
  if (m->err) {
    stats->failed++;
    return;
  }
  auto sent = reinterpret_cast<intptr_t>(m->_private);
  auto now = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
                 .count();
  stats->latency_us.push_back(static_cast<double>(now - sent));
}

rd_kafka_t* Make(rd_kafka_type_t type, const std::vector<std::pair<std::string, std::string>>& kv,
                 Stats* stats) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  for (const auto& [k, v] : kv) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      std::fprintf(stderr, "kafka_load: %s=%s: %s\n", k.c_str(), v.c_str(), err);
      std::exit(1);
    }
  }
  if (stats) {
    rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
    rd_kafka_conf_set_opaque(conf, stats);
  }
  rd_kafka_t* k = rd_kafka_new(type, conf, err, sizeof(err));
  if (!k) {
    std::fprintf(stderr, "kafka_load: %s\n", err);
    std::exit(1);
  }
  return k;
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: kafka_load BOOTSTRAP TOPIC RECORD_BYTES COUNT ACKS [RATE]\n");
    return 2;
  }
  std::string bootstrap = argv[1], topic = argv[2];
  size_t size = std::strtoul(argv[3], nullptr, 10);
  int64_t count = std::strtoll(argv[4], nullptr, 10);
  std::string acks = argv[5];
  double rate = argc > 6 ? std::strtod(argv[6], nullptr) : 0;

  Stats stats;
  stats.latency_us.reserve(static_cast<size_t>(count));
  rd_kafka_t* p = Make(RD_KAFKA_PRODUCER,
                       {{"bootstrap.servers", bootstrap},
                        {"acks", acks},
                        {"linger.ms", "1"},
                        {"batch.size", "1000000"},
                        {"queue.buffering.max.kbytes", "1048576"},
                        {"compression.type", "none"}},
                       &stats);
  std::string payload(size, 'x');
  for (size_t i = 0; i < size; ++i) payload[i] = static_cast<char>('a' + i % 26);
  // Delivery reports are served as they arrive by their own thread, so a record's latency does
  // not include waiting for the producing loop to poll; the paced loop sleeps rather than spins
  // (on a 2-core box a spinning client takes a core from the broker it measures).
  std::atomic<bool> producing{true};
  std::thread poller([&] {
    while (producing.load(std::memory_order_relaxed)) rd_kafka_poll(p, 5);
  });
  auto start = Clock::now();
  for (int64_t i = 0; i < count; ++i) {
    if (rate > 0) {
      auto due = start + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(static_cast<double>(i) / rate));
      if (Clock::now() < due) std::this_thread::sleep_until(due);
    }
    auto now_us =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
            .count();
    while (rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic.c_str()),
                             RD_KAFKA_V_VALUE(payload.data(), payload.size()),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(now_us)),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  rd_kafka_flush(p, 120000);
  producing = false;
  poller.join();
  double produce_s = std::chrono::duration<double>(Clock::now() - start).count();
  rd_kafka_destroy(p);

  // Drain: read everything back from the beginning.
  rd_kafka_t* c = Make(RD_KAFKA_CONSUMER,
                       {{"bootstrap.servers", bootstrap},
                        {"group.id", "kafka-load-" + topic},
                        {"auto.offset.reset", "earliest"},
                        {"enable.auto.commit", "false"},
                        {"fetch.max.bytes", "52428800"}},
                       nullptr);
  rd_kafka_poll_set_consumer(c);
  rd_kafka_topic_partition_list_t* sub = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(sub, topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(c, sub);
  rd_kafka_topic_partition_list_destroy(sub);
  int64_t got = 0;
  Clock::time_point first{};
  auto deadline = Clock::now() + std::chrono::seconds(120);
  while (got < count && Clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(c, 100);
    if (!m) continue;
    if (!m->err) {
      if (got == 0) first = Clock::now();
      ++got;
    }
    rd_kafka_message_destroy(m);
  }
  double consume_s = got ? std::chrono::duration<double>(Clock::now() - first).count() : 0;
  rd_kafka_consumer_close(c);
  rd_kafka_destroy(c);

  int64_t ok = static_cast<int64_t>(stats.latency_us.size());
  double mb = static_cast<double>(ok) * static_cast<double>(size) / 1e6;
  std::printf(
      "{\"bytes\":%zu,\"count\":%lld,\"acks\":\"%s\",\"rate\":%.0f,\"delivered\":%lld,"
      "\"failed\":%lld,\"produce_s\":%.3f,\"produce_mb_s\":%.1f,\"produce_rec_s\":%.0f,"
      "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"consumed\":%lld,"
      "\"consume_mb_s\":%.1f,\"consume_rec_s\":%.0f}\n",
      size, static_cast<long long>(count), acks.c_str(), rate, static_cast<long long>(ok),
      static_cast<long long>(stats.failed), produce_s, mb / produce_s, ok / produce_s,
      Percentile(stats.latency_us, 0.5) / 1e3, Percentile(stats.latency_us, 0.99) / 1e3,
      Percentile(stats.latency_us, 0.999) / 1e3, static_cast<long long>(got),
      consume_s > 0 ? static_cast<double>(got) * static_cast<double>(size) / 1e6 / consume_s : 0,
      consume_s > 0 ? static_cast<double>(got) / consume_s : 0);
  return stats.failed || got < count ? 1 : 0;
}
