// The flush timer of a batching sink (the http and jdbc sinks): one processing-time timer, set
// when a batch's first row is buffered and due 'interval' later, cancelled when the batch is
// written before it. Kept in the subtask's TimerService, so a job's processing-time clock drives
// it.
#pragma once

#include <cstdint>

#include "runtime/timer_service.h"

namespace eddy::connectors {

/// Not thread-safe: one sink subtask.
class FlushTimer {
 public:
  /// The subtask's timer service and a key group it owns (call in the operator's Open).
  void Open(runtime::TimerService* timers, KeyGroup kg) {
    timers_ = timers;
    kg_ = kg;
  }
  /// Sets the timer to `at_ms` (processing time, ms) unless it is set already.
  void Arm(int64_t at_ms) {
    if (at_ms_ >= 0) return;
    at_ms_ = at_ms;
    timers_->RegisterProcessingTimer(kg_, "", 0, at_ms_);
  }
  /// Takes every timer due at `now_ms`; true when the flush timer was among them (it is unset).
  bool Fired(int64_t now_ms) {
    runtime::Timer t;
    bool due = false;
    while (timers_->PopProcessingTimer(now_ms, &t)) due = true;
    if (due) at_ms_ = -1;
    return due;
  }
  /// Unsets the timer (the batch is being written now).
  void Cancel() {
    if (at_ms_ < 0) return;
    timers_->DeleteProcessingTimer(kg_, "", 0, at_ms_);
    at_ms_ = -1;
  }
  bool armed() const { return at_ms_ >= 0; }

 private:
  runtime::TimerService* timers_ = nullptr;
  KeyGroup kg_{0};
  int64_t at_ms_ = -1;  // when the timer is due, -1 when it is not set
};

}  // namespace eddy::connectors
