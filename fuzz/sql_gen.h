// A grammar-aware generator of random Flink SQL for eddy's SQL fuzzers (in the spirit of
// SQLancer's generators and ClickHouse's query fuzzer): type-directed expressions, functions,
// casts, window TVFs, OVER windows, regular / interval / temporal / lookup joins, Top-N,
// MATCH_RECOGNIZE, subqueries, views, set operations, DDL with options, SET and EXPLAIN, over a
// small fixed catalog (FuzzCatalog) whose tables have every column type eddy supports.
//
// Most output is valid SQL; a tunable share is "almost valid" (a wrong type, an unknown name, a
// bad argument, a token inserted, deleted or replaced) so that every error path of the parser,
// binder and planner is reached. Output depends only on the seed (own PRNG, no std::
// distributions), so a finding is reproduced by its seed and iteration.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace eddy::fuzz {

/// splitmix64: a small, fast PRNG whose sequence is the same on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n); n > 0.
  uint64_t Below(uint64_t n) { return Next() % n; }
  /// Uniform in [lo, hi].
  int64_t Range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }
  /// True with probability p.
  bool Chance(double p) { return static_cast<double>(Next() >> 11) * 0x1.0p-53 < p; }
  template <class T>
  const T& Pick(const std::vector<T>& v) {
    return v[Below(v.size())];
  }

 private:
  uint64_t s_;
};

/// The generator's type categories (a subset of eddy's DataType ids, by what an expression
/// generator needs to know).
enum class Ty {
  kBool,
  kInt,
  kBigint,
  kDouble,
  kDecimal,
  kString,
  kTimestamp,
  kTimestampLtz,
  kDate,
  kIntervalDayTime,
  kIntervalYearMonth,
};

/// A column the generator may reference.
struct GenColumn {
  std::string name;
  Ty ty;
  bool rowtime = false;   // event-time attribute (WATERMARK FOR it)
  bool proctime = false;  // processing-time attribute (AS PROCTIME())
};

/// A table of the catalog.
struct GenTable {
  std::string name;
  std::vector<GenColumn> columns;
  bool versioned = false;  // PRIMARY KEY k and a WATERMARK: the right side of temporal joins
  bool lookup = false;     // no time attributes: the right side of lookup joins
  bool view = false;
  bool windowed = false;  // a view over a window aggregation (window_start, window_end, …)
};

/// The fuzzers' catalog: its DDL (with data files under `dir`) and the tables' descriptions.
struct FuzzCatalog {
  std::vector<GenTable> tables;
  /// CREATE TABLE / CREATE VIEW statements, in order; paths point into the data directory.
  std::vector<std::string> ddl;
};

/// Writes the catalog's data files into `dir` (which must exist): a few dozen rows per table with
/// NULLs, edge values (INT and BIGINT limits, NaN, ±Infinity, -0.0, empty and non-ASCII strings,
/// dates in year 1 and 9999) and event times in order up to a disorder below each table's
/// watermark delay (so no row is late at any parallelism or batch size). Deterministic in `seed`.
FuzzCatalog MakeFuzzCatalog(const std::string& dir, uint64_t seed);

/// Generator options.
struct GenOptions {
  /// Probability that a node of an expression or clause is made "almost valid".
  double error_rate = 0.01;
  /// Only queries whose results cannot depend on timing, parallelism or batch size: no
  /// CURRENT_TIMESTAMP/NOW/PROCTIME/CURRENT_WATERMARK, no processing-time windows, no processing-
  /// time columns in the output, Top-N and LIMIT ordered by a unique column, no mutations.
  bool deterministic = false;
  /// Maximum depth of generated expressions.
  int max_expr_depth = 4;
};

/// Random statements over a FuzzCatalog. Not thread-safe.
class SqlGenerator {
 public:
  SqlGenerator(const FuzzCatalog& catalog, uint64_t seed, GenOptions options = {});

  /// A SELECT query (with its WITH, subqueries, joins, windows, ORDER BY / LIMIT …).
  std::string Query();
  /// Any statement: mostly queries and EXPLAIN, also CREATE TABLE / VIEW (with random options,
  /// types, computed and metadata columns, watermarks), INSERT INTO, SET / RESET, SHOW, DESCRIBE,
  /// DROP. `scratch` is a name the statement may create (the caller drops it afterwards).
  std::string Statement(const std::string& scratch);
  /// `sql` with 1 to 3 token-level mutations (insert, delete, replace or duplicate a token, with
  /// tokens from a dictionary of keywords, punctuation and edge literals).
  std::string Mutate(const std::string& sql);

  Rng& rng() { return rng_; }

 private:
  struct Scope;
  struct From;
  std::string Expr(Ty want, const Scope& sc, int depth);
  std::string Leaf(Ty want, const Scope& sc);
  std::string Literal(Ty want);
  std::string Predicate(const Scope& sc, int depth);
  /// An aggregate call; `exact_only`: only aggregates whose result does not depend on the order
  /// of their input (COUNT, SUM of exact numbers) in deterministic mode.
  std::string AggCall(const Scope& sc, bool* ok, bool exact_only);
  std::string TypeName(Ty t);
  std::string IntervalLiteral(bool for_window);
  Ty AnyType();
  From Source(int depth);
  From NamedSource(bool time_only);
  From WindowTvf(const From& in);
  From Join(int depth);
  From MatchRecognize(const From& in);
  std::string SelectBlock(int depth, bool top, bool* has_order);
  std::string CreateTable(const std::string& name);
  bool Err() { return !opt_.deterministic && rng_.Chance(opt_.error_rate); }

  const FuzzCatalog& cat_;
  Rng rng_;
  GenOptions opt_;
};

}  // namespace eddy::fuzz
