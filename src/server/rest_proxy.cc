// Records produced over HTTP as Confluent's REST Proxy v2 takes them (and Redpanda's HTTP Proxy):
// POST /topics/{topic} with Content-Type application/vnd.kafka.json.v2+json (keys and values are
// any JSON, stored as their compact JSON text) or application/vnd.kafka.binary.v2+json (keys and
// values base64), body {"records": [{"key": ..., "value": ..., "partition": N}, ...]}. A record
// without a partition goes where a Kafka producer would put it: murmur2 of its key, or round
// robin without a key. The records are appended to the local log and fsynced before the answer
// (what acks=all waits for); the answer lists each record's partition and offset, in order.
#include <fmt/format.h>

#include <atomic>
#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "connectors/kafka/transport.h"
#include "server/rest_api.h"

namespace eddy::server {

namespace {

using nlohmann::json;

HttpResponse ProxyError(int status, int error_code, const std::string& message) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/vnd.kafka.v2+json";
  r.body = json{{"error_code", error_code}, {"message", message}}.dump(
               -1, ' ', false, json::error_handler_t::replace) +
           "\n";
  return r;
}

std::atomic<uint32_t> g_round_robin{0};

}  // namespace

HttpResponse RestApi::HandleProduce(const HttpRequest& req, const std::string& topic) const {
  if (req.method != "POST") return ProxyError(405, 405, "use POST on /topics/{topic}");
  if (!topics_) return ProxyError(404, 40401, "this server has no topics");
  bool binary = absl::StartsWithIgnoreCase(req.content_type, "application/vnd.kafka.binary.v2");
  bool json_fmt = absl::StartsWithIgnoreCase(req.content_type, "application/vnd.kafka.json.v2");
  if (!binary && !json_fmt) {
    return ProxyError(415, 415,
                      fmt::format("Content-Type must be application/vnd.kafka.json.v2+json or "
                                  "application/vnd.kafka.binary.v2+json, not '{}'",
                                  req.content_type));
  }
  auto partitions = topics_->PartitionCount(topic);
  if (!partitions.ok()) return ProxyError(404, 40401, fmt::format("Topic {} not found.", topic));
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object() || !body.contains("records") ||
      !body["records"].is_array() || body["records"].empty()) {
    return ProxyError(400, 400, "the body must be {\"records\": [{\"value\": ...}, ...]}");
  }
  // Each record's partition and encoded key/value, in request order.
  struct Item {
    int32_t partition;
    connectors::kafka::OutgoingRecord record;
  };
  std::vector<Item> items;
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  size_t index = 0;
  for (const json& r : body["records"]) {
    if (!r.is_object()) {
      return ProxyError(422, 42201, fmt::format("record {} is not a JSON object", index));
    }
    Item it;
    it.record.timestamp_ms = now_ms;
    auto field = [&](const char* name, std::string* out, bool* present) -> bool {
      auto f = r.find(name);
      *present = f != r.end() && !f->is_null();
      if (!*present) return true;
      if (!binary) {
        *out = f->dump();
        return true;
      }
      return f->is_string() && absl::Base64Unescape(f->get<std::string>(), out);
    };
    bool has_value = false;
    if (!field("key", &it.record.key, &it.record.has_key) ||
        !field("value", &it.record.value, &has_value)) {
      return ProxyError(422, 42205,
                        fmt::format("record {}: a binary key or value must be base64", index));
    }
    auto p = r.find("partition");
    if (p != r.end() && !p->is_null()) {
      if (!p->is_number_integer() || p->get<int64_t>() < 0 || p->get<int64_t>() >= *partitions) {
        return ProxyError(
            404, 40402,
            fmt::format("record {}: partition {} of topic {} not found.", index, p->dump(), topic));
      }
      it.partition = static_cast<int32_t>(p->get<int64_t>());
    } else if (it.record.has_key) {
      it.partition = connectors::kafka::Murmur2Partition(it.record.key, *partitions);
    } else {
      it.partition = static_cast<int32_t>(g_round_robin++ % static_cast<uint32_t>(*partitions));
    }
    items.push_back(std::move(it));
    ++index;
  }
  // One batch per partition, appended and fsynced; offsets follow request order per partition.
  std::map<int32_t, std::vector<size_t>> by_partition;
  for (size_t i = 0; i < items.size(); ++i) by_partition[items[i].partition].push_back(i);
  std::vector<int64_t> offsets(items.size(), -1);
  for (const auto& [partition, idx] : by_partition) {
    std::vector<connectors::kafka::OutgoingRecord> records;
    for (size_t i : idx) records.push_back(items[i].record);
    auto base = topics_->Append(topic, partition, topics_->EncodeBatch(records));
    if (!base.ok()) {
      return ProxyError(500, 50001,
                        fmt::format("appending to {}-{} failed: {}", topic, partition,
                                    std::string(base.status().message())));
    }
    absl::Status st = topics_->Sync(topic, partition);
    if (!st.ok()) {
      return ProxyError(
          500, 50001,
          fmt::format("fsync of {}-{} failed: {}", topic, partition, std::string(st.message())));
    }
    for (size_t k = 0; k < idx.size(); ++k) offsets[idx[k]] = *base + static_cast<int64_t>(k);
  }
  json out_offsets = json::array();
  for (size_t i = 0; i < items.size(); ++i) {
    out_offsets.push_back({{"partition", items[i].partition},
                           {"offset", offsets[i]},
                           {"error_code", nullptr},
                           {"error", nullptr}});
  }
  HttpResponse resp;
  resp.content_type = "application/vnd.kafka.v2+json";
  resp.body =
      json{{"key_schema_id", nullptr}, {"value_schema_id", nullptr}, {"offsets", out_offsets}}
          .dump() +
      "\n";
  return resp;
}

}  // namespace eddy::server
