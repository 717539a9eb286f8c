#include "log/compression.h"

#include <fmt/format.h>
#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <memory>

namespace eddy::log {

namespace {

constexpr size_t kChunk = 64 << 10;  // output growth step of the streaming decoders

absl::Status Bad(int codec, const std::string& what) {
  return absl::InvalidArgumentError(
      fmt::format("{}-compressed records: {}", CodecName(codec), what));
}

absl::Status TooLarge(int codec, size_t max_output) {
  return absl::ResourceExhaustedError(fmt::format(
      "{}-compressed records decompress to more than {} bytes", CodecName(codec), max_output));
}

// Makes room for at least kChunk more bytes after `used` (bounded by max_output + 1, so that
// exceeding the cap is detected). Returns false when no room is left.
bool Grow(std::string* out, size_t used, size_t max_output) {
  if (used > max_output) return false;
  size_t want = std::min(used + kChunk, max_output + 1);
  if (out->size() < want) out->resize(std::max(want, std::min(out->size() * 2, max_output + 1)));
  return out->size() > used;
}

absl::Status Gunzip(std::string_view in, std::string* out, size_t max_output) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return Bad(1, "cannot initialise zlib");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  size_t used = 0;
  out->clear();
  while (true) {
    if (!Grow(out, used, max_output)) return TooLarge(1, max_output);
    zs.next_out = reinterpret_cast<Bytef*>(out->data() + used);
    zs.avail_out = static_cast<uInt>(out->size() - used);
    int rc = inflate(&zs, Z_NO_FLUSH);
    used = out->size() - zs.avail_out;
    if (used > max_output) return TooLarge(1, max_output);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      // Another gzip member follows.
      if (inflateReset(&zs) != Z_OK) return Bad(1, "cannot reset zlib");
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) return Bad(1, "truncated data");
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return Bad(1, zs.msg ? zs.msg : fmt::format("zlib error {}", rc));
    }
  }
  out->resize(used);
  return absl::OkStatus();
}

absl::Status RawSnappy(std::string_view in, std::string* out, size_t max_output) {
  size_t n = 0;
  if (!snappy::GetUncompressedLength(in.data(), in.size(), &n)) {
    return Bad(2, "bad snappy block header");
  }
  if (n > max_output) return TooLarge(2, max_output);
  if (!snappy::IsValidCompressedBuffer(in.data(), in.size())) {
    return Bad(2, "corrupt or truncated snappy block");
  }
  size_t at = out->size();
  if (at + n > max_output) return TooLarge(2, max_output);
  out->resize(at + n);
  if (!snappy::RawUncompress(in.data(), in.size(), out->data() + at)) {
    return Bad(2, "corrupt snappy block");
  }
  return absl::OkStatus();
}

absl::Status Unsnappy(std::string_view in, std::string* out, size_t max_output) {
  static constexpr char kXerialMagic[8] = {'\x82', 'S', 'N', 'A', 'P', 'P', 'Y', '\0'};
  out->clear();
  if (in.size() < sizeof(kXerialMagic) || std::memcmp(in.data(), kXerialMagic, 8) != 0) {
    return RawSnappy(in, out, max_output);
  }
  // snappy-java framing: magic, version, compatible version, then length-prefixed blocks.
  if (in.size() < 16) return Bad(2, "truncated xerial snappy header");
  in.remove_prefix(16);
  while (!in.empty()) {
    if (in.size() < 4) return Bad(2, "truncated xerial snappy block length");
    uint32_t len = (static_cast<uint32_t>(static_cast<uint8_t>(in[0])) << 24) |
                   (static_cast<uint32_t>(static_cast<uint8_t>(in[1])) << 16) |
                   (static_cast<uint32_t>(static_cast<uint8_t>(in[2])) << 8) |
                   static_cast<uint32_t>(static_cast<uint8_t>(in[3]));
    in.remove_prefix(4);
    if (len > in.size()) {
      return Bad(2, fmt::format("xerial snappy block of {} bytes, only {} left", len, in.size()));
    }
    absl::Status st = RawSnappy(in.substr(0, len), out, max_output);
    if (!st.ok()) return st;
    in.remove_prefix(len);
  }
  return absl::OkStatus();
}

absl::Status Unlz4(std::string_view in, std::string* out, size_t max_output) {
  LZ4F_dctx* ctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION))) {
    return Bad(3, "cannot create an lz4 context");
  }
  std::unique_ptr<LZ4F_dctx, LZ4F_errorCode_t (*)(LZ4F_dctx*)> guard(ctx,
                                                                     LZ4F_freeDecompressionContext);
  if (in.empty()) return Bad(3, "empty input");
  size_t used = 0;
  out->clear();
  size_t hint = 1;
  while (!in.empty()) {
    if (!Grow(out, used, max_output)) return TooLarge(3, max_output);
    size_t dst = out->size() - used;
    size_t src = in.size();
    hint = LZ4F_decompress(ctx, out->data() + used, &dst, in.data(), &src, nullptr);
    if (LZ4F_isError(hint)) return Bad(3, LZ4F_getErrorName(hint));
    used += dst;
    in.remove_prefix(src);
    if (used > max_output) return TooLarge(3, max_output);
    if (src == 0 && dst == 0 && hint != 0) return Bad(3, "no progress decoding the frame");
  }
  // Drain output still buffered inside the context.
  while (hint != 0) {
    if (!Grow(out, used, max_output)) return TooLarge(3, max_output);
    size_t dst = out->size() - used;
    size_t src = 0;
    hint = LZ4F_decompress(ctx, out->data() + used, &dst, in.data(), &src, nullptr);
    if (LZ4F_isError(hint)) return Bad(3, LZ4F_getErrorName(hint));
    used += dst;
    if (dst == 0) break;
  }
  if (hint != 0) return Bad(3, "truncated frame");
  out->resize(used);
  return absl::OkStatus();
}

absl::Status Unzstd(std::string_view in, std::string* out, size_t max_output) {
  ZSTD_DStream* ds = ZSTD_createDStream();
  if (!ds) return Bad(4, "cannot create a zstd stream");
  std::unique_ptr<ZSTD_DStream, size_t (*)(ZSTD_DStream*)> guard(ds, ZSTD_freeDStream);
  ZSTD_initDStream(ds);
  if (in.empty()) return Bad(4, "empty input");
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  size_t used = 0;
  out->clear();
  bool frame_complete = false;  // the last call that made progress ended a frame
  while (true) {
    if (!Grow(out, used, max_output)) return TooLarge(4, max_output);
    ZSTD_outBuffer ob{out->data() + used, out->size() - used, 0};
    size_t in_before = ib.pos;
    size_t rc = ZSTD_decompressStream(ds, &ob, &ib);
    if (ZSTD_isError(rc)) return Bad(4, ZSTD_getErrorName(rc));
    // After a frame ends, a call without input asks for the next frame's header (rc > 0).
    if (ob.pos > 0 || ib.pos > in_before) frame_complete = rc == 0;
    used += ob.pos;
    if (used > max_output) return TooLarge(4, max_output);
    if (ib.pos == ib.size && ob.pos < ob.size) break;  // all input used, output not full
  }
  if (!frame_complete) return Bad(4, "truncated frame");
  out->resize(used);
  return absl::OkStatus();
}

}  // namespace

std::string CodecName(int codec) {
  switch (codec) {
    case 0:
      return "none";
    case 1:
      return "gzip";
    case 2:
      return "snappy";
    case 3:
      return "lz4";
    case 4:
      return "zstd";
  }
  return fmt::format("codec {}", codec);
}

absl::Status Decompress(int codec, std::string_view compressed, std::string* out,
                        size_t max_output) {
  switch (static_cast<Codec>(codec)) {
    case Codec::kGzip:
      return Gunzip(compressed, out, max_output);
    case Codec::kSnappy:
      return Unsnappy(compressed, out, max_output);
    case Codec::kLz4:
      return Unlz4(compressed, out, max_output);
    case Codec::kZstd:
      return Unzstd(compressed, out, max_output);
    case Codec::kNone:
      break;
  }
  return absl::InvalidArgumentError(
      fmt::format("record batch compression {} is not a Kafka codec", CodecName(codec)));
}

}  // namespace eddy::log
