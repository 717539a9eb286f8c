// Timers of one operator instance (Flink: InternalTimerService): event-time timers fire when the
// watermark reaches them, processing-time timers when the wall clock does. A timer is
// (time, key group, key bytes, namespace) and exists at most once. Timers are state: the runtime
// snapshots them per key group with their operator and restores them on recovery or rescaling.
//
// Timers fire in a deterministic order — by time, then key bytes, then namespace — never by
// memory address, so the output emitted at one watermark is the same from run to run.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "base/ids.h"
#include "state/key_group_range.h"
#include "state/snapshot.h"

namespace eddy::runtime {

/// One timer. `ns` distinguishes several timers of one key at one time (e.g. a window start).
struct Timer {
  int64_t time = 0;  // event time in µs, or processing time in ms
  KeyGroup kg{0};
  std::string key;
  int64_t ns = 0;
};

/// The timers of one operator instance over the key groups its subtask owns. Not thread-safe:
/// one subtask thread owns it.
class TimerService {
 public:
  explicit TimerService(state::KeyGroupRange range = {}) : range_(range) {}

  /// Registers an event-time timer (µs); a second registration of the same timer is a no-op.
  void RegisterEventTimer(KeyGroup kg, std::string_view key, int64_t ns, int64_t time);
  /// Removes an event-time timer; returns whether it existed.
  bool DeleteEventTimer(KeyGroup kg, std::string_view key, int64_t ns, int64_t time);
  /// Takes the next event-time timer with time ≤ `watermark` into `*out`; false when none.
  bool PopEventTimer(int64_t watermark, Timer* out);
  /// Time of the earliest event-time timer, INT64_MAX when none.
  int64_t NextEventTime() const;

  /// Registers a processing-time timer (ms since the epoch).
  void RegisterProcessingTimer(KeyGroup kg, std::string_view key, int64_t ns, int64_t time_ms);
  bool DeleteProcessingTimer(KeyGroup kg, std::string_view key, int64_t ns, int64_t time_ms);
  /// Takes the next processing-time timer with time ≤ `now_ms`; false when none.
  bool PopProcessingTimer(int64_t now_ms, Timer* out);
  /// Time of the earliest processing-time timer (ms), INT64_MAX when none.
  int64_t NextProcessingTime() const;

  size_t size() const { return event_.size() + processing_.size(); }
  const state::KeyGroupRange& range() const { return range_; }

  /// Writes every timer into section `section` of its key group in `out`: varint count, then per
  /// timer: byte kind (0 event, 1 processing), int64 time, string key, int64 ns.
  void Snapshot(state::OperatorSnapshot* out, int section) const;
  /// Adds the timers of section `section` of every key group `in` holds. Errors: DataLoss.
  absl::Status Restore(const state::OperatorRestore& in, int section);

 private:
  struct Less {
    bool operator()(const Timer& a, const Timer& b) const {
      if (a.time != b.time) return a.time < b.time;
      if (a.key != b.key) return a.key < b.key;
      if (a.ns != b.ns) return a.ns < b.ns;
      return a.kg < b.kg;
    }
  };
  using Set = std::set<Timer, Less>;
  static bool Pop(Set* s, int64_t bound, Timer* out);

  state::KeyGroupRange range_;
  Set event_;
  Set processing_;
};

/// Section numbers the runtime uses in an operator's keyed state; operators number their own
/// sections from kFirstOperatorSection.
inline constexpr int kTimerSection = 0;
inline constexpr int kFirstOperatorSection = 1;

}  // namespace eddy::runtime
