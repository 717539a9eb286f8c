#include "log/index.h"

#include <fmt/format.h>

#include <algorithm>

#include "log/log_error.h"
#include "log/record_batch.h"

namespace eddy::log {

void OffsetIndex::Append(uint32_t relative_offset, uint32_t position) {
  if (!entries_.empty() && (relative_offset <= entries_.back().relative_offset ||
                            position <= entries_.back().position)) {
    return;
  }
  entries_.push_back({relative_offset, position});
}

OffsetIndex::Entry OffsetIndex::Lookup(uint32_t relative_offset) const {
  auto it =
      std::upper_bound(entries_.begin(), entries_.end(), relative_offset,
                       [](uint32_t value, const Entry& e) { return value < e.relative_offset; });
  if (it == entries_.begin()) return Entry{};
  return *(it - 1);
}

std::string OffsetIndex::Serialize() const {
  std::string out(entries_.size() * kEntrySize, '\0');
  for (size_t i = 0; i < entries_.size(); ++i) {
    WriteBigEndian32(&out[i * kEntrySize], static_cast<int32_t>(entries_[i].relative_offset));
    WriteBigEndian32(&out[i * kEntrySize + 4], static_cast<int32_t>(entries_[i].position));
  }
  return out;
}

absl::StatusOr<OffsetIndex> OffsetIndex::Parse(std::string_view bytes) {
  if (bytes.size() % kEntrySize != 0) {
    return absl::DataLossError(
        fmt::format("offset index size {} is not a multiple of {}", bytes.size(), kEntrySize));
  }
  OffsetIndex index;
  index.entries_.reserve(bytes.size() / kEntrySize);
  for (size_t i = 0; i < bytes.size(); i += kEntrySize) {
    Entry e{static_cast<uint32_t>(ReadBigEndian32(bytes.data() + i)),
            static_cast<uint32_t>(ReadBigEndian32(bytes.data() + i + 4))};
    if (!index.entries_.empty() && (e.relative_offset <= index.entries_.back().relative_offset ||
                                    e.position <= index.entries_.back().position)) {
      return absl::DataLossError(fmt::format("offset index entry {} is out of order", i / 8));
    }
    index.entries_.push_back(e);
  }
  return index;
}

void TimeIndex::MaybeAppend(int64_t timestamp, uint32_t relative_offset) {
  if (!entries_.empty() && (timestamp <= entries_.back().timestamp ||
                            relative_offset < entries_.back().relative_offset)) {
    return;
  }
  entries_.push_back({timestamp, relative_offset});
}

std::optional<TimeIndex::Entry> TimeIndex::LastBefore(int64_t timestamp) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), timestamp,
                             [](const Entry& e, int64_t value) { return e.timestamp < value; });
  if (it == entries_.begin()) return std::nullopt;
  return *(it - 1);
}

std::optional<TimeIndex::Entry> TimeIndex::last() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.back();
}

std::string TimeIndex::Serialize() const {
  std::string out(entries_.size() * kEntrySize, '\0');
  for (size_t i = 0; i < entries_.size(); ++i) {
    WriteBigEndian64(&out[i * kEntrySize], entries_[i].timestamp);
    WriteBigEndian32(&out[i * kEntrySize + 8], static_cast<int32_t>(entries_[i].relative_offset));
  }
  return out;
}

absl::StatusOr<TimeIndex> TimeIndex::Parse(std::string_view bytes) {
  if (bytes.size() % kEntrySize != 0) {
    return absl::DataLossError(
        fmt::format("time index size {} is not a multiple of {}", bytes.size(), kEntrySize));
  }
  TimeIndex index;
  index.entries_.reserve(bytes.size() / kEntrySize);
  for (size_t i = 0; i < bytes.size(); i += kEntrySize) {
    Entry e{ReadBigEndian64(bytes.data() + i),
            static_cast<uint32_t>(ReadBigEndian32(bytes.data() + i + 8))};
    if (!index.entries_.empty() && (e.timestamp <= index.entries_.back().timestamp ||
                                    e.relative_offset < index.entries_.back().relative_offset)) {
      return absl::DataLossError(fmt::format("time index entry {} is out of order", i / 12));
    }
    index.entries_.push_back(e);
  }
  return index;
}

}  // namespace eddy::log
