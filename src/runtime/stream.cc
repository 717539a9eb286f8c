#include "runtime/stream.h"

namespace eddy::runtime {

InputGate::InputGate(int channels, size_t capacity)
    : queues_(channels),
      sizes_(new std::atomic<size_t>[channels]),
      producers_(channels, nullptr),
      capacity_(capacity) {
  for (int i = 0; i < channels; ++i) sizes_[i].store(0);
}

void InputGate::Push(int ch, StreamElement e) {
  bool was_empty;
  {
    std::lock_guard<std::mutex> l(mu_);
    was_empty = queues_[ch].empty();
    queues_[ch].push_back(std::move(e));
    sizes_[ch].store(queues_[ch].size(), std::memory_order_release);
  }
  // The consumer only parks on empty channels: wake it on the empty → non-empty edge.
  if (was_empty && consumer_) consumer_->Wake();
}

Schedulable* InputGate::PopLocked(int ch, StreamElement* out) {
  auto& q = queues_[ch];
  bool was_full = q.size() >= capacity_;
  *out = std::move(q.front());
  q.pop_front();
  sizes_[ch].store(q.size(), std::memory_order_release);
  // A producer only parks on a full channel: wake it on the full → not-full edge.
  return was_full && q.size() < capacity_ ? producers_[ch] : nullptr;
}

bool InputGate::TryPopFrom(int ch, StreamElement* out) {
  Schedulable* wake;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (queues_[ch].empty()) return false;
    wake = PopLocked(ch, out);
  }
  if (wake) wake->Wake();
  return true;
}

bool InputGate::TryPopAny(StreamElement* out, int* ch) {
  static const std::vector<char> kNone;
  return TryPopAnyExcept(kNone, out, ch);
}

bool InputGate::TryPopAnyExcept(const std::vector<char>& blocked, StreamElement* out, int* ch) {
  Schedulable* wake = nullptr;
  {
    std::lock_guard<std::mutex> l(mu_);
    int n = static_cast<int>(queues_.size());
    int found = -1;
    for (int k = 0; k < n && found < 0; ++k) {
      int c = (next_ + k) % n;
      if (!queues_[c].empty() && (blocked.empty() || !blocked[c])) found = c;
    }
    if (found < 0) return false;
    next_ = (found + 1) % n;
    *ch = found;
    wake = PopLocked(found, out);
  }
  if (wake) wake->Wake();
  return true;
}

}  // namespace eddy::runtime
