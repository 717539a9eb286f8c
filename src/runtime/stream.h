// In-band stream elements and the bounded channels between subtasks (DESIGN.md §3 "Threads",
// "Event time and watermarks"): data batches, watermarks and end-of-stream travel on the same
// queues, so a full queue is backpressure.
#pragma once

#include <atomic>
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
    kIdle,       // the producer has no input for now (Flink: WatermarkStatus.IDLE): consumers
                 // leave this channel out of their minimum watermark until it sends again
    kBarrier,    // checkpoint barrier `checkpoint_id` (Carbone et al. 2015): everything before it
                 // on this channel belongs to the checkpoint, nothing after it
  };
  Kind kind = Kind::kBatch;
  Batch batch;
  int64_t watermark = INT64_MIN;
  int64_t chunk = 0;
  int64_t checkpoint_id = 0;  // kBarrier
};

/// Shared cancellation flag of a running job: set once on the first error or on Ctrl-C; every
/// subtask stops at its next scheduling point when it is set.
struct CancelFlag {
  std::atomic<bool> cancelled{false};
};

/// Something the worker pool can run again when a channel it waits on changes (a subtask).
/// Wake() is thread-safe and cheap when the target is already queued or running.
class Schedulable {
 public:
  virtual ~Schedulable() = default;
  virtual void Wake() = 0;
};

/// The inputs of one consumer subtask: one FIFO per producer channel. Nothing blocks: a producer
/// appends freely and asks Full() before it takes more work (a soft bound of `capacity` elements,
/// overshot by at most one unit of producer work); a consumer takes what is there. The gate wakes
/// the consumer when a channel turns non-empty and a channel's producer when it drops below
/// `capacity` (Flink: credit-based flow control reduced to one process).
/// Thread-safe: many producers, one consumer.
class InputGate {
 public:
  /// `channels` producers, each with room for `capacity` elements before Full() says so.
  InputGate(int channels, size_t capacity);

  /// The subtask to wake when data arrives, and the producer subtask of channel `ch`.
  void SetConsumer(Schedulable* consumer) { consumer_ = consumer; }
  void SetProducer(int ch, Schedulable* producer) { producers_[ch] = producer; }

  /// Appends to channel `ch` (never blocks); wakes the consumer on the empty → non-empty edge.
  void Push(int ch, StreamElement e);
  /// True when channel `ch` holds `capacity` elements or more: its producer should wait.
  bool Full(int ch) const { return sizes_[ch].load(std::memory_order_acquire) >= capacity_; }
  /// Takes the next element of channel `ch`. False when the channel is empty.
  bool TryPopFrom(int ch, StreamElement* out);
  /// Takes the next element of any non-empty channel, in round-robin order; `*ch` receives the
  /// channel. False when all are empty.
  bool TryPopAny(StreamElement* out, int* ch);
  /// Same, skipping the channels c with `blocked[c]` set (barrier alignment).
  bool TryPopAnyExcept(const std::vector<char>& blocked, StreamElement* out, int* ch);
  int channels() const { return static_cast<int>(queues_.size()); }
  size_t capacity() const { return capacity_; }

 private:
  // Pops the front of `ch` (mu_ held); returns the producer to wake, if any.
  Schedulable* PopLocked(int ch, StreamElement* out);

  std::mutex mu_;
  std::vector<std::deque<StreamElement>> queues_;
  std::unique_ptr<std::atomic<size_t>[]> sizes_;  // mirrors queues_[ch].size() for Full()
  std::vector<Schedulable*> producers_;
  Schedulable* consumer_ = nullptr;
  size_t capacity_;
  int next_ = 0;
};

}  // namespace eddy::runtime
