#include "runtime/worker_pool.h"

namespace eddy::runtime {

void Task::Wake() {
  int s = state_.load(std::memory_order_acquire);
  while (true) {
    if (s == kIdle) {
      if (state_.compare_exchange_weak(s, kQueued, std::memory_order_acq_rel)) {
        pool_->Submit(this);
        return;
      }
    } else if (s == kRunning) {
      // Running now: it must look again when this slice ends.
      if (state_.compare_exchange_weak(s, kNotified, std::memory_order_acq_rel)) return;
    } else {
      return;  // already queued or notified, or finished
    }
  }
}

WorkerPool::WorkerPool(int threads) {
  if (threads < 1) threads = 1;
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::Submit(Task* t) {
  {
    std::lock_guard<std::mutex> l(mu_);
    queue_.push_back(t);
  }
  cv_.notify_one();
}

void WorkerPool::WorkerLoop() {
  while (true) {
    Task* t;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping
      t = queue_.front();
      queue_.pop_front();
    }
    Run(t);
  }
}

void WorkerPool::Run(Task* t) {
  t->state_.store(Task::kRunning, std::memory_order_release);
  while (true) {
    Task::Slice r = t->RunSlice();
    if (r == Task::Slice::kDone) {
      t->state_.store(Task::kFinished, std::memory_order_release);
      t->OnDone();
      return;
    }
    if (r == Task::Slice::kBlocked) {
      int s = Task::kRunning;
      if (t->state_.compare_exchange_strong(s, Task::kIdle, std::memory_order_acq_rel)) return;
      // Woken during the slice: what it waited for may be there now.
      t->state_.store(Task::kRunning, std::memory_order_release);
      continue;
    }
    // kYield: go to the back of the queue so other tasks get their turn, unless nobody waits.
    {
      std::lock_guard<std::mutex> l(mu_);
      if (queue_.empty()) {
        t->state_.store(Task::kRunning, std::memory_order_release);
        continue;
      }
      t->state_.store(Task::kQueued, std::memory_order_release);
      queue_.push_back(t);
    }
    cv_.notify_one();
    return;
  }
}

}  // namespace eddy::runtime
