// CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78), the checksum of Kafka record
// batches v2 (Kafka protocol: record batch v2, field `crc`). Uses the SSE4.2 CRC32 instruction
// when the CPU has it (checked once at run time) and a slicing-by-8 table otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace eddy::log {

/// CRC-32C of `size` bytes at `data`, continuing from `crc` (the CRC of the bytes before; 0 to
/// start). `Crc32cExtend(Crc32c(a), b) == Crc32c(a + b)`. Thread-safe; pure.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t size);

/// CRC-32C of `bytes`. Crc32c("123456789") == 0xE3069283. Thread-safe; pure.
inline uint32_t Crc32c(std::string_view bytes) {
  return Crc32cExtend(0, bytes.data(), bytes.size());
}

namespace internal {
/// The table implementation, always available (for tests and benchmarks).
uint32_t Crc32cPortable(uint32_t crc, const void* data, size_t size);
/// True when the SSE4.2 implementation is compiled in and the CPU supports it.
bool Crc32cHardwareAvailable();
/// The SSE4.2 implementation; call only when Crc32cHardwareAvailable().
uint32_t Crc32cHardware(uint32_t crc, const void* data, size_t size);
}  // namespace internal

}  // namespace eddy::log
