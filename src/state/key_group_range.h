// Key groups and the contiguous range of them a parallel subtask owns (DESIGN.md §3
// "Parallelism by key groups"; Flink: KeyGroupRange, KeyGroupRangeAssignment).
#pragma once

#include <cstdint>

#include "base/ids.h"

namespace eddy::state {

/// The key groups [first, last] (inclusive) a subtask owns; empty when last < first. A value
/// type: cheap to copy, immutable, safe to share between threads.
class KeyGroupRange {
 public:
  /// The empty range.
  constexpr KeyGroupRange() = default;
  /// [first, last], inclusive on both ends (empty when last < first).
  constexpr KeyGroupRange(KeyGroup first, KeyGroup last) : first_(first), last_(last) {}

  /// The range of subtask `subtask` (0-based) of `parallelism` subtasks over `max_parallelism`
  /// key groups: the key groups kg with kg * parallelism / max_parallelism == subtask, the
  /// inverse of runtime's SubtaskOfKeyGroup (Flink: computeKeyGroupRangeForOperatorIndex).
  /// Requires 0 <= subtask < parallelism <= max_parallelism; every subtask then owns at least
  /// one key group and the ranges of all subtasks partition [0, max_parallelism).
  static constexpr KeyGroupRange Of(int subtask, int parallelism, int max_parallelism) {
    int64_t p = parallelism, m = max_parallelism;
    int64_t first = (subtask * m + p - 1) / p;      // ceil(subtask * m / p)
    int64_t end = ((subtask + 1) * m + p - 1) / p;  // ceil((subtask + 1) * m / p), exclusive
    return KeyGroupRange(KeyGroup(static_cast<int32_t>(first)),
                         KeyGroup(static_cast<int32_t>(end - 1)));
  }

  constexpr KeyGroup first() const { return first_; }
  constexpr KeyGroup last() const { return last_; }
  /// Number of key groups (0 when empty).
  constexpr int size() const {
    return last_.value() < first_.value() ? 0 : last_.value() - first_.value() + 1;
  }
  constexpr bool empty() const { return size() == 0; }
  constexpr bool contains(KeyGroup kg) const { return first_ <= kg && kg <= last_; }
  /// 0-based position of `kg` in the range (requires contains(kg)).
  constexpr int IndexOf(KeyGroup kg) const { return kg.value() - first_.value(); }

  friend constexpr bool operator==(const KeyGroupRange&, const KeyGroupRange&) = default;

 private:
  KeyGroup first_{0};
  KeyGroup last_{-1};
};

}  // namespace eddy::state
