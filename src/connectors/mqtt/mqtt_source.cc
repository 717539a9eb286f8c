// The 'mqtt' source: subscribes to topic filters of an MQTT broker (libmosquitto, MQTT 3.1.1) and
// decodes each message's payload (json, csv or raw) into one row.
//
// Threads and backpressure: each source subtask has one client connection; libmosquitto's
// network thread (mosquitto_loop_start) receives the messages and appends them to a queue bounded
// in messages ('scan.queue.max-messages') and payload bytes ('scan.queue.max-bytes'). NextStep
// drains up to a batch of it without ever waiting. When the queue is full the network thread
// waits for room, so it stops reading the socket: TCP flow control then holds the broker back,
// which queues the messages of this client (mosquitto: up to its 'max_queued_messages' per
// client, beyond which it drops QoS 1/2 messages of that client). While it waits the client sends
// no keep-alive ping either; a job held back for longer than 1.5 × 'keep-alive' is disconnected by
// the broker and reconnects (with a persistent session, nothing is lost).
//
// Parallelism: with one subtask it subscribes to the filters as they are; with several, subtask i
// subscribes to '$share/<scan.shared-group>/<filter>' (MQTT 5 shared subscriptions, which
// mosquitto 2.0 also grants to MQTT 3.1.1 clients) and the broker spreads messages over them.
//
// Event time: a WATERMARK on a payload field (bounded out-of-orderness per subtask), or the
// 'timestamp' metadata column (the arrival time). A subtask without messages for the idle
// timeout is idle (Flink: WatermarkStatus.IDLE). 'scan.bounded.idle-timeout' ends a subtask
// after that long without a message, which fires every window (eddy's bounded mode).
//
// Delivery: the broker's QoS with the client. libmosquitto acknowledges a QoS 1/2 message when it
// has received it, before the job has processed it; so across a reconnect (a broker restart, a
// network cut) with 'clean-session' = 'false' and a fixed 'client-id' nothing is lost (the broker
// keeps the session and queues what was published meanwhile), but messages in the queue when
// eddy itself crashes are lost: the source keeps no position in checkpoints (MQTT has none).
#include <fmt/format.h>
#include <mosquitto.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>

#include "base/log.h"
#include "base/status.h"
#include "connectors/connector.h"
#include "connectors/dead_letter.h"
#include "connectors/mqtt/mqtt_client.h"

namespace eddy::connectors {

namespace mqtt {
namespace {

// A gap between two steps longer than this is a pause (backpressure), not time without messages.
constexpr int64_t kPollPauseMs = 50;

int64_t WallUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One message as received.
struct Received {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retain = false;
  int mid = 0;
  int64_t arrival_us = 0;  // wall clock, µs since the epoch
};

// The queue between the network thread (Push) and the subtask (PopUpTo), bounded in messages and
// payload bytes (a single message larger than the byte bound is let in when the queue is empty).
// Thread-safe.
class MessageQueue {
 public:
  MessageQueue(size_t max_messages, size_t max_bytes)
      : max_messages_(max_messages), max_bytes_(max_bytes) {}

  // Appends `m`, waiting while the queue is full. False (m dropped) when Stop() was called.
  bool Push(Received m) {
    std::unique_lock<std::mutex> l(mu_);
    const size_t size = m.payload.size();
    while (!stopped_ &&
           !(q_.empty() || (q_.size() < max_messages_ && bytes_ + size <= max_bytes_))) {
      not_full_.wait_for(l, std::chrono::milliseconds(100));
    }
    if (stopped_) return false;
    bytes_ += size;
    q_.push_back(std::move(m));
    return true;
  }

  // Moves up to `n` messages to `out`; never waits.
  size_t PopUpTo(size_t n, std::vector<Received>* out) {
    out->clear();
    {
      std::lock_guard<std::mutex> l(mu_);
      while (!q_.empty() && out->size() < n) {
        bytes_ -= q_.front().payload.size();
        out->push_back(std::move(q_.front()));
        q_.pop_front();
      }
    }
    if (!out->empty()) not_full_.notify_all();
    return out->size();
  }

  // Lets every Push in from now on (the connection is closing: what is still received must not
  // wait, or the close would wait for it).
  void Unbound() {
    {
      std::lock_guard<std::mutex> l(mu_);
      max_messages_ = SIZE_MAX;
      max_bytes_ = SIZE_MAX;
    }
    not_full_.notify_all();
  }

  // Wakes and refuses every Push from now on.
  void Stop() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stopped_ = true;
    }
    not_full_.notify_all();
  }

 private:
  size_t max_messages_;
  size_t max_bytes_;
  std::mutex mu_;
  std::condition_variable not_full_;
  std::deque<Received> q_;
  size_t bytes_ = 0;
  bool stopped_ = false;
};

// What every subtask of one scan shares.
struct Shared {
  ScanSpec spec;
  std::shared_ptr<const MqttOptions> opt;
  Schema value_schema;  // the payload's columns
  std::shared_ptr<DeadLetterWriter> dead_letter;
  std::shared_ptr<SourceMetrics> metrics;
};

class MqttSourceSubtask final : public runtime::SourceOperator {
 public:
  MqttSourceSubtask(std::shared_ptr<Shared> sh, runtime::SubtaskInfo info)
      : sh_(std::move(sh)),
        info_(info),
        queue_(sh_->opt->queue_max_messages, sh_->opt->queue_max_bytes) {}

  std::string uid() const override {
    return fmt::format("mqtt source '{}' ({})", sh_->spec.table->name,
                       fmt::join(sh_->opt->topics, ","));
  }

  /// Builds the decoder, connects and subscribes. Errors: Unavailable when the broker cannot be
  /// reached or refuses the client.
  absl::Status Connect() {
    const MqttOptions& o = *sh_->opt;
    const TableDef& t = *sh_->spec.table;
    rowtime_ = t.has_watermark ? t.rowtime : -1;
    delay_ = t.watermark_delay;
    if (o.format == MqttOptions::Format::kJson) {
      EDDY_ASSIGN_OR_RETURN(decoder_, MakeJsonDecoder(sh_->value_schema, o.text.json_options));
    } else if (o.format == MqttOptions::Format::kCsv) {
      EDDY_ASSIGN_OR_RETURN(decoder_, MakeCsvDecoder(sh_->value_schema, o.text.csv));
    }
    std::vector<std::string> subs;
    for (const std::string& f : o.topics) {
      subs.push_back(info_.parallelism > 1 ? fmt::format("$share/{}/{}", o.shared_group, f) : f);
    }
    Connection::Callbacks cb;
    cb.on_message = [this](const mosquitto_message& m) {
      Received r;
      r.topic = m.topic ? m.topic : "";
      if (m.payloadlen > 0) r.payload.assign(static_cast<const char*>(m.payload), m.payloadlen);
      r.qos = m.qos;
      r.retain = m.retain;
      r.mid = m.mid;
      r.arrival_us = WallUs();
      queue_.Push(std::move(r));
    };
    EDDY_ASSIGN_OR_RETURN(
        conn_, Connection::Open(sh_->opt, ClientId(o, "src", info_.index, info_.parallelism),
                                std::move(subs), std::move(cb)));
    return absl::OkStatus();
  }

  absl::Status Close() override {
    queue_.Stop();
    if (conn_) conn_->Close();
    return absl::OkStatus();
  }

  absl::StatusOr<Step> NextStep(runtime::SourceOutput* out) override {
    const MqttOptions& o = *sh_->opt;
    int64_t now = SteadyMs();
    // The idleness clocks run only while the subtask steps: a pause (a full output, or not
    // scheduled) is not time without messages.
    if (last_step_ms_ < 0) {
      last_message_ms_ = now;
    } else if (now - last_step_ms_ > kPollPauseMs) {
      last_message_ms_ += now - last_step_ms_;
    }
    last_step_ms_ = now;
    size_t n = queue_.PopUpTo(sh_->spec.batch_size, &batch_);
    if (n > 0) {
      last_message_ms_ = now;
      EDDY_RETURN_IF_ERROR(EmitMessages(out));
    }
    EDDY_RETURN_IF_ERROR(UpdateWatermark(out, now));
    if (n == 0 && o.bounded_idle_ms > 0 && now - last_message_ms_ >= o.bounded_idle_ms) {
      if (!closing_) {
        // Stop receiving, then read what arrived meanwhile before ending.
        closing_ = true;
        queue_.Unbound();
        conn_->Close();
        return Step::kMore;
      }
      spdlog::info(
          "table '{}': no MQTT message for {} ms ('scan.bounded.idle-timeout'): "
          "subtask {} ends after {} messages",
          o.table, o.bounded_idle_ms, info_.index, received_);
      return Step::kEnd;
    }
    return n > 0 ? Step::kMore : Step::kIdle;
  }

 private:
  // Decodes batch_ into rows of the table and emits them.
  absl::Status EmitMessages(runtime::SourceOutput* out) {
    const MqttOptions& o = *sh_->opt;
    const TableDef& t = *sh_->spec.table;
    Batch phys = Batch::Empty(t.physical);
    Batch vb = Batch::Empty(sh_->value_schema);
    auto arena = std::make_shared<Arena>();
    row_seq_.clear();
    row_topic_.clear();
    for (Received& m : batch_) {
      ++received_;
      EDDY_RETURN_IF_ERROR(Decode(m, arena.get(), &phys, &vb));
    }
    size_t rows = vb.num_rows();
    if (rows == 0) return absl::OkStatus();
    std::vector<int> vpos(t.physical.fields.size(), -1);
    for (size_t i = 0; i < o.value_columns.size(); ++i) vpos[o.value_columns[i]] = i;
    for (size_t c = 0; c < t.physical.fields.size(); ++c) {
      if (vpos[c] >= 0) phys.columns[c] = std::move(vb.columns[vpos[c]]);
    }
    phys.arenas.push_back(arena);
    phys.kinds.assign(rows, RowKind::kInsert);
    std::string where = fmt::format("mqtt topic {}", fmt::join(o.topics, ","));
    EDDY_ASSIGN_OR_RETURN(Batch full, CompleteScanBatch(sh_->spec, std::move(phys), where));
    if (rowtime_ >= 0) {
      EDDY_RETURN_IF_ERROR(KeepTimedRows(
          &full, rowtime_, emitted_wm_,
          [&](size_t r) {
            return BadRow(
                row_topic_[r], row_seq_[r], 1,
                fmt::format("the event-time column '{}' is NULL", t.columns[rowtime_].name), "");
          },
          [&](size_t, int64_t ts) { max_ts_ = std::max(max_ts_, ts); }));
    }
    sh_->metrics->rows_read += static_cast<int64_t>(full.num_rows());
    idle_emitted_ = false;
    return out->Emit(std::move(full));
  }

  // Decodes one message into `vb` and its metadata into `phys`; a bad one goes to the error
  // policy and appends nothing.
  absl::Status Decode(const Received& m, Arena* arena, Batch* phys, Batch* vb) {
    const MqttOptions& o = *sh_->opt;
    sh_->metrics->bytes_read += m.payload.size();
    if (m.payload.size() > o.max_record_bytes) {
      return BadRow(m.topic, received_, 1,
                    fmt::format("the payload is longer than 'source.max-record-size' ({} bytes)",
                                o.max_record_bytes),
                    std::string_view(m.payload).substr(0, kOversizedPrefixBytes), true);
    }
    std::string_view payload = arena->Add(m.payload);
    if (o.format == MqttOptions::Format::kRaw) {
      vb->columns[0].AppendString(payload);
      vb->kinds.push_back(RowKind::kInsert);
    } else {
      // A CSV payload may end with a line break; the decoders take one record without it.
      std::string_view rec = payload;
      while (!rec.empty() && (rec.back() == '\n' || rec.back() == '\r')) rec.remove_suffix(1);
      DecodeError err;
      size_t before = vb->num_rows();
      if (!decoder_->Decode(rec, vb, arena, &err)) {
        return BadRow(m.topic, received_, err.column, err.reason, payload);
      }
      if (vb->num_rows() == before) {  // a CSV comment line: no row
        return BadRow(m.topic, received_, 1, "the payload holds no record", payload);
      }
    }
    const TableDef& t = *sh_->spec.table;
    for (size_t c = 0; c < t.physical.fields.size(); ++c) {
      const std::string& key = o.metadata[c];
      if (key.empty()) continue;
      Column& col = phys->columns[c];
      if (key == "topic") {
        col.AppendString(arena->Add(m.topic));
      } else if (key == "qos") {
        col.AppendInt(m.qos);
      } else if (key == "retained") {
        col.AppendInt(m.retain ? 1 : 0);
      } else if (key == "message-id") {
        col.AppendInt(m.mid);
      } else if (key == "timestamp") {
        col.AppendInt(m.arrival_us / 1000 * 1000);  // milliseconds, TIMESTAMP_LTZ(3)
      } else {
        col.AppendNull();
      }
    }
    row_seq_.push_back(received_);
    row_topic_.push_back(m.topic);
    return absl::OkStatus();
  }

  // `raw` is the payload, or its first bytes when `truncated`. The position is the message's
  // topic and its number among the messages this subtask received (1-based).
  absl::Status BadRow(const std::string& topic, int64_t seq, size_t column,
                      const std::string& reason, std::string_view raw, bool truncated = false) {
    const std::string& policy = sh_->spec.error_policy;
    std::string where = fmt::format("mqtt topic {} message {}", topic, seq);
    if (info_.parallelism > 1) where += fmt::format(" (subtask {})", info_.index);
    if (policy == "skip") {
      sh_->metrics->bad_skipped++;
      return absl::OkStatus();
    }
    if (policy == "dead-letter") {
      sh_->dead_letter->Write(where, column, reason, raw, truncated);
      sh_->metrics->bad_dead_lettered++;
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(
        fmt::format("{}: bad row in table '{}': {} (set 'error.policy' = 'skip' or "
                    "'dead-letter' to continue past bad rows)",
                    where, sh_->opt->table, reason));
  }

  // Emits the watermark (max event time - delay), or idleness after the idle timeout.
  absl::Status UpdateWatermark(runtime::SourceOutput* out, int64_t now) {
    if (rowtime_ < 0) return absl::OkStatus();
    int64_t timeout = sh_->opt->idle_timeout_ms;
    if (timeout > 0 && now - last_message_ms_ >= timeout) {
      if (!idle_emitted_) {
        idle_emitted_ = true;
        return out->EmitIdle();
      }
      return absl::OkStatus();
    }
    if (max_ts_ == INT64_MIN) return absl::OkStatus();
    int64_t wm = max_ts_ < INT64_MIN + delay_ ? INT64_MIN : max_ts_ - delay_;
    if (wm > emitted_wm_ || (idle_emitted_ && wm != INT64_MIN)) {
      idle_emitted_ = false;
      emitted_wm_ = std::max(emitted_wm_, wm);
      return out->EmitWatermark(emitted_wm_);
    }
    return absl::OkStatus();
  }

  std::shared_ptr<Shared> sh_;
  runtime::SubtaskInfo info_;
  MessageQueue queue_;                // filled by conn_'s network thread
  std::unique_ptr<Connection> conn_;  // declared after queue_: stopped before it is destroyed
  std::unique_ptr<RowDecoder> decoder_;
  std::vector<Received> batch_;
  std::vector<int64_t> row_seq_;  // per decoded row of the current batch
  std::vector<std::string> row_topic_;
  int64_t received_ = 0;  // messages received by this subtask
  int rowtime_ = -1;
  int64_t delay_ = 0;
  int64_t max_ts_ = INT64_MIN;
  int64_t emitted_wm_ = INT64_MIN;
  bool idle_emitted_ = false;
  int64_t last_step_ms_ = -1;
  int64_t last_message_ms_ = 0;
  bool closing_ = false;
};

using MqttSourceFactory = ConnectingSourceFactory<MqttSourceSubtask, Shared>;

}  // namespace
}  // namespace mqtt

absl::StatusOr<std::shared_ptr<SourceFactory>> MakeMqttSourceFactory(const ScanSpec& spec) {
  using namespace mqtt;  // NOLINT
  auto sh = std::make_shared<Shared>();
  sh->spec = spec;
  sh->metrics = std::make_shared<SourceMetrics>();
  sh->metrics->table = spec.table->name;
  const TableDef& t = *spec.table;
  EDDY_ASSIGN_OR_RETURN(MqttOptions o, ParseMqttOptions(t, spec.idle_timeout_ms));
  EDDY_RETURN_IF_ERROR(CheckSourceTopics(t, o));
  for (int c : o.value_columns) sh->value_schema.fields.push_back(t.physical.fields[c]);
  sh->opt = std::make_shared<const MqttOptions>(std::move(o));
  EDDY_ASSIGN_OR_RETURN(sh->dead_letter, OpenBadRowPolicy(spec));
  spdlog::info("table '{}': subscribing to {} at {}", t.name, fmt::join(sh->opt->topics, ","),
               sh->opt->uri);
  return std::shared_ptr<SourceFactory>(new MqttSourceFactory(sh));
}

}  // namespace eddy::connectors
