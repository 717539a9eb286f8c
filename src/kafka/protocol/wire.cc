#include "kafka/protocol/wire.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace eddy::kafka {

bool Uuid::IsZero() const {
  for (uint8_t b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// ByteReader

absl::Status ByteReader::Need(size_t n, const char* what) const {
  if (n <= remaining()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("kafka: truncated input: ", what, " needs ", n,
                                                 " bytes at offset ", offset(), ", ", remaining(),
                                                 " left"));
}

namespace {

uint64_t LoadBigEndian(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace

absl::Status ByteReader::ReadInt8(int8_t* out) {
  if (auto s = Need(1, "int8"); !s.ok()) return s;
  *out = static_cast<int8_t>(data_[pos_]);
  pos_ += 1;
  return absl::OkStatus();
}

absl::Status ByteReader::ReadInt16(int16_t* out) {
  if (auto s = Need(2, "int16"); !s.ok()) return s;
  *out = static_cast<int16_t>(LoadBigEndian(data_.data() + pos_, 2));
  pos_ += 2;
  return absl::OkStatus();
}

absl::Status ByteReader::ReadInt32(int32_t* out) {
  if (auto s = Need(4, "int32"); !s.ok()) return s;
  *out = static_cast<int32_t>(LoadBigEndian(data_.data() + pos_, 4));
  pos_ += 4;
  return absl::OkStatus();
}

absl::Status ByteReader::ReadInt64(int64_t* out) {
  if (auto s = Need(8, "int64"); !s.ok()) return s;
  *out = static_cast<int64_t>(LoadBigEndian(data_.data() + pos_, 8));
  pos_ += 8;
  return absl::OkStatus();
}

absl::Status ByteReader::ReadUint16(uint16_t* out) {
  if (auto s = Need(2, "uint16"); !s.ok()) return s;
  *out = static_cast<uint16_t>(LoadBigEndian(data_.data() + pos_, 2));
  pos_ += 2;
  return absl::OkStatus();
}

absl::Status ByteReader::ReadUint32(uint32_t* out) {
  if (auto s = Need(4, "uint32"); !s.ok()) return s;
  *out = static_cast<uint32_t>(LoadBigEndian(data_.data() + pos_, 4));
  pos_ += 4;
  return absl::OkStatus();
}

absl::Status ByteReader::ReadFloat64(double* out) {
  if (auto s = Need(8, "float64"); !s.ok()) return s;
  uint64_t bits = LoadBigEndian(data_.data() + pos_, 8);
  std::memcpy(out, &bits, sizeof(bits));
  pos_ += 8;
  return absl::OkStatus();
}

absl::Status ByteReader::ReadBool(bool* out) {
  if (auto s = Need(1, "bool"); !s.ok()) return s;
  *out = data_[pos_] != 0;
  pos_ += 1;
  return absl::OkStatus();
}

absl::Status ByteReader::ReadUuid(Uuid* out) {
  if (auto s = Need(16, "uuid"); !s.ok()) return s;
  std::memcpy(out->bytes.data(), data_.data() + pos_, 16);
  pos_ += 16;
  return absl::OkStatus();
}

absl::Status ByteReader::ReadUnsignedVarlong(uint64_t* out) {
  const size_t start = offset();
  uint64_t v = 0;
  for (int i = 0; i < 10; ++i) {
    if (empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("kafka: truncated input: varint at offset ", start, " is incomplete"));
    }
    const uint8_t b = static_cast<uint8_t>(data_[pos_++]);
    if (i == 9 && b > 1) break;  // more than 64 bits
    v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      *out = v;
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("kafka: varint at offset ", start, " does not fit in 64 bits"));
}

absl::Status ByteReader::ReadUnsignedVarint(uint32_t* out) {
  const size_t start = offset();
  uint32_t v = 0;
  for (int i = 0; i < 5; ++i) {
    if (empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("kafka: truncated input: varint at offset ", start, " is incomplete"));
    }
    const uint8_t b = static_cast<uint8_t>(data_[pos_++]);
    if (i == 4 && b > 0x0f) break;  // more than 32 bits
    v |= static_cast<uint32_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      *out = v;
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("kafka: varint at offset ", start, " does not fit in 32 bits"));
}

absl::Status ByteReader::ReadVarint(int32_t* out) {
  uint32_t u;
  if (auto s = ReadUnsignedVarint(&u); !s.ok()) return s;
  *out = static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
  return absl::OkStatus();
}

absl::Status ByteReader::ReadVarlong(int64_t* out) {
  uint64_t u;
  if (auto s = ReadUnsignedVarlong(&u); !s.ok()) return s;
  *out = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  return absl::OkStatus();
}

absl::Status ByteReader::ReadLengthPrefixed(int64_t len, bool nullable, const char* what,
                                            std::optional<std::string>* out) {
  if (len == -1) {
    if (!nullable) {
      return absl::InvalidArgumentError(
          absl::StrCat("kafka: non-nullable ", what, " is null at offset ", offset()));
    }
    out->reset();
    return absl::OkStatus();
  }
  if (len < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("kafka: negative ", what, " length ", len, " at offset ", offset()));
  }
  if (static_cast<uint64_t>(len) > remaining()) {
    return absl::InvalidArgumentError(absl::StrCat("kafka: ", what, " length ", len,
                                                   " exceeds the ", remaining(),
                                                   " bytes left at offset ", offset()));
  }
  out->emplace(data_.substr(pos_, static_cast<size_t>(len)));
  pos_ += static_cast<size_t>(len);
  return absl::OkStatus();
}

absl::Status ByteReader::ReadCompactLength(const char* what, int64_t* len) {
  uint32_t u;
  if (auto s = ReadUnsignedVarint(&u); !s.ok()) return s;
  *len = static_cast<int64_t>(u) - 1;
  return absl::OkStatus();
}

namespace {

// Moves a non-null value decoded by ReadLengthPrefixed into a plain string.
absl::Status Unwrap(absl::Status s, std::optional<std::string>& tmp, std::string* out) {
  if (!s.ok()) return s;
  *out = std::move(*tmp);
  return absl::OkStatus();
}

}  // namespace

absl::Status ByteReader::ReadString(std::string* out) {
  int16_t len;
  if (auto s = ReadInt16(&len); !s.ok()) return s;
  std::optional<std::string> tmp;
  return Unwrap(ReadLengthPrefixed(len, false, "string", &tmp), tmp, out);
}

absl::Status ByteReader::ReadNullableString(std::optional<std::string>* out) {
  int16_t len;
  if (auto s = ReadInt16(&len); !s.ok()) return s;
  return ReadLengthPrefixed(len, true, "string", out);
}

absl::Status ByteReader::ReadCompactString(std::string* out) {
  int64_t len;
  if (auto s = ReadCompactLength("string", &len); !s.ok()) return s;
  std::optional<std::string> tmp;
  return Unwrap(ReadLengthPrefixed(len, false, "compact string", &tmp), tmp, out);
}

absl::Status ByteReader::ReadCompactNullableString(std::optional<std::string>* out) {
  int64_t len;
  if (auto s = ReadCompactLength("string", &len); !s.ok()) return s;
  return ReadLengthPrefixed(len, true, "compact string", out);
}

absl::Status ByteReader::ReadBytes(std::string* out) {
  int32_t len;
  if (auto s = ReadInt32(&len); !s.ok()) return s;
  std::optional<std::string> tmp;
  return Unwrap(ReadLengthPrefixed(len, false, "bytes", &tmp), tmp, out);
}

absl::Status ByteReader::ReadNullableBytes(std::optional<std::string>* out) {
  int32_t len;
  if (auto s = ReadInt32(&len); !s.ok()) return s;
  return ReadLengthPrefixed(len, true, "bytes", out);
}

absl::Status ByteReader::ReadCompactBytes(std::string* out) {
  int64_t len;
  if (auto s = ReadCompactLength("bytes", &len); !s.ok()) return s;
  std::optional<std::string> tmp;
  return Unwrap(ReadLengthPrefixed(len, false, "compact bytes", &tmp), tmp, out);
}

absl::Status ByteReader::ReadCompactNullableBytes(std::optional<std::string>* out) {
  int64_t len;
  if (auto s = ReadCompactLength("bytes", &len); !s.ok()) return s;
  return ReadLengthPrefixed(len, true, "compact bytes", out);
}

namespace {

absl::Status CheckArrayLength(int64_t n, size_t remaining, size_t offset, int32_t* out) {
  if (n < -1) {
    return absl::InvalidArgumentError(
        absl::StrCat("kafka: negative array length ", n, " at offset ", offset));
  }
  if (n > 0 && static_cast<uint64_t>(n) > remaining) {
    return absl::InvalidArgumentError(absl::StrCat("kafka: array length ", n, " exceeds the ",
                                                   remaining, " bytes left at offset ", offset));
  }
  *out = static_cast<int32_t>(n);
  return absl::OkStatus();
}

}  // namespace

absl::Status ByteReader::ReadArrayLength(int32_t* out) {
  int32_t n;
  if (auto s = ReadInt32(&n); !s.ok()) return s;
  return CheckArrayLength(n, remaining(), offset(), out);
}

absl::Status ByteReader::ReadCompactArrayLength(int32_t* out) {
  int64_t n;
  if (auto s = ReadCompactLength("array", &n); !s.ok()) return s;
  return CheckArrayLength(n, remaining(), offset(), out);
}

absl::Status ByteReader::ReadRaw(size_t n, std::string_view* out) {
  if (auto s = Need(n, "raw bytes"); !s.ok()) return s;
  *out = data_.substr(pos_, n);
  pos_ += n;
  return absl::OkStatus();
}

absl::Status ByteReader::Skip(size_t n) {
  if (auto s = Need(n, "skipped bytes"); !s.ok()) return s;
  pos_ += n;
  return absl::OkStatus();
}

absl::Status ByteReader::ReadTaggedField(uint32_t* tag, ByteReader* body) {
  uint32_t size;
  if (auto s = ReadUnsignedVarint(tag); !s.ok()) return s;
  if (auto s = ReadUnsignedVarint(&size); !s.ok()) return s;
  if (size > remaining()) {
    return absl::InvalidArgumentError(absl::StrCat("kafka: tagged field ", *tag, " size ", size,
                                                   " exceeds the ", remaining(),
                                                   " bytes left at offset ", offset()));
  }
  *body = ByteReader(data_.substr(pos_, size), offset());
  pos_ += size;
  return absl::OkStatus();
}

absl::Status CheckTagOrder(uint32_t index, uint32_t tag, uint32_t* previous) {
  if (index > 0 && tag <= *previous) {
    return absl::InvalidArgumentError(absl::StrCat("kafka: tagged field ", tag, " follows tag ",
                                                   *previous,
                                                   "; tags must strictly increase (KIP-482)"));
  }
  *previous = tag;
  return absl::OkStatus();
}

absl::Status ByteReader::ReadUnknownTaggedFields(std::vector<TaggedField>* out) {
  uint32_t count;
  if (auto s = ReadUnsignedVarint(&count); !s.ok()) return s;
  uint32_t previous = 0;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t tag;
    ByteReader body;
    if (auto s = ReadTaggedField(&tag, &body); !s.ok()) return s;
    if (auto s = CheckTagOrder(i, tag, &previous); !s.ok()) return s;
    out->push_back(TaggedField{tag, std::string(body.rest())});
  }
  return absl::OkStatus();
}

absl::Status ByteReader::ExpectEnd() const {
  if (empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("kafka: ", remaining(), " unexpected trailing bytes at offset ", offset()));
}

// ---------------------------------------------------------------------------------------------
// ByteWriter

std::string ByteWriter::Release() {
  std::string s = std::move(*out_);
  out_->clear();
  return s;
}

void ByteWriter::SetError(absl::Status status) {
  if (status_.ok()) status_ = std::move(status);
}

void ByteWriter::SetNullFieldError(const char* field) { SetError(NonNullableFieldError(field)); }

void ByteWriter::WriteBigEndian(uint64_t v, int bytes) {
  char buf[8];
  for (int i = bytes - 1; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out_->append(buf, static_cast<size_t>(bytes));
}

void ByteWriter::WriteFloat64(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  WriteBigEndian(bits, 8);
}

void ByteWriter::WriteUuid(const Uuid& v) {
  out_->append(reinterpret_cast<const char*>(v.bytes.data()), v.bytes.size());
}

void ByteWriter::WriteUnsignedVarlong(uint64_t v) {
  while (v >= 0x80) {
    out_->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_->push_back(static_cast<char>(v));
}

void ByteWriter::WriteUnsignedVarint(uint32_t v) { WriteUnsignedVarlong(v); }

void ByteWriter::WriteVarint(int32_t v) {
  WriteUnsignedVarint((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31));
}

void ByteWriter::WriteVarlong(int64_t v) {
  WriteUnsignedVarlong((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

void ByteWriter::WriteString(std::string_view s) {
  constexpr size_t kMax = std::numeric_limits<int16_t>::max();
  if (s.size() > kMax) {
    SetError(absl::InvalidArgumentError(
        absl::StrCat("kafka: string of ", s.size(), " bytes is longer than ", kMax)));
    s = s.substr(0, kMax);
  }
  WriteInt16(static_cast<int16_t>(s.size()));
  out_->append(s);
}

void ByteWriter::WriteNullableString(const std::optional<std::string>& s) {
  if (!s.has_value()) {
    WriteInt16(-1);
  } else {
    WriteString(*s);
  }
}

void ByteWriter::WriteCompactString(std::string_view s) {
  // Kafka also limits compact strings to 32767 bytes.
  constexpr size_t kMax = std::numeric_limits<int16_t>::max();
  if (s.size() > kMax) {
    SetError(absl::InvalidArgumentError(
        absl::StrCat("kafka: string of ", s.size(), " bytes is longer than ", kMax)));
    s = s.substr(0, kMax);
  }
  WriteUnsignedVarint(static_cast<uint32_t>(s.size()) + 1);
  out_->append(s);
}

void ByteWriter::WriteCompactNullableString(const std::optional<std::string>& s) {
  if (!s.has_value()) {
    WriteUnsignedVarint(0);
  } else {
    WriteCompactString(*s);
  }
}

void ByteWriter::WriteBytes(std::string_view s) {
  constexpr size_t kMax = std::numeric_limits<int32_t>::max();
  if (s.size() > kMax) {
    SetError(absl::InvalidArgumentError(
        absl::StrCat("kafka: bytes of length ", s.size(), " are longer than ", kMax)));
    s = s.substr(0, kMax);
  }
  WriteInt32(static_cast<int32_t>(s.size()));
  out_->append(s);
}

void ByteWriter::WriteNullableBytes(const std::optional<std::string>& s) {
  if (!s.has_value()) {
    WriteInt32(-1);
  } else {
    WriteBytes(*s);
  }
}

void ByteWriter::WriteCompactBytes(std::string_view s) {
  constexpr size_t kMax = std::numeric_limits<int32_t>::max() - 1;
  if (s.size() > kMax) {
    SetError(absl::InvalidArgumentError(
        absl::StrCat("kafka: bytes of length ", s.size(), " are longer than ", kMax)));
    s = s.substr(0, kMax);
  }
  WriteUnsignedVarint(static_cast<uint32_t>(s.size()) + 1);
  out_->append(s);
}

void ByteWriter::WriteCompactNullableBytes(const std::optional<std::string>& s) {
  if (!s.has_value()) {
    WriteUnsignedVarint(0);
  } else {
    WriteCompactBytes(*s);
  }
}

void ByteWriter::PatchInt32(size_t pos, int32_t v) {
  if (pos + 4 > out_->size()) {
    SetError(absl::InternalError("kafka: PatchInt32 past the end of the buffer"));
    return;
  }
  const uint32_t u = static_cast<uint32_t>(v);
  for (int i = 0; i < 4; ++i) (*out_)[pos + i] = static_cast<char>(u >> (24 - 8 * i));
}

void ByteWriter::WriteTaggedFields(const std::vector<TaggedField>& fields) {
  TaggedFieldsWriter tw(*this, fields, 0);
  tw.Finish();
}

// ---------------------------------------------------------------------------------------------
// TaggedFieldsWriter

TaggedFieldsWriter::TaggedFieldsWriter(ByteWriter& w, const std::vector<TaggedField>& unknown,
                                       uint32_t num_known)
    : w_(w) {
  unknown_.reserve(unknown.size());
  for (const TaggedField& f : unknown) unknown_.push_back(&f);
  std::stable_sort(unknown_.begin(), unknown_.end(),
                   [](const TaggedField* a, const TaggedField* b) { return a->tag < b->tag; });
  w_.WriteUnsignedVarint(num_known + static_cast<uint32_t>(unknown.size()));
}

void TaggedFieldsWriter::WriteUnknownBelow(uint64_t tag) {
  while (next_ < unknown_.size() && unknown_[next_]->tag < tag) {
    const TaggedField& f = *unknown_[next_++];
    w_.WriteUnsignedVarint(f.tag);
    w_.WriteUnsignedVarint(static_cast<uint32_t>(f.data.size()));
    w_.WriteRaw(f.data);
  }
}

void TaggedFieldsWriter::Write(uint32_t tag, const ByteWriter& body) {
  WriteUnknownBelow(tag);
  if (!body.ok()) w_.SetError(body.status());
  w_.WriteUnsignedVarint(tag);
  w_.WriteUnsignedVarint(static_cast<uint32_t>(body.size()));
  w_.WriteRaw(body.data());
}

void TaggedFieldsWriter::Finish() { WriteUnknownBelow(uint64_t{1} << 32); }

// ---------------------------------------------------------------------------------------------

absl::Status UnsupportedVersionError(const char* message, int16_t version, int16_t min_version,
                                     int16_t max_version) {
  return absl::InvalidArgumentError(absl::StrCat("kafka: ", message, " version ", version,
                                                 " is not supported (versions ", min_version, "-",
                                                 max_version, ")"));
}

absl::Status NonNullableFieldError(const char* field) {
  return absl::InvalidArgumentError(absl::StrCat("kafka: non-nullable field ", field, " is null"));
}

absl::Status AnnotateDecodeError(const absl::Status& status, const char* message, int16_t version) {
  return absl::Status(status.code(),
                      absl::StrCat("decoding ", message, " v", version, ": ", status.message()));
}

}  // namespace eddy::kafka
