// What the join operators (regular, interval, temporal) share for their checkpointed state: a
// keyed state snapshotted as one KeyedMapState key-group snapshot per section, and time
// arithmetic that saturates instead of overflowing.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "base/status.h"
#include "state/keyed_map_state.h"
#include "state/snapshot.h"
#include "types/value.h"

namespace eddy::runtime {

/// Writes every non-empty key group of `s` into section `section` of `out` (one
/// KeyedMapState::SnapshotKeyGroup each). Requires a StateSerializer<V>.
template <class V>
void SnapshotKeyedState(const state::KeyedMapState<V>& s, int section,
                        state::OperatorSnapshot* out) {
  const state::KeyGroupRange& range = s.range();
  for (int32_t kg = range.first().value(); kg <= range.last().value(); ++kg) {
    if (s.size(KeyGroup(kg)) == 0) continue;
    s.SnapshotKeyGroup(KeyGroup(kg), out->Section(KeyGroup(kg), section));
  }
}

/// Restores section `section` of every key group `in` holds into `s` (whose range must contain
/// them: OperatorRestore only hands out the key groups of the subtask's range). Errors:
/// DataLoss on a truncated or corrupt section (that key group is then left as it was).
template <class V>
absl::Status RestoreKeyedState(const state::OperatorRestore& in, int section,
                               state::KeyedMapState<V>* s) {
  for (KeyGroup kg : in.KeyGroups()) {
    std::string_view data = in.Section(kg, section);
    if (data.empty()) continue;
    EDDY_RETURN_IF_ERROR(s->RestoreKeyGroup(kg, data));
  }
  return absl::OkStatus();
}

/// Approximate heap bytes of a stored row of `values` (its Value array and the string bytes
/// beyond the in-place buffer) plus `overhead` bytes of the container entry holding it: what the
/// joins count for 'table.exec.state.max-bytes' (OperatorBase::StateBytes, called about once a
/// second when that limit is set, so the rows are walked then rather than counted per row).
inline size_t RowBytes(const std::vector<Value>& values, size_t overhead) {
  size_t n = overhead + values.capacity() * sizeof(Value);
  for (const Value& v : values) {
    if (v.s.capacity() > std::string().capacity()) n += v.s.capacity() + 1;
  }
  return n;
}

/// Approximate heap bytes of a two-sided join's keyed state: its hash maps plus every row stored
/// in the `side` containers of each key's state (entries with `values`), each counted by RowBytes
/// with `row_overhead`. Walks every row: O(rows).
template <class KeyedState>
size_t SideRowsStateBytes(const KeyedState& state, size_t row_overhead) {
  size_t n = state.ApproximateMemoryBytes();
  state.ForEach([&](KeyGroup, std::string_view, const auto& ks) {
    for (const auto& side : ks.side) {
      for (const auto& row : side) n += RowBytes(row.values, row_overhead);
    }
  });
  return n;
}

/// The rank of each of `keys` in byte order (equal keys rank alike): sorting by rank orders
/// rows by key with integer comparisons. O(n log n) string comparisons for n keys.
inline std::vector<uint32_t> KeyRanks(const std::vector<std::string>& keys) {
  std::vector<uint32_t> order(keys.size()), rank(keys.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<uint32_t>(i);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return keys[a] < keys[b]; });
  uint32_t r = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    if (i > 0 && keys[order[i]] != keys[order[i - 1]]) ++r;
    rank[order[i]] = r;
  }
  return rank;
}

/// a + b, clamped to the int64 range (event times plus join bounds near the ends of time).
inline int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return r;
}

/// a - b, clamped to the int64 range.
inline int64_t SaturatingSub(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_sub_overflow(a, b, &r)) {
    return b < 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return r;
}

}  // namespace eddy::runtime
