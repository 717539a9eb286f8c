// The 'mqtt' sink: publishes each row as one message (json, csv or raw payload) to an MQTT broker
// (libmosquitto, MQTT 3.1.1), to the table's 'topic' or to a topic built from the row
// ('alerts/{sensor}'), with the table's 'qos' and 'retain'.
//
// Delivery (at least once with QoS 1/2): messages are published from the sink subtask's thread
// and sent by libmosquitto's network thread; the sink keeps the ids of the QoS 1/2 messages the
// broker has not acknowledged yet (PUBACK, or PUBCOMP for QoS 2) and waits until there are none
// at every checkpoint barrier (PrepareCommit) and at the end of input (Finish), so a checkpoint
// never completes with a message that could still be lost. At most 'sink.max-pending-messages'
// are unacknowledged at a time (the sink waits: backpressure). While the broker is away a publish
// waits for the reconnect, and libmosquitto sends the messages that were not acknowledged again
// after it (so a broker restart may duplicate a few, never lose one: tests/integration/mqtt.sh);
// a broker that stays unreachable, or gives no acknowledgement, for 'sink.flush-timeout' fails
// the job, naming the broker and why. QoS 0 messages are not waited for.
#include <fmt/format.h>
#include <mosquitto.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "base/status.h"
#include "base/strings.h"
#include "base/utf8.h"
#include "connectors/connector.h"
#include "connectors/mqtt/mqtt_client.h"
#include "formats/row_encoder.h"

namespace eddy::connectors {

namespace mqtt {
namespace {

// The 'topic' split into literal text and column references: literals.size() ==
// columns.size() + 1.
struct TopicTemplate {
  std::vector<std::string> literals;
  std::vector<int> columns;
};

absl::StatusOr<TopicTemplate> ParseTopicTemplate(const std::string& table, const std::string& topic,
                                                 const Schema& schema) {
  TopicTemplate t;
  t.literals.emplace_back();
  for (size_t i = 0; i < topic.size(); ++i) {
    if (topic[i] != '{') {
      t.literals.back() += topic[i];
      continue;
    }
    size_t close = topic.find('}', i);
    if (close == std::string::npos) {
      return absl::InvalidArgumentError(fmt::format(
          "table '{}': 'topic' has a '{{' without its '}}' at character {}", table, i + 1));
    }
    std::string name = topic.substr(i + 1, close - i - 1);
    int c = schema.IndexOf(name);
    if (c < 0) {
      return absl::InvalidArgumentError(
          fmt::format("table '{}': 'topic' refers to '{{{}}}', which is not a column of the table",
                      table, name));
    }
    t.columns.push_back(c);
    t.literals.emplace_back();
    i = close;
  }
  return t;
}

class MqttSink final : public runtime::OneInputOperator {
 public:
  MqttSink(std::shared_ptr<const MqttOptions> o, TopicTemplate topic, Schema schema,
           runtime::SubtaskInfo info, int parallelism, std::shared_ptr<SinkMetrics> m)
      : o_(std::move(o)),
        topic_(std::move(topic)),
        schema_(std::move(schema)),
        info_(info),
        parallelism_(parallelism),
        metrics_(std::move(m)) {}

  absl::Status Open(runtime::OperatorContext& ctx) override {
    EDDY_RETURN_IF_ERROR(OneInputOperator::Open(ctx));
    if (o_->format == MqttOptions::Format::kJson) {
      EDDY_ASSIGN_OR_RETURN(encoder_, MakeJsonEncoder(schema_, o_->text.json_options));
    } else if (o_->format == MqttOptions::Format::kCsv) {
      EDDY_ASSIGN_OR_RETURN(encoder_, MakeCsvEncoder(schema_, o_->text.csv));
    }
    Connection::Callbacks cb;
    cb.on_publish = [this](int mid) { OnAck(mid); };
    EDDY_ASSIGN_OR_RETURN(
        conn_,
        Connection::Open(o_, ClientId(*o_, "sink", info_.index, parallelism_), {}, std::move(cb)));
    return absl::OkStatus();
  }

  absl::Status Close() override {
    if (conn_) conn_->Close();
    return absl::OkStatus();
  }

  absl::Status ProcessBatch(Batch& b, const runtime::RowWatermarks&, runtime::Output*) override {
    for (size_t r = 0; r < b.num_rows(); ++r) {
      if (b.kinds[r] != RowKind::kInsert && b.kinds[r] != RowKind::kUpdateAfter) {
        return absl::InvalidArgumentError(fmt::format(
            "table '{}': the mqtt sink received a retraction; it only takes inserts", o_->table));
      }
      payload_.clear();
      if (o_->format == MqttOptions::Format::kRaw) {
        const Column& c = b.columns[0];
        if (!c.IsNull(r)) payload_.assign(c.str[r]);
      } else {
        encoder_->Encode(b, r, &payload_);
        if (!payload_.empty() && payload_.back() == '\n') payload_.pop_back();
      }
      EDDY_ASSIGN_OR_RETURN(std::string topic, Topic(b, r));
      EDDY_RETURN_IF_ERROR(Publish(topic));
    }
    return absl::OkStatus();
  }

  absl::Status ProcessWatermark(int64_t, runtime::Output*) override { return absl::OkStatus(); }

  // At a checkpoint barrier: every message published so far is acknowledged before the
  // checkpoint is taken (at least once).
  absl::Status PrepareCommit(std::vector<std::string>*) override { return WaitPending(0); }
  absl::Status Finish(runtime::Output*) override { return WaitPending(0); }

 private:
  absl::StatusOr<std::string> Topic(const Batch& b, size_t r) const {
    const TopicTemplate& t = topic_;
    std::string topic = t.literals[0];
    for (size_t i = 0; i < t.columns.size(); ++i) {
      const Column& c = b.columns[static_cast<size_t>(t.columns[i])];
      if (c.IsNull(r)) {
        return absl::InvalidArgumentError(
            fmt::format("table '{}': the topic column '{}' is NULL in a row", o_->table,
                        schema_.fields[static_cast<size_t>(t.columns[i])].name));
      }
      topic += FormatCell(c, r, "", true);
      topic += t.literals[i + 1];
    }
    return topic;
  }

  void OnAck(int mid) {
    if (o_->qos == 0) return;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (pending_.erase(mid) == 0) early_.insert(mid);
      ++acks_;
    }
    acked_.notify_all();
  }

  std::string Unreachable() const {
    std::string why = conn_->last_error();
    if (why.empty())
      why = conn_->connected() ? "connected, but no acknowledgement" : "not connected";
    return why;
  }

  absl::Status Publish(const std::string& topic) {
    if (o_->qos > 0) EDDY_RETURN_IF_ERROR(WaitPending(o_->max_pending - 1));
    int64_t deadline = SteadyMs() + o_->flush_timeout_ms;
    for (;;) {
      int mid = 0;
      int rc = conn_->Publish(topic, payload_, o_->qos, o_->retain, &mid);
      if (rc == MOSQ_ERR_SUCCESS) {
        if (o_->qos > 0) {
          std::lock_guard<std::mutex> l(mu_);
          if (early_.erase(mid) == 0) pending_.insert(mid);
        }
        metrics_->rows_written++;
        return absl::OkStatus();
      }
      if (rc != MOSQ_ERR_NO_CONN && rc != MOSQ_ERR_CONN_LOST) {
        return absl::InvalidArgumentError(
            fmt::format("table '{}': cannot publish to MQTT topic '{}' at {}: {}", o_->table,
                        EscapeForMessage(topic), o_->uri, mosquitto_strerror(rc)));
      }
      // Not connected: wait for the reconnect, for at most 'sink.flush-timeout'.
      if (SteadyMs() >= deadline) {
        return absl::UnavailableError(fmt::format(
            "table '{}': the MQTT broker {} has been unreachable for 'sink.flush-timeout' ({} "
            "ms): {}",
            o_->table, o_->uri, o_->flush_timeout_ms, Unreachable()));
      }
      if (cancelled()) return absl::CancelledError("job cancelled");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  // Waits until at most `limit` QoS 1/2 messages are unacknowledged. Fails when no
  // acknowledgement arrives for 'sink.flush-timeout'.
  absl::Status WaitPending(int64_t limit) {
    if (o_->qos == 0 || !conn_) return absl::OkStatus();
    std::unique_lock<std::mutex> l(mu_);
    int64_t last_acks = acks_;
    int64_t deadline = SteadyMs() + o_->flush_timeout_ms;
    while (static_cast<int64_t>(pending_.size()) > limit) {
      if (cancelled()) return absl::CancelledError("job cancelled");
      if (acks_ != last_acks) {
        last_acks = acks_;
        deadline = SteadyMs() + o_->flush_timeout_ms;
      }
      if (SteadyMs() >= deadline) {
        size_t n = pending_.size();
        l.unlock();
        return absl::UnavailableError(fmt::format(
            "table '{}': {} MQTT messages were not acknowledged by the broker {} within "
            "'sink.flush-timeout' ({} ms): {}",
            o_->table, n, o_->uri, o_->flush_timeout_ms, Unreachable()));
      }
      acked_.wait_for(l, std::chrono::milliseconds(50));
    }
    return absl::OkStatus();
  }

  std::shared_ptr<const MqttOptions> o_;
  TopicTemplate topic_;
  Schema schema_;
  runtime::SubtaskInfo info_;
  int parallelism_;
  std::shared_ptr<SinkMetrics> metrics_;
  std::unique_ptr<RowEncoder> encoder_;
  std::string payload_;
  std::mutex mu_;
  std::condition_variable acked_;
  std::unordered_set<int> pending_;   // QoS 1/2 message ids not acknowledged yet; guarded by mu_
  std::unordered_set<int> early_;     // acknowledged before Publish returned; guarded by mu_
  int64_t acks_ = 0;                  // guarded by mu_
  std::unique_ptr<Connection> conn_;  // last: its network thread stops before the rest goes
};

}  // namespace
}  // namespace mqtt

absl::StatusOr<SinkPlan> MakeMqttSink(std::shared_ptr<const TableDef> table, const Schema& schema,
                                      int default_parallelism) {
  using namespace mqtt;  // NOLINT
  EDDY_ASSIGN_OR_RETURN(MqttOptions o, ParseMqttOptions(*table, 0));
  EDDY_RETURN_IF_ERROR(CheckSinkTopic(*table, o));
  if (o.format == MqttOptions::Format::kRaw &&
      (schema.fields.size() != 1 || !schema.fields[0].type.is_string())) {
    return absl::InvalidArgumentError(
        fmt::format("table '{}': the 'raw' format writes exactly one STRING column", table->name));
  }
  EDDY_ASSIGN_OR_RETURN(TopicTemplate topic, ParseTopicTemplate(table->name, o.topics[0], schema));
  SinkPlan plan;
  plan.parallelism = o.sink_parallelism > 0 ? o.sink_parallelism : default_parallelism;
  auto opts = std::make_shared<const MqttOptions>(std::move(o));
  auto m = plan.metrics;
  int parallelism = plan.parallelism;
  plan.make = [opts, topic, schema, parallelism, m](const runtime::SubtaskInfo& info)
      -> absl::StatusOr<std::unique_ptr<runtime::StreamOperator>> {
    return std::unique_ptr<runtime::StreamOperator>(
        new MqttSink(opts, topic, schema, info, parallelism, m));
  };
  plan.description = fmt::format("mqtt {} topic '{}' qos {}{}", opts->uri, opts->topics[0],
                                 opts->qos, opts->retain ? " retained" : "");
  return plan;
}

}  // namespace eddy::connectors
