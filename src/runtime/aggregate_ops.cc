#include "runtime/aggregate_ops.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "base/status.h"
#include "base/strings.h"
#include "runtime/key_groups.h"
#include "runtime/timer_service.h"
#include "state/keyed_map_state.h"
#include "state/serializer.h"
#include "state/value_serializer.h"
#include "types/time_util.h"
#include "types/value.h"

namespace eddy::runtime {

Schema LateRowSchema() {
  Schema s;
  s.fields = {{"operator", DataType::String()},
              {"event_time", DataType::Timestamp(6)},
              {"watermark", DataType::Timestamp(6)},
              {"row", DataType::String()}};
  return s;
}

void AssignWindows(const WindowSpec& s, int64_t ts, std::vector<std::pair<int64_t, int64_t>>* w) {
  w->clear();
  switch (s.kind) {
    case WindowKind::kTumble: {
      int64_t start = ts - FloorMod(ts - s.offset, s.size);
      w->push_back({start, start + s.size});
      break;
    }
    case WindowKind::kHop: {
      int64_t last = ts - FloorMod(ts - s.offset, s.slide);
      for (int64_t start = last; start > ts - s.size; start -= s.slide) {
        w->push_back({start, start + s.size});
      }
      std::reverse(w->begin(), w->end());
      break;
    }
    case WindowKind::kCumulate: {
      int64_t start = ts - FloorMod(ts - s.offset, s.size);
      for (int64_t end = start + s.step; end <= start + s.size; end += s.step) {
        if (end > ts) w->push_back({start, end});
      }
      break;
    }
    case WindowKind::kSession:
      break;
  }
}

void AppendLateRow(std::string_view op, int64_t event_time, int64_t watermark, const Batch& in,
                   size_t i, const std::vector<Field>& fields, Batch* late) {
  if (late->columns.empty()) {
    *late = Batch::Empty(LateRowSchema());
    late->NewArena();
  }
  Batch& b = *late;
  Arena* arena = b.arenas.back().get();
  b.columns[0].AppendString(arena->Add(op));
  b.columns[1].AppendInt(event_time);
  if (watermark == INT64_MIN) {
    b.columns[2].AppendNull();
  } else {
    b.columns[2].AppendInt(watermark);
  }
  // The row as the operator received it: its columns by name (each name once), without internal
  // columns.
  std::string json = "{";
  std::vector<std::string_view> seen;
  for (size_t c = 0; c < fields.size() && c < in.columns.size(); ++c) {
    const std::string& name = fields[c].name;
    if (name.rfind("$", 0) == 0) continue;
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) continue;
    seen.push_back(name);
    if (json.size() > 1) json += ",";
    json += JsonQuote(name) + ":";
    const Column& col = in.columns[c];
    if (!col.valid[i]) {
      json += "null";
    } else if (col.type.is_numeric() || col.type.id == TypeId::kBoolean) {
      json += FormatCell(col, i, "null", true);
    } else {
      json += JsonQuote(FormatCell(col, i, "null", true));
    }
  }
  json += "}";
  b.columns[3].AppendString(arena->Add(json));
  b.kinds.push_back(RowKind::kInsert);
}

namespace {

void AppendKey(std::string* buf, const Column& c, size_t row) {
  if (!c.valid[row]) {
    buf->push_back(0);
    return;
  }
  buf->push_back(1);
  switch (c.type.physical()) {
    case Physical::kInt64:
      buf->append(reinterpret_cast<const char*>(&c.i64[row]), 8);
      break;
    case Physical::kDouble: {
      double d = c.f64[row] == 0 ? 0.0 : c.f64[row];
      buf->append(reinterpret_cast<const char*>(&d), 8);
      break;
    }
    case Physical::kString: {
      uint32_t n = static_cast<uint32_t>(c.str[row].size());
      buf->append(reinterpret_cast<const char*>(&n), 4);
      buf->append(c.str[row]);
      break;
    }
  }
}

// Appends the key values encoded in `key` (by AppendKey) to `cols`; returns bytes consumed.
size_t DecodeKey(std::string_view key, std::vector<Column>* cols, size_t first, size_t count,
                 Arena* arena) {
  size_t p = 0;
  for (size_t k = 0; k < count; ++k) {
    Column& c = (*cols)[first + k];
    if (key[p++] == 0) {
      c.AppendNull();
      continue;
    }
    switch (c.type.physical()) {
      case Physical::kInt64: {
        int64_t v;
        std::memcpy(&v, key.data() + p, 8);
        p += 8;
        c.AppendInt(v);
        break;
      }
      case Physical::kDouble: {
        double v;
        std::memcpy(&v, key.data() + p, 8);
        p += 8;
        c.AppendDouble(v);
        break;
      }
      case Physical::kString: {
        uint32_t n;
        std::memcpy(&n, key.data() + p, 4);
        p += 4;
        c.AppendString(arena->Add(key.substr(p, n)));
        p += n;
        break;
      }
    }
  }
  return p;
}

// Fixed-size agg state slots with a free list.
// Fixed-size aggregate state slots with a free list. States live in blocks that never move, so
// states holding self-referencing objects (a std::string in MIN/MAX of STRING) stay valid.
class SlotStore {
 public:
  explicit SlotStore(const std::vector<AggCall>* aggs) : aggs_(aggs) {
    for (const auto& a : *aggs) {
      offsets_.push_back(size_);
      size_ += (a.fn->state_size() + 7) / 8 * 8;
    }
    if (size_ == 0) size_ = 8;
  }
  SlotStore(const SlotStore&) = delete;
  SlotStore& operator=(const SlotStore&) = delete;
  ~SlotStore() {
    for (uint32_t s = 0; s < live_.size(); ++s) {
      if (live_[s]) Destroy(s);
    }
  }
  uint32_t Alloc() {
    uint32_t s;
    if (!free_.empty()) {
      s = free_.back();
      free_.pop_back();
    } else {
      s = static_cast<uint32_t>(live_.size());
      if (s % kSlotsPerBlock == 0) {
        blocks_.push_back(std::make_unique<uint64_t[]>(kSlotsPerBlock * size_ / 8));
      }
      live_.push_back(false);
    }
    live_[s] = true;
    for (size_t a = 0; a < aggs_->size(); ++a) (*aggs_)[a].fn->Init(State(s, a));
    return s;
  }
  void Free(uint32_t s) {
    Destroy(s);
    live_[s] = false;
    free_.push_back(s);
  }
  char* State(uint32_t slot, size_t agg) {
    char* block = reinterpret_cast<char*>(blocks_[slot / kSlotsPerBlock].get());
    return block + (slot % kSlotsPerBlock) * size_ + offsets_[agg];
  }
  void Merge(uint32_t dst, uint32_t src) {
    for (size_t a = 0; a < aggs_->size(); ++a) {
      (*aggs_)[a].fn->Merge(State(dst, a), State(src, a));
    }
  }
  /// Bytes of the slot blocks (what aggregate states own on the heap is not counted).
  size_t ApproximateMemoryBytes() const {
    return blocks_.size() * kSlotsPerBlock * size_ + live_.capacity() / 8 +
           free_.capacity() * sizeof(uint32_t);
  }

 private:
  static constexpr size_t kSlotsPerBlock = 1024;
  void Destroy(uint32_t s) {
    for (size_t a = 0; a < aggs_->size(); ++a) (*aggs_)[a].fn->Destroy(State(s, a));
  }
  const std::vector<AggCall>* aggs_;
  std::vector<size_t> offsets_;
  size_t size_ = 0;  // bytes per slot, a multiple of 8
  std::vector<std::unique_ptr<uint64_t[]>> blocks_;
  std::vector<bool> live_;
  std::vector<uint32_t> free_;
};

// Serializes the aggregate states of `slot` (every aggregate, in order).
void WriteSlot(SlotStore& slots, const std::vector<AggCall>& aggs, uint32_t slot,
               std::string* out) {
  for (size_t a = 0; a < aggs.size(); ++a) aggs[a].fn->SerializeState(slots.State(slot, a), out);
}

// Allocates a slot and reads its aggregate states from `*in`.
absl::StatusOr<uint32_t> ReadSlot(SlotStore& slots, const std::vector<AggCall>& aggs,
                                  std::string_view* in) {
  uint32_t slot = slots.Alloc();
  for (size_t a = 0; a < aggs.size(); ++a) {
    absl::Status s = aggs[a].fn->DeserializeState(slots.State(slot, a), in);
    if (!s.ok()) {
      slots.Free(slot);
      return s;
    }
  }
  return slot;
}

// Window aggregation. Keyed state: per key, its open windows (start, end, aggregate states) or
// sessions. Timers (the operator's TimerService): one per open window or session, at
// window_end - 1 (event time) or window_end (processing time, ms), keyed by the group key with
// the window start as namespace, so windows fire in the order (end, key, start).
class WindowAggregate final : public OneInputOperator {
 public:
  explicit WindowAggregate(AggregateConfig c)
      : c_(std::move(c)),
        late_(c_.name, c_.input_fields, c_.metrics.get(), nullptr),
        slots_(&c_.aggs),
        key_groups_(c_.subtask, c_.name),
        keys_(key_groups_.range()),
        sessions_(key_groups_.range()),
        fire_lead_(c_.time_column >= 0 && c_.time_column < static_cast<int>(c_.input_fields.size())
                       ? WindowFireLead(c_.input_fields[c_.time_column].type)
                       : 1) {
    out_schema_.fields.clear();
    for (int k : c_.key_columns) out_schema_.fields.push_back(c_.input_fields[k]);
    out_schema_.fields.push_back({"window_start", DataType::Timestamp(3)});
    out_schema_.fields.push_back({"window_end", DataType::Timestamp(3)});
    out_schema_.fields.push_back({"window_time", DataType::Timestamp(3)});
    for (const auto& a : c_.aggs) out_schema_.fields.push_back({"agg", a.fn->result_type()});
  }

  std::string uid() const override { return c_.name; }

  absl::Status Open(OperatorContext& ctx) override {
    late_.set_output(ctx.late);
    timers_ = ctx.timers;
    return OneInputOperator::Open(ctx);
  }

  absl::Status ProcessBatch(Batch& in, const RowWatermarks& wm, Output* out) override {
    const Column& tcol = in.columns[c_.time_column];
    size_t n = in.num_rows();
    rows_.clear();
    row_slots_.clear();
    EDDY_RETURN_IF_ERROR(key_groups_.Assign(in, c_.key_columns));
    for (size_t i = 0; i < n; ++i) {
      if (!tcol.valid[i]) {
        return absl::InvalidArgumentError(
            fmt::format("{}: the event-time attribute is NULL", c_.name));
      }
      int64_t ts = tcol.i64[i];
      int64_t w = c_.processing_time ? INT64_MIN : wm.At(i);
      key_.clear();
      for (int k : c_.key_columns) AppendKey(&key_, in.columns[k], i);
      kg_ = key_groups_[i];
      if (c_.window.kind == WindowKind::kSession) {
        int64_t slot = AssignSession(ts, w);
        if (slot < 0) {
          late_.Add(in, i, ts, w);
          continue;
        }
        // Accumulate now: a later row of this batch may merge this session into another slot.
        AccumulateRow(in, i, static_cast<uint32_t>(slot));
        continue;
      }
      AssignWindows(c_.window, ts, &wins_);
      bool any = false;
      for (auto [start, end] : wins_) {
        if (end - fire_lead_ <= w) continue;  // this window already fired
        any = true;
        rows_.push_back(static_cast<uint32_t>(i));
        row_slots_.push_back(Slot(start, end));
      }
      if (!any) late_.Add(in, i, ts, w);
    }
    // Accumulate: per aggregate, one pass over the (row, slot) pairs.
    for (size_t a = 0; a < c_.aggs.size(); ++a) {
      const AggCall& call = c_.aggs[a];
      const Column* arg = call.arg >= 0 ? &in.columns[call.arg] : nullptr;
      const Column* filt = call.filter >= 0 ? &in.columns[call.filter] : nullptr;
      for (size_t r = 0; r < rows_.size(); ++r) {
        uint32_t slot = row_slots_[r];
        uint32_t row = rows_[r];
        if (filt && !(filt->valid[row] && filt->i64[row])) continue;
        call.fn->Accumulate(slots_.State(slot, a), arg, row);
      }
    }
    return late_.Flush();
  }

  void AccumulateRow(const Batch& in, size_t row, uint32_t slot) {
    for (size_t a = 0; a < c_.aggs.size(); ++a) {
      const AggCall& call = c_.aggs[a];
      if (call.filter >= 0) {
        const Column& f = in.columns[call.filter];
        if (!(f.valid[row] && f.i64[row])) continue;
      }
      call.fn->Accumulate(slots_.State(slot, a), call.arg >= 0 ? &in.columns[call.arg] : nullptr,
                          row);
    }
  }

  absl::Status ProcessWatermark(int64_t w, Output* out) override {
    if (c_.processing_time) {
      // Processing-time windows fire on the wall clock (OnProcessingTime); a bounded input's end
      // fires what is still open.
      if (w == INT64_MAX) EDDY_RETURN_IF_ERROR(Fire(INT64_MAX, true, out));
      return out->EmitWatermark(w);
    }
    EDDY_RETURN_IF_ERROR(Fire(w, false, out));
    return out->EmitWatermark(WindowOutputWatermark(w, fire_lead_));
  }

  absl::Status OnProcessingTime(int64_t now_ms, Output* out) override {
    return Fire(now_ms, true, out);
  }

  absl::Status SnapshotState(int64_t, state::OperatorSnapshot* out) override {
    // Section 1: windows per key: key, count, (start, end, aggregate states)…; section 2: the
    // same for sessions.
    keys_.ForEach([&](KeyGroup kg, std::string_view key, std::unique_ptr<KeyWindows>& kw) {
      std::string* sec = out->Section(kg, kFirstOperatorSection);
      state::StateWriter w(sec);
      w.PutString(key);
      w.PutVarint(kw->wins.size());
      // In (start, end) order, so the same state always gives the same bytes.
      std::vector<std::pair<std::pair<int64_t, int64_t>, uint32_t>> sorted(kw->wins.begin(),
                                                                           kw->wins.end());
      std::sort(sorted.begin(), sorted.end());
      for (const auto& [bounds, slot] : sorted) {
        w.PutInt64(bounds.first);
        w.PutInt64(bounds.second);
        WriteSlot(slots_, c_.aggs, slot, sec);
      }
    });
    sessions_.ForEach([&](KeyGroup kg, std::string_view key, std::vector<Session>& list) {
      std::string* sec = out->Section(kg, kFirstOperatorSection + 1);
      state::StateWriter w(sec);
      w.PutString(key);
      w.PutVarint(list.size());
      for (const Session& s : list) {
        w.PutInt64(s.start);
        w.PutInt64(s.end);
        WriteSlot(slots_, c_.aggs, s.slot, sec);
      }
    });
    return absl::OkStatus();
  }

  absl::Status InitializeState(const state::OperatorRestore& in) override {
    for (KeyGroup kg : in.KeyGroups()) {
      for (int section : {kFirstOperatorSection, kFirstOperatorSection + 1}) {
        std::string_view data = in.Section(kg, section);
        while (!data.empty()) {
          state::StateReader r(data);
          std::string key;
          uint64_t count = 0;
          EDDY_RETURN_IF_ERROR(r.GetString(&key));
          EDDY_RETURN_IF_ERROR(r.GetCount(&count));
          std::vector<std::pair<int64_t, int64_t>> bounds;
          data.remove_prefix(data.size() - r.remaining());
          for (uint64_t i = 0; i < count; ++i) {
            state::StateReader rb(data);
            int64_t start = 0, end = 0;
            EDDY_RETURN_IF_ERROR(rb.GetInt64(&start));
            EDDY_RETURN_IF_ERROR(rb.GetInt64(&end));
            data.remove_prefix(data.size() - rb.remaining());
            EDDY_ASSIGN_OR_RETURN(uint32_t slot, ReadSlot(slots_, c_.aggs, &data));
            key_ = key;
            kg_ = kg;
            if (section == kFirstOperatorSection) {
              AddWindow(start, end, slot);
            } else {
              sessions_.FindOrInsert(kg, key).first->push_back({start, end, slot});
            }
          }
        }
      }
    }
    last_ = nullptr;
    return absl::OkStatus();
  }

  size_t StateBytes() const override {
    return keys_.ApproximateMemoryBytes() + sessions_.ApproximateMemoryBytes() +
           slots_.ApproximateMemoryBytes();
  }
  size_t StateKeys() const override { return keys_.size() + sessions_.size(); }

 private:
  // State of one group key: its open (not yet fired) windows. Usually one or a few.
  struct KeyWindows {
    // (window start, window end) → slot. A hash map, not a list: a row of a HOP or CUMULATE
    // window is in up to 100,000 windows, and a scan per lookup made that quadratic.
    absl::flat_hash_map<std::pair<int64_t, int64_t>, uint32_t> wins;
  };

  // The timer of a window [start, end): event time end - fire_lead_ (WindowFireLead), or
  // processing time end (ms).
  void RegisterTimer(int64_t start, int64_t end) {
    if (c_.processing_time) {
      timers_->RegisterProcessingTimer(kg_, key_, start, (end + 999) / 1000);
    } else {
      timers_->RegisterEventTimer(kg_, key_, start, end - fire_lead_);
    }
  }
  void DeleteTimer(int64_t start, int64_t end) {
    if (c_.processing_time) {
      timers_->DeleteProcessingTimer(kg_, key_, start, (end + 999) / 1000);
    } else {
      timers_->DeleteEventTimer(kg_, key_, start, end - fire_lead_);
    }
  }

  KeyWindows* KeyOf() {
    if (last_ && last_key_ == key_ && last_kg_ == kg_) return last_;
    auto [found, inserted] = keys_.FindOrInsert(kg_, key_);
    if (inserted) *found = std::make_unique<KeyWindows>();
    last_ = found->get();
    last_key_ = key_;
    last_kg_ = kg_;
    return last_;
  }

  // Adds window [start, end) with state `slot` to the current key (no timer).
  void AddWindow(int64_t start, int64_t end, uint32_t slot) { KeyOf()->wins[{start, end}] = slot; }

  uint32_t Slot(int64_t start, int64_t end) {
    auto [it, inserted] = KeyOf()->wins.try_emplace({start, end}, 0);
    if (!inserted) return it->second;
    uint32_t slot = slots_.Alloc();
    it->second = slot;
    RegisterTimer(start, end);
    return slot;
  }

  struct Session {
    int64_t start, end;
    uint32_t slot;
  };

  // Returns the slot of the session the row joins, or -1 when the row is late.
  int64_t AssignSession(int64_t ts, int64_t w) {
    std::vector<Session>& list = *sessions_.FindOrInsert(kg_, key_).first;
    int64_t start = ts, end = ts + c_.window.gap;
    std::vector<size_t> hits;
    for (size_t i = 0; i < list.size(); ++i) {
      // A session whose end has passed this row's watermark has fired (it may still wait here
      // for the next watermark element): it takes no more rows.
      if (list[i].end - fire_lead_ <= w) continue;
      // Flink's TimeWindow.intersects: touching windows merge too.
      if (list[i].start <= end && list[i].end >= start) hits.push_back(i);
    }
    int64_t mstart = start, mend = end;
    for (size_t h : hits) {
      mstart = std::min(mstart, list[h].start);
      mend = std::max(mend, list[h].end);
    }
    if (mend - fire_lead_ <= w) {
      if (list.empty()) sessions_.Erase(kg_, key_);
      return -1;
    }
    uint32_t slot;
    if (hits.empty()) {
      slot = slots_.Alloc();
      list.push_back({mstart, mend, slot});
    } else {
      slot = list[hits[0]].slot;
      for (size_t h : hits) DeleteTimer(list[h].start, list[h].end);
      for (size_t k = hits.size(); k-- > 1;) {
        slots_.Merge(slot, list[hits[k]].slot);
        slots_.Free(list[hits[k]].slot);
        list.erase(list.begin() + static_cast<long>(hits[k]));
      }
      list[hits[0]].start = mstart;
      list[hits[0]].end = mend;
    }
    RegisterTimer(mstart, mend);
    return slot;
  }

  // Fires every window whose timer is due: event-time timers up to watermark `t`, or
  // processing-time timers up to `t` ms (`processing`).
  absl::Status Fire(int64_t t, bool processing, Output* out) {
    Batch b;
    auto flush = [&]() -> absl::Status {
      if (b.num_rows() == 0) return absl::OkStatus();
      return out->Emit(std::move(b));
    };
    auto fresh = [&]() {
      b = Batch::Empty(out_schema_);
      b.NewArena();
    };
    fresh();
    size_t nk = c_.key_columns.size();
    Timer timer;
    while (processing ? timers_->PopProcessingTimer(t, &timer)
                      : timers_->PopEventTimer(t, &timer)) {
      int64_t start = timer.ns, end = 0;
      uint32_t slot = 0;
      if (c_.window.kind == WindowKind::kSession) {
        std::vector<Session>* list = sessions_.Find(timer.kg, timer.key);
        if (!list) continue;
        auto pos = std::find_if(list->begin(), list->end(),
                                [&](const Session& s) { return s.start == start; });
        if (pos == list->end()) continue;
        end = pos->end;
        slot = pos->slot;
        list->erase(pos);
        if (list->empty()) sessions_.Erase(timer.kg, timer.key);
      } else {
        std::unique_ptr<KeyWindows>* found = keys_.Find(timer.kg, timer.key);
        if (!found) continue;
        KeyWindows* kw = found->get();
        // The timer's time gives the window's end: end - fire_lead_ (event time), or the end
        // rounded up to ms (processing time; usually a whole ms, else look for it).
        auto pos = kw->wins.find({start, processing ? timer.time * 1000 : timer.time + fire_lead_});
        if (processing && pos == kw->wins.end()) {
          pos = std::find_if(kw->wins.begin(), kw->wins.end(), [&](const auto& w) {
            return w.first.first == start && (w.first.second + 999) / 1000 == timer.time;
          });
        }
        if (pos == kw->wins.end()) continue;
        slot = pos->second;
        end = pos->first.second;
        kw->wins.erase(pos);
        if (kw->wins.empty()) {
          if (last_ == kw) last_ = nullptr;
          keys_.Erase(timer.kg, timer.key);  // destroys *kw
        }
      }
      DecodeKey(timer.key, &b.columns, 0, nk, b.arenas.back().get());
      b.columns[nk].AppendInt(start);
      b.columns[nk + 1].AppendInt(end);
      b.columns[nk + 2].AppendInt(end - 1000);  // Flink: window_end - 1 ms
      for (size_t a = 0; a < c_.aggs.size(); ++a) {
        Value v = c_.aggs[a].fn->Result(slots_.State(slot, a));
        v.AppendTo(&b.columns[nk + 3 + a], b.arenas.back().get());
      }
      b.kinds.push_back(RowKind::kInsert);
      slots_.Free(slot);
      if (b.num_rows() >= c_.max_output_rows) {
        EDDY_RETURN_IF_ERROR(flush());
        fresh();
      }
    }
    return flush();
  }

  AggregateConfig c_;
  LateRows late_;
  SlotStore slots_;
  Schema out_schema_;
  KeyGroupAssigner key_groups_;
  TimerService* timers_ = nullptr;
  // Keyed state: key bytes (AppendKey) → open windows (unique_ptr: last_ points into it), or
  // → open sessions (SESSION windows).
  state::KeyedMapState<std::unique_ptr<KeyWindows>> keys_;
  KeyWindows* last_ = nullptr;  // key of the previous row (runs of equal keys)
  std::string last_key_;
  KeyGroup last_kg_;
  state::KeyedMapState<std::vector<Session>> sessions_;
  int64_t fire_lead_;  // a window [s, e) fires at watermark e - fire_lead_ (WindowFireLead)
  std::string key_;
  KeyGroup kg_;  // key group of the current row
  std::vector<std::pair<int64_t, int64_t>> wins_;
  std::vector<uint32_t> rows_, row_slots_;  // (input row, state slot) pairs of one batch
};

class GroupAggregate final : public OneInputOperator {
 public:
  explicit GroupAggregate(AggregateConfig c)
      : c_(std::move(c)),
        slots_(&c_.aggs),
        key_groups_(c_.subtask, c_.name),
        index_(key_groups_.range()) {
    for (int k : c_.key_columns) out_schema_.fields.push_back(c_.input_fields[k]);
    for (const auto& a : c_.aggs) out_schema_.fields.push_back({"agg", a.fn->result_type()});
  }

  std::string uid() const override { return c_.name; }

  absl::Status ProcessBatch(Batch& in, const RowWatermarks&, Output* out) override {
    Batch b = Batch::Empty(out_schema_);
    Arena* arena = b.NewArena();
    size_t nk = c_.key_columns.size();
    int64_t now = ttl_.enabled() ? ttl_.Now() : 0;
    if (ttl_.SweepDue(now)) ExpireState(now);
    EDDY_RETURN_IF_ERROR(key_groups_.Assign(in, c_.key_columns));
    for (size_t i = 0; i < in.num_rows(); ++i) {
      key_.clear();
      for (int k : c_.key_columns) AppendKey(&key_, in.columns[k], i);
      bool acc = IsAccumulate(in.kinds[i]);
      KeyGroup kg = key_groups_[i];
      Group* g;
      if (acc) {
        auto [found, inserted] = index_.FindOrInsert(kg, key_);
        g = found;
        if (inserted) g->slot = slots_.Alloc();
      } else {
        g = index_.Find(kg, key_);
        if (!g) continue;  // retraction of a row never seen (e.g. filtered): ignore
      }
      g->last_access_ms = now;
      for (size_t a = 0; a < c_.aggs.size(); ++a) {
        const AggCall& call = c_.aggs[a];
        const Column* arg = call.arg >= 0 ? &in.columns[call.arg] : nullptr;
        if (call.filter >= 0) {
          const Column& f = in.columns[call.filter];
          if (!(f.valid[i] && f.i64[i])) continue;
        }
        if (acc) {
          call.fn->Accumulate(slots_.State(g->slot, a), arg, i);
        } else {
          if (!call.fn->supports_retract()) {
            return absl::UnimplementedError(fmt::format(
                "{}: this aggregate cannot consume retractions (updating input) yet", c_.name));
          }
          call.fn->Retract(slots_.State(g->slot, a), arg, i);
        }
      }
      g->rows += acc ? 1 : -1;
      if (g->rows <= 0) {
        if (g->emitted) Append(&b, arena, key_, g->prev, RowKind::kDelete, nk);
        slots_.Free(g->slot);
        index_.Erase(kg, key_);
        continue;
      }
      std::vector<Value> cur;
      cur.reserve(c_.aggs.size());
      for (size_t a = 0; a < c_.aggs.size(); ++a) {
        cur.push_back(c_.aggs[a].fn->Result(slots_.State(g->slot, a)));
      }
      if (!g->emitted) {
        Append(&b, arena, key_, cur, RowKind::kInsert, nk);
        g->emitted = true;
      } else if (!SameValues(cur, g->prev)) {
        Append(&b, arena, key_, g->prev, RowKind::kUpdateBefore, nk);
        Append(&b, arena, key_, cur, RowKind::kUpdateAfter, nk);
      }
      g->prev = std::move(cur);
    }
    return out->Emit(std::move(b));
  }

  absl::Status SnapshotState(int64_t, state::OperatorSnapshot* out) override {
    // Section 1 per key: key, rows, emitted, last_access_ms, last emitted result, aggregate
    // states.
    index_.ForEach([&](KeyGroup kg, std::string_view key, Group& g) {
      std::string* sec = out->Section(kg, kFirstOperatorSection);
      state::StateWriter w(sec);
      w.PutString(key);
      w.PutInt64(g.rows);
      w.PutBool(g.emitted);
      w.PutInt64(g.last_access_ms);
      state::StateSerializer<std::vector<Value>>::Write(g.prev, &w);
      WriteSlot(slots_, c_.aggs, g.slot, sec);
    });
    return absl::OkStatus();
  }

  absl::Status InitializeState(const state::OperatorRestore& in) override {
    for (KeyGroup kg : in.KeyGroups()) {
      std::string_view data = in.Section(kg, kFirstOperatorSection);
      while (!data.empty()) {
        state::StateReader r(data);
        std::string key;
        Group g;
        EDDY_RETURN_IF_ERROR(r.GetString(&key));
        EDDY_RETURN_IF_ERROR(r.GetInt64(&g.rows));
        EDDY_RETURN_IF_ERROR(r.GetBool(&g.emitted));
        EDDY_RETURN_IF_ERROR(r.GetInt64(&g.last_access_ms));
        EDDY_RETURN_IF_ERROR(state::StateSerializer<std::vector<Value>>::Read(&r, &g.prev));
        data.remove_prefix(data.size() - r.remaining());
        EDDY_ASSIGN_OR_RETURN(g.slot, ReadSlot(slots_, c_.aggs, &data));
        auto [found, inserted] = index_.FindOrInsert(kg, key);
        if (!inserted) return state::StateReader::Corrupt("a group key appears twice");
        *found = std::move(g);
      }
    }
    return absl::OkStatus();
  }

  size_t StateBytes() const override {
    return index_.ApproximateMemoryBytes() + slots_.ApproximateMemoryBytes();
  }
  size_t StateKeys() const override { return index_.size(); }

 private:
  struct Group {
    uint32_t slot = 0;
    int64_t rows = 0;
    bool emitted = false;
    std::vector<Value> prev;
    int64_t last_access_ms = 0;  // state TTL
  };

  // Drops the groups not updated for 'table.exec.state.ttl' (at most once per StateTtl cadence).
  void ExpireState(int64_t now) {
    size_t expired = index_.EraseIf([&](KeyGroup, std::string_view, Group& g) {
      if (!ttl_.Expired(g.last_access_ms, now)) return false;
      slots_.Free(g.slot);
      return true;
    });
    if (c_.metrics) c_.metrics->expired_keys += static_cast<int64_t>(expired);
  }

  void Append(Batch* b, Arena* arena, const std::string& key, const std::vector<Value>& vals,
              RowKind kind, size_t nk) {
    DecodeKey(key, &b->columns, 0, nk, arena);
    for (size_t a = 0; a < vals.size(); ++a) vals[a].AppendTo(&b->columns[nk + a], arena);
    b->kinds.push_back(kind);
  }

  AggregateConfig c_;
  SlotStore slots_;
  Schema out_schema_;
  KeyGroupAssigner key_groups_;
  state::KeyedMapState<Group> index_;  // key bytes (AppendKey) → group
  std::string key_;
  StateTtl ttl_{c_.state_ttl_ms, c_.clock_ms};
};

}  // namespace

std::unique_ptr<OneInputOperator> MakeWindowAggregate(AggregateConfig config) {
  return std::make_unique<WindowAggregate>(std::move(config));
}

std::unique_ptr<OneInputOperator> MakeGroupAggregate(AggregateConfig config) {
  return std::make_unique<GroupAggregate>(std::move(config));
}

}  // namespace eddy::runtime
