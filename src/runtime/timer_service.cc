#include "runtime/timer_service.h"

#include <map>

#include "base/status.h"
#include "state/serializer.h"

namespace eddy::runtime {

namespace {
Timer Make(KeyGroup kg, std::string_view key, int64_t ns, int64_t time) {
  Timer t;
  t.time = time;
  t.kg = kg;
  t.key.assign(key.data(), key.size());
  t.ns = ns;
  return t;
}
}  // namespace

void TimerService::RegisterEventTimer(KeyGroup kg, std::string_view key, int64_t ns, int64_t time) {
  event_.insert(Make(kg, key, ns, time));
}

bool TimerService::DeleteEventTimer(KeyGroup kg, std::string_view key, int64_t ns, int64_t time) {
  return event_.erase(Make(kg, key, ns, time)) > 0;
}

bool TimerService::Pop(Set* s, int64_t bound, Timer* out) {
  if (s->empty() || s->begin()->time > bound) return false;
  auto node = s->extract(s->begin());
  *out = std::move(node.value());
  return true;
}

bool TimerService::PopEventTimer(int64_t watermark, Timer* out) {
  return Pop(&event_, watermark, out);
}

int64_t TimerService::NextEventTime() const {
  return event_.empty() ? INT64_MAX : event_.begin()->time;
}

void TimerService::RegisterProcessingTimer(KeyGroup kg, std::string_view key, int64_t ns,
                                           int64_t time_ms) {
  processing_.insert(Make(kg, key, ns, time_ms));
}

bool TimerService::DeleteProcessingTimer(KeyGroup kg, std::string_view key, int64_t ns,
                                         int64_t time_ms) {
  return processing_.erase(Make(kg, key, ns, time_ms)) > 0;
}

bool TimerService::PopProcessingTimer(int64_t now_ms, Timer* out) {
  return Pop(&processing_, now_ms, out);
}

int64_t TimerService::NextProcessingTime() const {
  return processing_.empty() ? INT64_MAX : processing_.begin()->time;
}

void TimerService::Snapshot(state::OperatorSnapshot* out, int section) const {
  // One pass over each set, bucketed by key group (counts first, then the timers).
  std::map<int32_t, std::pair<uint64_t, std::string>> per_kg;
  auto add = [&](const Set& s, uint8_t kind) {
    for (const Timer& t : s) {
      auto& [count, bytes] = per_kg[t.kg.value()];
      ++count;
      state::StateWriter w(&bytes);
      w.PutByte(kind);
      w.PutInt64(t.time);
      w.PutString(t.key);
      w.PutInt64(t.ns);
    }
  };
  add(event_, 0);
  add(processing_, 1);
  for (auto& [kg, entry] : per_kg) {
    std::string* sec = out->Section(KeyGroup(kg), section);
    state::StateWriter w(sec);
    w.PutVarint(entry.first);
    sec->append(entry.second);
  }
}

absl::Status TimerService::Restore(const state::OperatorRestore& in, int section) {
  for (KeyGroup kg : in.KeyGroups()) {
    std::string_view data = in.Section(kg, section);
    if (data.empty()) continue;
    state::StateReader r(data);
    uint64_t n = 0;
    EDDY_RETURN_IF_ERROR(r.GetCount(&n));
    for (uint64_t i = 0; i < n; ++i) {
      uint8_t kind = 0;
      Timer t;
      t.kg = kg;
      EDDY_RETURN_IF_ERROR(r.GetByte(&kind));
      EDDY_RETURN_IF_ERROR(r.GetInt64(&t.time));
      EDDY_RETURN_IF_ERROR(r.GetString(&t.key));
      EDDY_RETURN_IF_ERROR(r.GetInt64(&t.ns));
      if (kind > 1) return state::StateReader::Corrupt("unknown timer kind");
      (kind == 0 ? event_ : processing_).insert(std::move(t));
    }
    if (!r.done()) return state::StateReader::Corrupt("trailing bytes after the timers");
  }
  return absl::OkStatus();
}

}  // namespace eddy::runtime
