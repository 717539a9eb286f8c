// Columnar record batches (DESIGN.md §3 "Columnar batches"): up to N rows as columns, one RowKind
// per row. Strings are views into arenas that the batch keeps alive.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "types/data_type.h"

namespace eddy {

/// Flink's changelog row kinds.
enum class RowKind : uint8_t {
  kInsert = 0,        // +I
  kUpdateBefore = 1,  // -U
  kUpdateAfter = 2,   // +U
  kDelete = 3,        // -D
};

/// "+I", "-U", "+U", "-D".
const char* RowKindName(RowKind k);
/// True for +I and +U (rows that add to a result), false for retractions.
inline bool IsAccumulate(RowKind k) { return k == RowKind::kInsert || k == RowKind::kUpdateAfter; }

/// Append-only storage for string bytes. Views handed out stay valid for the arena's lifetime.
/// Not thread-safe; a batch's arenas are immutable once the batch is published to a queue.
class Arena {
 public:
  /// Copies `s` into the arena and returns a view of the copy.
  std::string_view Add(std::string_view s);
  /// Reserves `n` bytes and returns a pointer to them (for building strings in place).
  char* Allocate(size_t n);
  /// Adopts a whole buffer (e.g. a file chunk) so views into it stay valid.
  void Adopt(std::unique_ptr<char[]> block) { blocks_.push_back(std::move(block)); }
  size_t bytes() const { return bytes_; }

 private:
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* cur_ = nullptr;
  size_t left_ = 0;
  size_t bytes_ = 0;
};

/// One column of a batch: a validity byte per row (1 = not NULL) and the values in the vector
/// that matches the type's Physical kind (int64 for BOOLEAN/INT/BIGINT/DECIMAL/TIMESTAMP/DATE/
/// INTERVAL, double for DOUBLE, string_view for STRING). The value of a NULL row is unspecified
/// but initialized (0, 0.0 or "").
struct Column {
  DataType type;
  std::vector<uint8_t> valid;
  std::vector<int64_t> i64;
  std::vector<double> f64;
  std::vector<std::string_view> str;

  Column() = default;
  explicit Column(DataType t) : type(t) {}

  size_t size() const { return valid.size(); }
  bool IsNull(size_t i) const { return !valid[i]; }
  void Reserve(size_t n);
  /// Resizes to `n` rows; new rows are NULL.
  void Resize(size_t n);
  void Clear();
  void AppendNull();
  void AppendInt(int64_t v) {
    valid.push_back(1);
    i64.push_back(v);
  }
  void AppendDouble(double v) {
    valid.push_back(1);
    f64.push_back(v);
  }
  void AppendString(std::string_view v) {
    valid.push_back(1);
    str.push_back(v);
  }
  /// Appends row `i` of `src` (same physical type). String views are copied as views: the caller
  /// keeps `src`'s arenas alive (share Batch::arenas).
  void AppendFrom(const Column& src, size_t i);
  /// A new column holding rows `rows` of this one, in that order (typed loop, no per-row switch).
  Column Gather(const std::vector<uint32_t>& rows) const;
};

/// A record batch: columns of equal length plus a RowKind per row.
struct Batch {
  std::vector<Column> columns;
  std::vector<RowKind> kinds;
  std::vector<std::shared_ptr<Arena>> arenas;

  size_t num_rows() const { return kinds.size(); }
  /// A new arena owned by this batch, for strings computed into it.
  Arena* NewArena();
  /// Empty batch with one empty column per field of `schema`.
  static Batch Empty(const Schema& schema);
  /// Rows `rows` of this batch as a new batch sharing its arenas.
  Batch Gather(const std::vector<uint32_t>& rows) const;
};

}  // namespace eddy
