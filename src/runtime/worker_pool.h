// The worker pool (DESIGN.md §3 "Threads"): a fixed set of threads runs every subtask of every job
// cooperatively. A subtask runs when it is woken (input arrived, output room freed), does a bounded
// slice of work and hands its thread back, so one box holds many small pipelines and one pipeline
// uses every core without a thread per subtask.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/stream.h"

namespace eddy::runtime {

class WorkerPool;

/// A unit the pool schedules: one subtask. Subclasses implement RunSlice(); the pool guarantees
/// that RunSlice() of one task never runs on two threads at once and that a Wake() that arrives
/// while the task runs makes it run again (no lost wake-ups).
class Task : public Schedulable {
 public:
  /// What a slice ended with.
  enum class Slice {
    kYield,    // more work is ready: run again after the other queued tasks
    kBlocked,  // waiting for input or output room: run again after the next Wake()
    kDone,     // finished (successfully or not): never run again
  };

  explicit Task(WorkerPool* pool) : pool_(pool) {}
  /// Makes the task runnable. Thread-safe; cheap when it is already queued or running.
  void Wake() override;
  /// Does a bounded amount of work (a few batches). Called by one pool thread at a time.
  virtual Slice RunSlice() = 0;
  /// Called once after RunSlice() returned kDone, from the pool thread; the task may be
  /// destroyed from then on.
  virtual void OnDone() = 0;

 private:
  friend class WorkerPool;
  enum State : int { kIdle, kQueued, kRunning, kNotified, kFinished };
  WorkerPool* pool_;
  std::atomic<int> state_{kIdle};
};

/// A fixed set of worker threads with one run queue. Thread-safe. The destructor joins the
/// threads; every task must have finished by then.
class WorkerPool {
 public:
  /// Starts `threads` workers (at least 1).
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  int threads() const { return static_cast<int>(threads_.size()); }

 private:
  friend class Task;
  void Submit(Task* t);
  void WorkerLoop();
  void Run(Task* t);

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task*> queue_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace eddy::runtime
