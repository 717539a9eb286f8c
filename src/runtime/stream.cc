#include "runtime/stream.h"

#include <chrono>

namespace eddy::runtime {

namespace {
constexpr auto kPoll = std::chrono::milliseconds(100);
}  // namespace

InputGate::InputGate(int channels, size_t capacity, CancelFlag* cancel)
    : queues_(channels), capacity_(capacity), cancel_(cancel) {}

bool InputGate::Push(int ch, StreamElement e) {
  std::unique_lock<std::mutex> l(mu_);
  // End and watermark elements never block: they are small and must not deadlock shutdown.
  bool control = e.kind != StreamElement::Kind::kBatch;
  // Waits poll the cancel flag too, so Ctrl-C stops a job even if nobody notifies.
  while (!(control || queues_[ch].size() < capacity_ || cancel_->cancelled.load())) {
    not_full_.wait_for(l, kPoll);
  }
  if (cancel_->cancelled.load()) return false;
  bool was_empty = queues_[ch].empty();
  queues_[ch].push_back(std::move(e));
  // The consumer only ever waits for an empty channel: wake it on the empty → non-empty edge.
  if (was_empty) not_empty_.notify_one();
  return true;
}

bool InputGate::PopFrom(int ch, StreamElement* out) {
  std::unique_lock<std::mutex> l(mu_);
  while (!(!queues_[ch].empty() || cancel_->cancelled.load())) not_empty_.wait_for(l, kPoll);
  if (cancel_->cancelled.load()) return false;
  bool was_full = queues_[ch].size() >= capacity_;
  *out = std::move(queues_[ch].front());
  queues_[ch].pop_front();
  // Producers only wait on a full channel: wake them on the full → not-full edge.
  if (was_full) not_full_.notify_all();
  return true;
}

bool InputGate::PopAny(StreamElement* out, int* ch) {
  std::unique_lock<std::mutex> l(mu_);
  int n = static_cast<int>(queues_.size());
  int found = -1;
  auto ready = [&] {
    if (cancel_->cancelled.load()) return true;
    for (int k = 0; k < n; ++k) {
      int c = (next_ + k) % n;
      if (!queues_[c].empty()) {
        found = c;
        return true;
      }
    }
    return false;
  };
  while (!ready()) not_empty_.wait_for(l, kPoll);
  if (cancel_->cancelled.load()) return false;
  next_ = (found + 1) % n;
  *ch = found;
  bool was_full = queues_[found].size() >= capacity_;
  *out = std::move(queues_[found].front());
  queues_[found].pop_front();
  if (was_full) not_full_.notify_all();
  return true;
}

void InputGate::WakeAll() {
  std::lock_guard<std::mutex> l(mu_);
  not_empty_.notify_all();
  not_full_.notify_all();
}

}  // namespace eddy::runtime
