// libFuzzer target: record batch v2 parsing as Produce requests deliver it to the log (header
// decode, CRC-32C and structure validation, iteration over the records), and the decompression
// of compressed batches as pipelines on the local log read them (log/compression.h): the input
// as compressed data of each codec, and the input compressed by the codec's library so that the
// record parsing behind a successful decompression is reached. Must never crash or read out of
// bounds; a batch that validates must iterate to exactly its declared record count.
#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "log/compression.h"
#include "log/record_batch.h"

namespace {

// `plain` compressed with `codec` (1-4) by the codec's own library.
std::string Compress(int codec, std::string_view plain) {
  std::string out;
  switch (codec) {
    case 1: {
      uLongf n = compressBound(plain.size());
      out.resize(n);
      compress2(reinterpret_cast<Bytef*>(out.data()), &n,
                reinterpret_cast<const Bytef*>(plain.data()), plain.size(), 1);
      out.resize(n);
      break;
    }
    case 2:
      snappy::Compress(plain.data(), plain.size(), &out);
      break;
    case 3:
      out.resize(LZ4F_compressFrameBound(plain.size(), nullptr));
      out.resize(LZ4F_compressFrame(out.data(), out.size(), plain.data(), plain.size(), nullptr));
      break;
    default:
      out.resize(ZSTD_compressBound(plain.size()));
      out.resize(ZSTD_compress(out.data(), out.size(), plain.data(), plain.size(), 1));
      break;
  }
  return out;
}

// A record batch v2 header with `codec`, `count` records and `payload` after it.
std::string Batch(int codec, int32_t count, const std::string& payload) {
  std::string b(eddy::log::kBatchHeaderSize, '\0');
  eddy::log::WriteBigEndian32(b.data() + eddy::log::kBatchLengthPos,
                              static_cast<int32_t>(b.size() - 12 + payload.size()));
  b[eddy::log::kMagicPos] = eddy::log::kMagicV2;
  eddy::log::WriteBigEndian16(b.data() + eddy::log::kAttributesPos, static_cast<int16_t>(codec));
  eddy::log::WriteBigEndian32(b.data() + eddy::log::kLastOffsetDeltaPos, count - 1);
  eddy::log::WriteBigEndian32(b.data() + eddy::log::kRecordsCountPos, count);
  return b + payload;
}

void FuzzDecompression(const uint8_t* data, size_t size) {
  if (size < 1) return;
  int codec = data[0] % 4 + 1;
  int32_t count = (data[0] >> 2) + 1;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string out;
  (void)eddy::log::Decompress(codec, rest, &out, 1 << 20);
  std::string scratch;
  auto count_records = [](const eddy::log::RecordView&) { return true; };
  (void)eddy::log::ForEachRecordDecompressing(Batch(codec, count, std::string(rest)), &scratch,
                                              count_records);
  (void)eddy::log::ForEachRecordDecompressing(Batch(codec, count, Compress(codec, rest)), &scratch,
                                              count_records);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzDecompression(data, size);
  std::string bytes(reinterpret_cast<const char*>(data), size);
  // Half the inputs get a correct CRC, so the fuzzer reaches the record parsing behind it.
  if (size >= eddy::log::kBatchHeaderSize && (size & 1)) {
    uint32_t crc = eddy::log::ComputeBatchCrc(bytes);
    bytes[17] = static_cast<char>(crc >> 24);
    bytes[18] = static_cast<char>(crc >> 16);
    bytes[19] = static_cast<char>(crc >> 8);
    bytes[20] = static_cast<char>(crc);
  }
  if (bytes.size() >= eddy::log::kBatchHeaderSize) {
    (void)eddy::log::DecodeBatchHeader(bytes);
  }
  auto h = eddy::log::ValidateRecordBatch(bytes);
  if (!h.ok()) return 0;
  int64_t n = 0;
  auto st = eddy::log::ForEachRecord(std::string_view(bytes).substr(0, h->size_bytes()),
                                     [&](const eddy::log::RecordView&) {
                                       ++n;
                                       return true;
                                     });
  if (st.ok() && h->compression() == 0 && n != h->records_count) __builtin_trap();
  return 0;
}
