// What the join operators (regular, interval, temporal) share for their checkpointed state: a
// keyed state snapshotted as one KeyedMapState key-group snapshot per section, and time
// arithmetic that saturates instead of overflowing.
#pragma once

#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "base/status.h"
#include "state/keyed_map_state.h"
#include "state/snapshot.h"

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
