// Test helpers for the log: an independent encoder of Kafka record batches v2 (Kafka protocol:
// "Record Batch" and "Record", zigzag varints) and scratch directories.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "log/crc32c.h"

namespace eddy::log::testing {

/// One record to encode.
struct TestRecord {
  std::optional<std::string> key;
  std::optional<std::string> value;
  int64_t timestamp_delta = 0;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// A batch to encode; max_timestamp defaults to base_timestamp + the largest delta.
struct TestBatch {
  int64_t base_offset = 0;
  int32_t partition_leader_epoch = -1;
  int16_t attributes = 0;
  int64_t base_timestamp = 1700000000000;
  std::optional<int64_t> max_timestamp;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  std::vector<TestRecord> records;
  /// For compressed batches: the opaque bytes after the header, and the record count to declare.
  std::optional<std::string> compressed_payload;
  int32_t compressed_count = 0;
};

inline void PutZigZagVarint(std::string* out, int64_t v) {
  uint64_t zz = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  while (zz >= 0x80) {
    out->push_back(static_cast<char>((zz & 0x7F) | 0x80));
    zz >>= 7;
  }
  out->push_back(static_cast<char>(zz));
}

inline void PutBigEndian(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

inline void PutBytesField(std::string* out, const std::optional<std::string>& bytes) {
  if (!bytes.has_value()) {
    PutZigZagVarint(out, -1);
    return;
  }
  PutZigZagVarint(out, static_cast<int64_t>(bytes->size()));
  out->append(*bytes);
}

/// Encodes `b` as a record batch v2 with a correct CRC-32C.
inline std::string EncodeBatch(const TestBatch& b) {
  std::string body;  // records
  int32_t count = 0;
  int64_t max_delta = 0;
  if (b.compressed_payload.has_value()) {
    body = *b.compressed_payload;
    count = b.compressed_count;
  } else {
    for (size_t i = 0; i < b.records.size(); ++i) {
      const TestRecord& r = b.records[i];
      std::string rec;
      rec.push_back(0);  // attributes
      PutZigZagVarint(&rec, r.timestamp_delta);
      PutZigZagVarint(&rec, static_cast<int64_t>(i));  // offset delta
      PutBytesField(&rec, r.key);
      PutBytesField(&rec, r.value);
      PutZigZagVarint(&rec, static_cast<int64_t>(r.headers.size()));
      for (const auto& [k, v] : r.headers) {
        PutBytesField(&rec, k);
        PutBytesField(&rec, v);
      }
      PutZigZagVarint(&body, static_cast<int64_t>(rec.size()));
      body += rec;
      max_delta = std::max(max_delta, r.timestamp_delta);
    }
    count = static_cast<int32_t>(b.records.size());
  }
  // From attributes to the end: the part the CRC covers.
  std::string tail;
  PutBigEndian(&tail, static_cast<uint16_t>(b.attributes), 2);
  PutBigEndian(&tail, static_cast<uint32_t>(count - 1), 4);
  PutBigEndian(&tail, static_cast<uint64_t>(b.base_timestamp), 8);
  PutBigEndian(&tail, static_cast<uint64_t>(b.max_timestamp.value_or(b.base_timestamp + max_delta)),
               8);
  PutBigEndian(&tail, static_cast<uint64_t>(b.producer_id), 8);
  PutBigEndian(&tail, static_cast<uint16_t>(b.producer_epoch), 2);
  PutBigEndian(&tail, static_cast<uint32_t>(b.base_sequence), 4);
  PutBigEndian(&tail, static_cast<uint32_t>(count), 4);
  tail += body;
  std::string out;
  PutBigEndian(&out, static_cast<uint64_t>(b.base_offset), 8);
  PutBigEndian(&out, static_cast<uint32_t>(4 + 1 + 4 + tail.size()), 4);  // batchLength
  PutBigEndian(&out, static_cast<uint32_t>(b.partition_leader_epoch), 4);
  out.push_back(2);  // magic
  PutBigEndian(&out, Crc32c(tail), 4);
  out += tail;
  return out;
}

/// A batch of `count` records with values "<prefix>-<i>" padded to `value_size` bytes, record i
/// stamped base_timestamp + i.
inline std::string MakeBatch(int count, int64_t base_timestamp = 1700000000000,
                             size_t value_size = 16, const std::string& prefix = "v") {
  TestBatch b;
  b.base_timestamp = base_timestamp;
  for (int i = 0; i < count; ++i) {
    TestRecord r;
    r.key = "k" + std::to_string(i);
    std::string value = prefix + "-" + std::to_string(i);
    if (value.size() < value_size) value.resize(value_size, '.');
    r.value = value;
    r.timestamp_delta = i;
    b.records.push_back(std::move(r));
  }
  return EncodeBatch(b);
}

/// A scratch directory removed on destruction.
class ScratchDir {
 public:
  ScratchDir() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info != nullptr ? std::string(info->test_suite_name()) + "." + info->name()
                                       : std::string("log");
    path_ =
        std::filesystem::temp_directory_path() / ("eddy-log-test-" + std::to_string(::getpid()) +
                                                  "-" + std::to_string(counter++) + "-" + name);
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string path() const { return path_.string(); }
  std::string Sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace eddy::log::testing
