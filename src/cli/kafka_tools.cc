// `eddy topic`, `eddy produce` and `eddy consume`: small Kafka client commands on librdkafka, so
// they work against eddy server and against any Kafka-compatible cluster alike.
#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/secrets.h"
#include "cli/commands.h"
#include "connectors/kafka/client_log.h"

namespace eddy::cli {

namespace {

std::atomic<bool> g_interrupted{false};
void OnInterrupt(int) { g_interrupted = true; }

struct KafkaDeleter {
  void operator()(rd_kafka_t* k) const { rd_kafka_destroy(k); }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaDeleter>;

// A client of `type` for `bootstrap`, with extra `props` (key=value); nullptr and a message on
// stderr when the configuration is refused.
KafkaHandle Connect(rd_kafka_type_t type, const KafkaToolOptions& o,
                    const std::map<std::string, std::string>& extra = {}) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  std::map<std::string, std::string> props = {{"bootstrap.servers", o.bootstrap},
                                              {"client.id", "eddy-cli"}};
  for (const auto& [k, v] : extra) props[k] = v;
  for (const std::string& kv : o.properties) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos) {
      fmt::print(stderr, "eddy: --property '{}' is not key=value\n", kv);
      rd_kafka_conf_destroy(conf);
      return nullptr;
    }
    props[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      fmt::print(stderr, "eddy: client property {}={}: {}\n", k, ShownOptionValue(k, v), err);
      rd_kafka_conf_destroy(conf);
      return nullptr;
    }
  }
  connectors::kafka::RouteClientLogs(conf);
  rd_kafka_t* k = rd_kafka_new(type, conf, err, sizeof(err));
  if (!k) {
    fmt::print(stderr, "eddy: cannot create a Kafka client: {}\n", err);
    return nullptr;
  }
  return KafkaHandle(k);
}

// Waits for one admin result event on `queue`.
rd_kafka_event_t* WaitAdmin(rd_kafka_queue_t* queue, int timeout_ms) {
  return rd_kafka_queue_poll(queue, timeout_ms);
}

int TopicCreate(const KafkaToolOptions& o) {
  auto k = Connect(RD_KAFKA_PRODUCER, o);
  if (!k) return 1;
  char err[512];
  rd_kafka_NewTopic_t* nt =
      rd_kafka_NewTopic_new(o.topic.c_str(), o.partitions, 1, err, sizeof(err));
  if (!nt) {
    fmt::print(stderr, "eddy topic create: {}\n", err);
    return 1;
  }
  for (const std::string& kv : o.configs) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos) {
      fmt::print(stderr, "eddy topic create: --config '{}' is not key=value\n", kv);
      rd_kafka_NewTopic_destroy(nt);
      return 1;
    }
    rd_kafka_NewTopic_set_config(nt, kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str());
  }
  rd_kafka_queue_t* q = rd_kafka_queue_new(k.get());
  rd_kafka_CreateTopics(k.get(), &nt, 1, nullptr, q);
  rd_kafka_event_t* ev = WaitAdmin(q, o.timeout_ms);
  int rc = 1;
  if (!ev) {
    fmt::print(stderr, "eddy topic create: no answer from {} within {} ms\n", o.bootstrap,
               o.timeout_ms);
  } else if (rd_kafka_event_error(ev)) {
    fmt::print(stderr, "eddy topic create: {}\n", rd_kafka_event_error_string(ev));
  } else {
    size_t n;
    const rd_kafka_topic_result_t** res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    if (n == 1 && rd_kafka_topic_result_error(res[0]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      fmt::print(stderr, "eddy topic create: topic '{}': {}\n", o.topic,
                 rd_kafka_topic_result_error_string(res[0]));
    } else {
      fmt::print("created topic '{}' with {} partition(s)\n", o.topic, o.partitions);
      rc = 0;
    }
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_NewTopic_destroy(nt);
  rd_kafka_queue_destroy(q);
  return rc;
}

int TopicDelete(const KafkaToolOptions& o) {
  auto k = Connect(RD_KAFKA_PRODUCER, o);
  if (!k) return 1;
  rd_kafka_DeleteTopic_t* dt = rd_kafka_DeleteTopic_new(o.topic.c_str());
  rd_kafka_queue_t* q = rd_kafka_queue_new(k.get());
  rd_kafka_DeleteTopics(k.get(), &dt, 1, nullptr, q);
  rd_kafka_event_t* ev = WaitAdmin(q, o.timeout_ms);
  int rc = 1;
  if (!ev) {
    fmt::print(stderr, "eddy topic delete: no answer from {} within {} ms\n", o.bootstrap,
               o.timeout_ms);
  } else if (rd_kafka_event_error(ev)) {
    fmt::print(stderr, "eddy topic delete: {}\n", rd_kafka_event_error_string(ev));
  } else {
    size_t n;
    const rd_kafka_topic_result_t** res =
        rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
    if (n == 1 && rd_kafka_topic_result_error(res[0]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      fmt::print(stderr, "eddy topic delete: topic '{}': {}\n", o.topic,
                 rd_kafka_topic_result_error_string(res[0]));
    } else {
      fmt::print("deleted topic '{}'\n", o.topic);
      rc = 0;
    }
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_DeleteTopic_destroy(dt);
  rd_kafka_queue_destroy(q);
  return rc;
}

// `list` (one topic per line) and `describe` (partitions with their offsets).
int TopicListOrDescribe(const KafkaToolOptions& o, bool describe) {
  auto k = Connect(RD_KAFKA_PRODUCER, o);
  if (!k) return 1;
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t e = rd_kafka_metadata(k.get(), 1, nullptr, &md, o.timeout_ms);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    fmt::print(stderr, "eddy topic {}: cannot read metadata from {}: {}\n",
               describe ? "describe" : "list", o.bootstrap, rd_kafka_err2str(e));
    return 1;
  }
  std::vector<const rd_kafka_metadata_topic_t*> topics;
  for (int i = 0; i < md->topic_cnt; ++i) topics.push_back(&md->topics[i]);
  std::sort(topics.begin(), topics.end(),
            [](auto* a, auto* b) { return std::string(a->topic) < std::string(b->topic); });
  int rc = 0;
  bool found = false;
  for (const auto* t : topics) {
    if (!describe) {
      if (std::string(t->topic).rfind("__", 0) == 0) continue;
      fmt::print("{}\n", t->topic);
      continue;
    }
    if (o.topic != t->topic) continue;
    found = true;
    fmt::print("topic '{}': {} partition(s)\n", t->topic, t->partition_cnt);
    for (int p = 0; p < t->partition_cnt; ++p) {
      int64_t lo = -1, hi = -1;
      rd_kafka_query_watermark_offsets(k.get(), t->topic, t->partitions[p].id, &lo, &hi,
                                       o.timeout_ms);
      fmt::print(
          "  partition {}: leader {}, log start offset {}, high watermark {} ({} messages)\n",
          t->partitions[p].id, t->partitions[p].leader, lo, hi, hi >= lo ? hi - lo : 0);
    }
  }
  if (describe && !found) {
    fmt::print(stderr, "eddy topic describe: no topic '{}' on {}\n", o.topic, o.bootstrap);
    rc = 1;
  }
  rd_kafka_metadata_destroy(md);
  return rc;
}

}  // namespace

int RunTopic(const std::string& action, const KafkaToolOptions& o) {
  if (action == "create") return TopicCreate(o);
  if (action == "delete") return TopicDelete(o);
  if (action == "list") return TopicListOrDescribe(o, false);
  if (action == "describe") return TopicListOrDescribe(o, true);
  fmt::print(stderr, "eddy topic: unknown action '{}' (create, list, describe, delete)\n", action);
  return 1;
}

int RunProduce(const KafkaToolOptions& o) {
  std::atomic<int64_t> failed{0};
  std::string first_error;
  auto k = Connect(RD_KAFKA_PRODUCER, o, {{"acks", o.acks}});
  if (!k) return 1;
  // The topic first (a server with auto.create.topics.enable creates it now): librdkafka would
  // otherwise hold the messages of a missing topic until the flush times out.
  {
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_topic_t* t = rd_kafka_topic_new(k.get(), o.topic.c_str(), nullptr);
    rd_kafka_resp_err_t e = rd_kafka_metadata(k.get(), 0, t, &md, o.timeout_ms);
    rd_kafka_topic_destroy(t);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1) e = md->topics[0].err;
    if (md) rd_kafka_metadata_destroy(md);
    if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      fmt::print(stderr,
                 "eddy produce: topic '{}' does not exist on {} and the server does not create "
                 "topics on first use (create it with `eddy topic create {}`)\n",
                 o.topic, o.bootstrap, o.topic);
      return 1;
    }
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      fmt::print(stderr, "eddy produce: topic '{}' on {}: {}\n", o.topic, o.bootstrap,
                 rd_kafka_err2str(e));
      return 1;
    }
  }
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
  std::string line;
  int64_t sent = 0;
  auto start = std::chrono::steady_clock::now();
  auto last_report = start;
  bool tty = isatty(fileno(stderr));
  while (!g_interrupted && std::getline(std::cin, line)) {
    if (o.rate > 0) {
      // Pace: message n leaves at start + n / rate.
      auto due = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                             std::chrono::duration<double>(sent / o.rate));
      while (std::chrono::steady_clock::now() < due) {
        rd_kafka_poll(k.get(), 1);
      }
    }
    auto now = std::chrono::steady_clock::now();
    if (tty && now - last_report >= std::chrono::seconds(1)) {
      last_report = now;
      double secs = std::chrono::duration<double>(now - start).count();
      fmt::print(stderr, "\r\033[Keddy produce: {} messages, {:.0f}/s", sent, sent / secs);
    }
    std::string key, value = line;
    bool has_key = false;
    if (!o.key_separator.empty()) {
      size_t pos = line.find(o.key_separator);
      if (pos != std::string::npos) {
        key = line.substr(0, pos);
        value = line.substr(pos + o.key_separator.size());
        has_key = true;
      }
    }
    while (true) {
      rd_kafka_resp_err_t e = rd_kafka_producev(
          k.get(), RD_KAFKA_V_TOPIC(o.topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
          RD_KAFKA_V_KEY(has_key ? key.data() : nullptr, has_key ? key.size() : 0),
          RD_KAFKA_V_PARTITION(o.partition >= 0 ? o.partition : RD_KAFKA_PARTITION_UA),
          RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(k.get(), 50);
        continue;
      }
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fmt::print(stderr, "eddy produce: {}\n", rd_kafka_err2str(e));
        return 1;
      }
      break;
    }
    ++sent;
    rd_kafka_poll(k.get(), 0);
  }
  rd_kafka_resp_err_t e = rd_kafka_flush(k.get(), o.timeout_ms);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    fmt::print(stderr, "eddy produce: {} message(s) not delivered within {} ms: {}\n",
               rd_kafka_outq_len(k.get()), o.timeout_ms, rd_kafka_err2str(e));
    return 1;
  }
  if (tty) fmt::print(stderr, "\r\033[K");
  fmt::print(stderr, "eddy produce: {} message(s) written to '{}'\n", sent, o.topic);
  return 0;
}

int RunConsume(const KafkaToolOptions& o) {
  std::map<std::string, std::string> props = {
      {"enable.partition.eof", "true"},
      {"auto.offset.reset", o.from_beginning ? "earliest" : "latest"},
  };
  bool grouped = !o.group.empty();
  if (grouped) {
    props["group.id"] = o.group;
  } else {
    props["group.id"] = "eddy-cli-ungrouped";  // required by librdkafka; never committed
    props["enable.auto.commit"] = "false";
  }
  auto k = Connect(RD_KAFKA_CONSUMER, o, props);
  if (!k) return 1;
  rd_kafka_poll_set_consumer(k.get());
  // Without a group: assign every partition explicitly from the start or the end.
  int partitions = 0;
  if (grouped) {
    rd_kafka_topic_partition_list_t* sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, o.topic.c_str(), RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(k.get(), sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      fmt::print(stderr, "eddy consume: {}\n", rd_kafka_err2str(e));
      return 1;
    }
  } else {
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_topic_t* t = rd_kafka_topic_new(k.get(), o.topic.c_str(), nullptr);
    rd_kafka_resp_err_t e = rd_kafka_metadata(k.get(), 0, t, &md, o.timeout_ms);
    rd_kafka_topic_destroy(t);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 || md->topics[0].err) {
      fmt::print(stderr, "eddy consume: no topic '{}' on {}\n", o.topic, o.bootstrap);
      if (md) rd_kafka_metadata_destroy(md);
      return 1;
    }
    partitions = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; ++p) {
      rd_kafka_topic_partition_list_add(list, o.topic.c_str(), p)->offset =
          o.from_beginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
    }
    rd_kafka_assign(k.get(), list);
    rd_kafka_topic_partition_list_destroy(list);
  }
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
  int64_t count = 0;
  std::map<int32_t, bool> at_end;
  while (!g_interrupted) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(k.get(), 200);
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      at_end[m->partition] = true;
      rd_kafka_message_destroy(m);
      // --exit-at-end: stop once every partition reached its end.
      if (o.exit_at_end && partitions > 0 && static_cast<int>(at_end.size()) == partitions) break;
      if (o.exit_at_end && grouped) {
        rd_kafka_topic_partition_list_t* asg = nullptr;
        if (rd_kafka_assignment(k.get(), &asg) == RD_KAFKA_RESP_ERR_NO_ERROR && asg) {
          bool all = asg->cnt > 0;
          for (int i = 0; i < asg->cnt; ++i) all = all && at_end.count(asg->elems[i].partition);
          rd_kafka_topic_partition_list_destroy(asg);
          if (all) break;
        }
      }
      continue;
    }
    if (m->err) {
      fmt::print(stderr, "eddy consume: {}\n", rd_kafka_message_errstr(m));
      bool fatal = m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                   m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
      rd_kafka_message_destroy(m);
      if (fatal) return 1;
      continue;
    }
    at_end.erase(m->partition);
    std::string value(static_cast<const char*>(m->payload ? m->payload : ""), m->len);
    if (o.print_keys) {
      std::string key(static_cast<const char*>(m->key ? m->key : ""), m->key_len);
      fmt::print("{}{}{}\n", key, o.key_separator.empty() ? "\t" : o.key_separator, value);
    } else {
      fmt::print("{}\n", value);
    }
    rd_kafka_message_destroy(m);
    if (o.max_messages > 0 && ++count >= o.max_messages) break;
  }
  std::fflush(stdout);
  rd_kafka_consumer_close(k.get());
  return 0;
}

}  // namespace eddy::cli
