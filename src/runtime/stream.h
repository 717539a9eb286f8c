// In-band stream elements and the bounded channels between subtasks (DESIGN.md §3 "Threads",
// "Event time and watermarks"): data batches, watermarks and end-of-stream travel on the same
// queues, so a full queue is backpressure.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "types/batch.h"

namespace eddy::runtime {

/// One element on a channel.
struct StreamElement {
  enum class Kind : uint8_t {
    kBatch,      // `batch` holds rows
    kWatermark,  // `watermark`: no row with a smaller event time follows on this channel
    kChunkEnd,   // end of source chunk `chunk` whose rows end at watermark `watermark`
    kEnd,        // end of this channel
  };
  Kind kind = Kind::kBatch;
  Batch batch;
  int64_t watermark = INT64_MIN;
  int64_t chunk = 0;
};

/// Shared cancellation flag of a running job: set once on the first error or on Ctrl-C; every
/// blocking wait gives up when it is set.
struct CancelFlag {
  std::atomic<bool> cancelled{false};
};

/// The inputs of one consumer subtask: one bounded FIFO per producer channel, guarded by one mutex
/// so the consumer can wait for "any channel" or "this channel". Thread-safe: many producers, one
/// consumer.
class InputGate {
 public:
  /// `channels` producers, each with room for `capacity` elements before Push blocks.
  InputGate(int channels, size_t capacity, CancelFlag* cancel);

  /// Appends to channel `ch`, blocking while it is full. Returns false when the job is cancelled.
  bool Push(int ch, StreamElement e);
  /// Takes the next element of channel `ch` (blocking). False when cancelled.
  bool PopFrom(int ch, StreamElement* out);
  /// Takes the next element of any non-empty channel, preferring channels in round-robin order.
  /// `*ch` receives the channel. False when cancelled.
  bool PopAny(StreamElement* out, int* ch);
  /// Wakes every waiter (after the cancel flag was set).
  void WakeAll();
  int channels() const { return static_cast<int>(queues_.size()); }

 private:
  std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::vector<std::deque<StreamElement>> queues_;
  size_t capacity_;
  int next_ = 0;
  CancelFlag* cancel_;
};

}  // namespace eddy::runtime
