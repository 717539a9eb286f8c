#include "log/record_batch.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "log/compression.h"
#include "log/crc32c.h"
#include "log/log_error.h"

namespace eddy::log {
namespace {

uint16_t LoadU16(const char* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof(v));
  return __builtin_bswap16(v);
}
uint32_t LoadU32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return __builtin_bswap32(v);
}
uint64_t LoadU64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return __builtin_bswap64(v);
}

absl::Status Corrupt(const std::string& message) {
  return LogError(absl::StatusCode::kDataLoss, KafkaError::kCorruptMessage, message);
}
absl::Status InvalidRecord(const std::string& message) {
  return LogError(absl::StatusCode::kInvalidArgument, KafkaError::kInvalidRecord, message);
}

}  // namespace

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "eddy's log assumes a little-endian host");

int16_t ReadBigEndian16(const char* p) { return static_cast<int16_t>(LoadU16(p)); }
int32_t ReadBigEndian32(const char* p) { return static_cast<int32_t>(LoadU32(p)); }
int64_t ReadBigEndian64(const char* p) { return static_cast<int64_t>(LoadU64(p)); }

void WriteBigEndian16(char* p, int16_t v) {
  uint16_t b = __builtin_bswap16(static_cast<uint16_t>(v));
  std::memcpy(p, &b, sizeof(b));
}
void WriteBigEndian32(char* p, int32_t v) {
  uint32_t b = __builtin_bswap32(static_cast<uint32_t>(v));
  std::memcpy(p, &b, sizeof(b));
}
void WriteBigEndian64(char* p, int64_t v) {
  uint64_t b = __builtin_bswap64(static_cast<uint64_t>(v));
  std::memcpy(p, &b, sizeof(b));
}

absl::StatusOr<RecordBatchHeader> DecodeBatchHeader(std::string_view bytes) {
  if (bytes.size() < kBatchHeaderSize) {
    return Corrupt(
        fmt::format("record batch header needs {} bytes, have {}", kBatchHeaderSize, bytes.size()));
  }
  const char* p = bytes.data();
  RecordBatchHeader h;
  h.base_offset = ReadBigEndian64(p + kBaseOffsetPos);
  h.batch_length = ReadBigEndian32(p + kBatchLengthPos);
  h.partition_leader_epoch = ReadBigEndian32(p + kPartitionLeaderEpochPos);
  h.magic = static_cast<int8_t>(p[kMagicPos]);
  h.crc = LoadU32(p + kCrcPos);
  h.attributes = ReadBigEndian16(p + kAttributesPos);
  h.last_offset_delta = ReadBigEndian32(p + kLastOffsetDeltaPos);
  h.base_timestamp = ReadBigEndian64(p + kBaseTimestampPos);
  h.max_timestamp = ReadBigEndian64(p + kMaxTimestampPos);
  h.producer_id = ReadBigEndian64(p + kProducerIdPos);
  h.producer_epoch = ReadBigEndian16(p + kProducerEpochPos);
  h.base_sequence = ReadBigEndian32(p + kBaseSequencePos);
  h.records_count = ReadBigEndian32(p + kRecordsCountPos);
  return h;
}

uint32_t ComputeBatchCrc(std::string_view batch) { return Crc32c(batch.substr(kAttributesPos)); }

absl::StatusOr<RecordBatchHeader> ValidateRecordBatch(std::string_view batch) {
  auto header = DecodeBatchHeader(batch);
  if (!header.ok()) return header.status();
  const RecordBatchHeader& h = *header;
  if (h.batch_length < static_cast<int32_t>(kBatchHeaderSize - kBatchLengthPrefix) ||
      static_cast<uint64_t>(h.size_bytes()) != batch.size()) {
    return Corrupt(fmt::format("record batch length {} does not match its {} bytes", h.batch_length,
                               batch.size()));
  }
  if (h.magic != kMagicV2) {
    return Corrupt(fmt::format("record batch magic {} (only magic 2 is supported)", h.magic));
  }
  uint32_t crc = ComputeBatchCrc(batch);
  if (crc != h.crc) {
    return Corrupt(
        fmt::format("record batch CRC mismatch: stored {:#010x}, computed {:#010x}", h.crc, crc));
  }
  if (h.records_count < 1 || h.last_offset_delta != h.records_count - 1) {
    return InvalidRecord(fmt::format("record batch has recordsCount {} and lastOffsetDelta {}",
                                     h.records_count, h.last_offset_delta));
  }
  if (h.compression() > 4) {
    return InvalidRecord(fmt::format("record batch has unknown compression {}", h.compression()));
  }
  if (h.compression() == 0) {
    int64_t expected_delta = 0;
    absl::Status bad_delta;
    absl::Status st = ForEachRecord(batch, [&](const RecordView& r) {
      if (r.offset - h.base_offset != expected_delta) {
        bad_delta = InvalidRecord(
            fmt::format("record {} has offset delta {}", expected_delta, r.offset - h.base_offset));
        return false;
      }
      ++expected_delta;
      return true;
    });
    if (!st.ok()) return st;
    if (!bad_delta.ok()) return bad_delta;
    if (expected_delta != h.records_count) {
      return InvalidRecord(fmt::format("record batch declares {} records but holds {}",
                                       h.records_count, expected_delta));
    }
  }
  return h;
}

void SetBaseOffset(char* batch, Offset base_offset) {
  WriteBigEndian64(batch + kBaseOffsetPos, base_offset.value());
}

void SetPartitionLeaderEpoch(char* batch, int32_t epoch) {
  WriteBigEndian32(batch + kPartitionLeaderEpochPos, epoch);
}

void SetLogAppendTime(char* batch, size_t size, int64_t append_time_ms) {
  int16_t attributes = ReadBigEndian16(batch + kAttributesPos);
  WriteBigEndian16(batch + kAttributesPos, static_cast<int16_t>(attributes | kTimestampTypeBit));
  WriteBigEndian64(batch + kMaxTimestampPos, append_time_ms);
  uint32_t crc = ComputeBatchCrc(std::string_view(batch, size));
  WriteBigEndian32(batch + kCrcPos, static_cast<int32_t>(crc));
}

bool ReadVarint64(const char** p, const char* end, int64_t* out) {
  uint64_t raw = 0;
  int shift = 0;
  const char* q = *p;
  while (true) {
    if (q >= end || shift > 63) return false;
    uint8_t byte = static_cast<uint8_t>(*q++);
    raw |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) break;
    shift += 7;
  }
  *p = q;
  *out = static_cast<int64_t>((raw >> 1) ^ (~(raw & 1) + 1));
  return true;
}

bool ReadVarint32(const char** p, const char* end, int32_t* out) {
  uint32_t raw = 0;
  int shift = 0;
  const char* q = *p;
  while (true) {
    if (q >= end || shift > 28) return false;
    uint8_t byte = static_cast<uint8_t>(*q++);
    if (shift == 28 && (byte & 0xF0) != 0) return false;
    raw |= static_cast<uint32_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) break;
    shift += 7;
  }
  *p = q;
  *out = static_cast<int32_t>((raw >> 1) ^ (~(raw & 1) + 1));
  return true;
}

namespace {

// Walks the records in [p, end) of the batch with header `h`.
absl::Status WalkRecords(const RecordBatchHeader& h, const char* p, const char* end,
                         const std::function<bool(const RecordView&)>& fn) {
  for (int32_t i = 0; i < h.records_count; ++i) {
    auto bad = [&](const char* what) {
      return InvalidRecord(
          fmt::format("record {} of batch at offset {}: {}", i, h.base_offset, what));
    };
    int32_t length = 0;
    if (!ReadVarint32(&p, end, &length)) return bad("truncated length");
    if (length < 0 || length > end - p) return bad("length beyond the batch");
    const char* record_end = p + length;
    if (p >= record_end) return bad("empty record");
    ++p;  // attributes (unused, int8)
    int64_t timestamp_delta = 0;
    int32_t offset_delta = 0;
    RecordView r;
    if (!ReadVarint64(&p, record_end, &timestamp_delta)) return bad("bad timestampDelta");
    if (!ReadVarint32(&p, record_end, &offset_delta)) return bad("bad offsetDelta");
    if (!ReadVarint32(&p, record_end, &r.key_size)) return bad("bad key length");
    if (r.key_size < -1 || r.key_size > record_end - p) return bad("key beyond the record");
    if (r.key_size > 0) r.key = std::string_view(p, r.key_size);
    if (r.key_size > 0) p += r.key_size;
    if (!ReadVarint32(&p, record_end, &r.value_size)) return bad("bad value length");
    if (r.value_size < -1 || r.value_size > record_end - p) return bad("value beyond the record");
    if (r.value_size > 0) r.value = std::string_view(p, r.value_size);
    if (r.value_size > 0) p += r.value_size;
    if (!ReadVarint32(&p, record_end, &r.headers_count)) return bad("bad headers count");
    if (r.headers_count < 0) return bad("negative headers count");
    const char* headers_begin = p;
    for (int32_t k = 0; k < r.headers_count; ++k) {
      int32_t key_size = 0;
      int32_t value_size = 0;
      if (!ReadVarint32(&p, record_end, &key_size) || key_size < 0 || key_size > record_end - p) {
        return bad("bad header key");
      }
      p += key_size;
      if (!ReadVarint32(&p, record_end, &value_size) || value_size < -1 ||
          value_size > record_end - p) {
        return bad("bad header value");
      }
      if (value_size > 0) p += value_size;
    }
    r.headers = std::string_view(headers_begin, static_cast<size_t>(p - headers_begin));
    if (p != record_end) return bad("record length does not match its fields");
    // A crafted batch may overflow int64 here (found by fuzz/record_batch_fuzzer).
    if (__builtin_add_overflow(h.base_offset, int64_t{offset_delta}, &r.offset)) {
      return bad("offset out of range");
    }
    if (h.timestamp_type() == TimestampType::kLogAppendTime) {
      r.timestamp = h.max_timestamp;
    } else if (__builtin_add_overflow(h.base_timestamp, timestamp_delta, &r.timestamp)) {
      return bad("timestamp out of range");
    }
    if (!fn(r)) return absl::OkStatus();
  }
  if (p != end) {
    return InvalidRecord(fmt::format("batch at offset {} has {} bytes after its last record",
                                     h.base_offset, end - p));
  }
  return absl::OkStatus();
}

void PutVarint(std::string* out, int64_t v) {
  uint64_t zz = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  while (zz >= 0x80) {
    out->push_back(static_cast<char>((zz & 0x7F) | 0x80));
    zz >>= 7;
  }
  out->push_back(static_cast<char>(zz));
}

void PutBytes(std::string* out, std::string_view bytes, bool is_null) {
  if (is_null) {
    PutVarint(out, -1);
    return;
  }
  PutVarint(out, static_cast<int64_t>(bytes.size()));
  out->append(bytes);
}

}  // namespace

absl::Status ForEachRecord(std::string_view batch,
                           const std::function<bool(const RecordView&)>& fn) {
  auto header = DecodeBatchHeader(batch);
  if (!header.ok()) return header.status();
  const RecordBatchHeader& h = *header;
  if (h.compression() != 0) {
    return absl::FailedPreconditionError(fmt::format(
        "record batch at offset {} is compressed (codec {})", h.base_offset, h.compression()));
  }
  return WalkRecords(h, batch.data() + kBatchHeaderSize, batch.data() + batch.size(), fn);
}

absl::Status ForEachRecordDecompressing(std::string_view batch, std::string* scratch,
                                        const std::function<bool(const RecordView&)>& fn) {
  auto header = DecodeBatchHeader(batch);
  if (!header.ok()) return header.status();
  const RecordBatchHeader& h = *header;
  if (h.compression() == 0) {
    return WalkRecords(h, batch.data() + kBatchHeaderSize, batch.data() + batch.size(), fn);
  }
  absl::Status st = Decompress(h.compression(), batch.substr(kBatchHeaderSize), scratch);
  if (!st.ok()) {
    return absl::Status(st.code(), fmt::format("record batch at offset {}: {}", h.base_offset,
                                               std::string(st.message())));
  }
  st = WalkRecords(h, scratch->data(), scratch->data() + scratch->size(), fn);
  if (!st.ok()) {
    return absl::Status(st.code(),
                        fmt::format("{} (after {} decompression)", std::string(st.message()),
                                    CodecName(h.compression())));
  }
  return st;
}

void ForEachHeader(const RecordView& r,
                   const std::function<void(std::string_view, std::string_view, bool)>& fn) {
  const char* p = r.headers.data();
  const char* end = p + r.headers.size();
  for (int32_t k = 0; k < r.headers_count; ++k) {
    int32_t key_size = 0, value_size = 0;
    // The walk that made `r` checked every size.
    if (!ReadVarint32(&p, end, &key_size) || key_size < 0 || key_size > end - p) return;
    std::string_view key(p, static_cast<size_t>(key_size));
    p += key_size;
    if (!ReadVarint32(&p, end, &value_size) || value_size < -1 || value_size > end - p) return;
    std::string_view value;
    if (value_size > 0) value = std::string_view(p, static_cast<size_t>(value_size));
    if (value_size > 0) p += value_size;
    fn(key, value, value_size < 0);
  }
}

void RecordBatchBuilder::Add(std::string_view key, bool key_is_null, std::string_view value,
                             bool value_is_null, int64_t timestamp_ms,
                             const std::vector<RecordHeader>& headers) {
  if (count_ == 0) {
    base_timestamp_ = timestamp_ms;
    max_timestamp_ = timestamp_ms;
  }
  max_timestamp_ = std::max(max_timestamp_, timestamp_ms);
  record_.clear();
  record_.push_back(0);  // attributes
  PutVarint(&record_, timestamp_ms - base_timestamp_);
  PutVarint(&record_, count_);  // offset delta
  PutBytes(&record_, key, key_is_null);
  PutBytes(&record_, value, value_is_null);
  PutVarint(&record_, static_cast<int64_t>(headers.size()));
  for (const RecordHeader& hd : headers) {
    PutBytes(&record_, hd.key, false);
    PutBytes(&record_, hd.value, hd.value_is_null);
  }
  PutVarint(&records_, static_cast<int64_t>(record_.size()));
  records_ += record_;
  ++count_;
}

std::string RecordBatchBuilder::Build() {
  std::string out(kBatchHeaderSize, '\0');
  char* p = out.data();
  WriteBigEndian64(p + kBaseOffsetPos, 0);
  WriteBigEndian32(p + kBatchLengthPos,
                   static_cast<int32_t>(kBatchHeaderSize - kBatchLengthPrefix + records_.size()));
  WriteBigEndian32(p + kPartitionLeaderEpochPos, -1);
  p[kMagicPos] = kMagicV2;
  WriteBigEndian16(p + kAttributesPos, transactional_ ? kTransactionalBit : 0);
  WriteBigEndian32(p + kLastOffsetDeltaPos, count_ - 1);
  WriteBigEndian64(p + kBaseTimestampPos, base_timestamp_);
  WriteBigEndian64(p + kMaxTimestampPos, max_timestamp_);
  WriteBigEndian64(p + kProducerIdPos, producer_id_);
  WriteBigEndian16(p + kProducerEpochPos, producer_epoch_);
  WriteBigEndian32(p + kBaseSequencePos, base_sequence_);
  WriteBigEndian32(p + kRecordsCountPos, count_);
  out += records_;
  WriteBigEndian32(out.data() + kCrcPos, static_cast<int32_t>(ComputeBatchCrc(out)));
  records_.clear();
  count_ = 0;
  return out;
}

std::string BuildControlBatch(int64_t producer_id, int16_t producer_epoch, ControlType type,
                              int32_t coordinator_epoch, int64_t timestamp_ms) {
  char key[4], value[6];
  WriteBigEndian16(key, 0);  // key version
  WriteBigEndian16(key + 2, static_cast<int16_t>(type));
  WriteBigEndian16(value, 0);  // value version
  WriteBigEndian32(value + 2, coordinator_epoch);
  RecordBatchBuilder b;
  b.SetProducer(producer_id, producer_epoch, -1, true);
  b.Add(std::string_view(key, 4), false, std::string_view(value, 6), false, timestamp_ms);
  std::string out = b.Build();
  WriteBigEndian16(out.data() + kAttributesPos, kTransactionalBit | kControlBit);
  WriteBigEndian32(out.data() + kCrcPos, static_cast<int32_t>(ComputeBatchCrc(out)));
  return out;
}

absl::StatusOr<ControlType> ReadControlType(std::string_view batch) {
  auto h = DecodeBatchHeader(batch);
  if (!h.ok()) return h.status();
  if (!h->is_control() || h->compression() != 0) {
    return absl::InvalidArgumentError(
        fmt::format("batch at offset {} is not an uncompressed control batch", h->base_offset));
  }
  std::optional<int16_t> type;
  absl::Status st = ForEachRecord(batch, [&](const RecordView& r) {
    if (r.key_size >= 4) type = ReadBigEndian16(r.key.data() + 2);
    return false;
  });
  if (!st.ok()) return st;
  if (!type.has_value() || (*type != 0 && *type != 1)) {
    return absl::InvalidArgumentError(fmt::format(
        "control batch at offset {} has no commit or abort marker key", h->base_offset));
  }
  return static_cast<ControlType>(*type);
}

}  // namespace eddy::log
