#include "sql_gen.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>

namespace eddy::fuzz {

// ---------------------------------------------------------------------------------------------
// Catalog and data

namespace {

const char* const kKeys[] = {"a", "b", "c", "d", "", "ü"};

// Event times in order with a disorder below `delay_ms` (ms since the epoch of 2024-01-01).
std::vector<int64_t> EventTimes(Rng& rng, int n, int64_t delay_ms) {
  std::vector<int64_t> ts;
  int64_t t = 0;
  for (int i = 0; i < n; ++i) {
    t += rng.Range(0, 3) * 1000 + rng.Range(0, 2) * 250;
    ts.push_back(t);
  }
  // Swap neighbours whose times differ by less than the delay: disorder, no late row.
  for (int i = 0; i + 1 < n; ++i) {
    if (rng.Chance(0.2) && ts[i + 1] - ts[i] < delay_ms) std::swap(ts[i], ts[i + 1]);
  }
  return ts;
}

std::string Ts(int64_t ms) {
  // 2024-01-01 00:00:00 + ms (the data spans minutes, so no date arithmetic is needed).
  int64_t s = ms / 1000, h = s / 3600, mi = s / 60 % 60, se = s % 60;
  return fmt::format("2024-01-01 {:02}:{:02}:{:02}.{:03}", h, mi, se, ms % 1000);
}

}  // namespace

FuzzCatalog MakeFuzzCatalog(const std::string& dir, uint64_t seed) {
  Rng rng(seed ^ 0xDA7A);
  FuzzCatalog c;
  auto path = [&](const char* f) { return dir + "/" + f; };
  auto key = [&]() -> std::string {
    if (rng.Chance(0.08)) return "NULL";
    return kKeys[rng.Below(4 + (rng.Chance(0.2) ? 2 : 0))];
  };
  {
    std::ofstream f(path("orders.csv"));
    const int n = 40;
    auto ts = EventTimes(rng, n, 2000);
    const char* ints[] = {"0", "1", "-1", "7", "42", "-13", "2147483647", "-2147483648", "NULL"};
    const char* bigs[] = {"0",   "5", "-5", "100000", "9223372036854775807", "-9223372036854775808",
                          "NULL"};
    const char* dbls[] = {"0.5",  "-1.25",   "3.0",      "NaN", "Infinity", "-Infinity",
                          "-0.0", "1.0E308", "4.9E-324", "2.5", "NULL",     "100.125"};
    const char* decs[] = {"1.50", "-0.01", "99999999.99", "0.00", "12.34", "NULL"};
    const char* strs[] = {"x", "", "hello", "é✓", "a%b_c", "NULL", "Ab"};
    const char* dates[] = {"2024-01-01", "0001-01-01", "9999-12-31", "1970-01-01", "NULL"};
    for (int i = 0; i < n; ++i) {
      auto pick = [&](const auto& arr) { return arr[rng.Below(std::size(arr))]; };
      // Most values are ordinary; edge values appear now and then.
      std::string v = rng.Chance(0.7) ? std::to_string(rng.Range(-20, 60)) : pick(ints);
      std::string b = rng.Chance(0.7) ? std::to_string(rng.Range(-1000, 1000)) : pick(bigs);
      std::string d =
          rng.Chance(0.7) ? fmt::format("{}.{}", rng.Range(-50, 50), rng.Range(0, 9)) : pick(dbls);
      std::string m = rng.Chance(0.7) ? fmt::format("{}.{:02}", rng.Range(0, 500), rng.Range(0, 99))
                                      : pick(decs);
      std::string fl = rng.Chance(0.1) ? "NULL" : rng.Chance(0.5) ? "true" : "false";
      f << i << "," << key() << "," << v << "," << b << "," << d << "," << m << "," << fl << ","
        << pick(dates) << "," << pick(strs) << "," << Ts(ts[i]) << "\n";
    }
  }
  {
    std::ofstream f(path("clicks.json"));
    const int n = 30;
    auto ts = EventTimes(rng, n, 2000);
    for (int i = 0; i < n; ++i) {
      std::string k = key();
      std::string w = rng.Chance(0.1) ? "null" : std::to_string(rng.Range(-5, 30));
      std::string x = rng.Chance(0.1) ? "null" : fmt::format("{}.{}", rng.Range(-9, 9), i % 10);
      f << fmt::format(R"({{"id": {}, "k": {}, "w": {}, "x": {}, "ts": "{}"}})", i + 100,
                       k == "NULL" ? "null" : "\"" + k + "\"", w, x, Ts(ts[i]))
        << "\n";
    }
  }
  {
    std::ofstream f(path("rates.csv"));
    // Versions of each key's rate: a few per key over the first minutes, in time order.
    const int n = 16;
    auto ts = EventTimes(rng, n, 2000);
    for (int i = 0; i < n; ++i) {
      f << kKeys[i % 4] << "," << (i % 4 == 3 && i > 8 ? "NULL" : std::to_string(i + 1) + ".5")
        << ",L" << i << "," << Ts(ts[i] * 3) << "\n";
    }
  }
  {
    std::ofstream f(path("dim.csv"));
    f << "a,alpha,1\nb,beta,2\nc,NULL,3\nb,beta2,4\nzz,zeta,NULL\n";
  }
  {
    std::ofstream f(path("pt.csv"));
    for (int i = 0; i < 12; ++i) f << i << "," << kKeys[i % 5] << "," << (i * 7 % 11) << "\n";
  }
  {
    std::ofstream f(path("ltz.csv"));
    const int n = 20;
    auto ts = EventTimes(rng, n, 1000);
    for (int i = 0; i < n; ++i) {
      f << i << "," << kKeys[i % 3] << "," << rng.Range(0, 9999) << "." << rng.Range(100, 999)
        << "," << Ts(ts[i]) << "\n";
    }
  }
  std::string csv_null = "'csv.null-literal' = 'NULL'";
  c.ddl.push_back(fmt::format(
      "CREATE TABLE orders (id INT, k STRING, v INT, b BIGINT, d DOUBLE, m DECIMAL(10, 2), "
      "f BOOLEAN, dt DATE, s VARCHAR(8), ts TIMESTAMP(3), "
      "WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector' = 'filesystem', "
      "'path' = '{}', 'format' = 'csv', {})",
      path("orders.csv"), csv_null));
  c.tables.push_back({"orders",
                      {{"id", Ty::kInt},
                       {"k", Ty::kString},
                       {"v", Ty::kInt},
                       {"b", Ty::kBigint},
                       {"d", Ty::kDouble},
                       {"m", Ty::kDecimal},
                       {"f", Ty::kBool},
                       {"dt", Ty::kDate},
                       {"s", Ty::kString},
                       {"ts", Ty::kTimestamp, true}}});
  c.ddl.push_back(fmt::format(
      "CREATE TABLE clicks (id INT, k STRING, w INT, x DOUBLE, ts TIMESTAMP(3), w2 AS w * 2, "
      "WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector' = 'filesystem', "
      "'path' = '{}', 'format' = 'json')",
      path("clicks.json")));
  c.tables.push_back({"clicks",
                      {{"id", Ty::kInt},
                       {"k", Ty::kString},
                       {"w", Ty::kInt},
                       {"x", Ty::kDouble},
                       {"ts", Ty::kTimestamp, true},
                       {"w2", Ty::kInt}}});
  c.ddl.push_back(fmt::format(
      "CREATE TABLE rates (k STRING, rate DOUBLE, label STRING, ts TIMESTAMP(3), "
      "PRIMARY KEY (k) NOT ENFORCED, WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ("
      "'connector' = 'filesystem', 'path' = '{}', 'format' = 'csv', {})",
      path("rates.csv"), csv_null));
  GenTable rates{"rates",
                 {{"k", Ty::kString},
                  {"rate", Ty::kDouble},
                  {"label", Ty::kString},
                  {"ts", Ty::kTimestamp, true}}};
  rates.versioned = true;
  c.tables.push_back(rates);
  c.ddl.push_back(
      fmt::format("CREATE TABLE dim (k STRING, label STRING, r INT) WITH ('connector' = "
                  "'filesystem', 'path' = '{}', 'format' = 'csv', {})",
                  path("dim.csv"), csv_null));
  GenTable dim{"dim", {{"k", Ty::kString}, {"label", Ty::kString}, {"r", Ty::kInt}}};
  dim.lookup = true;
  c.tables.push_back(dim);
  c.ddl.push_back(
      fmt::format("CREATE TABLE pt (id INT, k STRING, v INT, ptime AS PROCTIME()) WITH ("
                  "'connector' = 'filesystem', 'path' = '{}', 'format' = 'csv')",
                  path("pt.csv")));
  c.tables.push_back({"pt",
                      {{"id", Ty::kInt},
                       {"k", Ty::kString},
                       {"v", Ty::kInt},
                       {"ptime", Ty::kTimestampLtz, false, true}}});
  c.ddl.push_back(
      fmt::format("CREATE TABLE ltz (id INT, k STRING, amount DECIMAL(8, 3), ts TIMESTAMP_LTZ(3), "
                  "WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector' = 'filesystem', "
                  "'path' = '{}', 'format' = 'csv')",
                  path("ltz.csv")));
  c.tables.push_back({"ltz",
                      {{"id", Ty::kInt},
                       {"k", Ty::kString},
                       {"amount", Ty::kDecimal},
                       {"ts", Ty::kTimestampLtz, true}}});
  c.ddl.push_back("CREATE VIEW pos_orders AS SELECT id, k, v, d, ts FROM orders WHERE v > 0");
  GenTable pos{"pos_orders",
               {{"id", Ty::kInt},
                {"k", Ty::kString},
                {"v", Ty::kInt},
                {"d", Ty::kDouble},
                {"ts", Ty::kTimestamp, true}}};
  pos.view = true;
  c.tables.push_back(pos);
  c.ddl.push_back(
      "CREATE VIEW win_counts AS SELECT k, window_start, window_end, window_time, COUNT(*) AS c, "
      "SUM(v) AS sv FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '10' SECOND)) "
      "GROUP BY k, window_start, window_end, window_time");
  GenTable wc{"win_counts",
              {{"k", Ty::kString},
               {"window_start", Ty::kTimestamp},
               {"window_end", Ty::kTimestamp},
               {"window_time", Ty::kTimestamp, true},
               {"c", Ty::kBigint},
               {"sv", Ty::kInt}}};
  wc.view = true;
  wc.windowed = true;
  c.tables.push_back(wc);
  c.ddl.push_back("CREATE TABLE sink_kn (k STRING, n BIGINT) WITH ('connector' = 'blackhole')");
  c.ddl.push_back(
      "CREATE TABLE sink_row (id INT, k STRING, v INT, ts TIMESTAMP(3)) WITH ('connector' = "
      "'blackhole')");
  return c;
}

// ---------------------------------------------------------------------------------------------
// Generator

struct SqlGenerator::Scope {
  struct Col {
    std::string ref;  // as written in SQL: "o.k" or "k"
    Ty ty;
    bool rowtime = false;
    bool proctime = false;
  };
  std::vector<Col> cols;
  std::vector<const Col*> Of(Ty t) const {
    std::vector<const Col*> r;
    for (const auto& c : cols) {
      if (c.ty == t) r.push_back(&c);
    }
    return r;
  }
};

struct SqlGenerator::From {
  std::string sql;
  Scope scope;
  bool window = false;  // a window TVF
  bool updating = false;
  std::string rowtime;  // ref of an event-time attribute, or ""
  std::string unique;   // ref of a column unique per row ("id"), or ""
  std::string key;      // ref of a STRING key column, or ""
  // Rows arrive in the order of one file (a table or a view over one), so rows with equal event
  // times keep an order that does not depend on parallelism: ROWS frames and LAG are then
  // deterministic.
  bool file_order = false;
};

SqlGenerator::SqlGenerator(const FuzzCatalog& catalog, uint64_t seed, GenOptions options)
    : cat_(catalog), rng_(seed), opt_(options) {}

namespace {

std::string Quote(const std::string& s) {
  std::string r = "'";
  for (char c : s) {
    r += c;
    if (c == '\'') r += '\'';
  }
  return r + "'";
}

const std::vector<std::string> kUnits = {"SECOND", "MINUTE", "HOUR", "DAY"};
const std::vector<std::string> kBadNames = {"nope", "K", "ts2", "window_start", "`v`", "x.y.z"};

}  // namespace

Ty SqlGenerator::AnyType() {
  static const std::vector<Ty> kAll = {Ty::kBool,      Ty::kInt,          Ty::kBigint,
                                       Ty::kDouble,    Ty::kDecimal,      Ty::kString,
                                       Ty::kTimestamp, Ty::kTimestampLtz, Ty::kDate};
  return rng_.Pick(kAll);
}

std::string SqlGenerator::TypeName(Ty t) {
  switch (t) {
    case Ty::kBool:
      return "BOOLEAN";
    case Ty::kInt:
      return rng_.Pick(std::vector<std::string>{"INT", "INTEGER", "SMALLINT", "TINYINT"});
    case Ty::kBigint:
      return "BIGINT";
    case Ty::kDouble:
      return rng_.Pick(std::vector<std::string>{"DOUBLE", "FLOAT", "REAL", "DOUBLE PRECISION"});
    case Ty::kDecimal: {
      int p = static_cast<int>(rng_.Range(1, 18)), s = static_cast<int>(rng_.Range(0, p));
      if (Err())
        return rng_.Pick(std::vector<std::string>{"DECIMAL(19, 2)", "DECIMAL(0)", "DECIMAL(5, 7)",
                                                  "DECIMAL(38, 18)"});
      return rng_.Chance(0.2) ? "DECIMAL" : fmt::format("DECIMAL({}, {})", p, s);
    }
    case Ty::kString:
      return rng_.Pick(std::vector<std::string>{"STRING", "VARCHAR(5)", "CHAR(3)", "VARCHAR"});
    case Ty::kTimestamp:
      return rng_.Pick(std::vector<std::string>{"TIMESTAMP(3)", "TIMESTAMP", "TIMESTAMP(0)",
                                                "TIMESTAMP(6)", "TIMESTAMP(9)"});
    case Ty::kTimestampLtz:
      return rng_.Pick(
          std::vector<std::string>{"TIMESTAMP_LTZ(3)", "TIMESTAMP(3) WITH LOCAL TIME ZONE"});
    case Ty::kDate:
      return "DATE";
    case Ty::kIntervalDayTime:
      return "INTERVAL DAY TO SECOND";
    case Ty::kIntervalYearMonth:
      return "INTERVAL YEAR TO MONTH";
  }
  return "INT";
}

std::string SqlGenerator::IntervalLiteral(bool for_window) {
  static const std::vector<std::string> kEdge = {"INTERVAL '0' SECOND",
                                                 "INTERVAL '-5' SECOND",
                                                 "INTERVAL '1.5' SECOND",
                                                 "INTERVAL '0.001' SECOND",
                                                 "INTERVAL '999999999' DAY",
                                                 "INTERVAL '106751' DAY",
                                                 "INTERVAL '36501' DAY",
                                                 "INTERVAL '9223372036854775807' SECOND",
                                                 "INTERVAL '1 02:03:04' DAY TO SECOND",
                                                 "INTERVAL '02:03' HOUR TO MINUTE",
                                                 "INTERVAL '1-2' YEAR TO MONTH",
                                                 "INTERVAL '3' MONTH",
                                                 "INTERVAL '' SECOND",
                                                 "INTERVAL 'x' MINUTE",
                                                 "INTERVAL '5' SECOND(3)",
                                                 "INTERVAL '1e9' SECOND"};
  if (!opt_.deterministic && rng_.Chance(for_window ? 0.08 : 0.15)) return rng_.Pick(kEdge);
  if (for_window) {
    static const std::vector<std::string> kWin = {"INTERVAL '5' SECOND", "INTERVAL '10' SECOND",
                                                  "INTERVAL '2' SECOND", "INTERVAL '1' MINUTE",
                                                  "INTERVAL '30' SECOND"};
    return rng_.Pick(kWin);
  }
  return fmt::format("INTERVAL '{}' {}", rng_.Range(0, 90), rng_.Pick(kUnits));
}

std::string SqlGenerator::Literal(Ty want) {
  bool edge = !opt_.deterministic ? rng_.Chance(0.15) : rng_.Chance(0.05);
  if (rng_.Chance(0.04))
    return rng_.Chance(0.5) ? "NULL" : fmt::format("CAST(NULL AS {})", TypeName(want));
  switch (want) {
    case Ty::kBool:
      return rng_.Chance(0.5) ? "TRUE" : "FALSE";
    case Ty::kInt:
      if (edge) {
        return rng_.Pick(
            std::vector<std::string>{"2147483647", "-2147483648", "0", "-1", "2147483648"});
      }
      return std::to_string(rng_.Range(-10, 100));
    case Ty::kBigint:
      if (edge) {
        return rng_.Pick(std::vector<std::string>{"9223372036854775807", "-9223372036854775807",
                                                  "99999999999999999999", "4294967296",
                                                  "CAST(-9223372036854775808 AS BIGINT)"});
      }
      return fmt::format("{}", rng_.Range(3'000'000'000LL, 9'000'000'000LL));
    case Ty::kDouble:
      if (edge) {
        return rng_.Pick(std::vector<std::string>{
            "1e308", "1.7976931348623157E308", "-0.0", "4.9E-324", "1e-400", "1e400",
            "CAST('NaN' AS DOUBLE)", "CAST('-Infinity' AS DOUBLE)"});
      }
      return fmt::format("{}.{}e{}", rng_.Range(-9, 9), rng_.Range(0, 99), rng_.Range(-3, 3));
    case Ty::kDecimal:
      if (edge) {
        return rng_.Pick(std::vector<std::string>{"999999999999999999", "0.000000000000000001",
                                                  "12345678901234567.89", "-0.5",
                                                  "1234567890123456789.5", "0.0"});
      }
      return fmt::format("{}.{:02}", rng_.Range(-99, 999), rng_.Range(0, 99));
    case Ty::kString:
      if (edge) {
        return rng_.Pick(std::vector<std::string>{
            "''", "'it''s'", "'é✓'", "'%'", "'_'", "'\\'", "'2024-01-01 00:00:00'", "'NaN'",
            "'  pad  '", "'123'", "'-9e99'", "'(a|b)*c'", "'['", "'yyyy-MM-dd HH:mm:ss'"});
      }
      return Quote(std::string(1, static_cast<char>('a' + rng_.Below(4))) +
                   (rng_.Chance(0.3) ? "b" : ""));
    case Ty::kTimestamp:
      if (edge) {
        return rng_.Pick(std::vector<std::string>{
            "TIMESTAMP '0000-01-01 00:00:00'", "TIMESTAMP '9999-12-31 23:59:59.999999'",
            "TIMESTAMP '2024-02-30 00:00:00'", "TIMESTAMP '2024-01-01 24:00:00'",
            "TIMESTAMP '1969-12-31 23:59:59.999'", "TIMESTAMP '2024-01-01'",
            "TIMESTAMP '2024-01-01 00:00:00.123456789'"});
      }
      return fmt::format("TIMESTAMP '2024-01-01 00:{:02}:{:02}'", rng_.Range(0, 5),
                         rng_.Range(0, 59));
    case Ty::kTimestampLtz:
      return fmt::format(
          "TO_TIMESTAMP_LTZ({}, 3)",
          edge ? rng_.Pick(std::vector<std::string>{"9223372036854775807", "-1", "253402300800000"})
               : std::to_string(1704067200000LL + rng_.Range(0, 600000)));
    case Ty::kDate:
      if (edge) {
        return rng_.Pick(std::vector<std::string>{"DATE '0001-01-01'", "DATE '9999-12-31'",
                                                  "DATE '2024-13-01'", "DATE '2023-02-29'"});
      }
      return fmt::format("DATE '2024-01-{:02}'", rng_.Range(1, 28));
    case Ty::kIntervalDayTime:
      return IntervalLiteral(false);
    case Ty::kIntervalYearMonth:
      return fmt::format("INTERVAL '{}' {}", rng_.Range(0, 30),
                         rng_.Pick(std::vector<std::string>{"YEAR", "MONTH"}));
  }
  return "NULL";
}

std::string SqlGenerator::Leaf(Ty want, const Scope& sc) {
  if (Err()) {
    if (rng_.Chance(0.5)) return rng_.Pick(kBadNames);
    return Literal(AnyType());
  }
  auto cols = sc.Of(want);
  if (opt_.deterministic) {
    cols.erase(
        std::remove_if(cols.begin(), cols.end(), [](const Scope::Col* c) { return c->proctime; }),
        cols.end());
  }
  if (!cols.empty() && rng_.Chance(0.7)) return rng_.Pick(cols)->ref;
  return Literal(want);
}

std::string SqlGenerator::Expr(Ty want, const Scope& sc, int depth) {
  if (depth <= 0 || rng_.Chance(0.3)) return Leaf(want, sc);
  if (Err()) want = AnyType();  // an argument of the wrong type
  int d = depth - 1;
  auto any_num = [&]() {
    return rng_.Pick(std::vector<Ty>{Ty::kInt, Ty::kBigint, Ty::kDouble, Ty::kDecimal});
  };
  // Constructs of any type.
  switch (rng_.Below(12)) {
    case 0: {
      std::string s = "CASE";
      int n = static_cast<int>(rng_.Range(1, 3));
      for (int i = 0; i < n; ++i) {
        s += " WHEN " + Predicate(sc, d) + " THEN " + Expr(want, sc, d);
      }
      if (rng_.Chance(0.6)) s += " ELSE " + Expr(want, sc, d);
      return s + " END";
    }
    case 1:
      return fmt::format("COALESCE({}, {})", Expr(want, sc, d), Expr(want, sc, d));
    case 2: {
      Ty from = rng_.Chance(0.5) ? want : AnyType();
      return fmt::format("{}CAST({} AS {})", rng_.Chance(0.3) ? "TRY_" : "", Expr(from, sc, d),
                         TypeName(want));
    }
    case 3:
      if (want != Ty::kBool) {
        return fmt::format("IF({}, {}, {})", Predicate(sc, d), Expr(want, sc, d),
                           Expr(want, sc, d));
      }
      break;
    case 4:
      return fmt::format("NULLIF({}, {})", Expr(want, sc, d), Expr(want, sc, d));
    case 5:
      return "(" + Expr(want, sc, d) + ")";
    default:
      break;
  }
  switch (want) {
    case Ty::kBool:
      return Predicate(sc, depth);
    case Ty::kInt:
    case Ty::kBigint:
    case Ty::kDouble:
    case Ty::kDecimal: {
      switch (rng_.Below(14)) {
        case 0:
        case 1:
        case 2: {
          static const std::vector<std::string> kOps = {"+", "-", "*", "/", "%"};
          return fmt::format("{} {} {}", Expr(want, sc, d), rng_.Pick(kOps),
                             Expr(rng_.Chance(0.7) ? want : any_num(), sc, d));
        }
        case 3:
          return "-" + Expr(want, sc, d);
        case 4:
          return fmt::format("ABS({})", Expr(want, sc, d));
        case 5:
          return fmt::format("MOD({}, {})", Expr(want, sc, d), Expr(want, sc, d));
        case 6:
          return rng_.Chance(0.5)
                     ? fmt::format("ROUND({}, {})", Expr(want, sc, d), rng_.Range(-3, 20))
                     : fmt::format("ROUND({})", Expr(want, sc, d));
        case 7:
          return fmt::format("{}({})",
                             rng_.Pick(std::vector<std::string>{"FLOOR", "CEIL", "CEILING"}),
                             Expr(want, sc, d));
        case 8:
          return fmt::format("{}({})",
                             rng_.Pick(std::vector<std::string>{"SQRT", "LN", "EXP", "LOG10"}),
                             Expr(any_num(), sc, d));
        case 9:
          return fmt::format("POWER({}, {})", Expr(any_num(), sc, d), Expr(any_num(), sc, d));
        case 10:
          return fmt::format("{}({})",
                             rng_.Pick(std::vector<std::string>{"CHAR_LENGTH", "CHARACTER_LENGTH"}),
                             Expr(Ty::kString, sc, d));
        case 11:
          return fmt::format("POSITION({} IN {})", Expr(Ty::kString, sc, d),
                             Expr(Ty::kString, sc, d));
        case 12:
          return fmt::format("EXTRACT({} FROM {})",
                             rng_.Pick(std::vector<std::string>{
                                 "YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND", "MILLISECOND",
                                 "WEEK", "QUARTER", "DOW", "DOY", "EPOCH", "MICROSECOND"}),
                             Expr(rng_.Chance(0.8) ? Ty::kTimestamp : Ty::kDate, sc, d));
        default:
          return fmt::format("{}({})",
                             rng_.Pick(std::vector<std::string>{"YEAR", "MONTH", "DAYOFMONTH",
                                                                "HOUR", "MINUTE", "SECOND"}),
                             Expr(Ty::kTimestamp, sc, d));
      }
    }
    case Ty::kString: {
      switch (rng_.Below(13)) {
        case 0:
        case 1:
          return fmt::format("{} || {}", Expr(Ty::kString, sc, d), Expr(Ty::kString, sc, d));
        case 2:
          return fmt::format("{}({})", rng_.Chance(0.5) ? "UPPER" : "LOWER",
                             Expr(Ty::kString, sc, d));
        case 3:
          return rng_.Chance(0.5)
                     ? fmt::format(
                           "TRIM({} {} FROM {})",
                           rng_.Pick(std::vector<std::string>{"BOTH", "LEADING", "TRAILING"}),
                           Expr(Ty::kString, sc, d), Expr(Ty::kString, sc, d))
                     : fmt::format("{}({})",
                                   rng_.Pick(std::vector<std::string>{"TRIM", "LTRIM", "RTRIM"}),
                                   Expr(Ty::kString, sc, d));
        case 4:
          return rng_.Chance(0.5)
                     ? fmt::format("SUBSTRING({}, {}, {})", Expr(Ty::kString, sc, d),
                                   Expr(Ty::kInt, sc, d), Expr(Ty::kInt, sc, d))
                     : fmt::format("SUBSTRING({} FROM {} FOR {})", Expr(Ty::kString, sc, d),
                                   Expr(Ty::kInt, sc, d), Expr(Ty::kInt, sc, d));
        case 5:
          return fmt::format("REPLACE({}, {}, {})", Expr(Ty::kString, sc, d),
                             Expr(Ty::kString, sc, d), Expr(Ty::kString, sc, d));
        case 6:
          return fmt::format("REGEXP_EXTRACT({}, {}{})", Expr(Ty::kString, sc, d),
                             rng_.Pick(std::vector<std::string>{"'(a)(b)?'", "'[a-c]+'", "'('",
                                                                "'x*'", "'(?P<n>a)'"}),
                             rng_.Chance(0.5) ? fmt::format(", {}", rng_.Range(-1, 3)) : "");
        case 7:
          return fmt::format("REGEXP_REPLACE({}, {}, {})", Expr(Ty::kString, sc, d),
                             rng_.Pick(std::vector<std::string>{"'a'", "''", "'.*'", "'\\d'"}),
                             Expr(Ty::kString, sc, d));
        case 8:
          return fmt::format("CONCAT({}, {}, {})", Expr(Ty::kString, sc, d),
                             Expr(Ty::kString, sc, d), Expr(Ty::kString, sc, d));
        case 9:
          return fmt::format("DATE_FORMAT({}, {})", Expr(Ty::kTimestamp, sc, d),
                             rng_.Pick(std::vector<std::string>{"'yyyy-MM-dd'", "'HH:mm:ss.SSS'",
                                                                "''", "'''x'''", "'yyyyyyyy'"}));
        case 10:
          return fmt::format("OVERLAY({} PLACING {} FROM {}{})", Expr(Ty::kString, sc, d),
                             Expr(Ty::kString, sc, d), Expr(Ty::kInt, sc, d),
                             rng_.Chance(0.5) ? " FOR " + Expr(Ty::kInt, sc, d) : "");
        case 11:
          return fmt::format("CAST({} AS STRING)", Expr(AnyType(), sc, d));
        default:
          return fmt::format("SUBSTR({}, {})", Expr(Ty::kString, sc, d), Expr(Ty::kInt, sc, d));
      }
    }
    case Ty::kTimestamp: {
      switch (rng_.Below(7)) {
        case 0:
        case 1:
          return fmt::format(
              "{} {} {}", Expr(Ty::kTimestamp, sc, d), rng_.Chance(0.5) ? "+" : "-",
              rng_.Chance(0.8) ? IntervalLiteral(false) : Literal(Ty::kIntervalYearMonth));
        case 2:
          return fmt::format(
              "{}({} TO {})", rng_.Chance(0.5) ? "FLOOR" : "CEIL", Expr(Ty::kTimestamp, sc, d),
              rng_.Pick(std::vector<std::string>{"SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH",
                                                 "QUARTER", "YEAR", "MILLISECOND"}));
        case 3:
          return fmt::format("TO_TIMESTAMP({})", Expr(Ty::kString, sc, d));
        case 4:
          return fmt::format(
              "TO_TIMESTAMP({}, {})", Expr(Ty::kString, sc, d),
              rng_.Pick(std::vector<std::string>{"'yyyy-MM-dd'", "'yyyy-MM-dd HH:mm:ss'", "'x'"}));
        case 5:
          if (!opt_.deterministic) {
            return rng_.Pick(std::vector<std::string>{"CURRENT_TIMESTAMP", "LOCALTIMESTAMP",
                                                      "NOW()", "CURRENT_DATE", "CURRENT_TIME",
                                                      "LOCALTIME"});
          }
          [[fallthrough]];
        default:
          return fmt::format("CAST({} AS TIMESTAMP(3))", Expr(Ty::kString, sc, d));
      }
    }
    case Ty::kTimestampLtz:
      if (!opt_.deterministic && rng_.Chance(0.2)) {
        auto rt = sc.Of(Ty::kTimestamp);
        return rt.empty() ? "PROCTIME()" : fmt::format("CURRENT_WATERMARK({})", rng_.Pick(rt)->ref);
      }
      return fmt::format("TO_TIMESTAMP_LTZ({}, {})", Expr(Ty::kBigint, sc, d),
                         Err() ? rng_.Pick(std::vector<std::string>{"6", "9", "-1", "v"})
                               : rng_.Pick(std::vector<std::string>{"0", "3"}));
    case Ty::kDate:
      return fmt::format("CAST({} AS DATE)",
                         Expr(rng_.Chance(0.5) ? Ty::kTimestamp : Ty::kString, sc, d));
    case Ty::kIntervalDayTime:
    case Ty::kIntervalYearMonth:
      return Literal(want);
  }
  return Leaf(want, sc);
}

std::string SqlGenerator::Predicate(const Scope& sc, int depth) {
  if (depth <= 0 || rng_.Chance(0.15)) {
    auto b = sc.Of(Ty::kBool);
    if (!b.empty() && rng_.Chance(0.5)) return rng_.Pick(b)->ref;
    return rng_.Chance(0.5) ? "TRUE" : "FALSE";
  }
  int d = depth - 1;
  static const std::vector<Ty> kComparable = {Ty::kInt,     Ty::kBigint, Ty::kDouble,
                                              Ty::kDecimal, Ty::kString, Ty::kTimestamp,
                                              Ty::kDate,    Ty::kBool};
  Ty t = rng_.Pick(kComparable);
  switch (rng_.Below(11)) {
    case 0:
    case 1:
    case 2: {
      static const std::vector<std::string> kCmp = {"=", "<>", "<", "<=", ">", ">=", "!="};
      return fmt::format("{} {} {}", Expr(t, sc, d), rng_.Pick(kCmp),
                         Expr(Err() ? AnyType() : t, sc, d));
    }
    case 3:
      return fmt::format("{} {} {}", Predicate(sc, d), rng_.Chance(0.5) ? "AND" : "OR",
                         Predicate(sc, d));
    case 4:
      return "NOT " + Predicate(sc, d);
    case 5:
      return fmt::format("{} IS {}{}", Expr(AnyType(), sc, d), rng_.Chance(0.3) ? "NOT " : "",
                         rng_.Pick(std::vector<std::string>{"NULL", "TRUE", "FALSE", "NULL"}));
    case 6: {
      std::string s = Expr(t, sc, d) + (rng_.Chance(0.3) ? " NOT IN (" : " IN (");
      int n = static_cast<int>(rng_.Range(1, 4));
      for (int i = 0; i < n; ++i) s += (i ? ", " : "") + Literal(t);
      return s + ")";
    }
    case 7:
      return fmt::format("{} {}BETWEEN {} AND {}", Expr(t, sc, d), rng_.Chance(0.3) ? "NOT " : "",
                         Expr(t, sc, d), Expr(t, sc, d));
    case 8:
      return fmt::format("{} {}LIKE {}{}", Expr(Ty::kString, sc, d), rng_.Chance(0.3) ? "NOT " : "",
                         rng_.Pick(std::vector<std::string>{"'a%'", "'%b_'", "'%'", "''",
                                                            "'a!%' ESCAPE '!'", "'_'", "'%%%%'"}),
                         "");
    case 9:
      return fmt::format("({})", Predicate(sc, d));
    default: {
      auto b = sc.Of(Ty::kBool);
      if (!b.empty()) return rng_.Pick(b)->ref;
      return fmt::format("{} = {}", Expr(t, sc, d), Expr(t, sc, d));
    }
  }
}

std::string SqlGenerator::AggCall(const Scope& sc, bool* ok, bool exact_only) {
  static const std::vector<std::string> kNum = {"SUM",         "AVG",     "MIN",      "MAX",
                                                "STDDEV_POP",  "VAR_POP", "VAR_SAMP", "STDDEV",
                                                "STDDEV_SAMP", "VARIANCE"};
  *ok = true;
  int r = static_cast<int>(rng_.Below(10));
  std::string filter;
  if (rng_.Chance(0.1)) filter = " FILTER (WHERE " + Predicate(sc, 1) + ")";
  if (r == 0) return "COUNT(*)" + filter;
  if (r == 1) {
    return fmt::format("COUNT({}{})", rng_.Chance(0.4) ? "DISTINCT " : "", Expr(AnyType(), sc, 1)) +
           filter;
  }
  if (r == 2) {
    Ty t = rng_.Pick(std::vector<Ty>{Ty::kString, Ty::kTimestamp, Ty::kDate, Ty::kBool});
    return fmt::format("{}({})", rng_.Chance(0.5) ? "MIN" : "MAX", Expr(t, sc, 1)) + filter;
  }
  Ty t = rng_.Pick(std::vector<Ty>{Ty::kInt, Ty::kBigint, Ty::kDouble, Ty::kDecimal});
  if (Err()) t = AnyType();
  if (opt_.deterministic && exact_only) {
    // Floating-point sums depend on the order of their terms, and retracting them leaves
    // rounding noise (as in Flink): only exact aggregates over updating inputs and inputs whose
    // order depends on the parallelism.
    return fmt::format("{}({})", rng_.Chance(0.5) ? "SUM" : "COUNT",
                       Expr(rng_.Chance(0.5) ? Ty::kInt : Ty::kDecimal, sc, 1)) +
           filter;
  }
  return fmt::format("{}({}{})", rng_.Pick(kNum), rng_.Chance(0.15) ? "DISTINCT " : "",
                     Expr(t, sc, 2)) +
         filter;
}

// ---------------------------------------------------------------------------------------------
// FROM items

SqlGenerator::From SqlGenerator::NamedSource(bool time_only) {
  std::vector<const GenTable*> cands;
  for (const auto& t : cat_.tables) {
    bool has_rowtime = false;
    for (const auto& c : t.columns) has_rowtime |= c.rowtime;
    if (time_only && !has_rowtime) continue;
    if (opt_.deterministic && t.name == "pt" && time_only) continue;
    cands.push_back(&t);
  }
  const GenTable& t = *rng_.Pick(cands);
  From f;
  std::string alias;
  if (rng_.Chance(0.4)) alias = std::string(1, static_cast<char>('p' + rng_.Below(5)));
  f.sql = t.name + (alias.empty() ? "" : (rng_.Chance(0.5) ? " AS " : " ") + alias);
  if (Err()) f.sql = rng_.Pick(std::vector<std::string>{"ordrs", "nope", "orders.x", "`orders`"});
  f.file_order = !t.windowed;
  std::string q = alias.empty() ? "" : alias + ".";
  for (const auto& c : t.columns) {
    f.scope.cols.push_back({q + c.name, c.ty, c.rowtime, c.proctime});
    if (c.rowtime && f.rowtime.empty()) f.rowtime = q + c.name;
    if (c.name == "id") f.unique = q + c.name;
    if (c.name == "k") f.key = q + c.name;
  }
  return f;
}

SqlGenerator::From SqlGenerator::WindowTvf(const From& in) {
  From f;
  // The TVF reads a table or view by name (TABLE t).
  std::vector<const GenTable*> cands;
  for (const auto& t : cat_.tables) {
    // A window TVF over a window aggregation's view would have two window_start columns.
    if (t.windowed && !Err()) continue;
    for (const auto& c : t.columns) {
      if (c.rowtime || (c.proctime && !opt_.deterministic)) {
        cands.push_back(&t);
        break;
      }
    }
  }
  (void)in;
  const GenTable& t = *rng_.Pick(cands);
  std::string time;
  for (const auto& c : t.columns) {
    if (c.rowtime || (c.proctime && !opt_.deterministic)) time = c.name;
  }
  if (Err()) time = rng_.Pick(std::vector<std::string>{"k", "nope", "id"});
  std::string kind =
      rng_.Pick(std::vector<std::string>{"TUMBLE", "TUMBLE", "HOP", "CUMULATE", "SESSION"});
  if (opt_.deterministic && kind == "SESSION" && rng_.Chance(0.5)) kind = "TUMBLE";
  std::string args;
  std::string size = IntervalLiteral(true);
  if (kind == "TUMBLE") {
    args = size;
    if (rng_.Chance(0.2)) {
      args += ", " + rng_.Pick(std::vector<std::string>{
                         "INTERVAL '1' SECOND", "INTERVAL '-2' SECOND", "INTERVAL '3' SECOND"});
    }
  } else if (kind == "HOP" || kind == "CUMULATE") {
    std::string small = rng_.Pick(std::vector<std::string>{
        "INTERVAL '1' SECOND", "INTERVAL '5' SECOND", "INTERVAL '2' SECOND"});
    std::string big = rng_.Pick(std::vector<std::string>{
        "INTERVAL '10' SECOND", "INTERVAL '20' SECOND", "INTERVAL '1' MINUTE"});
    if (!opt_.deterministic && rng_.Chance(0.1)) std::swap(small, size);
    if (!opt_.deterministic && rng_.Chance(0.05)) big = IntervalLiteral(true);
    args = small + ", " + big;
    if (rng_.Chance(0.1)) args += ", INTERVAL '1' SECOND";
  } else {
    args = size;
  }
  std::string partition;
  if (kind == "SESSION" && rng_.Chance(0.4)) partition = " PARTITION BY k";
  if (rng_.Chance(0.15) && kind != "SESSION") {
    // Named arguments.
    f.sql = fmt::format("TABLE({}(DATA => TABLE {}, TIMECOL => DESCRIPTOR({}), SIZE => {}))", kind,
                        t.name, time, size);
    if (kind != "TUMBLE") {
      f.sql = fmt::format(
          "TABLE({}(DATA => TABLE {}, TIMECOL => DESCRIPTOR({}), {} => "
          "INTERVAL '5' SECOND, SIZE => INTERVAL '10' SECOND))",
          kind, t.name, time, kind == "HOP" ? "SLIDE" : "STEP");
    }
  } else {
    f.sql = fmt::format("TABLE({}(TABLE {}{}, DESCRIPTOR({}), {}))", kind, t.name, partition, time,
                        args);
  }
  std::string alias;
  if (rng_.Chance(0.3)) {
    alias = "w";
    f.sql += " AS w";
  }
  std::string q = alias.empty() ? "" : alias + ".";
  for (const auto& c : t.columns) {
    // After a window TVF the input's time attribute is a plain TIMESTAMP (Flink).
    f.scope.cols.push_back({q + c.name, c.ty, false, false});
    if (c.name == "id") f.unique = q + c.name;
    if (c.name == "k") f.key = q + c.name;
  }
  f.scope.cols.push_back({q + "window_start", Ty::kTimestamp});
  f.scope.cols.push_back({q + "window_end", Ty::kTimestamp});
  f.scope.cols.push_back({q + "window_time", Ty::kTimestamp, true});
  f.window = true;
  return f;
}

SqlGenerator::From SqlGenerator::Join(int depth) {
  From l = NamedSource(true);
  // Aliases make the two sides' columns distinct.
  auto side = [&](const GenTable& t, const std::string& a) {
    From f;
    f.sql = t.name + " " + a;
    for (const auto& c : t.columns) {
      f.scope.cols.push_back({a + "." + c.name, c.ty, c.rowtime, c.proctime});
      if (c.rowtime && f.rowtime.empty()) f.rowtime = a + "." + c.name;
      if (c.name == "id") f.unique = a + "." + c.name;
      if (c.name == "k") f.key = a + "." + c.name;
    }
    return f;
  };
  auto table = [&](const std::string& name) -> const GenTable& {
    for (const auto& t : cat_.tables) {
      if (t.name == name) return t;
    }
    return cat_.tables[0];
  };
  (void)depth;
  std::vector<std::string> time_tables = {"orders", "clicks", "pos_orders", "ltz"};
  // 0,1 regular, 2 interval, 3 temporal, 4 lookup, 5 window join (two window aggregations).
  int kind = static_cast<int>(rng_.Below(6));
  std::string jt = rng_.Pick(std::vector<std::string>{
      "JOIN", "INNER JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL OUTER JOIN", "LEFT OUTER JOIN"});
  From r;
  std::string on;
  if (kind == 5) {
    l = side(table("win_counts"), "l");
    r = side(table("win_counts"), "r");
    jt = rng_.Pick(std::vector<std::string>{"JOIN", "LEFT JOIN", "FULL JOIN"});
    on = "l.k = r.k AND l.window_start = r.window_start AND l.window_end = r.window_end";
    if (Err()) on = "l.k = r.k AND l.window_end = r.window_end";
  } else if (kind == 3) {
    l = side(table(rng_.Pick(std::vector<std::string>{"orders", "clicks", "pos_orders"})), "l");
    r = side(table("rates"), "r");
    for (auto& c : r.scope.cols) c.rowtime = false;
    r.sql = "rates FOR SYSTEM_TIME AS OF " + (Err() ? std::string("l.id") : l.rowtime) + " AS r";
    jt = rng_.Chance(0.7) ? "JOIN" : "LEFT JOIN";
    on = "l.k = r.k";
  } else if (kind == 4) {
    l = side(table(opt_.deterministic ? "orders" : "pt"), "l");
    r = side(table("dim"), "r");
    std::string at = opt_.deterministic ? "l.ts" : "l.ptime";
    if (opt_.deterministic) {
      // A lookup join needs a processing-time attribute: in deterministic mode join `pt` but
      // never output its ptime column.
      l = side(table("pt"), "l");
      for (auto& c : l.scope.cols) c.proctime = c.ref == "l.ptime";
      at = "l.ptime";
    }
    r.sql = "dim FOR SYSTEM_TIME AS OF " + at + " AS r";
    jt = rng_.Chance(0.7) ? "JOIN" : "LEFT JOIN";
    on = "l.k = r.k";
  } else {
    l = side(table(rng_.Pick(time_tables)), "l");
    r = side(table(rng_.Pick(time_tables)), "r");
    on = rng_.Chance(0.9) ? "l.k = r.k" : "l.id = r.id";
    if (kind == 2) {
      std::string lo = rng_.Pick(std::vector<std::string>{
          "INTERVAL '5' SECOND", "INTERVAL '1' SECOND", "INTERVAL '0' SECOND"});
      std::string hi =
          rng_.Pick(std::vector<std::string>{"INTERVAL '5' SECOND", "INTERVAL '2' SECOND"});
      if (!opt_.deterministic && rng_.Chance(0.1)) lo = IntervalLiteral(false);
      if (rng_.Chance(0.6)) {
        on += fmt::format(" AND {} BETWEEN {} - {} AND {} + {}", l.rowtime, r.rowtime, lo,
                          r.rowtime, hi);
      } else {
        on += fmt::format(" AND {} >= {} - {} AND {} < {} + {}", l.rowtime, r.rowtime, lo,
                          l.rowtime, r.rowtime, hi);
      }
    } else {
      // Regular joins: the result is updating and loses the time attributes.
      for (auto& c : l.scope.cols) c.rowtime = false;
      for (auto& c : r.scope.cols) c.rowtime = false;
      l.rowtime.clear();
    }
  }
  if (rng_.Chance(0.3)) {
    Scope both = l.scope;
    for (const auto& c : r.scope.cols) both.cols.push_back(c);
    on += " AND " + Predicate(both, 1);
  }
  if (Err()) on = rng_.Chance(0.5) ? Predicate(l.scope, 1) : "l.k = r.nope";
  From f;
  f.sql = l.sql + " " + jt + " " + r.sql + (rng_.Chance(0.98) ? " ON " + on : "");
  f.scope = l.scope;
  for (const auto& c : r.scope.cols) f.scope.cols.push_back(c);
  f.updating = kind <= 1;
  f.rowtime =
      kind >= 2 && jt.find("RIGHT") == std::string::npos && jt.find("FULL") == std::string::npos
          ? l.rowtime
          : "";
  if (kind == 4) f.rowtime.clear();
  if (f.rowtime.empty()) {
    for (auto& c : f.scope.cols) c.rowtime = false;
  } else {
    for (auto& c : f.scope.cols) c.rowtime = c.ref == f.rowtime;
  }
  // Unique per output row: the pair of ids; the left id alone is not (one row joins many).
  f.unique.clear();
  f.key = "l.k";
  return f;
}

SqlGenerator::From SqlGenerator::MatchRecognize(const From& in) {
  From f;
  const GenTable* t = &cat_.tables[0];
  if (rng_.Chance(0.3)) {
    for (const auto& x : cat_.tables) {
      if (x.name == "clicks") t = &x;
    }
  }
  std::string num = t->name == "orders" ? "v" : "w";
  std::string time = Err() ? "id" : "ts";
  static const std::vector<std::string> kPatterns = {
      "A B",         "A B+ C",           "A+ B",           "(A | B) C", "A B* C",
      "A{2} B",      "A{1,3} B?",        "A B{2,}",        "A+? B",     "A PERMUTE(B, C)",
      "A {- B -} C", "(A B)+",           "A{,2} B",        "A B{0}",    "A{3,1}",
      "A (",         "A B{99999999999}", "A{2147483647} B"};
  std::string pattern = rng_.Pick(kPatterns);
  if (!opt_.deterministic && rng_.Chance(0.5)) pattern = kPatterns[rng_.Below(9)];
  if (opt_.deterministic) pattern = kPatterns[rng_.Below(8)];
  std::vector<std::string> vars;
  for (char c : std::string("ABC")) {
    if (pattern.find(c) != std::string::npos) vars.push_back(std::string(1, c));
  }
  Scope row;
  for (const auto& c : t->columns) row.cols.push_back({c.name, c.ty});
  std::string define;
  for (size_t i = 0; i < vars.size(); ++i) {
    if (rng_.Chance(0.2) && i == 0) continue;  // an undefined variable matches every row
    std::string cond = rng_.Pick(std::vector<std::string>{
        fmt::format("{0}.{1} > PREV({0}.{1})", vars[i], num),
        fmt::format("{}.{} < 10", vars[i], num), fmt::format("{}.{} IS NOT NULL", vars[i], num),
        fmt::format("SUM({}.{}) > 20", vars[i], num),
        fmt::format("{}.{} > LAST({}.{})", vars[i], num, vars[0], num),
        fmt::format("PREV({}.{}, 2) IS NULL", vars[i], num),
        fmt::format("COUNT({}.*) < 3", vars[i]), Predicate(row, 1)});
    if (Err())
      cond = rng_.Pick(std::vector<std::string>{
          "NEXT(A.v) > 0", "PREV(A.v, 200) > 0", "FINAL(A.v) > 0", "MATCH_ROWTIME() IS NULL",
          fmt::format("PREV({}.{}, 99999999999999999999) > 0", vars[i], num), "A.nope > 1"});
    define += (define.empty() ? "" : ", ") + vars[i] + " AS " + cond;
  }
  std::string measures = fmt::format("FIRST(A.{0}) AS first_v, LAST(A.{0}) AS last_v", num);
  std::vector<std::pair<std::string, Ty>> out = {{"first_v", Ty::kInt}, {"last_v", Ty::kInt}};
  if (rng_.Chance(0.5)) {
    measures += ", MATCH_ROWTIME() AS mt";
    out.push_back({"mt", Ty::kTimestamp});
  }
  if (rng_.Chance(0.4)) {
    measures += fmt::format(", COUNT(*) AS n, SUM({}) AS total", num);
    out.push_back({"n", Ty::kBigint});
    out.push_back({"total", Ty::kInt});
  }
  if (rng_.Chance(0.2)) {
    measures += ", CLASSIFIER() AS cls, MATCH_NUMBER() AS mn";
    out.push_back({"cls", Ty::kString});
    out.push_back({"mn", Ty::kBigint});
  }
  bool all_rows = rng_.Chance(0.25);
  std::string skip = rng_.Pick(std::vector<std::string>{
      "", "AFTER MATCH SKIP PAST LAST ROW", "AFTER MATCH SKIP TO NEXT ROW",
      "AFTER MATCH SKIP TO LAST " + vars.back(), "AFTER MATCH SKIP TO FIRST A"});
  if (Err()) skip = "AFTER MATCH SKIP TO LAST Z";
  std::string within = rng_.Chance(0.3) ? " WITHIN " + IntervalLiteral(false) : "";
  (void)in;
  f.sql = fmt::format(
      "{} MATCH_RECOGNIZE (PARTITION BY k ORDER BY {} MEASURES {} {} {} PATTERN ({}){} DEFINE "
      "{}) AS mr",
      t->name, time, measures, all_rows ? "ALL ROWS PER MATCH" : "ONE ROW PER MATCH", skip, pattern,
      within, define.empty() ? "A AS TRUE" : define);
  f.scope.cols.push_back({"mr.k", Ty::kString});
  if (all_rows) f.scope.cols.push_back({"mr.ts", Ty::kTimestamp, true});
  for (const auto& [n, ty] : out) f.scope.cols.push_back({"mr." + n, ty, n == "mt"});
  for (const auto& c : f.scope.cols) {
    if (c.rowtime) f.rowtime = c.ref;
  }
  f.key = "mr.k";
  return f;
}

SqlGenerator::From SqlGenerator::Source(int depth) {
  int r = static_cast<int>(rng_.Below(20));
  if (depth <= 0) r = 0;
  if (r < 8) return NamedSource(false);
  if (r < 11) return WindowTvf(From{});
  if (r < 15) return Join(depth - 1);
  if (r < 17) return MatchRecognize(From{});
  // A subquery: its SELECT list is what the outer query sees.
  From inner = NamedSource(false);
  std::vector<const Scope::Col*> cols;
  for (const auto& c : inner.scope.cols) {
    if (rng_.Chance(0.7) || c.rowtime || c.ref == inner.unique || c.ref == inner.key) {
      if (!(opt_.deterministic && c.proctime)) cols.push_back(&c);
    }
  }
  if (cols.empty()) cols.push_back(&inner.scope.cols[0]);
  From f;
  std::string items;
  for (const auto* c : cols) {
    std::string name =
        c->ref.substr(c->ref.find('.') == std::string::npos ? 0 : c->ref.find('.') + 1);
    items += (items.empty() ? "" : ", ") + c->ref;
    f.scope.cols.push_back({"sq." + name, c->ty, c->rowtime, c->proctime});
    if (c->ref == inner.rowtime) f.rowtime = "sq." + name;
    if (c->ref == inner.unique) f.unique = "sq." + name;
    if (c->ref == inner.key) f.key = "sq." + name;
  }
  std::string where;
  if (rng_.Chance(0.5)) where = " WHERE " + Predicate(inner.scope, 2);
  f.sql = fmt::format("(SELECT {} FROM {}{}) AS sq", items, inner.sql, where);
  f.file_order = inner.file_order;
  return f;
}

// ---------------------------------------------------------------------------------------------
// Queries

std::string SqlGenerator::SelectBlock(int depth, bool top, bool* has_order) {
  *has_order = false;
  int shape = static_cast<int>(rng_.Below(16));
  if (depth <= 0) shape = 0;
  From from = Source(depth);
  int ed = opt_.max_expr_depth;
  auto items_plain = [&](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) {
      Ty t = AnyType();
      if (rng_.Chance(0.4) && !from.scope.cols.empty()) {
        const auto& c = rng_.Pick(from.scope.cols);
        if (!(opt_.deterministic && c.proctime)) {
          s += (s.empty() ? "" : ", ") + c.ref;
          continue;
        }
      }
      s += (s.empty() ? "" : ", ") + Expr(t, from.scope, ed) +
           (rng_.Chance(0.5) ? fmt::format(" AS c{}", i) : "");
    }
    return s;
  };
  if (from.window) {
    // Window aggregation (or, sometimes, window Top-N).
    std::string ws = from.scope.cols[from.scope.cols.size() - 3].ref;
    std::string we = from.scope.cols[from.scope.cols.size() - 2].ref;
    std::string wt = from.scope.cols[from.scope.cols.size() - 1].ref;
    if (rng_.Chance(0.25) && !from.unique.empty()) {
      std::string order = rng_.Chance(0.5) ? from.scope.cols[0].ref + " DESC" : "ts";
      if (opt_.deterministic) order += ", " + from.unique;
      int64_t n = Err() ? rng_.Range(-1, 0) : rng_.Range(1, 3);
      return fmt::format(
          "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY {}, {}{} ORDER BY {}) AS rn "
          "FROM {}) WHERE rn <= {}",
          ws, we, rng_.Chance(0.5) && !from.key.empty() ? ", " + from.key : "", order, from.sql, n);
    }
    std::string keys = rng_.Chance(0.5) && !from.key.empty() ? from.key : "";
    std::string sel = (keys.empty() ? "" : keys + ", ") + ws + ", " + we;
    if (rng_.Chance(0.3)) sel += ", " + wt;
    int n = static_cast<int>(rng_.Range(1, 3));
    for (int i = 0; i < n; ++i) {
      bool ok;
      Scope in = from.scope;
      in.cols.resize(in.cols.size() - 3);
      sel += ", " + AggCall(in, &ok, false) + fmt::format(" AS a{}", i);
    }
    std::string where;
    if (rng_.Chance(0.3)) {
      Scope in = from.scope;
      in.cols.resize(in.cols.size() - 3);
      where = " WHERE " + Predicate(in, 2);
    }
    std::string group = (keys.empty() ? "" : keys + ", ") + ws + ", " + we;
    if (sel.find(wt) != std::string::npos) group += ", " + wt;
    if (Err()) group = ws;
    std::string having;
    if (rng_.Chance(0.15)) having = " HAVING COUNT(*) > 1";
    std::string q =
        fmt::format("SELECT {} FROM {}{} GROUP BY {}{}", sel, from.sql, where, group, having);
    if (top && rng_.Chance(0.3)) {
      q += " ORDER BY 1, 2";
      *has_order = true;
    }
    return q;
  }
  std::string q;
  bool can_over = !from.rowtime.empty() && !from.updating;
  bool can_topn = !from.unique.empty() && !from.updating;
  if ((shape >= 10 && shape < 12 && !can_over) || (shape >= 12 && shape < 14 && !can_topn) ||
      (shape >= 14 && !rng_.Chance(0.25))) {
    shape = static_cast<int>(rng_.Below(10));
  }
  if (shape < 6) {
    // Projection and filter.
    bool star =
        rng_.Chance(0.15) && !(opt_.deterministic && from.sql.find("pt") != std::string::npos);
    q = fmt::format("SELECT {}{} FROM {}", rng_.Chance(0.1) ? "DISTINCT " : "",
                    star ? "*" : items_plain(static_cast<int>(rng_.Range(1, 4))), from.sql);
    if (rng_.Chance(0.6)) q += " WHERE " + Predicate(from.scope, ed);
  } else if (shape < 10) {
    // GROUP BY aggregation.
    std::vector<std::string> keys;
    if (!from.key.empty() && rng_.Chance(0.8)) keys.push_back(from.key);
    if (rng_.Chance(0.3)) {
      const auto& c = rng_.Pick(from.scope.cols);
      if (!c.proctime && (keys.empty() || keys[0] != c.ref)) keys.push_back(c.ref);
    }
    std::string sel;
    for (const auto& k : keys) sel += (sel.empty() ? "" : ", ") + k;
    int n = static_cast<int>(rng_.Range(1, 3));
    for (int i = 0; i < n; ++i) {
      bool ok;
      sel += (sel.empty() ? "" : ", ") +
             AggCall(from.scope, &ok, from.updating || !from.file_order) +
             fmt::format(" AS a{}", i);
    }
    if (Err()) sel += ", " + from.scope.cols[0].ref;  // not grouped
    q = fmt::format("SELECT {} FROM {}", sel, from.sql);
    if (rng_.Chance(0.4)) q += " WHERE " + Predicate(from.scope, 2);
    if (!keys.empty()) {
      q += " GROUP BY ";
      for (size_t i = 0; i < keys.size(); ++i) q += (i ? ", " : "") + keys[i];
    }
    if (rng_.Chance(0.2))
      q += " HAVING " +
           rng_.Pick(std::vector<std::string>{"COUNT(*) > 1", "SUM(1) < 100", "MAX(1) = 1"});
  } else if (shape < 12) {
    // OVER aggregation.
    std::string part =
        !from.key.empty() && rng_.Chance(0.8) ? "PARTITION BY " + from.key + " " : "";
    // ROWS frames and LAG see rows with equal times in arrival order: deterministic only when
    // the rows come in one file's order.
    bool rows_ok = !opt_.deterministic || from.file_order;
    std::string frame = rng_.Pick(
        std::vector<std::string>{"", rows_ok ? " ROWS BETWEEN 2 PRECEDING AND CURRENT ROW" : "",
                                 " RANGE BETWEEN INTERVAL '5' SECOND PRECEDING AND CURRENT ROW",
                                 rows_ok ? " ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW" : "",
                                 " RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"});
    if (Err())
      frame = rng_.Pick(std::vector<std::string>{
          " ROWS BETWEEN 99999999999999999999 PRECEDING AND CURRENT ROW",
          " RANGE BETWEEN INTERVAL '99999999' DAY PRECEDING AND CURRENT ROW",
          " ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING", " RANGE BETWEEN 3 PRECEDING AND CURRENT ROW",
          " ROWS BETWEEN INTERVAL '1' SECOND PRECEDING AND CURRENT ROW"});
    std::string over = fmt::format("OVER ({}ORDER BY {}{})", part, from.rowtime, frame);
    std::string sel = from.key.empty() ? from.rowtime : from.key + ", " + from.rowtime;
    auto nums = from.scope.Of(Ty::kInt);
    std::string x = nums.empty() ? "1" : rng_.Pick(nums)->ref;
    std::string agg = rng_.Pick(std::vector<std::string>{"SUM", "COUNT", "MIN", "MAX", "AVG"});
    sel += fmt::format(", {}({}) {} AS o1", agg, x, over);
    if (rng_.Chance(0.4)) sel += fmt::format(", COUNT(*) {} AS o2", over);
    if (rows_ok && rng_.Chance(0.3)) {
      std::string args = rng_.Chance(0.5) ? fmt::format(", {}", rng_.Range(1, 3)) : "";
      if (!args.empty() && rng_.Chance(0.3)) args += ", " + Literal(Ty::kInt);
      sel += fmt::format(", LAG({}{}) {} AS o3", x, args, over);
    }
    if (Err()) sel += fmt::format(", ROW_NUMBER() {} AS o4", over);
    q = fmt::format("SELECT {} FROM {}", sel, from.sql);
    if (rng_.Chance(0.3)) q += " WHERE " + Predicate(from.scope, 2);
  } else if (shape < 14) {
    // Top-N (or deduplication with rn = 1).
    std::string part = !from.key.empty() ? "PARTITION BY " + from.key + " " : "";
    auto nums = from.scope.Of(Ty::kInt);
    std::string ord =
        (nums.empty() ? from.unique : rng_.Pick(nums)->ref) + (rng_.Chance(0.5) ? " DESC" : "");
    if (!from.rowtime.empty() && rng_.Chance(0.3)) ord = from.rowtime;
    if (opt_.deterministic) ord += ", " + from.unique;
    std::string bound =
        rng_.Pick(std::vector<std::string>{"rn <= 2", "rn < 3", "rn = 1", "rn <= 1"});
    if (Err())
      bound = rng_.Pick(std::vector<std::string>{"rn > 2", "rn <= 0", "rn <= 99999999999999999999",
                                                 "rn <= 9223372036854775807"});
    std::string inner_items;
    for (const auto& c : from.scope.cols) {
      if (opt_.deterministic && c.proctime) continue;
      inner_items += (inner_items.empty() ? "" : ", ") + c.ref;
    }
    q = fmt::format(
        "SELECT * FROM (SELECT {}, ROW_NUMBER() OVER ({}ORDER BY {}) AS rn FROM {}) WHERE {}",
        inner_items, part, ord, from.sql, bound);
    // Flattened names must be unique; the generator's join sides can repeat names, which the
    // binder renames (k, k0, …) — fine.
  } else {
    // UNION ALL / set operations / VALUES / SELECT without FROM (mostly rejected, all with a
    // position).
    switch (rng_.Below(5)) {
      case 0:
        q = fmt::format("SELECT k FROM {} UNION ALL SELECT k FROM {}", "orders", "clicks");
        break;
      case 1:
        q = fmt::format("SELECT id FROM orders {} SELECT id FROM clicks",
                        rng_.Pick(std::vector<std::string>{"UNION", "INTERSECT", "EXCEPT", "MINUS",
                                                           "UNION DISTINCT"}));
        break;
      case 2:
        q = "VALUES (1, 'a'), (2, " + Literal(Ty::kString) + ")";
        break;
      case 3:
        q = "SELECT " + Expr(AnyType(), Scope{}, 3);
        break;
      default:
        q = fmt::format(
            "WITH cte AS (SELECT k, v FROM orders WHERE {}) SELECT k, COUNT(*) AS n "
            "FROM cte GROUP BY k",
            Predicate(Scope{{{"k", Ty::kString}, {"v", Ty::kInt}}}, 2));
        break;
    }
    return q;
  }
  if (top && rng_.Chance(0.3)) {
    q += " ORDER BY 1" + std::string(rng_.Chance(0.5) ? " DESC" : "");
    *has_order = true;
    if (Err()) q += ", 99999999999";
  }
  return q;
}

std::string SqlGenerator::Query() {
  bool has_order = false;
  std::string q = SelectBlock(3, true, &has_order);
  if (rng_.Chance(0.1)) {
    // Wrap in a WITH or a subquery.
    bool dummy;
    std::string inner = SelectBlock(2, false, &dummy);
    q = rng_.Chance(0.5) ? fmt::format("WITH w1 AS ({}) SELECT * FROM w1", inner)
                         : fmt::format("SELECT * FROM ({}) AS z", inner);
    has_order = false;
  }
  if (has_order && rng_.Chance(0.4)) q += fmt::format(" LIMIT {}", rng_.Range(0, 5));
  if (!opt_.deterministic && rng_.Chance(0.05)) q += " LIMIT " + Literal(Ty::kBigint);
  return q;
}

std::string SqlGenerator::CreateTable(const std::string& name) {
  std::string cols;
  int n = static_cast<int>(rng_.Range(1, 6));
  std::vector<std::string> names;
  std::string ts_name;
  for (int i = 0; i < n; ++i) {
    std::string cn = fmt::format("c{}", i);
    if (Err()) cn = rng_.Chance(0.5) ? "c0" : "`select`";
    Ty t = AnyType();
    if (i == 0 && rng_.Chance(0.5)) t = Ty::kTimestamp;
    if (t == Ty::kTimestamp && ts_name.empty()) ts_name = cn;
    cols += (cols.empty() ? "" : ", ") + cn + " " + TypeName(t);
    if (rng_.Chance(0.05)) cols += " NOT NULL";
    if (rng_.Chance(0.08)) {
      cols += rng_.Pick(std::vector<std::string>{" METADATA", " METADATA FROM 'offset'",
                                                 " METADATA VIRTUAL", " METADATA FROM 'nope'"});
    }
    names.push_back(cn);
  }
  if (rng_.Chance(0.3)) cols += ", cx AS " + names[0] + (rng_.Chance(0.5) ? " + 1" : "");
  if (rng_.Chance(0.1)) cols += ", pt AS PROCTIME()";
  if (!ts_name.empty() && rng_.Chance(0.6)) {
    cols += fmt::format(", WATERMARK FOR {} AS {}{}", ts_name, ts_name,
                        rng_.Chance(0.8) ? " - " + IntervalLiteral(false) : "");
  } else if (rng_.Chance(0.05)) {
    cols += fmt::format(", WATERMARK FOR {} AS {} - INTERVAL '1' SECOND", names[0], names[0]);
  }
  if (rng_.Chance(0.15)) cols += ", PRIMARY KEY (" + names[0] + ") NOT ENFORCED";
  std::string conn = rng_.Pick(std::vector<std::string>{"filesystem", "blackhole", "print", "kafka",
                                                        "filesytem", "datagen", ""});
  std::vector<std::string> opts;
  if (!conn.empty()) opts.push_back("'connector' = '" + conn + "'");
  if (conn == "filesystem") {
    opts.push_back("'path' = '/nonexistent/eddy-fuzz/x.csv'");
    opts.push_back("'format' = '" +
                   rng_.Pick(std::vector<std::string>{"csv", "json", "raw", "avro", "csv"}) + "'");
  }
  if (conn == "kafka") {
    opts.push_back("'topic' = 't'");
    opts.push_back("'properties.bootstrap.servers' = '127.0.0.1:1'");
    opts.push_back("'format' = 'json'");
  }
  static const std::vector<std::string> kExtra = {"'csv.field-delimiter' = ';'",
                                                  "'csv.field-delimiter' = ''",
                                                  "'csv.ignore-first-line' = 'maybe'",
                                                  "'source.chunk-size' = '0'",
                                                  "'source.chunk-size' = '99999999999999999999999'",
                                                  "'error.policy' = 'skip'",
                                                  "'error.policy' = 'explode'",
                                                  "'pathh' = 'x'",
                                                  "'scan.startup.mode' = 'earliest-offset'",
                                                  "'sink.parallelism' = '-3'",
                                                  "'json.fail-on-missing-field' = 'true'",
                                                  "'print-identifier' = 'p'"};
  int extra = static_cast<int>(rng_.Range(0, 2));
  for (int i = 0; i < extra; ++i) opts.push_back(rng_.Pick(kExtra));
  std::string with;
  for (const auto& o : opts) with += (with.empty() ? "" : ", ") + o;
  return fmt::format("CREATE {}TABLE {}{} ({}) WITH ({})", rng_.Chance(0.1) ? "TEMPORARY " : "",
                     rng_.Chance(0.1) ? "IF NOT EXISTS " : "", name, cols, with);
}

std::string SqlGenerator::Statement(const std::string& scratch) {
  int r = static_cast<int>(rng_.Below(40));
  if (r < 22) return Query();
  if (r < 27) return "EXPLAIN " + std::string(rng_.Chance(0.3) ? "PLAN FOR " : "") + Query();
  if (r < 31) return CreateTable(scratch);
  if (r < 33) {
    bool dummy;
    return fmt::format("CREATE VIEW {}{} AS {}", scratch, rng_.Chance(0.2) ? " (x1, x2)" : "",
                       SelectBlock(2, false, &dummy));
  }
  if (r < 35) {
    static const std::vector<std::string> kInserts = {
        "INSERT INTO sink_kn SELECT k, COUNT(*) FROM orders GROUP BY k",
        "INSERT INTO sink_row SELECT id, k, v, ts FROM orders",
        "INSERT INTO sink_row SELECT id, k, w, ts FROM clicks WHERE w > 0",
        "INSERT INTO sink_kn SELECT k, v FROM orders",
        "INSERT INTO sink_kn (k, n) SELECT k, 1 FROM orders",
        "INSERT INTO sink_row SELECT * FROM orders",
        "INSERT INTO pos_orders SELECT id, k, v, d, ts FROM orders",
        "INSERT INTO nope SELECT 1 FROM orders"};
    return std::string(rng_.Chance(0.5) ? "EXPLAIN " : "") + rng_.Pick(kInserts);
  }
  static const std::vector<std::string> kMisc = {
      "SHOW TABLES",
      "SHOW VIEWS",
      "SHOW FUNCTIONS",
      "DESCRIBE orders",
      "DESC win_counts",
      "DESCRIBE nope",
      "SET 'eddy.cep.max-partial-matches' = '5'",
      "SET 'parallelism.default' = '99999999999999999999'",
      "SET 'table.exec.state.ttl' = '1 h'",
      "SET 'table.exec.source.idle-timeout' = 'soon'",
      "SET 'eddy.batch-size' = '-1'",
      "RESET 'eddy.batch-size'",
      "RESET",
      "SET",
      "DROP TABLE IF EXISTS nope",
      "DROP VIEW nope",
      "DROP TEMPORARY VIEW IF EXISTS nope2"};
  return rng_.Pick(kMisc);
}

// ---------------------------------------------------------------------------------------------
// Token mutations (folded from tests/integration/lib/sql_fuzz.py)

namespace {

std::vector<std::string> Tokenize(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == ' ') {
      ++i;
      continue;
    }
    size_t j = i;
    if (s[i] == '\'') {
      ++j;
      while (j < s.size() && s[j] != '\'') ++j;
      ++j;
    } else if (isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_' || s[i] == '.') {
      while (j < s.size() &&
             (isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_' || s[j] == '.')) {
        ++j;
      }
    } else {
      ++j;
    }
    j = std::min(j, s.size());
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

const std::vector<std::string> kTokens = {"(",
                                          ")",
                                          ",",
                                          "*",
                                          "+",
                                          "-",
                                          "/",
                                          "%",
                                          "'",
                                          "''",
                                          "NULL",
                                          "1",
                                          "0",
                                          "-1",
                                          "99999999999999999999",
                                          "1e308",
                                          "ts",
                                          "k",
                                          "v",
                                          "d",
                                          "m",
                                          "orders",
                                          "SELECT",
                                          "FROM",
                                          "WHERE",
                                          "GROUP BY",
                                          "AND",
                                          "OR",
                                          "NOT",
                                          "CAST(",
                                          "AS INT)",
                                          "AS DECIMAL(18,18))",
                                          "INTERVAL '0' SECOND",
                                          "INTERVAL '-1' DAY",
                                          "INTERVAL '99999999999' DAY",
                                          "TABLE(",
                                          "DESCRIPTOR(ts)",
                                          "window_start",
                                          "window_end",
                                          "COUNT(*)",
                                          "SUM(",
                                          "CASE",
                                          "WHEN",
                                          "THEN",
                                          "END",
                                          "||",
                                          "=",
                                          "<",
                                          "IS NULL",
                                          "TIMESTAMP '2024-01-01 00:00:00'",
                                          "DATE '2024-02-30'",
                                          "/*",
                                          "--",
                                          ";",
                                          "`",
                                          "\"",
                                          "OVER (",
                                          "JOIN",
                                          "ON",
                                          "UNION ALL",
                                          "PARTITION BY",
                                          "ORDER BY",
                                          "ROW_NUMBER()",
                                          "MATCH_RECOGNIZE",
                                          "PATTERN",
                                          "(A B+)",
                                          "DEFINE",
                                          "WITHIN",
                                          "FOR SYSTEM_TIME AS OF",
                                          "LATERAL",
                                          "UNNEST(",
                                          "EXISTS",
                                          "IN (SELECT",
                                          "LIMIT",
                                          "HAVING",
                                          "DISTINCT",
                                          "TRY_CAST(",
                                          "PROCTIME()",
                                          "CURRENT_WATERMARK(ts)",
                                          "{",
                                          "}",
                                          "=>",
                                          "?",
                                          "$",
                                          "\\",
                                          "\xC3\xA9",
                                          "\xFF"};

}  // namespace

std::string SqlGenerator::Mutate(const std::string& sql) {
  std::vector<std::string> t = Tokenize(sql);
  if (t.empty()) return sql;
  int n = static_cast<int>(rng_.Range(1, 3));
  for (int i = 0; i < n && !t.empty(); ++i) {
    size_t pos = rng_.Below(t.size());
    double op = static_cast<double>(rng_.Below(1000)) / 1000.0;
    if (op < 0.35) {
      t.insert(t.begin() + static_cast<long>(pos), rng_.Pick(kTokens));
    } else if (op < 0.6) {
      t.erase(t.begin() + static_cast<long>(pos));
    } else if (op < 0.9) {
      t[pos] = rng_.Pick(kTokens);
    } else {
      // Duplicate a run of tokens (nesting, repeated clauses).
      size_t len = std::min<size_t>(t.size() - pos, rng_.Range(1, 6));
      std::vector<std::string> run(t.begin() + static_cast<long>(pos),
                                   t.begin() + static_cast<long>(pos + len));
      t.insert(t.begin() + static_cast<long>(pos), run.begin(), run.end());
    }
  }
  std::string out;
  for (const auto& x : t) out += (out.empty() ? "" : " ") + x;
  return out;
}

}  // namespace eddy::fuzz
