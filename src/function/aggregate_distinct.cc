#include "function/aggregate_distinct.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "state/serializer.h"
#include "state/value_serializer.h"

namespace eddy {

namespace {

// Runs `read` over a StateReader on `*in` and advances `*in` past what it consumed.
template <class F>
absl::Status ReadFrom(std::string_view* in, F&& read) {
  state::StateReader r(*in);
  if (absl::Status s = read(r); !s.ok()) return s;
  in->remove_prefix(in->size() - r.remaining());
  return absl::OkStatus();
}

// The key of a distinct value: its 8 bytes (int64 and double lanes, as stored in memory) or the
// string itself. Writes into `buf` for the fixed-width lanes; the view is valid while `buf` and
// the column live.
std::string_view KeyOf(const Column* a, size_t i, char (&buf)[8]) {
  switch (a->type.physical()) {
    case Physical::kInt64:
      std::memcpy(buf, &a->i64[i], 8);
      return {buf, 8};
    case Physical::kDouble:
      std::memcpy(buf, &a->f64[i], 8);
      return {buf, 8};
    case Physical::kString:
      return a->str[i];
  }
  return {};
}

// abseil's hash maps look strings up by absl::string_view (not std::string_view in Debian's build).
absl::string_view Lookup(std::string_view k) { return absl::string_view(k.data(), k.size()); }

// The value of a key of KeyOf, typed `t`.
Value ValueOfKey(const DataType& t, std::string_view k) {
  Value v{t};
  v.is_null = false;
  switch (t.physical()) {
    case Physical::kInt64:
      if (k.size() == 8) std::memcpy(&v.i, k.data(), 8);
      break;
    case Physical::kDouble:
      if (k.size() == 8) std::memcpy(&v.d, k.data(), 8);
      break;
    case Physical::kString:
      v.s = std::string(k);
      break;
  }
  return v;
}

// The checkpoint encoding shared by both forms: varint n, n × (string key, int64 multiplicity,
// Value), by ascending key bytes.
template <class Map>
void WriteEntries(const Map& m, const DataType& arg, std::string* out) {
  std::vector<std::pair<std::string_view, int64_t>> entries;
  entries.reserve(m.size());
  for (const auto& [k, n] : m) entries.emplace_back(std::string_view(k), n);
  std::sort(entries.begin(), entries.end());
  state::StateWriter w(out);
  w.PutVarint(entries.size());
  for (const auto& [k, n] : entries) {
    w.PutString(k);
    w.PutInt64(n);
    state::StateSerializer<Value>::Write(ValueOfKey(arg, k), &w);
  }
}

// Reads the entries of WriteEntries, calling `add(key, multiplicity)` for each.
template <class F>
absl::Status ReadEntries(std::string_view* in, F&& add) {
  return ReadFrom(in, [&](state::StateReader& r) -> absl::Status {
    uint64_t n = 0;
    if (absl::Status x = r.GetCount(&n); !x.ok()) return x;
    for (uint64_t i = 0; i < n; ++i) {
      std::string k;
      int64_t count = 0;
      Value ignored;  // the value is the key's (kept for older readers)
      if (absl::Status x = r.GetString(&k); !x.ok()) return x;
      if (absl::Status x = r.GetInt64(&count); !x.ok()) return x;
      if (absl::Status x = state::StateSerializer<Value>::Read(&r, &ignored); !x.ok()) return x;
      if (count <= 0) return state::StateReader::Corrupt("a DISTINCT value held by no row");
      add(std::move(k), count);
    }
    return absl::OkStatus();
  });
}

// Incremental form: distinct value → rows holding it, and the inner aggregate's state over the
// distinct values.
struct IncrementalState {
  absl::flat_hash_map<std::string, int64_t> counts;
  std::vector<uint64_t> inner;  // the inner state's bytes, 8-aligned
  char* inner_state() { return reinterpret_cast<char*>(inner.data()); }
  const char* inner_state() const { return reinterpret_cast<const char*>(inner.data()); }
};

class IncrementalDistinct final : public AggregateFunction {
 public:
  IncrementalDistinct(std::shared_ptr<const AggregateFunction> inner, DataType arg)
      : inner_(std::move(inner)), arg_(arg) {
    result_type_ = inner_->result_type();
    state_size_ = sizeof(IncrementalState*);
  }
  static IncrementalState* Get(char* s) { return *reinterpret_cast<IncrementalState**>(s); }
  static const IncrementalState* Get(const char* s) {
    return *reinterpret_cast<IncrementalState* const*>(s);
  }
  void Init(char* s) const override {
    auto* st = new IncrementalState();
    st->inner.resize((inner_->state_size() + 7) / 8);
    inner_->Init(st->inner_state());
    *reinterpret_cast<IncrementalState**>(s) = st;
  }
  void Destroy(char* s) const override {
    IncrementalState* st = Get(s);
    inner_->Destroy(st->inner_state());
    delete st;
  }
  void Accumulate(char* s, const Column* a, size_t i) const override {
    if (!a->valid[i]) return;
    IncrementalState* st = Get(s);
    char buf[8];
    auto [it, inserted] = st->counts.try_emplace(Lookup(KeyOf(a, i, buf)), 0);
    if (it->second++ == 0) inner_->Accumulate(st->inner_state(), a, i);
  }
  void Retract(char* s, const Column* a, size_t i) const override {
    if (!a->valid[i]) return;
    IncrementalState* st = Get(s);
    char buf[8];
    auto it = st->counts.find(Lookup(KeyOf(a, i, buf)));
    if (it == st->counts.end()) return;  // a retraction of a row never counted
    if (--it->second > 0) return;
    st->counts.erase(it);
    inner_->Retract(st->inner_state(), a, i);
  }
  void Merge(char* d, const char* s) const override {
    IncrementalState* dst = Get(d);
    for (const auto& [k, n] : Get(s)->counts) Add(dst, k, n);
  }
  Value Result(const char* s) const override { return inner_->Result(Get(s)->inner_state()); }
  void SerializeState(const char* s, std::string* out) const override {
    WriteEntries(Get(s)->counts, arg_, out);
  }
  absl::Status DeserializeState(char* s, std::string_view* in) const override {
    IncrementalState* st = Get(s);
    inner_->Destroy(st->inner_state());
    inner_->Init(st->inner_state());
    st->counts.clear();
    return ReadEntries(in, [&](std::string k, int64_t n) { Add(st, k, n); });
  }

 private:
  // Adds `n` rows holding the value of key `k`.
  void Add(IncrementalState* st, std::string_view k, int64_t n) const {
    auto [it, inserted] = st->counts.try_emplace(Lookup(k), 0);
    it->second += n;
    if (!inserted) return;
    Column c(arg_);
    switch (arg_.physical()) {
      case Physical::kInt64:
        c.AppendInt(ValueOfKey(arg_, k).i);
        break;
      case Physical::kDouble:
        c.AppendDouble(ValueOfKey(arg_, k).d);
        break;
      case Physical::kString:
        c.AppendString(it->first);
        break;
    }
    inner_->Accumulate(st->inner_state(), &c, 0);
  }

  std::shared_ptr<const AggregateFunction> inner_;
  DataType arg_;
};

// Recomputing form: distinct value → rows holding it, in key order; Result runs the inner
// aggregate over the distinct values.
struct RecomputeState {
  std::map<std::string, int64_t, std::less<>>* values;
};

class RecomputeDistinct final : public AggregateFunction {
 public:
  RecomputeDistinct(std::shared_ptr<const AggregateFunction> inner, DataType arg)
      : inner_(std::move(inner)), arg_(arg) {
    result_type_ = inner_->result_type();
    state_size_ = sizeof(RecomputeState);
  }
  static auto& Map(char* s) { return *reinterpret_cast<RecomputeState*>(s)->values; }
  static const auto& Map(const char* s) {
    return *reinterpret_cast<const RecomputeState*>(s)->values;
  }
  void Init(char* s) const override {
    reinterpret_cast<RecomputeState*>(s)->values =
        new std::map<std::string, int64_t, std::less<>>();
  }
  void Destroy(char* s) const override { delete reinterpret_cast<RecomputeState*>(s)->values; }
  void Accumulate(char* s, const Column* a, size_t i) const override {
    if (!a->valid[i]) return;
    char buf[8];
    std::string_view k = KeyOf(a, i, buf);
    auto& m = Map(s);
    auto it = m.find(k);
    if (it == m.end()) it = m.emplace(std::string(k), 0).first;
    it->second++;
  }
  void Retract(char* s, const Column* a, size_t i) const override {
    if (!a->valid[i]) return;
    char buf[8];
    auto& m = Map(s);
    auto it = m.find(KeyOf(a, i, buf));
    if (it != m.end() && --it->second <= 0) m.erase(it);
  }
  void Merge(char* d, const char* s) const override {
    auto& dm = Map(d);
    for (const auto& [k, n] : Map(s)) dm[k] += n;
  }
  void SerializeState(const char* s, std::string* out) const override {
    WriteEntries(Map(s), arg_, out);
  }
  absl::Status DeserializeState(char* s, std::string_view* in) const override {
    auto& m = Map(s);
    m.clear();
    return ReadEntries(in, [&](std::string k, int64_t n) { m[std::move(k)] += n; });
  }
  Value Result(const char* s) const override {
    const auto& m = Map(s);
    std::vector<char> st(inner_->state_size());
    inner_->Init(st.data());
    Column c(arg_);
    Arena arena;
    for (const auto& [k, n] : m) ValueOfKey(arg_, k).AppendTo(&c, &arena);
    for (size_t i = 0; i < c.size(); ++i) inner_->Accumulate(st.data(), &c, i);
    Value r = inner_->Result(st.data());
    inner_->Destroy(st.data());
    return r;
  }

 private:
  std::shared_ptr<const AggregateFunction> inner_;
  DataType arg_;
};

}  // namespace

std::shared_ptr<const AggregateFunction> MakeDistinctAggregate(
    std::shared_ptr<const AggregateFunction> inner, const DataType& arg, bool incremental) {
  if (incremental) return std::make_shared<IncrementalDistinct>(std::move(inner), arg);
  return std::make_shared<RecomputeDistinct>(std::move(inner), arg);
}

}  // namespace eddy
