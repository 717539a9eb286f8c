// Kafka wire-format primitives (docs/kafka-protocol.md): a bounds-checked big-endian reader and an
// appending writer, used by the codecs generated from src/kafka/protocol/schemata/ and by
// hand-written code (record batches, request framing).
//
// Malformed input never crashes and never reads out of bounds: every ByteReader read returns an
// absl::Status (kInvalidArgument for malformed data, with the byte offset in the message). Encoding
// cannot fail on the wire level; a value that cannot be represented (a string longer than 32767
// bytes in an int16-length string, null in a non-nullable field) is written as the closest valid
// value and recorded in ByteWriter::status().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace eddy::kafka {

/// A Kafka UUID (topic ids, directory ids): 16 bytes, all zero meaning "none".
struct Uuid {
  std::array<uint8_t, 16> bytes{};

  bool IsZero() const;
  bool operator==(const Uuid&) const = default;
};

/// A tagged field (KIP-482) the decoder did not know: kept raw so that it is re-encoded unchanged.
struct TaggedField {
  uint32_t tag = 0;
  std::string data;

  bool operator==(const TaggedField&) const = default;
};

/// KIP-482: the tags of one tagged-field section strictly increase. `index` is the field's
/// position in its section, `*previous` the tag before it (updated). Errors: InvalidArgument for
/// a tag out of order or repeated (such input would not re-encode to the same bytes).
absl::Status CheckTagOrder(uint32_t index, uint32_t tag, uint32_t* previous);

/// Reads big-endian Kafka primitives from a byte range it does not own.
class ByteReader {
 public:
  ByteReader() = default;
  /// `base_offset` is added to positions in error messages (for readers over a sub-range).
  explicit ByteReader(std::string_view data, size_t base_offset = 0)
      : data_(data), base_(base_offset) {}
  explicit ByteReader(const char* data) : ByteReader(std::string_view(data)) {}
  /// The reader does not own its bytes: reading a temporary string would dangle.
  explicit ByteReader(std::string&& data, size_t base_offset = 0) = delete;

  size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return pos_ == data_.size(); }
  /// Offset of the next byte, counted from the start of the outermost buffer.
  size_t offset() const { return base_ + pos_; }
  /// The bytes not read yet.
  std::string_view rest() const { return data_.substr(pos_); }

  absl::Status ReadInt8(int8_t* out);
  absl::Status ReadInt16(int16_t* out);
  absl::Status ReadInt32(int32_t* out);
  absl::Status ReadInt64(int64_t* out);
  absl::Status ReadUint16(uint16_t* out);
  absl::Status ReadUint32(uint32_t* out);
  absl::Status ReadFloat64(double* out);
  /// Any non-zero byte is true (as Kafka reads it).
  absl::Status ReadBool(bool* out);
  absl::Status ReadUuid(Uuid* out);

  /// Unsigned LEB128 varint of at most 5 bytes (32 bits).
  absl::Status ReadUnsignedVarint(uint32_t* out);
  /// Unsigned LEB128 varint of at most 10 bytes (64 bits).
  absl::Status ReadUnsignedVarlong(uint64_t* out);
  /// Zig-zag signed varint (32 bits) and varlong (64 bits), as in record batches.
  absl::Status ReadVarint(int32_t* out);
  absl::Status ReadVarlong(int64_t* out);

  /// STRING: int16 length, then bytes. A null (-1) is an error.
  absl::Status ReadString(std::string* out);
  /// NULLABLE_STRING: int16 length, -1 = null.
  absl::Status ReadNullableString(std::optional<std::string>* out);
  /// COMPACT_STRING: unsigned varint length + 1, then bytes. Null (0) is an error.
  absl::Status ReadCompactString(std::string* out);
  /// COMPACT_NULLABLE_STRING: unsigned varint length + 1, 0 = null.
  absl::Status ReadCompactNullableString(std::optional<std::string>* out);
  /// BYTES / NULLABLE_BYTES (int32 length) and their compact forms.
  absl::Status ReadBytes(std::string* out);
  absl::Status ReadNullableBytes(std::optional<std::string>* out);
  absl::Status ReadCompactBytes(std::string* out);
  absl::Status ReadCompactNullableBytes(std::optional<std::string>* out);

  /// ARRAY length: int32, -1 = null (returned as -1). A length below -1, or larger than the bytes
  /// remaining (every element takes at least one byte), is an error, so a caller may reserve it.
  absl::Status ReadArrayLength(int32_t* out);
  /// COMPACT_ARRAY length: unsigned varint length + 1, 0 = null (returned as -1). Same checks.
  absl::Status ReadCompactArrayLength(int32_t* out);

  /// The next `n` bytes, without copying.
  absl::Status ReadRaw(size_t n, std::string_view* out);
  absl::Status Skip(size_t n);

  /// One entry of a tagged-field section: the tag, and a reader over exactly its `size` bytes
  /// (which this reader skips).
  absl::Status ReadTaggedField(uint32_t* tag, ByteReader* body);
  /// A whole tagged-field section (count, then entries), every entry kept raw in `out`.
  absl::Status ReadUnknownTaggedFields(std::vector<TaggedField>* out);

  /// Error unless every byte has been read.
  absl::Status ExpectEnd() const;

 private:
  absl::Status Need(size_t n, const char* what) const;
  absl::Status ReadLengthPrefixed(int64_t len, bool nullable, const char* what,
                                  std::optional<std::string>* out);
  absl::Status ReadCompactLength(const char* what, int64_t* len);

  std::string_view data_;
  size_t pos_ = 0;
  size_t base_ = 0;
};

/// Appends big-endian Kafka primitives to a string: its own (data(), Release()) or the caller's.
class ByteWriter {
 public:
  ByteWriter() : out_(&own_) {}
  explicit ByteWriter(std::string* out) : out_(out) {}
  ByteWriter(const ByteWriter&) = delete;
  ByteWriter& operator=(const ByteWriter&) = delete;

  const std::string& data() const { return *out_; }
  size_t size() const { return out_->size(); }
  /// Moves the bytes out (leaving the buffer empty).
  std::string Release();

  /// OK unless a value could not be represented (see the file comment); the first error is kept.
  const absl::Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }
  void SetError(absl::Status status);

  void WriteInt8(int8_t v) { out_->push_back(static_cast<char>(v)); }
  void WriteInt16(int16_t v) { WriteBigEndian(static_cast<uint16_t>(v), 2); }
  void WriteInt32(int32_t v) { WriteBigEndian(static_cast<uint32_t>(v), 4); }
  void WriteInt64(int64_t v) { WriteBigEndian(static_cast<uint64_t>(v), 8); }
  void WriteUint16(uint16_t v) { WriteBigEndian(v, 2); }
  void WriteUint32(uint32_t v) { WriteBigEndian(v, 4); }
  void WriteFloat64(double v);
  void WriteBool(bool v) { out_->push_back(v ? 1 : 0); }
  void WriteUuid(const Uuid& v);

  void WriteUnsignedVarint(uint32_t v);
  void WriteUnsignedVarlong(uint64_t v);
  void WriteVarint(int32_t v);
  void WriteVarlong(int64_t v);

  void WriteString(std::string_view s);
  void WriteNullableString(const std::optional<std::string>& s);
  void WriteCompactString(std::string_view s);
  void WriteCompactNullableString(const std::optional<std::string>& s);
  void WriteBytes(std::string_view s);
  void WriteNullableBytes(const std::optional<std::string>& s);
  void WriteCompactBytes(std::string_view s);
  void WriteCompactNullableBytes(const std::optional<std::string>& s);

  /// `n` = -1 writes null.
  void WriteArrayLength(int32_t n) { WriteInt32(n); }
  void WriteCompactArrayLength(int32_t n) { WriteUnsignedVarint(static_cast<uint32_t>(n) + 1); }

  void WriteRaw(std::string_view s) { out_->append(s); }
  /// Overwrites 4 bytes at `pos` (e.g. a size prefix reserved with WriteInt32(0)).
  void PatchInt32(size_t pos, int32_t v);

  /// A tagged-field section holding only `fields` (sorted by tag when written).
  void WriteTaggedFields(const std::vector<TaggedField>& fields);

  /// `*v`, or (recording an error naming `field`) an empty value when `v` is null in a version
  /// where the field is not nullable.
  template <typename T>
  const T& NonNull(const std::optional<T>& v, const char* field) {
    if (v.has_value()) return *v;
    SetNullFieldError(field);
    static const T kEmpty{};
    return kEmpty;
  }

 private:
  void WriteBigEndian(uint64_t v, int bytes);
  void SetNullFieldError(const char* field);

  std::string own_;
  std::string* out_;
  absl::Status status_;
};

/// Writes a tagged-field section merging known fields (written by the caller in ascending tag
/// order) with unknown ones, so that all entries come out in ascending tag order.
class TaggedFieldsWriter {
 public:
  /// Writes the entry count: `num_known` plus the unknown fields.
  TaggedFieldsWriter(ByteWriter& w, const std::vector<TaggedField>& unknown, uint32_t num_known);

  /// Writes the unknown fields with a smaller tag, then `tag`, the size and `body`'s bytes.
  void Write(uint32_t tag, const ByteWriter& body);
  /// Writes the remaining unknown fields.
  void Finish();

 private:
  void WriteUnknownBelow(uint64_t tag);

  ByteWriter& w_;
  std::vector<const TaggedField*> unknown_;
  size_t next_ = 0;
};

/// Error helpers used by the generated codecs.
absl::Status UnsupportedVersionError(const char* message, int16_t version, int16_t min_version,
                                     int16_t max_version);
absl::Status NonNullableFieldError(const char* field);
/// Prefixes a decoding error with the message name and version.
absl::Status AnnotateDecodeError(const absl::Status& status, const char* message, int16_t version);

}  // namespace eddy::kafka
