// The lookup join reading its table by key through a LookupFunction (the 'jdbc' connector's way):
// one call per input batch with the batch's distinct missing keys, and the cache
// ('lookup.cache.max-rows', 'lookup.cache.ttl', 'lookup.cache.caching-missing-key') with its
// least-recently-used eviction, driven with a table in a std::map.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "function/expr.h"
#include "runtime/lookup_join.h"
#include "runtime/operator_harness.h"

namespace eddy::runtime {
namespace {

// The table {id BIGINT, name STRING}; records the keys of every call.
struct MapTable {
  std::map<int64_t, std::string> rows = {{1, "one"}, {2, "two"}, {3, "three"}};
  std::vector<std::set<int64_t>> calls;
};

class MapLookup final : public LookupFunction {
 public:
  explicit MapLookup(std::shared_ptr<MapTable> t) : t_(std::move(t)) {}
  absl::StatusOr<Batch> Lookup(const std::vector<Column>& keys, size_t n) override {
    Schema s;
    s.fields = {{"id", DataType::Bigint()}, {"name", DataType::String()}};
    Batch b = Batch::Empty(s);
    Arena* arena = b.NewArena();
    std::set<int64_t> asked;
    for (size_t i = 0; i < n; ++i) {
      EXPECT_TRUE(asked.insert(keys[0].i64[i]).second) << "a key asked twice in one call";
      auto it = t_->rows.find(keys[0].i64[i]);
      if (it == t_->rows.end()) continue;
      b.columns[0].AppendInt(it->first);
      b.columns[1].AppendString(arena->Add(it->second));
      b.kinds.push_back(RowKind::kInsert);
    }
    t_->calls.push_back(asked);
    return b;
  }

 private:
  std::shared_ptr<MapTable> t_;
};

struct Join {
  std::shared_ptr<MapTable> table = std::make_shared<MapTable>();
  std::unique_ptr<OperatorHarness> h;
  FormattedRowSink out;

  Join(LookupCacheConfig cache, bool left_outer) {
    LookupJoinConfig c;
    auto t = table;
    c.function = [t](const SubtaskInfo&) -> absl::StatusOr<std::unique_ptr<LookupFunction>> {
      return std::unique_ptr<LookupFunction>(new MapLookup(t));
    };
    c.cache = cache;
    c.table_schema.fields = {{"id", DataType::Bigint()}, {"name", DataType::String()}};
    c.right_keys = {MakeColumnRef(0, DataType::Bigint(), "id")};
    c.left_keys = {MakeColumnRef(0, DataType::Bigint(), "k")};
    c.left_visible = 1;
    c.left_outer = left_outer;
    auto op = MakeLookupJoin(c, SubtaskInfo{});
    EXPECT_TRUE(op.ok()) << op.status();
    h = std::make_unique<OperatorHarness>(std::move(*op));
    EXPECT_TRUE(h->Open().ok());
  }

  // Joins one batch of keys (-1 = NULL) and returns the rows it produced.
  std::vector<std::string> Run(std::vector<int64_t> keys) {
    Batch b;
    b.columns.emplace_back(DataType::Bigint());
    for (int64_t k : keys) {
      if (k < 0) {
        b.columns[0].AppendNull();
      } else {
        b.columns[0].AppendInt(k);
      }
      b.kinds.push_back(RowKind::kInsert);
    }
    out.rows.clear();
    EXPECT_TRUE(h->one()->ProcessBatch(b, RowWatermarks{}, &out).ok());
    return out.rows;
  }
};

using Rows = std::vector<std::string>;
using Keys = std::set<int64_t>;

TEST(LookupFunctionJoin, OneCallPerBatchWithItsDistinctNonNullKeys) {
  Join j(LookupCacheConfig{}, /*left_outer=*/false);
  EXPECT_EQ(j.Run({1, 2, 1, 9, -1, 2}),
            (Rows{"+I|1|1|one", "+I|2|2|two", "+I|1|1|one", "+I|2|2|two"}));
  ASSERT_EQ(j.table->calls.size(), 1u);
  EXPECT_EQ(j.table->calls[0], (Keys{1, 2, 9}));
  // No cache: the next batch asks again, and sees a changed table.
  j.table->rows[1] = "uno";
  EXPECT_EQ(j.Run({1}), (Rows{"+I|1|1|uno"}));
  EXPECT_EQ(j.table->calls.size(), 2u);
  // A batch of NULL keys only asks nothing.
  EXPECT_EQ(j.Run({-1}), Rows{});
  EXPECT_EQ(j.table->calls.size(), 2u);
}

TEST(LookupFunctionJoin, LeftJoinKeepsUnmatchedRowsWithNulls) {
  Join j(LookupCacheConfig{}, /*left_outer=*/true);
  EXPECT_EQ(j.Run({9, 3, -1}), (Rows{"+I|9|NULL|NULL", "+I|3|3|three", "+I|NULL|NULL|NULL"}));
}

TEST(LookupFunctionJoin, CacheEvictsTheLeastRecentlyUsedKey) {
  Join j(LookupCacheConfig{/*max_rows=*/2, /*ttl_ms=*/1000, /*cache_missing=*/true}, false);
  j.Run({1, 2});                                // asks {1, 2}; cache: 2, 1 (most recent first)
  EXPECT_EQ(j.Run({1}), (Rows{"+I|1|1|one"}));  // a hit: cache 1, 2
  EXPECT_EQ(j.table->calls.size(), 1u);
  j.table->rows[2] = "zwei";
  j.Run({3});  // asks {3}; cache 3, 1 (2 evicted)
  ASSERT_EQ(j.table->calls.size(), 2u);
  EXPECT_EQ(j.table->calls[1], (Keys{3}));
  EXPECT_EQ(j.Run({1, 3, 2}), (Rows{"+I|1|1|one", "+I|3|3|three", "+I|2|2|zwei"}));
  ASSERT_EQ(j.table->calls.size(), 3u);
  EXPECT_EQ(j.table->calls[2], (Keys{2})) << "1 and 3 were cached, 2 was evicted";
}

TEST(LookupFunctionJoin, CachedAnswersExpireAfterTheTtl) {
  Join j(LookupCacheConfig{100, /*ttl_ms=*/1000, true}, false);
  ASSERT_TRUE(j.h->AdvanceProcessingTime(10'000, &j.out).ok());
  j.Run({1});
  j.table->rows[1] = "uno";
  ASSERT_TRUE(j.h->AdvanceProcessingTime(10'999, &j.out).ok());
  EXPECT_EQ(j.Run({1}), (Rows{"+I|1|1|one"})) << "still cached";
  ASSERT_TRUE(j.h->AdvanceProcessingTime(11'000, &j.out).ok());
  EXPECT_EQ(j.Run({1}), (Rows{"+I|1|1|uno"})) << "expired: read again";
  EXPECT_EQ(j.table->calls.size(), 2u);
}

TEST(LookupFunctionJoin, MissingKeysAreCachedUnlessTurnedOff) {
  for (bool cache_missing : {true, false}) {
    Join j(LookupCacheConfig{100, 1000, cache_missing}, true);
    j.Run({9});
    EXPECT_EQ(j.Run({9}), (Rows{"+I|9|NULL|NULL"}));
    EXPECT_EQ(j.table->calls.size(), cache_missing ? 1u : 2u) << cache_missing;
  }
}

}  // namespace
}  // namespace eddy::runtime
