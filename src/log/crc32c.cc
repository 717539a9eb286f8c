#include "log/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define EDDY_CRC32C_X86 1
#endif

namespace eddy::log {
namespace {

constexpr uint32_t kReversedPolynomial = 0x82F63B78u;

// kTables[k][b]: the CRC contribution of byte b followed by k zero bytes (slicing-by-8).
struct Tables {
  std::array<std::array<uint32_t, 256>, 8> t{};
  constexpr Tables() {
    for (uint32_t b = 0; b < 256; ++b) {
      uint32_t c = b;
      for (int i = 0; i < 8; ++i) c = (c & 1) ? (c >> 1) ^ kReversedPolynomial : c >> 1;
      t[0][b] = c;
    }
    for (uint32_t b = 0; b < 256; ++b) {
      for (int k = 1; k < 8; ++k) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFF];
    }
  }
};
constexpr Tables kTables;

inline uint64_t LoadLittleEndian64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

}  // namespace

namespace internal {

uint32_t Crc32cPortable(uint32_t crc, const void* data, size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  const auto& t = kTables.t;
  uint32_t c = ~crc;
  while (size >= 8) {
    uint64_t v = LoadLittleEndian64(p) ^ c;
    c = t[7][v & 0xFF] ^ t[6][(v >> 8) & 0xFF] ^ t[5][(v >> 16) & 0xFF] ^ t[4][(v >> 24) & 0xFF] ^
        t[3][(v >> 32) & 0xFF] ^ t[2][(v >> 40) & 0xFF] ^ t[1][(v >> 48) & 0xFF] ^
        t[0][(v >> 56) & 0xFF];
    p += 8;
    size -= 8;
  }
  while (size > 0) {
    c = (c >> 8) ^ t[0][(c ^ *p) & 0xFF];
    ++p;
    --size;
  }
  return ~c;
}

#if defined(EDDY_CRC32C_X86)

bool Crc32cHardwareAvailable() {
  static const bool available = __builtin_cpu_supports("sse4.2");
  return available;
}

__attribute__((target("sse4.2"))) uint32_t Crc32cHardware(uint32_t crc, const void* data,
                                                          size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t c = ~crc;
  while (size > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = _mm_crc32_u8(c, *p);
    ++p;
    --size;
  }
#if defined(__x86_64__)
  uint64_t c64 = c;
  while (size >= 8) {
    uint64_t v;
    std::memcpy(&v, p, sizeof(v));
    c64 = _mm_crc32_u64(c64, v);
    p += 8;
    size -= 8;
  }
  c = static_cast<uint32_t>(c64);
#endif
  while (size >= 4) {
    uint32_t v;
    std::memcpy(&v, p, sizeof(v));
    c = _mm_crc32_u32(c, v);
    p += 4;
    size -= 4;
  }
  while (size > 0) {
    c = _mm_crc32_u8(c, *p);
    ++p;
    --size;
  }
  return ~c;
}

#else

bool Crc32cHardwareAvailable() { return false; }

uint32_t Crc32cHardware(uint32_t crc, const void* data, size_t size) {
  return Crc32cPortable(crc, data, size);
}

#endif

}  // namespace internal

uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t size) {
  if (internal::Crc32cHardwareAvailable()) return internal::Crc32cHardware(crc, data, size);
  return internal::Crc32cPortable(crc, data, size);
}

}  // namespace eddy::log
