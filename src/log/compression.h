// Decompression of the records section of Kafka record batches v2 (Kafka protocol: record batch
// attributes bits 0-2): the four codecs Kafka clients write. The log stores batches as produced
// and never needs this to append or serve fetches; pipelines reading the local log (src/server,
// docs/architecture.md "Pipelines on the local log") and exact ListOffsets answers do.
//
// Formats accepted, as real clients write them:
//   gzip   RFC 1952 members (zlib auto-detects gzip and zlib headers; concatenated members are
//          read in order, as Java's GZIPInputStream does).
//   snappy raw snappy blocks (librdkafka) or the xerial framing of snappy-java (Kafka's Java
//          client): "\x82SNAPPY\0", a version and a compatible-version int32, then blocks of a
//          big-endian int32 length and a raw snappy block.
//   lz4    the LZ4 frame format (Kafka's KafkaLZ4BlockOutputStream and librdkafka since magic 1
//          write standard frames); several frames back to back are read in order.
//   zstd   zstd frames, with or without the content size, read as a stream.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace eddy::log {

/// Kafka's compression codec ids (record batch attributes & 0x7).
enum class Codec : int { kNone = 0, kGzip = 1, kSnappy = 2, kLz4 = 3, kZstd = 4 };

/// "none", "gzip", "snappy", "lz4", "zstd", or "codec <n>" for an unknown id.
std::string CodecName(int codec);

/// The default cap on the decompressed size of one batch's records (bytes): 256 MiB. A batch
/// over it is refused rather than allowed to exhaust memory (a "zip bomb").
inline constexpr size_t kMaxDecompressedBytes = size_t{256} << 20;

/// Decompresses `compressed` (the bytes after a record batch header) written with `codec` (a
/// codec id 1-4) into `*out` (replaced). Errors: InvalidArgument naming the codec for an unknown
/// codec id, corrupt or truncated input, or trailing garbage; ResourceExhausted when the output
/// would exceed `max_output` bytes. Never crashes on bad input. Thread-safe; pure.
absl::Status Decompress(int codec, std::string_view compressed, std::string* out,
                        size_t max_output = kMaxDecompressedBytes);

}  // namespace eddy::log
