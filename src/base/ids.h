// Strong ids: numbers that must not mix get their own types (STYLE.md "Names"), so an offset
// can't be passed where a partition id is expected. Each is a thin wrapper over one integer,
// explicit to construct, trivially copyable, hashable with absl::Hash, printable with fmt and
// ostreams.
#pragma once

#include <fmt/format.h>

#include <compare>
#include <cstdint>
#include <ostream>
#include <utility>

namespace eddy {

/// A tagged integer: `StrongInt<struct FooTag, int32_t>` is a distinct type with the
/// comparisons of its representation and nothing else. Use it for ids that need no arithmetic.
template <typename Tag, typename Rep>
class StrongInt {
 public:
  using ValueType = Rep;

  constexpr StrongInt() = default;
  constexpr explicit StrongInt(Rep value) : value_(value) {}

  /// The raw integer.
  constexpr Rep value() const { return value_; }

  friend constexpr auto operator<=>(StrongInt, StrongInt) = default;
  friend constexpr bool operator==(StrongInt, StrongInt) = default;

  template <typename H>
  friend H AbslHashValue(H h, StrongInt id) {
    return H::combine(std::move(h), id.value_);
  }
  friend std::ostream& operator<<(std::ostream& os, StrongInt id) { return os << id.value_; }

 private:
  Rep value_{};
};

/// A Kafka partition index within a topic (Kafka protocol: int32 `partition_index`), 0-based.
using PartitionId = StrongInt<struct PartitionIdTag, int32_t>;

/// A key group: the unit keyed state is split into (DESIGN.md §3 "Parallelism by key groups").
using KeyGroup = StrongInt<struct KeyGroupTag, int32_t>;

/// A record's position in a partition's log (Kafka protocol: int64 offset). Offsets are dense
/// and start at 0; -1 is Kafka's "no offset". Supports the arithmetic the log needs: offset +
/// count, offset - offset (a count), and comparisons.
class Offset {
 public:
  constexpr Offset() = default;
  constexpr explicit Offset(int64_t value) : value_(value) {}

  /// Kafka's "no offset" (-1), e.g. ListOffsets when no record matches.
  static constexpr Offset None() { return Offset(-1); }

  /// The raw integer.
  constexpr int64_t value() const { return value_; }

  constexpr Offset operator+(int64_t n) const { return Offset(value_ + n); }
  constexpr Offset operator-(int64_t n) const { return Offset(value_ - n); }
  /// The number of offsets between two offsets.
  constexpr int64_t operator-(Offset other) const { return value_ - other.value_; }
  constexpr Offset& operator+=(int64_t n) {
    value_ += n;
    return *this;
  }

  friend constexpr auto operator<=>(Offset, Offset) = default;
  friend constexpr bool operator==(Offset, Offset) = default;

  template <typename H>
  friend H AbslHashValue(H h, Offset o) {
    return H::combine(std::move(h), o.value_);
  }
  friend std::ostream& operator<<(std::ostream& os, Offset o) { return os << o.value_; }

 private:
  int64_t value_ = 0;
};

}  // namespace eddy

template <typename Tag, typename Rep>
struct fmt::formatter<eddy::StrongInt<Tag, Rep>> : fmt::formatter<Rep> {
  template <typename FormatContext>
  auto format(eddy::StrongInt<Tag, Rep> id, FormatContext& ctx) const {
    return fmt::formatter<Rep>::format(id.value(), ctx);
  }
};

template <>
struct fmt::formatter<eddy::Offset> : fmt::formatter<int64_t> {
  template <typename FormatContext>
  auto format(eddy::Offset o, FormatContext& ctx) const {
    return fmt::formatter<int64_t>::format(o.value(), ctx);
  }
};
