// Row hashing for key-group routing (HashRows, HashColumns; declared in runtime/operator.h): a
// column at a time, equal values of one physical type hashing alike.
#include <cstring>
#include <string_view>
#include <vector>

#include "runtime/operator.h"

namespace eddy::runtime {

namespace {

inline uint64_t Mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

constexpr uint64_t kHashSeed = 0x9E3779B97F4A7C15ULL;
constexpr uint64_t kNullHash = 0x5bd1e995;

inline uint64_t StringHash(std::string_view s) {
  uint64_t v = 0xcbf29ce484222325ULL ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    v = (v ^ w) * 0x100000001b3ULL;
    v ^= v >> 29;
  }
  // The tail byte by byte: a memcpy of a variable size would be a library call per row.
  uint64_t tail = 0;
  for (size_t k = i; k < s.size(); ++k)
    tail |= uint64_t{static_cast<uint8_t>(s[k])} << (8 * (k - i));
  return (v ^ tail) * 0x100000001b3ULL;
}

inline uint64_t DoubleHash(double d) {
  if (d == 0) d = 0.0;  // -0.0 and 0.0 are one key
  uint64_t v;
  std::memcpy(&v, &d, 8);
  return v;
}

inline void Combine(uint64_t* h, uint64_t v) { *h = Mix((*h ^ v) + kHashSeed); }

// Column at a time: one type dispatch per column, a tight loop per row.
template <class ColumnAt>
void HashColumnsImpl(size_t num_columns, size_t n, ColumnAt column_at, uint64_t* out) {
  std::fill(out, out + n, kHashSeed);
  for (size_t k = 0; k < num_columns; ++k) {
    const Column& col = column_at(k);
    const uint8_t* valid = col.valid.data();
    switch (col.type.physical()) {
      case Physical::kInt64:
        for (size_t r = 0; r < n; ++r)
          Combine(&out[r], valid[r] ? static_cast<uint64_t>(col.i64[r]) : kNullHash);
        break;
      case Physical::kDouble:
        for (size_t r = 0; r < n; ++r)
          Combine(&out[r], valid[r] ? DoubleHash(col.f64[r]) : kNullHash);
        break;
      case Physical::kString:
        for (size_t r = 0; r < n; ++r)
          Combine(&out[r], valid[r] ? StringHash(col.str[r]) : kNullHash);
        break;
    }
  }
}

}  // namespace

void HashRows(const Batch& batch, const std::vector<int>& columns, uint64_t* out) {
  HashColumnsImpl(
      columns.size(), batch.num_rows(),
      [&](size_t k) -> const Column& { return batch.columns[columns[k]]; }, out);
}

void HashColumns(const std::vector<Column>& columns, size_t num_rows, uint64_t* out) {
  HashColumnsImpl(
      columns.size(), num_rows, [&](size_t k) -> const Column& { return columns[k]; }, out);
}

}  // namespace eddy::runtime
