// DISTINCT aggregates (function/aggregate_distinct.h): random accumulations and retractions
// checked at every step against a naive recomputation from the multiset of live rows, with
// snapshot/restore of the state part-way; the checkpoint encoding documented in
// docs/checkpoint-format.md (DISTINCT) read from bytes built by hand.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "function/aggregate.h"
#include "state/serializer.h"
#include "state/value_serializer.h"

namespace eddy {
namespace {

// An aggregate state owned by the test.
class State {
 public:
  explicit State(std::shared_ptr<const AggregateFunction> fn) : fn_(std::move(fn)) {
    bytes_.resize((fn_->state_size() + 7) / 8);
    fn_->Init(data());
  }
  ~State() { fn_->Destroy(data()); }
  char* data() { return reinterpret_cast<char*>(bytes_.data()); }
  Value Result() { return fn_->Result(data()); }

 private:
  std::shared_ptr<const AggregateFunction> fn_;
  std::vector<uint64_t> bytes_;
};

// A BIGINT column of one value (NULL when `null`).
Column One(int64_t v, bool null = false) {
  Column c(DataType::Bigint());
  if (null)
    c.AppendNull();
  else
    c.AppendInt(v);
  return c;
}

TEST(DistinctAggregate, MatchesNaiveRecomputationWithRetractionsAndRestores) {
  const DataType t = DataType::Bigint();
  std::vector<std::string> names = {"COUNT", "SUM", "AVG", "MIN", "MAX"};
  std::vector<std::shared_ptr<const AggregateFunction>> fns;
  for (const auto& n : names) fns.push_back(*ResolveAggregate(n, {t}, true));
  std::vector<std::unique_ptr<State>> states;
  for (const auto& f : fns) states.push_back(std::make_unique<State>(f));
  std::mt19937 rng(13);
  std::multiset<int64_t> live;  // the non-NULL values of the rows accumulated and not retracted
  int nulls = 0;
  for (int step = 0; step < 5000; ++step) {
    bool retract = !live.empty() && rng() % 3 == 0;
    int64_t v;
    bool null = false;
    if (retract) {
      auto it = live.begin();
      std::advance(it, static_cast<long>(rng() % live.size()));
      v = *it;
      live.erase(it);
    } else if (rng() % 10 == 0) {
      null = true;
      v = 0;
      ++nulls;
    } else {
      v = static_cast<int64_t>(rng() % 40) - 10;  // many repeats
      live.insert(v);
    }
    Column c = One(v, null);
    for (size_t f = 0; f < fns.size(); ++f) {
      if (retract)
        fns[f]->Retract(states[f]->data(), &c, 0);
      else
        fns[f]->Accumulate(states[f]->data(), &c, 0);
    }
    if (step % 97 == 0) {  // snapshot and restore into a fresh state
      for (size_t f = 0; f < fns.size(); ++f) {
        std::string bytes;
        fns[f]->SerializeState(states[f]->data(), &bytes);
        auto fresh = std::make_unique<State>(fns[f]);
        std::string_view in(bytes);
        ASSERT_TRUE(fns[f]->DeserializeState(fresh->data(), &in).ok());
        EXPECT_TRUE(in.empty());
        states[f] = std::move(fresh);
      }
    }
    std::set<int64_t> distinct(live.begin(), live.end());
    int64_t sum = 0;
    for (int64_t x : distinct) sum += x;
    Value count = states[0]->Result();
    EXPECT_EQ(count.i, static_cast<int64_t>(distinct.size())) << "step " << step;
    Value s = states[1]->Result(), a = states[2]->Result();
    Value mn = states[3]->Result(), mx = states[4]->Result();
    if (distinct.empty()) {
      EXPECT_TRUE(s.is_null && a.is_null && mn.is_null && mx.is_null) << "step " << step;
      continue;
    }
    EXPECT_EQ(s.i, sum) << "step " << step;
    EXPECT_EQ(a.i, sum / static_cast<int64_t>(distinct.size())) << "step " << step;
    EXPECT_EQ(mn.i, *distinct.begin()) << "step " << step;
    EXPECT_EQ(mx.i, *distinct.rbegin()) << "step " << step;
  }
  EXPECT_GT(nulls, 100);
}

TEST(DistinctAggregate, StringsAndDoubles) {
  auto count = *ResolveAggregate("COUNT", {DataType::String()}, true);
  State s(count);
  Column c(DataType::String());
  for (const char* x : {"a", "b", "a", "", "b", "a"}) c.AppendString(x);
  c.AppendNull();
  for (size_t i = 0; i < c.size(); ++i) count->Accumulate(s.data(), &c, i);
  EXPECT_EQ(s.Result().i, 3);  // "a", "b", "" (NULL not counted)
  count->Retract(s.data(), &c, 0);
  count->Retract(s.data(), &c, 2);
  EXPECT_EQ(s.Result().i, 3);  // "a" still held by row 5
  count->Retract(s.data(), &c, 5);
  EXPECT_EQ(s.Result().i, 2);

  auto sum = *ResolveAggregate("SUM", {DataType::Double()}, true);
  State d(sum);
  Column f(DataType::Double());
  for (double x : {1.5, 2.25, 1.5, 1e16, -4.0}) f.AppendDouble(x);
  for (size_t i = 0; i < f.size(); ++i) sum->Accumulate(d.data(), &f, i);
  EXPECT_EQ(d.Result().d, 1.5 + 2.25 + 1e16 - 4.0);
  sum->Retract(d.data(), &f, 3);  // 1e16 leaves: the small values stay exact
  EXPECT_EQ(d.Result().d, -0.25);
}

TEST(DistinctAggregate, MergeAddsMultiplicities) {
  auto count = *ResolveAggregate("COUNT", {DataType::Bigint()}, true);
  State a(count), b(count);
  for (int64_t v : {1, 2, 2}) {
    Column c = One(v);
    count->Accumulate(a.data(), &c, 0);
  }
  for (int64_t v : {2, 3}) {
    Column c = One(v);
    count->Accumulate(b.data(), &c, 0);
  }
  count->Merge(a.data(), b.data());
  EXPECT_EQ(a.Result().i, 3);  // {1, 2, 3}
  Column two = One(2);
  for (int i = 0; i < 2; ++i) count->Retract(a.data(), &two, 0);
  EXPECT_EQ(a.Result().i, 3);  // 2 was held by three rows
  count->Retract(a.data(), &two, 0);
  EXPECT_EQ(a.Result().i, 2);
}

// The encoding of docs/checkpoint-format.md, built by hand: varint n, n × (string key (the
// value's 8 bytes for BIGINT), int64 multiplicity, Value). Checkpoints written before the
// incremental form existed hold exactly this.
TEST(DistinctAggregate, ReadsTheDocumentedEncoding) {
  std::string bytes;
  state::StateWriter w(&bytes);
  w.PutVarint(2);
  for (auto [v, n] : std::vector<std::pair<int64_t, int64_t>>{{7, 2}, {-3, 1}}) {
    w.PutString(std::string(reinterpret_cast<const char*>(&v), 8));
    w.PutInt64(n);
    state::StateSerializer<Value>::Write(Value::Int64(DataType::Bigint(), v), &w);
  }
  for (const char* name : {"COUNT", "SUM"}) {
    auto fn = *ResolveAggregate(name, {DataType::Bigint()}, true);
    State s(fn);
    std::string_view in(bytes);
    ASSERT_TRUE(fn->DeserializeState(s.data(), &in).ok());
    EXPECT_TRUE(in.empty());
    EXPECT_EQ(s.Result().i, std::string(name) == "COUNT" ? 2 : 4);
    Column seven = One(7);
    fn->Retract(s.data(), &seven, 0);
    EXPECT_EQ(s.Result().i, std::string(name) == "COUNT" ? 2 : 4);  // 7 held twice
    fn->Retract(s.data(), &seven, 0);
    EXPECT_EQ(s.Result().i, std::string(name) == "COUNT" ? 1 : -3);
    std::string again;
    fn->SerializeState(s.data(), &again);
    EXPECT_FALSE(again.empty());
    // Truncated input is an error, not a crash.
    State t(fn);
    std::string_view cut(bytes.data(), bytes.size() - 3);
    EXPECT_FALSE(fn->DeserializeState(t.data(), &cut).ok());
  }
}

}  // namespace
}  // namespace eddy
