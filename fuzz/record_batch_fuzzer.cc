// libFuzzer target: record batch v2 parsing as Produce requests deliver it to the log (header
// decode, CRC-32C and structure validation, iteration over the records). Must never crash or
// read out of bounds; a batch that validates must iterate to exactly its declared record count.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "log/record_batch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
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
