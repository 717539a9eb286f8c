#include "runtime/match_recognize.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <set>

#include "base/status.h"
#include "runtime/calc.h"
#include "runtime/key_groups.h"
#include "runtime/timer_service.h"
#include "state/keyed_map_state.h"
#include "state/value_serializer.h"
#include "types/value.h"

namespace eddy::runtime {

namespace {

using cep::VarId;

// A stored row: the input's visible columns.
using Row = std::vector<Value>;

// Namespaces of a key's event-time timers (TimerService): at a time, rows come before timeouts.
constexpr int64_t kRowsTimer = 0;     // at the key's earliest pending row time
constexpr int64_t kTimeoutTimer = 1;  // at Matcher::NextTimeout() (WITHIN, NOT, end of input)

// Format version of a key group's section of MATCH_RECOGNIZE state.
constexpr uint8_t kStateVersion = 1;
// ProcessBatch checks for a cancelled job every this many rows.
constexpr size_t kCancelCheckRows = 1024;

// The rows of one partition key.
struct KeyState {
  Row key;  // PARTITION BY values
  std::unique_ptr<cep::Matcher> matcher;
  std::deque<Row> rows;  // released rows; rows[0] has index `base`
  int64_t base = 0;
  int64_t next_index = 0;
  // Rows waiting for the watermark: (time, arrival sequence) → row.
  std::map<std::pair<int64_t, int64_t>, Row> pending;
  // Derived from the matcher (not snapshotted): the time of the key's kTimeoutTimer, and the
  // matcher's OldestStartTime() as entered in the operator's watermark hold.
  std::optional<int64_t> timeout;
  std::optional<int64_t> hold;
};

// The rows of a match, or its first rows (RUNNING semantics under ALL ROWS PER MATCH), as a
// MatchView for MEASURES: row() and var() are the last row added. Count, RowAt: O(1).
class RowsView final : public cep::MatchView {
 public:
  void Reset(size_t num_vars) {
    all_.clear();
    by_var_.resize(num_vars);
    for (auto& rows : by_var_) rows.clear();
    last_var_ = -1;
  }
  void Add(const cep::MatchedRow& r) {
    all_.push_back(r.row);
    if (r.var >= 0 && static_cast<size_t>(r.var) < by_var_.size()) by_var_[r.var].push_back(r.row);
    last_var_ = r.var;
  }
  int64_t row() const override { return all_.empty() ? 0 : all_.back(); }
  VarId var() const override { return last_var_; }
  int64_t Count(VarId v) const override { return static_cast<int64_t>(List(v).size()); }
  int64_t RowAt(VarId v, int64_t i) const override { return List(v)[i]; }
  void AppendRows(VarId v, std::vector<int64_t>* rows) const override {
    const auto& list = List(v);
    rows->insert(rows->end(), list.begin(), list.end());
  }
  std::optional<int64_t> Prev(int64_t, int64_t) const override { return std::nullopt; }

 private:
  const std::vector<int64_t>& List(VarId v) const {
    return v == cep::kAnyVariable ? all_ : by_var_[v];
  }
  std::vector<int64_t> all_;
  std::vector<std::vector<int64_t>> by_var_;
  VarId last_var_ = -1;
};

// SUM/AVG/MIN/MAX/COUNT(var.col) over rows added one at a time (NULLs skipped).
struct Accumulator {
  int64_t count = 0;
  int64_t isum = 0;
  double dsum = 0;
  std::optional<Value> best;  // MIN/MAX

  void Add(const PatternSlot& s, const Value& v) {
    if (v.is_null) return;
    ++count;
    isum += v.i;
    dsum += v.d;
    if (s.agg == "MIN" || s.agg == "MAX") {
      if (!best) {
        best = v;
        return;
      }
      bool dbl = v.type.physical() == Physical::kDouble;
      bool str = v.type.physical() == Physical::kString;
      bool less = str ? v.s < best->s : dbl ? v.d < best->d : v.i < best->i;
      bool more = str ? v.s > best->s : dbl ? v.d > best->d : v.i > best->i;
      if (s.agg == "MIN" ? less : more) best = v;
    }
  }
  Value Result(const PatternSlot& s) const {
    if (s.agg == "COUNT") return Value::Int64(DataType::Bigint(), count);
    if (count == 0) return Value::Null(s.type);
    if (s.agg == "MIN" || s.agg == "MAX") return *best;
    bool dbl = s.type.physical() == Physical::kDouble;
    if (s.agg == "SUM") return dbl ? Value::Double(dsum) : Value::Int64(s.type, isum);
    // AVG: integer AVG stays integer (truncated), as in Flink.
    return dbl ? Value::Double(dsum / static_cast<double>(count))
               : Value::Int64(s.type, isum / count);
  }
};

class MatchRecognizeOp final : public OneInputOperator {
 public:
  explicit MatchRecognizeOp(MatchRecognizeConfig c)
      : c_(std::move(c)), key_groups_(c_.subtask, c_.name), keys_(key_groups_.range()) {
    for (const auto& s : c_.measure_slots) measure_schema_.fields.push_back({"", s.type});
    define_schemas_.resize(c_.define_slots.size());
    scratch_.resize(c_.define_slots.size());
    for (size_t v = 0; v < c_.define_slots.size(); ++v) {
      for (const auto& s : c_.define_slots[v]) define_schemas_[v].fields.push_back({"", s.type});
    }
  }

  std::string uid() const override { return c_.name; }

  absl::Status Open(OperatorContext& ctx) override {
    timers_ = ctx.timers;
    return OneInputOperator::Open(ctx);
  }

  // Operator state: the next arrival sequence number and the last watermark emitted. Section 1
  // of each key group: byte version, varint key group, varint count, then per key: string key
  // bytes, the PARTITION BY values, int64 base, int64 next index, the released rows still
  // needed, the pending rows ((time, sequence) → row), the matcher's state (cep::Matcher). The
  // timers (rows and timeouts) are the runtime's section 0.
  absl::Status SnapshotState(int64_t, state::OperatorSnapshot* out) override {
    state::StateWriter op(&out->operator_state);
    op.PutInt64(seq_);
    op.PutInt64(emitted_watermark_);
    for (int32_t g = keys_.range().first().value(); g <= keys_.range().last().value(); ++g) {
      KeyGroup kg(g);
      if (keys_.size(kg) == 0) continue;
      state::StateWriter w(out->Section(kg, kFirstOperatorSection));
      w.PutByte(kStateVersion);
      w.PutVarint(static_cast<uint64_t>(g));
      w.PutVarint(keys_.size(kg));
      keys_.ForEachInKeyGroup(
          kg, [&](KeyGroup, std::string_view key, std::unique_ptr<KeyState>& ks) {
            w.PutString(key);
            state::StateSerializer<Row>::Write(ks->key, &w);
            w.PutInt64(ks->base);
            w.PutInt64(ks->next_index);
            state::StateSerializer<std::deque<Row>>::Write(ks->rows, &w);
            state::StateSerializer<decltype(ks->pending)>::Write(ks->pending, &w);
            ks->matcher->SnapshotState(&w);
          });
    }
    return absl::OkStatus();
  }

  absl::Status InitializeState(const state::OperatorRestore& in) override {
    // Arrival sequence numbers only order the rows of one key, which all came to one old
    // subtask: continuing after the largest keeps each key's order. The lowest watermark any
    // old subtask emitted is at or below every restored key's hold and every consumer's input.
    bool any = false;
    for (std::string_view op : in.OperatorStates()) {
      state::StateReader r(op);
      int64_t seq = 0, emitted = 0;
      EDDY_RETURN_IF_ERROR(r.GetInt64(&seq));
      EDDY_RETURN_IF_ERROR(r.GetInt64(&emitted));
      seq_ = std::max(seq_, seq);
      emitted_watermark_ = any ? std::min(emitted_watermark_, emitted) : emitted;
      any = true;
    }
    for (KeyGroup kg : in.KeyGroups()) {
      std::string_view data = in.Section(kg, kFirstOperatorSection);
      if (!data.empty()) EDDY_RETURN_IF_ERROR(Prefixed(RestoreKeyGroup(kg, data)));
    }
    return absl::OkStatus();
  }

  absl::Status ProcessBatch(Batch& in, const RowWatermarks& wm, Output* out) override {
    size_t n = in.num_rows();
    const Column& ts = in.columns[c_.rowtime_column];
    EDDY_RETURN_IF_ERROR(key_groups_.Assign(in, c_.key_columns));
    for (size_t i = 0; i < n; ++i) {
      if (i % kCancelCheckRows == 0 && cancelled()) return absl::CancelledError("job cancelled");
      c_.metrics->rows_in++;
      if (ts.IsNull(i)) continue;
      int64_t t = ts.i64[i];
      if (t <= wm.At(i)) {
        c_.metrics->late_rows++;  // behind the watermark: dropped, as Flink's CEP does
        continue;
      }
      Row key;
      for (int k : c_.key_columns) key.push_back(Value::FromColumn(in.columns[k], i));
      std::string kb = KeyBytes(key);
      KeyGroup kg = key_groups_[i];
      auto [slot, inserted] = keys_.FindOrInsert(kg, kb);
      if (inserted) *slot = NewKeyState(std::move(key));
      KeyState* ks = slot->get();
      Row row;
      row.reserve(c_.input_columns);
      for (int c = 0; c < c_.input_columns; ++c) {
        row.push_back(Value::FromColumn(in.columns[c], i));
      }
      // The key's rows timer stands at its earliest pending time.
      if (ks->pending.empty() || t < ks->pending.begin()->first.first) {
        timers_->RegisterEventTimer(kg, kb, kRowsTimer, t);
      }
      ks->pending.emplace(std::make_pair(t, seq_++), std::move(row));
    }
    return absl::OkStatus();
  }

  // Fires the keys' timers up to the watermark in their (time, key) order: a key's rows timer
  // (at its earliest waiting row) releases its rows up to the watermark to its matcher in time
  // order, as Flink's CEP operator does; a timeout timer advances the key's matcher to its time
  // (WITHIN, NOT, end of input). Matches come out in that order. A cancelled job stops between
  // two rows (a row can extend up to max_partial_matches runs) with CancelledError.
  absl::Status ProcessWatermark(int64_t watermark, Output* out) override {
    std::vector<std::pair<KeyState*, cep::Match>> found;
    std::vector<cep::Match> matches;
    touched_.clear();
    Timer timer;
    while (true) {
      if (cancelled()) return absl::CancelledError("job cancelled");
      if (!timers_->PopEventTimer(watermark, &timer)) break;
      std::unique_ptr<KeyState>* slot = keys_.Find(timer.kg, timer.key);
      if (!slot) continue;
      KeyState* ks = slot->get();
      matches.clear();
      eval_error_ = absl::OkStatus();
      absl::Status st;
      if (timer.ns == kRowsTimer) {
        auto& p = ks->pending;
        while (st.ok() && !p.empty() && p.begin()->first.first <= watermark) {
          if (cancelled()) {
            timers_->RegisterEventTimer(timer.kg, timer.key, kRowsTimer, p.begin()->first.first);
            return absl::CancelledError("job cancelled");
          }
          int64_t t = p.begin()->first.first;
          ks->rows.push_back(std::move(p.begin()->second));
          p.erase(p.begin());
          int64_t idx = ks->next_index++;
          st = ks->matcher->ProcessRow(idx, t, &matches);
          EDDY_RETURN_IF_ERROR(eval_error_);
        }
        if (!p.empty()) {
          timers_->RegisterEventTimer(timer.kg, timer.key, kRowsTimer, p.begin()->first.first);
        }
      } else {
        if (ks->timeout == timer.time) ks->timeout.reset();
        st = ks->matcher->AdvanceTime(timer.time, &matches);
        EDDY_RETURN_IF_ERROR(eval_error_);
      }
      for (auto& m : matches) found.emplace_back(ks, std::move(m));
      EDDY_RETURN_IF_ERROR(Prefixed(st));
      Update(timer.kg, timer.key, ks);
      touched_.push_back(ks);
    }
    if (!found.empty()) {
      Batch b;
      EDDY_RETURN_IF_ERROR(Measures(found, &b));
      c_.metrics->rows_out += static_cast<int64_t>(b.num_rows());
      EDDY_RETURN_IF_ERROR(out->Emit(std::move(b)));
    }
    // Free rows no partial match can read any more (after MEASURES read the matches' rows).
    for (KeyState* ks : touched_) {
      int64_t keep = ks->matcher->OldestNeededRow();
      while (!ks->rows.empty() && ks->base < keep) {
        ks->rows.pop_front();
        ++ks->base;
      }
    }
    // A later output row (or MATCH_ROWTIME) has at least the time of the oldest start row still
    // in play, or is released by a later watermark.
    int64_t held = watermark;
    if (c_.hold_watermark && !holds_.empty()) held = std::min(held, *holds_.begin() - 1);
    if (held <= emitted_watermark_) return absl::OkStatus();
    emitted_watermark_ = held;
    return out->EmitWatermark(held);
  }

 private:
  std::unique_ptr<KeyState> NewKeyState(Row key) {
    auto st = std::make_unique<KeyState>();
    st->key = std::move(key);
    cep::MatcherOptions mo;
    mo.max_partial_matches = c_.max_partial_matches;
    mo.limit_setting = c_.limit_setting;
    mo.max_prev_rows = c_.max_prev_rows;
    // A row can step thousands of partial matches: the matcher checks the job's cancel flag too.
    if (context()) mo.cancelled = context()->cancelled;
    KeyState* ks = st.get();
    st->matcher = std::make_unique<cep::Matcher>(
        c_.pattern,
        [this, ks](VarId v, int64_t row, const cep::MatchView& view) {
          return Condition(ks, v, row, view);
        },
        mo);
    return st;
  }

  // After the key's matcher moved: its timeout timer follows Matcher::NextTimeout() and its
  // entry in the watermark hold follows Matcher::OldestStartTime().
  void Update(KeyGroup kg, std::string_view key, KeyState* ks) {
    std::optional<int64_t> timeout = ks->matcher->NextTimeout();
    if (timeout != ks->timeout) {
      if (ks->timeout) timers_->DeleteEventTimer(kg, key, kTimeoutTimer, *ks->timeout);
      if (timeout) timers_->RegisterEventTimer(kg, key, kTimeoutTimer, *timeout);
      ks->timeout = timeout;
    }
    if (!c_.hold_watermark) return;
    std::optional<int64_t> hold = ks->matcher->OldestStartTime();
    if (hold == ks->hold) return;
    if (ks->hold) holds_.erase(holds_.find(*ks->hold));
    if (hold) holds_.insert(*hold);
    ks->hold = hold;
  }

  // Restores section 1 of key group `kg` (see SnapshotState).
  absl::Status RestoreKeyGroup(KeyGroup kg, std::string_view data) {
    state::StateReader r(data);
    uint8_t version = 0;
    uint64_t snap_kg = 0, n = 0;
    EDDY_RETURN_IF_ERROR(r.GetByte(&version));
    if (version != kStateVersion) {
      return absl::DataLossError(fmt::format(
          "MATCH_RECOGNIZE state has format version {}, expected {}", version, kStateVersion));
    }
    EDDY_RETURN_IF_ERROR(r.GetVarint(&snap_kg));
    if (snap_kg != static_cast<uint64_t>(kg.value())) {
      return state::StateReader::Corrupt("MATCH_RECOGNIZE state of another key group");
    }
    EDDY_RETURN_IF_ERROR(r.GetCount(&n));
    for (uint64_t i = 0; i < n; ++i) {
      std::string key;
      Row values;
      EDDY_RETURN_IF_ERROR(r.GetString(&key));
      EDDY_RETURN_IF_ERROR(state::StateSerializer<Row>::Read(&r, &values));
      if (values.size() != c_.key_columns.size() || KeyBytes(values) != key) {
        return state::StateReader::Corrupt("a MATCH_RECOGNIZE key that does not fit its values");
      }
      auto [slot, inserted] = keys_.FindOrInsert(kg, key);
      if (!inserted) return state::StateReader::Corrupt("a key appears twice in one key group");
      *slot = NewKeyState(std::move(values));
      KeyState* ks = slot->get();
      EDDY_RETURN_IF_ERROR(r.GetInt64(&ks->base));
      EDDY_RETURN_IF_ERROR(r.GetInt64(&ks->next_index));
      EDDY_RETURN_IF_ERROR(state::StateSerializer<std::deque<Row>>::Read(&r, &ks->rows));
      EDDY_RETURN_IF_ERROR(state::StateSerializer<decltype(ks->pending)>::Read(&r, &ks->pending));
      int64_t end = 0;
      if (ks->base < 0 ||
          __builtin_add_overflow(ks->base, static_cast<int64_t>(ks->rows.size()), &end) ||
          end != ks->next_index) {
        return state::StateReader::Corrupt("MATCH_RECOGNIZE rows out of order");
      }
      for (const Row& row : ks->rows) EDDY_RETURN_IF_ERROR(CheckRow(row));
      for (const auto& [at, row] : ks->pending) EDDY_RETURN_IF_ERROR(CheckRow(row));
      EDDY_RETURN_IF_ERROR(ks->matcher->RestoreState(&r, ks->base, ks->next_index));
      if (!ks->pending.empty()) {
        // The timers are restored with the runtime's; registering again is a no-op that keeps
        // rows from waiting forever should the timers and the state disagree.
        timers_->RegisterEventTimer(kg, key, kRowsTimer, ks->pending.begin()->first.first);
        seq_ = std::max(seq_, ks->pending.rbegin()->first.second + 1);
      }
      Update(kg, key, ks);
    }
    if (!r.done()) return state::StateReader::Corrupt("trailing bytes after the last key");
    return absl::OkStatus();
  }

  // A restored row must have the input's shape: conditions and measures index its columns.
  absl::Status CheckRow(const Row& row) const {
    if (row.size() != static_cast<size_t>(c_.input_columns)) {
      return state::StateReader::Corrupt("a MATCH_RECOGNIZE row of another shape");
    }
    return absl::OkStatus();
  }

  static std::string KeyBytes(const Row& key) {
    std::string s;
    for (const auto& v : key) AppendKeyBytes(v, &s);
    return s;
  }

  absl::Status Prefixed(const absl::Status& st) const {
    if (st.ok()) return st;
    return absl::Status(st.code(), fmt::format("{}: {}", c_.name, std::string(st.message())));
  }

  const Row& RowOf(const KeyState* ks, int64_t idx) const { return ks->rows[idx - ks->base]; }

  // The value of slot `s` for a DEFINE candidate (`match` null) or a MEASURES output row: `view`
  // holds the match's rows up to the output row (all of them for FINAL slots).
  Value SlotValue(const KeyState* ks, const PatternSlot& s, const cep::MatchView& view,
                  const cep::Match* match) {
    auto col = [&](std::optional<int64_t> row) -> Value {
      if (!row) return Value::Null(s.type);
      return RowOf(ks, *row)[s.column];
    };
    switch (s.kind) {
      case PatternSlot::Kind::kColumn:
        return RowOf(ks, view.row())[s.column];
      case PatternSlot::Kind::kPrev:
        return col(view.Prev(view.row(), s.offset));
      case PatternSlot::Kind::kLast:
        return col(view.Last(s.var, s.offset));
      case PatternSlot::Kind::kFirst:
        return col(view.First(s.var, s.offset));
      case PatternSlot::Kind::kCountRows:
        return Value::Int64(DataType::Bigint(), view.Count(s.var));
      case PatternSlot::Kind::kAggregate: {
        rows_.clear();
        view.AppendRows(s.var, &rows_);
        Accumulator acc;
        for (int64_t r : rows_) acc.Add(s, RowOf(ks, r)[s.column]);
        return acc.Result(s);
      }
      case PatternSlot::Kind::kMatchRowtime:
        return Value::Int64(s.type, RowOf(ks, view.row())[c_.rowtime_column].i);
      case PatternSlot::Kind::kMatchNumber:
        return Value::Int64(DataType::Bigint(), match->number);
      case PatternSlot::Kind::kClassifier:
        if (view.var() < 0) return Value::Null(s.type);
        return Value::String(c_.var_names[view.var()]);
    }
    return Value::Null(s.type);
  }

  // Fills a one-row batch with the slots' values, `value(i)` for slot i.
  template <typename ValueOf>
  static void FillSlots(size_t num_slots, const Schema& schema, const ValueOf& value, Batch* b) {
    if (b->columns.size() != num_slots) *b = Batch::Empty(schema);
    b->arenas.clear();
    Arena* arena = b->NewArena();
    for (size_t i = 0; i < num_slots; ++i) {
      b->columns[i].Clear();
      value(i).AppendTo(&b->columns[i], arena);
    }
    b->kinds.assign(1, RowKind::kInsert);
  }

  bool Condition(const KeyState* ks, VarId v, int64_t row, const cep::MatchView& view) {
    if (static_cast<size_t>(v) >= c_.defines.size() || !c_.defines[v]) return true;
    Batch& b = scratch_[v];  // per variable: its slots have their own types
    const auto& slots = c_.define_slots[v];
    FillSlots(
        slots.size(), define_schemas_[v],
        [&](size_t i) { return SlotValue(ks, slots[i], view, nullptr); }, &b);
    Column out(DataType::Boolean());
    EvalContext ctx;
    ctx.now_micros = NowMicros();
    ctx.arena = b.NewArena();
    absl::Status st = c_.defines[v]->Eval(b, &ctx, &out);
    if (!st.ok()) {
      if (eval_error_.ok()) {
        eval_error_ = absl::InvalidArgumentError(
            fmt::format("{}: DEFINE {}: {}", c_.name, c_.var_names[v], std::string(st.message())));
      }
      return false;
    }
    return out.valid[0] && out.i64[0];
  }

  // The output rows of the matches found: one per match (ONE ROW PER MATCH) or one per matched
  // row (ALL ROWS PER MATCH, RUNNING measures evaluated incrementally: LAST, FIRST, COUNT and
  // running aggregates cost O(1) per row and slot).
  absl::Status Measures(const std::vector<std::pair<KeyState*, cep::Match>>& found, Batch* b) {
    *b = Batch();
    Arena* arena = b->NewArena();
    size_t nkeys = c_.key_columns.size();
    size_t first_measure = nkeys + (c_.all_rows ? 1 : 0);
    size_t first_row_column = first_measure + c_.measures.size();
    b->columns.resize(first_row_column + (c_.all_rows ? c_.row_columns.size() : 0));
    const auto& slots = c_.measure_slots;
    bool typed = false;
    auto append = [&](const KeyState* ks, const Row* row) -> absl::Status {
      if (!typed) {
        for (size_t k = 0; k < nkeys; ++k) b->columns[k].type = ks->key[k].type;
        for (size_t j = 0; j < c_.measures.size(); ++j) {
          b->columns[first_measure + j].type = c_.measures[j]->type();
        }
        if (row) {
          b->columns[nkeys].type = (*row)[c_.rowtime_column].type;
          for (size_t j = 0; j < c_.row_columns.size(); ++j) {
            b->columns[first_row_column + j].type = (*row)[c_.row_columns[j]].type;
          }
        }
        typed = true;
      }
      for (size_t k = 0; k < nkeys; ++k) ks->key[k].AppendTo(&b->columns[k], arena);
      if (row) (*row)[c_.rowtime_column].AppendTo(&b->columns[nkeys], arena);
      EvalContext ctx;
      ctx.now_micros = NowMicros();
      ctx.arena = arena;
      for (size_t j = 0; j < c_.measures.size(); ++j) {
        Column col(c_.measures[j]->type());
        absl::Status st = c_.measures[j]->Eval(mscratch_, &ctx, &col);
        if (!st.ok()) {
          return absl::InvalidArgumentError(
              fmt::format("{}: MEASURES: {}", c_.name, std::string(st.message())));
        }
        Value::FromColumn(col, 0).AppendTo(&b->columns[first_measure + j], arena);
      }
      if (row) {
        for (size_t j = 0; j < c_.row_columns.size(); ++j) {
          (*row)[c_.row_columns[j]].AppendTo(&b->columns[first_row_column + j], arena);
        }
      }
      b->kinds.push_back(RowKind::kInsert);
      return absl::OkStatus();
    };
    size_t nvars = c_.var_names.size();
    for (const auto& [ks, m] : found) {
      full_.Reset(nvars);
      for (const auto& r : m.rows) full_.Add(r);
      if (!c_.all_rows) {
        FillSlots(
            slots.size(), measure_schema_,
            [&](size_t i) { return SlotValue(ks, slots[i], full_, &m); }, &mscratch_);
        EDDY_RETURN_IF_ERROR(append(ks, nullptr));
        continue;
      }
      // FINAL slots are the same for every row of the match.
      final_values_.assign(slots.size(), Value());
      accumulators_.assign(slots.size(), Accumulator());
      for (size_t i = 0; i < slots.size(); ++i) {
        if (slots[i].final) final_values_[i] = SlotValue(ks, slots[i], full_, &m);
      }
      running_.Reset(nvars);
      for (const auto& r : m.rows) {
        running_.Add(r);
        const Row& row = RowOf(ks, r.row);
        for (size_t i = 0; i < slots.size(); ++i) {
          const PatternSlot& s = slots[i];
          if (s.kind == PatternSlot::Kind::kAggregate && !s.final &&
              (s.var == cep::kAnyVariable || s.var == r.var)) {
            accumulators_[i].Add(s, row[s.column]);
          }
        }
        FillSlots(
            slots.size(), measure_schema_,
            [&](size_t i) -> Value {
              const PatternSlot& s = slots[i];
              if (s.final) return final_values_[i];
              if (s.kind == PatternSlot::Kind::kAggregate) return accumulators_[i].Result(s);
              return SlotValue(ks, s, running_, &m);
            },
            &mscratch_);
        EDDY_RETURN_IF_ERROR(append(ks, &row));
      }
    }
    return absl::OkStatus();
  }

  MatchRecognizeConfig c_;
  Schema measure_schema_;
  std::vector<Schema> define_schemas_;
  KeyGroupAssigner key_groups_;
  // Keyed state: PARTITION BY key bytes → its matcher and rows (unique_ptr: the matcher's
  // condition callback points into it).
  state::KeyedMapState<std::unique_ptr<KeyState>> keys_;
  TimerService* timers_ = nullptr;
  // The OldestStartTime() of every key with partial matches (KeyState::hold), for the watermark
  // hold; derived from the keyed state (rebuilt on restore).
  std::multiset<int64_t> holds_;
  std::vector<KeyState*> touched_;  // keys whose timers fired at this watermark
  int64_t seq_ = 0;                 // arrival sequence number of the next row
  std::vector<Batch> scratch_;      // per variable (DEFINE slots differ in type between variables)
  Batch mscratch_;
  RowsView full_;     // MEASURES: the whole match
  RowsView running_;  // ALL ROWS PER MATCH: the match up to the output row
  std::vector<Value> final_values_;
  std::vector<Accumulator> accumulators_;
  int64_t emitted_watermark_ = INT64_MIN;
  std::vector<int64_t> rows_;
  absl::Status eval_error_;  // first DEFINE evaluation error of the current Matcher call
};

}  // namespace

std::unique_ptr<OneInputOperator> MakeMatchRecognize(MatchRecognizeConfig config) {
  return std::make_unique<MatchRecognizeOp>(std::move(config));
}

}  // namespace eddy::runtime
