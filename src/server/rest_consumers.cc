#include "server/rest_consumers.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <nlohmann/json.hpp>
#include <thread>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "base/log.h"
#include "server/rest_api.h"

namespace eddy::server {

namespace {

using nlohmann::json;
using TopicPartition = std::pair<std::string, int32_t>;

// Confluent REST Proxy error codes (io.confluent.kafkarest.Errors).
constexpr int kTopicNotFound = 40401;
constexpr int kPartitionNotFound = 40402;
constexpr int kInstanceNotFound = 40403;
constexpr int kFormatMismatch = 40601;
constexpr int kAlreadyExists = 40902;
constexpr int kIllegalState = 40903;
constexpr int kInvalidConfig = 42204;
constexpr int kKafkaError = 50002;

// The longest a records fetch with nothing to read waits (it holds an HTTP thread).
constexpr int64_t kMaxFetchWaitMs = 1000;

HttpResponse Error(int status, int code, const std::string& message) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/vnd.kafka.v2+json";
  r.body = json{{"error_code", code}, {"message", message}}.dump(-1, ' ', false,
                                                                 json::error_handler_t::replace) +
           "\n";
  return r;
}

HttpResponse NoContent() {
  HttpResponse r;
  r.status = 204;
  return r;
}

HttpResponse Ok(const json& j, const std::string& content_type = "application/vnd.kafka.v2+json") {
  HttpResponse r;
  r.content_type = content_type;
  r.body = j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  return r;
}

// The request's JSON body: an object, or an empty object for an empty body when `empty_ok`.
// Bodies are application/vnd.kafka.v2+json (or .json.v2/.binary.v2) or application/json.
bool Body(const HttpRequest& req, bool empty_ok, json* out, HttpResponse* error) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos && empty_ok) {
    *out = json::object();
    return true;
  }
  if (!absl::StartsWithIgnoreCase(req.content_type, "application/vnd.kafka.") &&
      !absl::StartsWithIgnoreCase(req.content_type, "application/json")) {
    *error = Error(415, 415,
                   fmt::format("Content-Type must be application/vnd.kafka.v2+json, not '{}'",
                               req.content_type));
    return false;
  }
  *out = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (out->is_discarded() || !out->is_object()) {
    *error = Error(400, 400, "the body is not a JSON object");
    return false;
  }
  return true;
}

// A config value given as a string ("true", "1000") or as the JSON value itself.
bool ConfigText(const json& body, const char* key, std::string* out) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return false;
  *out = it->is_string() ? it->get<std::string>() : it->dump();
  return true;
}

// A query parameter of `query` ("a=1&b=2"), or "".
std::string QueryParam(const std::string& query, const std::string& name) {
  for (absl::string_view kv : absl::StrSplit(query, '&')) {
    size_t eq = kv.find('=');
    if (kv.substr(0, eq) == name) return eq == kv.npos ? "" : std::string(kv.substr(eq + 1));
  }
  return "";
}

// A list of {"topic": ..., "partition": N[, "offset": N]} from body[key]; false with `error` set
// when it is not that shape.
struct PartitionItem {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
};
bool PartitionList(const json& body, const char* key, bool with_offset,
                   std::vector<PartitionItem>* out, HttpResponse* error) {
  auto it = body.find(key);
  std::string shape = with_offset ? R"([{"topic": ..., "partition": N, "offset": N}, ...])"
                                  : R"([{"topic": ..., "partition": N}, ...])";
  if (it == body.end() || !it->is_array()) {
    *error = Error(422, kInvalidConfig, fmt::format("'{}' must be {}", key, shape));
    return false;
  }
  for (const json& e : *it) {
    auto t = e.find("topic"), p = e.find("partition"), o = e.find("offset");
    bool good =
        e.is_object() && t != e.end() && t->is_string() && p != e.end() && p->is_number_integer() &&
        p->get<int64_t>() >= 0 && p->get<int64_t>() <= INT32_MAX &&
        (!with_offset || (o != e.end() && o->is_number_integer() && o->get<int64_t>() >= 0));
    if (!good) {
      *error = Error(422, kInvalidConfig, fmt::format("'{}' must be {}", key, shape));
      return false;
    }
    out->push_back({t->get<std::string>(), static_cast<int32_t>(p->get<int64_t>()),
                    with_offset ? o->get<int64_t>() : 0});
  }
  return true;
}

}  // namespace

struct RestConsumers::Instance {
  std::string group;
  std::string name;
  bool binary = true;                           // format: binary (default) or json
  std::string auto_offset_reset = "earliest";   // earliest | latest | none
  bool auto_commit = false;                     // auto.commit.enable
  int64_t fetch_min_bytes = 0;                  // fetch.min.bytes
  int64_t request_timeout_ms = 1000;            // consumer.request.timeout.ms
  std::vector<std::string> topics;              // the subscription, sorted
  std::map<TopicPartition, int64_t> positions;  // next offset to read, per assigned partition
  int64_t last_used_ms = 0;
  bool deleted = false;
};

RestConsumers::RestConsumers(std::shared_ptr<connectors::kafka::LocalTopics> topics,
                             int64_t instance_timeout_ms)
    : topics_(std::move(topics)), instance_timeout_ms_(instance_timeout_ms) {}

RestConsumers::~RestConsumers() = default;

size_t RestConsumers::size() {
  std::lock_guard<std::mutex> l(mu_);
  return instances_.size();
}

void RestConsumers::Expire(int64_t now_ms) {
  for (auto it = instances_.begin(); it != instances_.end();) {
    if (now_ms - it->second->last_used_ms > instance_timeout_ms_) {
      spdlog::info("rest proxy: consumer instance {}/{} expired after {} ms without a request",
                   it->first.first, it->first.second, instance_timeout_ms_);
      it->second->deleted = true;
      it = instances_.erase(it);
    } else {
      ++it;
    }
  }
}

HttpResponse RestConsumers::Handle(const HttpRequest& req, const std::string& rest,
                                   int64_t now_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  Expire(now_ms);
  std::vector<std::string> parts = absl::StrSplit(rest, '/');
  if (parts.empty() || parts[0].empty()) return Error(404, 404, "no route for /consumers/");
  const std::string& group = parts[0];
  if (parts.size() == 1) {
    if (req.method != "POST") return Error(405, 405, "use POST on /consumers/{group}");
    return Create(req, group, now_ms);
  }
  if (parts.size() < 3 || parts[1] != "instances" || parts[2].empty() || parts.size() > 5) {
    return Error(404, 404, fmt::format("no route for {} /consumers/{}", req.method, rest));
  }
  auto it = instances_.find({group, parts[2]});
  if (it == instances_.end()) return Error(404, kInstanceNotFound, "Consumer instance not found.");
  std::shared_ptr<Instance> in = it->second;
  in->last_used_ms = now_ms;
  std::string what = parts.size() > 3 ? parts[3] : "";
  std::string sub = parts.size() > 4 ? parts[4] : "";
  std::string query;
  if (size_t q = req.target.find('?'); q != std::string::npos) query = req.target.substr(q + 1);
  if (what.empty() && req.method == "DELETE") {
    in->deleted = true;
    instances_.erase(it);
    return NoContent();
  }
  if (what == "subscription" && sub.empty()) return Subscription(req, in.get());
  if (what == "records" && sub.empty()) {
    if (req.method != "GET") return Error(405, 405, "use GET on .../records");
    HttpResponse r = Records(req, query, in.get(), &lock);
    in->last_used_ms = std::max(in->last_used_ms, now_ms);
    return r;
  }
  if (what == "offsets" && sub.empty()) {
    if (req.method == "POST") return CommitOffsets(req, in.get());
    if (req.method == "GET") return CommittedOffsets(req, in.get());
    return Error(405, 405, "use POST or GET on .../offsets");
  }
  if (what == "positions" && (sub.empty() || sub == "beginning" || sub == "end")) {
    if (req.method != "POST") return Error(405, 405, "use POST on .../positions");
    return Seek(req, in.get(), sub);
  }
  if (what == "assignments" && sub.empty()) {
    if (req.method != "GET") return Error(405, 405, "use GET on .../assignments");
    return Assignments(in.get());
  }
  return Error(404, 404, fmt::format("no route for {} /consumers/{}", req.method, rest));
}

HttpResponse RestConsumers::Create(const HttpRequest& req, const std::string& group,
                                   int64_t now_ms) {
  json body;
  HttpResponse err;
  if (!Body(req, /*empty_ok=*/true, &body, &err)) return err;
  auto in = std::make_shared<Instance>();
  in->group = group;
  std::string v;
  if (ConfigText(body, "name", &v)) {
    if (v.empty() || v.find_first_of("/?#% ") != std::string::npos) {
      return Error(422, kInvalidConfig,
                   fmt::format("Invalid consumer configuration: name '{}' must be non-empty "
                               "without '/', '?', '#', '%' or spaces",
                               v));
    }
    in->name = v;
  } else {
    in->name = fmt::format("rest-consumer-{}-{}", ++next_id_, now_ms % 100000);
  }
  if (ConfigText(body, "format", &v)) {
    if (v != "binary" && v != "json") {
      return Error(422, kInvalidConfig,
                   fmt::format("Invalid consumer configuration: format '{}' is not supported "
                               "(binary or json)",
                               v));
    }
    in->binary = v == "binary";
  }
  if (ConfigText(body, "auto.offset.reset", &v)) {
    if (v == "smallest") v = "earliest";
    if (v == "largest") v = "latest";
    if (v != "earliest" && v != "latest" && v != "none") {
      return Error(422, kInvalidConfig,
                   fmt::format("Invalid consumer configuration: auto.offset.reset '{}' must be "
                               "earliest, latest or none",
                               v));
    }
    in->auto_offset_reset = v;
  }
  if (ConfigText(body, "auto.commit.enable", &v)) {
    if (v != "true" && v != "false") {
      return Error(
          422, kInvalidConfig,
          fmt::format("Invalid consumer configuration: auto.commit.enable '{}' must be true or "
                      "false",
                      v));
    }
    in->auto_commit = v == "true";
  }
  for (auto [key, field, max] :
       {std::tuple{"fetch.min.bytes", &in->fetch_min_bytes, 1 << 30},
        std::tuple{"consumer.request.timeout.ms", &in->request_timeout_ms, 3600000}}) {
    if (!ConfigText(body, key, &v)) continue;
    int64_t n = 0;
    if (!absl::SimpleAtoi(v, &n) || n < 0 || n > max) {
      return Error(422, kInvalidConfig,
                   fmt::format("Invalid consumer configuration: {} '{}' must be an integer "
                               "from 0 to {}",
                               key, v, max));
    }
    *field = n;
  }
  if (instances_.count({group, in->name})) {
    return Error(409, kAlreadyExists,
                 "Consumer with specified consumer ID already exists in the specified consumer "
                 "group.");
  }
  in->last_used_ms = now_ms;
  std::string base_uri = fmt::format("http://{}/consumers/{}/instances/{}",
                                     req.host.empty() ? "localhost" : req.host, group, in->name);
  json out = {{"instance_id", in->name}, {"base_uri", base_uri}};
  instances_[{group, in->name}] = std::move(in);
  return Ok(out);
}

HttpResponse RestConsumers::Subscription(const HttpRequest& req, Instance* in) {
  if (req.method == "GET") return Ok({{"topics", in->topics}});
  if (req.method == "DELETE") {
    in->topics.clear();
    in->positions.clear();
    return NoContent();
  }
  if (req.method != "POST") return Error(405, 405, "use POST, GET or DELETE on .../subscription");
  json body;
  HttpResponse err;
  if (!Body(req, /*empty_ok=*/false, &body, &err)) return err;
  if (body.contains("topic_pattern")) {
    return Error(422, kInvalidConfig, "topic_pattern is not supported: list the topics");
  }
  auto t = body.find("topics");
  if (t == body.end() || !t->is_array() || t->empty()) {
    return Error(422, kInvalidConfig, R"(the body must be {"topics": ["name", ...]})");
  }
  std::vector<std::string> topics;
  for (const json& name : *t) {
    if (!name.is_string() || name.get<std::string>().empty()) {
      return Error(422, kInvalidConfig, "each topic must be a non-empty string");
    }
    topics.push_back(name.get<std::string>());
  }
  std::sort(topics.begin(), topics.end());
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  in->topics = std::move(topics);
  // A new subscription replaces the old one (Kafka's subscribe()): positions of topics no longer
  // subscribed go.
  for (auto it = in->positions.begin(); it != in->positions.end();) {
    bool keep = std::binary_search(in->topics.begin(), in->topics.end(), it->first.first);
    it = keep ? std::next(it) : in->positions.erase(it);
  }
  return NoContent();
}

std::vector<TopicPartition> RestConsumers::Assigned(Instance* in) {
  std::vector<TopicPartition> out;
  for (const std::string& topic : in->topics) {
    auto count = topics_->PartitionCount(topic);
    if (!count.ok()) continue;  // not created yet: nothing to read
    // Kafka's range assignor over the group's instances subscribed to the topic, by name.
    std::vector<const Instance*> members;
    for (const auto& [key, other] : instances_) {
      if (key.first == in->group &&
          std::binary_search(other->topics.begin(), other->topics.end(), topic)) {
        members.push_back(other.get());
      }
    }
    size_t index = 0;
    while (index < members.size() && members[index] != in) ++index;
    int32_t m = static_cast<int32_t>(members.size()), i = static_cast<int32_t>(index);
    int32_t per = *count / m, extra = *count % m;
    int32_t start = i * per + std::min(i, extra), len = per + (i < extra ? 1 : 0);
    for (int32_t p = start; p < start + len; ++p) out.emplace_back(topic, p);
  }
  for (auto it = in->positions.begin(); it != in->positions.end();) {
    bool keep = std::find(out.begin(), out.end(), it->first) != out.end();
    it = keep ? std::next(it) : in->positions.erase(it);
  }
  return out;
}

HttpResponse RestConsumers::Records(const HttpRequest& req, const std::string& query, Instance* in,
                                    std::unique_lock<std::mutex>* lock) {
  // The embedded format the client asks for must be the instance's (Confluent: 40601).
  bool want_binary = in->binary;
  std::string accept = absl::AsciiStrToLower(req.accept);
  if (absl::StrContains(accept, "application/vnd.kafka.binary.v2")) {
    want_binary = true;
  } else if (absl::StrContains(accept, "application/vnd.kafka.json.v2")) {
    want_binary = false;
  } else if (absl::StrContains(accept, "application/vnd.kafka.avro") ||
             absl::StrContains(accept, "application/vnd.kafka.protobuf") ||
             absl::StrContains(accept, "application/vnd.kafka.jsonschema")) {
    return Error(406, kFormatMismatch,
                 "The requested embedded data format does not match the deserializer for this "
                 "consumer instance");
  }
  if (want_binary != in->binary) {
    return Error(406, kFormatMismatch,
                 "The requested embedded data format does not match the deserializer for this "
                 "consumer instance");
  }
  int64_t timeout_ms = in->request_timeout_ms, max_bytes = 64 << 20;
  for (auto [name, field] :
       {std::pair{"timeout", &timeout_ms}, std::pair{"max_bytes", &max_bytes}}) {
    std::string v = QueryParam(query, name);
    if (v.empty()) continue;
    if (!absl::SimpleAtoi(v, field) || *field < 0) {
      return Error(422, kInvalidConfig,
                   fmt::format("'{}' must be a non-negative integer, not '{}'", name, v));
    }
  }
  max_bytes = std::max<int64_t>(max_bytes, 1);
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(std::min(timeout_ms, kMaxFetchWaitMs));
  nlohmann::ordered_json out = nlohmann::ordered_json::array();  // Confluent's field order
  int64_t bytes = 0;
  std::deque<std::string> scratch;
  std::vector<connectors::kafka::LocalRecord> records;
  std::vector<TopicPartition> assigned;
  while (true) {
    assigned = Assigned(in);
    bool full = false;
    for (const TopicPartition& tp : assigned) {
      if (full) break;
      const auto& [topic, partition] = tp;
      auto range = topics_->Offsets(topic, partition);
      if (!range.ok()) continue;
      auto pos = in->positions.find(tp);
      if (pos == in->positions.end() || pos->second < range->log_start ||
          pos->second > range->high_watermark) {
        // No position yet (or out of range): the committed offset, else auto.offset.reset.
        std::optional<int64_t> start;
        if (pos == in->positions.end()) {
          auto committed = topics_->CommittedOffset(in->group, topic, partition);
          if (!committed.ok()) {
            return Error(500, kKafkaError, std::string(committed.status().message()));
          }
          if (*committed && **committed >= range->log_start &&
              **committed <= range->high_watermark) {
            start = **committed;
          }
        }
        if (!start) {
          if (in->auto_offset_reset == "none") {
            return Error(409, kIllegalState,
                         fmt::format("Illegal state: no committed offset for {}-{} and "
                                     "auto.offset.reset is none",
                                     topic, partition));
          }
          start = in->auto_offset_reset == "latest" ? range->high_watermark : range->log_start;
        }
        pos = in->positions.insert_or_assign(tp, *start).first;
      }
      if (pos->second >= range->high_watermark) continue;
      auto read = topics_->Read(topic, partition, pos->second, max_bytes - bytes, false);
      if (!read.ok()) return Error(500, kKafkaError, std::string(read.status().message()));
      records.clear();
      int64_t next = pos->second;
      absl::Status st =
          topics_->DecodeRecords(read->records, pos->second, &scratch, &records, &next, nullptr);
      if (!st.ok()) return Error(500, kKafkaError, std::string(st.message()));
      for (const auto& r : records) {
        int64_t size = static_cast<int64_t>(r.key.size() + r.value.size());
        if (!out.empty() && bytes + size > max_bytes) {
          full = true;
          break;
        }
        nlohmann::ordered_json key = nullptr, value = nullptr;
        if (want_binary) {
          if (r.has_key) key = absl::Base64Escape(absl::string_view(r.key.data(), r.key.size()));
          if (r.has_value)
            value = absl::Base64Escape(absl::string_view(r.value.data(), r.value.size()));
        } else {
          if (r.has_key) key = nlohmann::ordered_json::parse(r.key, nullptr, false);
          if (r.has_value) value = nlohmann::ordered_json::parse(r.value, nullptr, false);
          if (key.is_discarded() || value.is_discarded()) {
            if (!out.empty()) {
              full = true;
              break;
            }
            return Error(
                500, kKafkaError,
                fmt::format("the {} of record {}-{}@{} is not JSON: read it with a "
                            "consumer of format binary",
                            key.is_discarded() ? "key" : "value", topic, partition, r.offset));
          }
        }
        out.push_back({{"topic", topic},
                       {"key", key},
                       {"value", value},
                       {"partition", partition},
                       {"offset", r.offset}});
        bytes += size;
        pos->second = r.offset + 1;
      }
      if (records.empty() && next > pos->second) pos->second = next;  // control batches only
      if (bytes >= max_bytes) full = true;
    }
    if ((!out.empty() && bytes >= in->fetch_min_bytes) || full ||
        std::chrono::steady_clock::now() >= deadline) {
      break;
    }
    lock->unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    lock->lock();
    if (in->deleted) return Error(404, kInstanceNotFound, "Consumer instance not found.");
  }
  if (in->auto_commit && !out.empty()) {
    for (const TopicPartition& tp : assigned) {
      auto pos = in->positions.find(tp);
      if (pos == in->positions.end()) continue;
      absl::Status st = topics_->CommitOffset(in->group, tp.first, tp.second, pos->second);
      if (!st.ok()) spdlog::warn("rest proxy: auto commit failed: {}", std::string(st.message()));
    }
  }
  HttpResponse resp;
  resp.content_type =
      want_binary ? "application/vnd.kafka.binary.v2+json" : "application/vnd.kafka.json.v2+json";
  resp.body = out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  return resp;
}

HttpResponse RestConsumers::CommitOffsets(const HttpRequest& req, Instance* in) {
  json body;
  HttpResponse err;
  if (!Body(req, /*empty_ok=*/true, &body, &err)) return err;
  std::vector<PartitionItem> items;
  if (body.contains("offsets")) {
    if (!PartitionList(body, "offsets", /*with_offset=*/true, &items, &err)) return err;
    for (PartitionItem& it : items) {
      auto count = topics_->PartitionCount(it.topic);
      if (!count.ok()) return Error(404, kTopicNotFound, "Topic not found.");
      if (it.partition >= *count) return Error(404, kPartitionNotFound, "Partition not found.");
      it.offset += 1;  // Confluent: the body names the last record consumed
    }
  } else {
    // No offsets: commit the positions, what the records fetches returned so far.
    Assigned(in);  // drops the positions of partitions no longer assigned
    for (const auto& [tp, pos] : in->positions) items.push_back({tp.first, tp.second, pos});
  }
  for (const PartitionItem& it : items) {
    absl::Status st = topics_->CommitOffset(in->group, it.topic, it.partition, it.offset);
    if (absl::IsFailedPrecondition(st)) {
      return Error(409, kIllegalState, "Illegal state: " + std::string(st.message()));
    }
    if (!st.ok()) return Error(500, kKafkaError, std::string(st.message()));
  }
  return NoContent();
}

HttpResponse RestConsumers::CommittedOffsets(const HttpRequest& req, Instance* in) {
  json body;
  HttpResponse err;
  if (!Body(req, /*empty_ok=*/false, &body, &err)) return err;
  std::vector<PartitionItem> items;
  if (!PartitionList(body, "partitions", /*with_offset=*/false, &items, &err)) return err;
  json out = json::array();
  for (const PartitionItem& it : items) {
    auto count = topics_->PartitionCount(it.topic);
    if (!count.ok()) return Error(404, kTopicNotFound, "Topic not found.");
    if (it.partition >= *count) return Error(404, kPartitionNotFound, "Partition not found.");
    auto committed = topics_->CommittedOffset(in->group, it.topic, it.partition);
    if (!committed.ok()) return Error(500, kKafkaError, std::string(committed.status().message()));
    out.push_back({{"topic", it.topic},
                   {"partition", it.partition},
                   {"offset", committed->value_or(-1)},
                   {"metadata", ""}});
  }
  return Ok({{"offsets", out}});
}

HttpResponse RestConsumers::Seek(const HttpRequest& req, Instance* in, const std::string& where) {
  json body;
  HttpResponse err;
  if (!Body(req, /*empty_ok=*/false, &body, &err)) return err;
  std::vector<PartitionItem> items;
  if (!PartitionList(body, where.empty() ? "offsets" : "partitions", where.empty(), &items, &err)) {
    return err;
  }
  std::vector<TopicPartition> assigned = Assigned(in);
  for (const PartitionItem& it : items) {
    TopicPartition tp{it.topic, it.partition};
    if (std::find(assigned.begin(), assigned.end(), tp) == assigned.end()) {
      return Error(409, kIllegalState,
                   fmt::format("Illegal state: No current assignment for partition {}-{}", it.topic,
                               it.partition));
    }
  }
  for (const PartitionItem& it : items) {
    int64_t offset = it.offset;
    if (!where.empty()) {
      auto range = topics_->Offsets(it.topic, it.partition);
      if (!range.ok()) return Error(500, kKafkaError, std::string(range.status().message()));
      offset = where == "beginning" ? range->log_start : range->high_watermark;
    }
    in->positions[{it.topic, it.partition}] = offset;
  }
  return NoContent();
}

HttpResponse RestConsumers::Assignments(Instance* in) {
  json out = json::array();
  for (const auto& [topic, partition] : Assigned(in)) {
    out.push_back({{"topic", topic}, {"partition", partition}});
  }
  return Ok({{"partitions", out}});
}

}  // namespace eddy::server
