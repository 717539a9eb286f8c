// The two sparse indexes of a segment (docs/log-format.md "Indexes"). Both live in memory while
// the segment is open and are written to `<base>.index` / `<base>.timeindex` when the segment
// stops being active and on close; they can always be rebuilt from the `.log` file.
// Not thread-safe: the owning Partition serializes access under its mutex.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace eddy::log {

/// Offset index: entries (relative offset, file position), both uint32 big-endian, 8 bytes each,
/// strictly increasing in both fields. An entry says "the batch with base offset
/// base + relative_offset starts at byte position" (Kafka: OffsetIndex).
class OffsetIndex {
 public:
  static constexpr size_t kEntrySize = 8;

  struct Entry {
    uint32_t relative_offset = 0;
    uint32_t position = 0;
  };

  /// Adds an entry; ignored unless both fields exceed the last entry's.
  void Append(uint32_t relative_offset, uint32_t position);

  /// The last entry with relative_offset <= `relative_offset`, or {0, 0} (the segment start)
  /// when there is none. O(log n).
  Entry Lookup(uint32_t relative_offset) const;

  const std::vector<Entry>& entries() const { return entries_; }
  void Clear() { entries_.clear(); }

  /// The file form: the entries back to back.
  std::string Serialize() const;

  /// Parses the file form. Errors: DataLoss when the size is not a multiple of 8 or the entries
  /// are not strictly increasing.
  static absl::StatusOr<OffsetIndex> Parse(std::string_view bytes);

 private:
  std::vector<Entry> entries_;
};

/// Time index: entries (timestamp int64 ms, relative offset uint32), big-endian, 12 bytes each,
/// timestamps strictly increasing and offsets non-decreasing. An entry says "every record at or
/// before base + relative_offset has a timestamp <= timestamp", i.e. it records the running
/// maximum timestamp of the segment (Kafka: TimeIndex).
class TimeIndex {
 public:
  static constexpr size_t kEntrySize = 12;

  struct Entry {
    int64_t timestamp = 0;
    uint32_t relative_offset = 0;
  };

  /// Adds an entry when `timestamp` exceeds the last entry's (and the offset does not go back).
  void MaybeAppend(int64_t timestamp, uint32_t relative_offset);

  /// The last entry whose timestamp is < `timestamp`: every record up to its offset is older
  /// than `timestamp`. nullopt when none. O(log n).
  std::optional<Entry> LastBefore(int64_t timestamp) const;

  /// The last entry, holding the segment's maximum timestamp once the segment is closed.
  std::optional<Entry> last() const;

  const std::vector<Entry>& entries() const { return entries_; }
  void Clear() { entries_.clear(); }

  std::string Serialize() const;

  /// Parses the file form. Errors: DataLoss when the size is not a multiple of 12 or the entries
  /// are out of order.
  static absl::StatusOr<TimeIndex> Parse(std::string_view bytes);

 private:
  std::vector<Entry> entries_;
};

}  // namespace eddy::log
