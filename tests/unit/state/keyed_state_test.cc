// Keyed state on its own: key-group ranges against the exchange's routing, the snapshot
// encoding (round trips; truncated and corrupt input give errors, never crashes), the in-memory
// backend's operations, and rescaling: state snapshotted per key group at one parallelism and
// restored at another lands where the exchange sends the keys' rows.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>

#include "runtime/key_groups.h"
#include "runtime/operator.h"
#include "state/key_group_range.h"
#include "state/keyed_map_state.h"
#include "state/serializer.h"
#include "state/value_serializer.h"
#include "types/value.h"

namespace eddy::state {
namespace {

TEST(KeyGroupRange, EveryKeyGroupMapsBackToItsSubtask) {
  std::vector<int> maxps = {1, 2, 3, 7, 10, 64, 100, 127, 128, 129, 1000, 32768};
  for (int maxp : maxps) {
    for (int p = 1; p <= maxp && p <= 300; p += (p < 20 ? 1 : 7)) {
      int next = 0;  // ranges are contiguous, ascending and cover [0, maxp)
      for (int s = 0; s < p; ++s) {
        KeyGroupRange r = KeyGroupRange::Of(s, p, maxp);
        ASSERT_EQ(r.first().value(), next) << "maxp=" << maxp << " p=" << p << " s=" << s;
        ASSERT_GE(r.size(), 1);
        for (int kg = r.first().value(); kg <= r.last().value(); ++kg) {
          ASSERT_EQ(runtime::SubtaskOfKeyGroup(kg, p, maxp), s)
              << "maxp=" << maxp << " p=" << p << " kg=" << kg;
          ASSERT_TRUE(r.contains(KeyGroup(kg)));
        }
        EXPECT_FALSE(r.contains(KeyGroup(r.first().value() - 1)));
        EXPECT_FALSE(r.contains(KeyGroup(r.last().value() + 1)));
        next = r.last().value() + 1;
      }
      ASSERT_EQ(next, maxp);
    }
  }
  EXPECT_TRUE(KeyGroupRange().empty());
  EXPECT_EQ(KeyGroupRange::Of(0, 1, 128), KeyGroupRange(KeyGroup(0), KeyGroup(127)));
}

template <class T>
T RoundTrip(const T& v) {
  std::string buf;
  StateWriter w(&buf);
  StateSerializer<T>::Write(v, &w);
  StateReader r(buf);
  T out{};
  absl::Status s = StateSerializer<T>::Read(&r, &out);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_TRUE(r.done());
  return out;
}

TEST(StateSerializer, RoundTripsScalarsAndContainers) {
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1}, int64_t{300},
                    std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}) {
    EXPECT_EQ(RoundTrip(v), v);
  }
  EXPECT_EQ(RoundTrip(std::numeric_limits<uint64_t>::max()), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(RoundTrip(int32_t{-7}), -7);
  EXPECT_EQ(RoundTrip(uint32_t{4000000000u}), 4000000000u);
  EXPECT_EQ(RoundTrip(true), true);
  EXPECT_EQ(RoundTrip(false), false);
  EXPECT_EQ(RoundTrip(1.5), 1.5);
  EXPECT_TRUE(std::signbit(RoundTrip(-0.0)));
  EXPECT_TRUE(std::isnan(RoundTrip(std::nan(""))));
  EXPECT_EQ(RoundTrip(std::string("a\0b", 3)), std::string("a\0b", 3));
  EXPECT_EQ(RoundTrip(std::string(1000, 'x')), std::string(1000, 'x'));
  std::vector<int64_t> vec = {1, -2, 3};
  EXPECT_EQ(RoundTrip(vec), vec);
  std::deque<std::string> dq = {"a", "", "c"};
  EXPECT_EQ(RoundTrip(dq), dq);
  std::pair<int64_t, std::string> pr = {-5, "five"};
  EXPECT_EQ(RoundTrip(pr), pr);
  std::map<std::pair<int64_t, int64_t>, std::vector<double>> m = {{{1, 2}, {0.5}}, {{1, 3}, {}}};
  EXPECT_EQ(RoundTrip(m), m);
  auto up = RoundTrip(std::make_unique<int64_t>(42));
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(*up, 42);
  EXPECT_EQ(RoundTrip(std::unique_ptr<int64_t>()), nullptr);
  EXPECT_EQ(RoundTrip(std::optional<int>(3)), std::optional<int>(3));
  EXPECT_EQ(RoundTrip(std::optional<int>()), std::nullopt);
}

TEST(StateSerializer, RoundTripsValues) {
  DataType ts = DataType::Timestamp(3);
  ts.time_attr = TimeAttr::kRowtime;
  ts.nullable = false;
  std::vector<Value> row = {Value::Int64(DataType::Bigint(), -9),
                            Value::Double(-0.0),
                            Value::String("héllo"),
                            Value::Null(DataType::String()),
                            Value::Int64(ts, 1700000000000000),
                            Value::Int64(DataType::Decimal(10, 2), 12345),
                            Value::Bool(true)};
  std::vector<Value> back = RoundTrip(row);
  ASSERT_EQ(back.size(), row.size());
  EXPECT_TRUE(SameValues(back, row));
  for (size_t i = 0; i < row.size(); ++i) {
    EXPECT_TRUE(back[i].type.SameAs(row[i].type)) << i;
    EXPECT_EQ(back[i].type.nullable, row[i].type.nullable) << i;
    EXPECT_EQ(back[i].type.time_attr, row[i].type.time_attr) << i;
  }
  EXPECT_TRUE(std::signbit(back[1].d));
}

TEST(StateReader, TruncatedAndCorruptInputAreErrors) {
  std::vector<Value> row = {Value::String("abc"), Value::Int64(DataType::Int(), 5)};
  std::string buf;
  StateWriter w(&buf);
  StateSerializer<std::vector<Value>>::Write(row, &w);
  for (size_t n = 0; n < buf.size(); ++n) {
    StateReader r(std::string_view(buf).substr(0, n));
    std::vector<Value> out;
    absl::Status s = StateSerializer<std::vector<Value>>::Read(&r, &out);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << "prefix of " << n << " bytes";
  }
  auto bad = [](std::string bytes, auto* out) {
    StateReader r(bytes);
    using T = std::remove_pointer_t<decltype(out)>;
    return StateSerializer<T>::Read(&r, out);
  };
  bool b;
  EXPECT_EQ(bad(std::string("\x02", 1), &b).code(), absl::StatusCode::kDataLoss);
  int64_t i;
  EXPECT_EQ(bad(std::string(11, '\xff'), &i).code(), absl::StatusCode::kDataLoss);
  int8_t small;
  EXPECT_EQ(bad(std::string("\x80\x04", 2), &small).code(), absl::StatusCode::kDataLoss);  // 256
  std::vector<int64_t> v;  // a count far beyond the input
  EXPECT_EQ(bad(std::string("\xff\xff\xff\xff\x0f", 5), &v).code(), absl::StatusCode::kDataLoss);
  std::map<int64_t, int64_t> m;  // keys out of order
  EXPECT_EQ(bad(std::string("\x02\x04\x00\x02\x00", 5), &m).code(), absl::StatusCode::kDataLoss);
  Value val;  // unknown type id
  EXPECT_EQ(bad(std::string("\x63", 1), &val).code(), absl::StatusCode::kDataLoss);
}

// Random bytes and random corruptions of a valid snapshot never crash (run under ASan/UBSan in
// the sanitizer build).
TEST(KeyedMapState, RestoreOfGarbageNeverCrashes) {
  KeyedMapState<std::vector<Value>> st(KeyGroupRange(KeyGroup(0), KeyGroup(3)));
  for (int i = 0; i < 50; ++i) {
    *st.FindOrInsert(KeyGroup(2), "k" + std::to_string(i)).first = {
        Value::String(std::string(i, 'v')), Value::Int64(DataType::Bigint(), i)};
  }
  std::string snap;
  st.SnapshotKeyGroup(KeyGroup(2), &snap);
  std::mt19937 rng(7);
  int corrupt_rejected = 0;
  for (int round = 0; round < 2000; ++round) {
    std::string bytes = snap;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    if (round % 3 == 0) bytes.resize(rng() % bytes.size());
    KeyedMapState<std::vector<Value>> target(KeyGroupRange(KeyGroup(0), KeyGroup(3)));
    absl::Status s = target.RestoreKeyGroup(KeyGroup(2), bytes);
    if (!s.ok()) {
      EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
      EXPECT_EQ(target.size(), 0u) << "a failed restore leaves the state unchanged";
      ++corrupt_rejected;
    } else {
      // A corruption that still decodes (a changed value byte) gives a state that snapshots and
      // restores again to the same number of entries.
      std::string again;
      target.SnapshotKeyGroup(KeyGroup(2), &again);
      KeyedMapState<std::vector<Value>> back(KeyGroupRange(KeyGroup(0), KeyGroup(3)));
      ASSERT_TRUE(back.RestoreKeyGroup(KeyGroup(2), again).ok());
      EXPECT_EQ(back.size(), target.size());
    }
  }
  // Truncations (a third of the rounds) and most byte flips in the header and lengths are
  // detected.
  EXPECT_GT(corrupt_rejected, 2000 / 3);
  int garbage_rejected = 0;
  for (int round = 0; round < 500; ++round) {
    std::string bytes(rng() % 64, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    KeyedMapState<std::vector<Value>> target(KeyGroupRange(KeyGroup(0), KeyGroup(3)));
    absl::Status s = target.RestoreKeyGroup(KeyGroup(2), bytes);
    if (!s.ok()) {
      EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
      EXPECT_EQ(target.size(), 0u);
      ++garbage_rejected;
    }
  }
  // Random bytes almost never start with the format version and this key group.
  EXPECT_GT(garbage_rejected, 490);
}

TEST(KeyedMapState, SnapshotHeaderIsChecked) {
  KeyedMapState<int64_t> st(KeyGroupRange(KeyGroup(4), KeyGroup(5)));
  *st.FindOrInsert(KeyGroup(4), "a").first = 1;
  std::string snap;
  st.SnapshotKeyGroup(KeyGroup(4), &snap);
  EXPECT_EQ(static_cast<uint8_t>(snap[0]), kKeyedStateFormatVersion);
  KeyedMapState<int64_t> other(KeyGroupRange(KeyGroup(0), KeyGroup(7)));
  EXPECT_TRUE(other.RestoreKeyGroup(KeyGroup(4), snap).ok());
  EXPECT_EQ(*other.Find(KeyGroup(4), "a"), 1);
  EXPECT_EQ(other.RestoreKeyGroup(KeyGroup(5), snap).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(st.RestoreKeyGroup(KeyGroup(9), snap).code(), absl::StatusCode::kInvalidArgument);
  std::string v2 = snap;
  v2[0] = 2;
  EXPECT_EQ(other.RestoreKeyGroup(KeyGroup(4), v2).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(other.RestoreKeyGroup(KeyGroup(4), snap + "x").code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(other.RestoreKeyGroup(KeyGroup(4), "").code(), absl::StatusCode::kDataLoss);
  std::string twice;  // version, key group 4, two entries with key "a"
  twice += static_cast<char>(kKeyedStateFormatVersion);
  twice += std::string(
      "\x04\x02\x01"
      "a\x02\x01"
      "a\x04",
      8);
  EXPECT_EQ(other.RestoreKeyGroup(KeyGroup(4), twice).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(*other.Find(KeyGroup(4), "a"), 1) << "failed restores leave the state unchanged";
}

TEST(KeyedMapState, Operations) {
  KeyedMapState<std::string> st(KeyGroupRange(KeyGroup(10), KeyGroup(12)));
  EXPECT_TRUE(st.empty());
  auto [v, inserted] = st.FindOrInsert(KeyGroup(10), "k1");
  EXPECT_TRUE(inserted);
  EXPECT_EQ(*v, "");
  *v = "one";
  EXPECT_FALSE(st.FindOrInsert(KeyGroup(10), "k1").second);
  *st.FindOrInsert(KeyGroup(11), "k1").first = "other group";  // same bytes, another key group
  *st.FindOrInsert(KeyGroup(12), "k2").first = "two";
  *st.FindOrInsert(KeyGroup(12), "k3").first = "three";
  EXPECT_EQ(st.size(), 4u);
  EXPECT_EQ(st.size(KeyGroup(12)), 2u);
  EXPECT_EQ(*st.Find(KeyGroup(10), "k1"), "one");
  EXPECT_EQ(*st.Find(KeyGroup(11), "k1"), "other group");
  EXPECT_EQ(st.Find(KeyGroup(10), "k2"), nullptr);
  std::vector<int> groups;
  st.ForEach([&](KeyGroup kg, std::string_view, std::string&) { groups.push_back(kg.value()); });
  EXPECT_EQ(groups, (std::vector<int>{10, 11, 12, 12}));
  std::set<std::string> in12;
  st.ForEachInKeyGroup(KeyGroup(12), [&](KeyGroup kg, std::string_view k, std::string& val) {
    EXPECT_EQ(kg, KeyGroup(12));
    in12.insert(std::string(k) + "=" + val);
  });
  EXPECT_EQ(in12, (std::set<std::string>{"k2=two", "k3=three"}));
  EXPECT_GT(st.ApproximateMemoryBytes(), 0u);
  EXPECT_EQ(st.EraseIf([](KeyGroup, std::string_view k, std::string&) { return k == "k1"; }), 2u);
  EXPECT_EQ(st.size(), 2u);
  EXPECT_TRUE(st.Erase(KeyGroup(12), "k2"));
  EXPECT_FALSE(st.Erase(KeyGroup(12), "k2"));
  EXPECT_EQ(st.size(), 1u);
  st.Clear();
  EXPECT_TRUE(st.empty());
}

// Keys of a GROUP BY on (STRING, BIGINT): their key bytes, and their key groups as the exchange
// computes them (HashRows over the key columns).
struct Keys {
  std::vector<std::string> bytes;
  std::vector<int> key_groups;
  std::vector<std::vector<Value>> values;  // the state each key holds
};

Keys MakeKeys(int n, int max_parallelism) {
  Batch b;
  b.columns.emplace_back(DataType::String());
  b.columns.emplace_back(DataType::Bigint());
  Arena* arena = b.NewArena();
  Keys k;
  for (int i = 0; i < n; ++i) {
    std::string s = "user-" + std::to_string(i * 7919 % 100003);
    b.columns[0].AppendString(arena->Add(s));
    if (i % 10 == 0) {
      b.columns[1].AppendNull();
    } else {
      b.columns[1].AppendInt(i % 13);
    }
    b.kinds.push_back(RowKind::kInsert);
    std::string kb;
    AppendKeyBytes(Value::FromColumn(b.columns[0], i), &kb);
    AppendKeyBytes(Value::FromColumn(b.columns[1], i), &kb);
    k.bytes.push_back(kb);
    k.values.push_back({Value::String(s), Value::Int64(DataType::Bigint(), i),
                        Value::Double(i / 3.0), Value::Null(DataType::String())});
  }
  std::vector<uint64_t> hashes(n);
  runtime::HashRows(b, {0, 1}, hashes.data());
  for (int i = 0; i < n; ++i)
    k.key_groups.push_back(runtime::KeyGroupOf(hashes[i], max_parallelism));
  return k;
}

// Snapshot at parallelism `from`, restore at parallelism `to`: every key ends up in exactly the
// subtask the exchange routes its rows to, with its value.
void CheckRescale(int from, int to, int maxp) {
  Keys keys = MakeKeys(5000, maxp);
  std::vector<std::unique_ptr<KeyedMapState<std::vector<Value>>>> before;
  for (int s = 0; s < from; ++s) {
    before.push_back(
        std::make_unique<KeyedMapState<std::vector<Value>>>(KeyGroupRange::Of(s, from, maxp)));
  }
  for (size_t i = 0; i < keys.bytes.size(); ++i) {
    int kg = keys.key_groups[i];
    int s = runtime::SubtaskOfKeyGroup(kg, from, maxp);
    ASSERT_TRUE(before[s]->range().contains(KeyGroup(kg)));
    auto [v, inserted] = before[s]->FindOrInsert(KeyGroup(kg), keys.bytes[i]);
    ASSERT_TRUE(inserted);
    *v = keys.values[i];
  }
  // Snapshot every key group (as a checkpoint would: one blob per key group).
  std::map<int, std::string> blobs;
  for (auto& st : before) {
    for (int kg = st->range().first().value(); kg <= st->range().last().value(); ++kg) {
      st->SnapshotKeyGroup(KeyGroup(kg), &blobs[kg]);
    }
  }
  ASSERT_EQ(blobs.size(), static_cast<size_t>(maxp));
  std::vector<std::unique_ptr<KeyedMapState<std::vector<Value>>>> after;
  for (int s = 0; s < to; ++s) {
    after.push_back(
        std::make_unique<KeyedMapState<std::vector<Value>>>(KeyGroupRange::Of(s, to, maxp)));
    for (int kg = after[s]->range().first().value(); kg <= after[s]->range().last().value(); ++kg) {
      absl::Status st = after[s]->RestoreKeyGroup(KeyGroup(kg), blobs[kg]);
      ASSERT_TRUE(st.ok()) << st;
    }
  }
  size_t total = 0;
  for (auto& st : after) total += st->size();
  EXPECT_EQ(total, keys.bytes.size());
  for (size_t i = 0; i < keys.bytes.size(); ++i) {
    KeyGroup kg(keys.key_groups[i]);
    int want = runtime::SubtaskOfKeyGroup(kg.value(), to, maxp);
    for (int s = 0; s < to; ++s) {
      if (!after[s]->range().contains(kg)) continue;
      ASSERT_EQ(s, want) << "key group " << kg << " restored into subtask " << s;
      const std::vector<Value>* v = after[s]->Find(kg, keys.bytes[i]);
      ASSERT_NE(v, nullptr) << "key " << i;
      EXPECT_TRUE(SameValues(*v, keys.values[i])) << "key " << i;
    }
  }
}

TEST(KeyedMapState, RescalesFromTwoToThreeSubtasks) { CheckRescale(2, 3, 128); }
TEST(KeyedMapState, RescalesAtOtherParallelisms) {
  CheckRescale(3, 2, 128);
  CheckRescale(1, 5, 128);
  CheckRescale(4, 1, 10);
  CheckRescale(7, 3, 7);
}

// The key groups an operator computes for the rows the exchange routed to its subtask are all in
// that subtask's range; rows of another subtask are an error, not silently misplaced state.
TEST(KeyGroupAssigner, AgreesWithTheExchange) {
  const int maxp = 128, p = 3;
  Batch b;
  b.columns.emplace_back(DataType::String());
  b.columns.emplace_back(DataType::Double());
  Arena* arena = b.NewArena();
  for (int i = 0; i < 2000; ++i) {
    b.columns[0].AppendString(arena->Add("k" + std::to_string(i)));
    b.columns[1].AppendDouble(i % 5 == 0 ? -0.0 : i * 0.25);
    b.kinds.push_back(RowKind::kInsert);
  }
  std::vector<int> keys = {0, 1};
  std::vector<uint64_t> hashes(b.num_rows());
  runtime::HashRows(b, keys, hashes.data());
  std::vector<std::vector<uint32_t>> rows_of(p);
  for (size_t r = 0; r < b.num_rows(); ++r) {
    int kg = runtime::KeyGroupOf(hashes[r], maxp);
    rows_of[runtime::SubtaskOfKeyGroup(kg, p, maxp)].push_back(static_cast<uint32_t>(r));
  }
  for (int s = 0; s < p; ++s) {
    runtime::KeyGroupAssigner a(runtime::SubtaskInfo{s, p, maxp}, "op");
    Batch part = b.Gather(rows_of[s]);
    ASSERT_TRUE(a.Assign(part, keys).ok());
    for (size_t r = 0; r < part.num_rows(); ++r) EXPECT_TRUE(a.range().contains(a[r]));
    // Evaluated key columns (joins) hash alike.
    ASSERT_TRUE(a.Assign(part.columns, part.num_rows()).ok());
    Batch other = b.Gather(rows_of[(s + 1) % p]);
    absl::Status st = a.Assign(other, keys);
    EXPECT_EQ(st.code(), absl::StatusCode::kInternal);
  }
  // No key columns (a global exchange into one subtask): one key group, owned by subtask 0 of 1.
  runtime::KeyGroupAssigner global(runtime::SubtaskInfo{0, 1, maxp}, "op");
  ASSERT_TRUE(global.Assign(b, {}).ok());
  for (size_t r = 1; r < b.num_rows(); ++r) EXPECT_EQ(global[r], global[0]);
}

}  // namespace
}  // namespace eddy::state
