// Temporal functions registered as table entries (function_registry.h), Flink SQL "Temporal
// Functions": TIMESTAMPADD, TIMESTAMPDIFF, UNIX_TIMESTAMP, FROM_UNIXTIME. The session time zone
// is UTC (docs/sql-reference.md "Known differences"). EXTRACT, DATE_FORMAT, TO_TIMESTAMP, … are in
// scalar_functions.cc.
#include <fmt/format.h>

#include "base/strings.h"
#include "function/function_registry.h"
#include "types/time_util.h"

namespace eddy {

namespace {

using Args = std::vector<const Column*>;
using Lits = std::vector<const Value*>;

// The unit of TIMESTAMPADD/TIMESTAMPDIFF (the binder passes the keyword as a string literal):
// µs per unit, or 0 for the month-based units (MONTH, QUARTER = 3, YEAR = 12 months).
struct TimeUnit {
  int64_t micros = 0;
  int64_t months = 0;
};

absl::StatusOr<TimeUnit> UnitArg(std::string_view fn_name, const Lits& lits) {
  std::string u = lits.empty() || !lits[0] || lits[0]->is_null ? "" : ToUpper(lits[0]->s);
  if (u.ends_with("S") && u != "S") u.pop_back();  // DAYS → DAY
  if (u == "MICROSECOND") return TimeUnit{1, 0};
  if (u == "MILLISECOND") return TimeUnit{1000, 0};
  if (u == "SECOND") return TimeUnit{kMicrosPerSecond, 0};
  if (u == "MINUTE") return TimeUnit{kMicrosPerMinute, 0};
  if (u == "HOUR") return TimeUnit{kMicrosPerHour, 0};
  if (u == "DAY") return TimeUnit{kMicrosPerDay, 0};
  if (u == "WEEK") return TimeUnit{7 * kMicrosPerDay, 0};
  if (u == "MONTH") return TimeUnit{0, 1};
  if (u == "QUARTER") return TimeUnit{0, 3};
  if (u == "YEAR") return TimeUnit{0, 12};
  return absl::InvalidArgumentError(fmt::format(
      "{} takes a time unit first (SECOND, MINUTE, HOUR, DAY, WEEK, MONTH, QUARTER, YEAR), got "
      "'{}'",
      fn_name, u));
}

// `ts` (µs) plus `months` calendar months, the day clamped to the month's length (Calcite's
// DateTimeUtils.addMonths, which Flink uses); nullopt outside years 0000-9999.
std::optional<int64_t> AddMonths(int64_t ts, int64_t months) {
  int64_t days = FloorDiv(ts, kMicrosPerDay);
  int64_t rem = ts - days * kMicrosPerDay;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  if (months > 12 * 20000 || months < -12 * 20000) return std::nullopt;
  int64_t total = y * 12 + (m - 1) + months;
  int64_t ny = FloorDiv(total, 12);
  unsigned nm = static_cast<unsigned>(FloorMod(total, 12)) + 1;
  static const unsigned kLen[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  unsigned len = kLen[nm - 1];
  if (nm == 2 && ((ny % 4 == 0 && ny % 100 != 0) || ny % 400 == 0)) len = 29;
  if (ny < 0 || ny > 9999) return std::nullopt;
  return DaysFromCivil(ny, nm, std::min(d, len)) * kMicrosPerDay + rem;
}

// Whole months from t1 to t0 (t0 - t1), as Calcite's DateTimeUtils.subtractMonths: the largest m
// with addMonths(t1, m) <= t0 for t0 >= t1, and the negation of the reverse otherwise.
int64_t SubtractMonths(int64_t t0, int64_t t1) {
  if (t0 < t1) return -SubtractMonths(t1, t0);
  int64_t m = (t0 - t1) / (31 * kMicrosPerDay);  // every month has at most 31 days
  for (;;) {
    std::optional<int64_t> next = AddMonths(t1, m + 1);
    if (!next || *next > t0) return m;
    ++m;
  }
}

int64_t AsMicros(const Column& c, size_t i, bool date) {
  return date ? c.i64[i] * kMicrosPerDay : c.i64[i];
}

// TIMESTAMPDIFF(unit, t1, t2): whole units from t1 to t2 (INT; negative when t2 < t1). Day-time
// units truncate toward zero; MONTH, QUARTER and YEAR count calendar months.
absl::StatusOr<ResolvedFunction> TimestampDiff(const std::vector<DataType>& t, const Lits& lits) {
  EDDY_RETURN_IF_ERROR(fn::WantArgs("TIMESTAMPDIFF", t, 3, 3));
  if (!fn::IsTime(t[1]) || !fn::IsTime(t[2])) return fn::BadArgs("TIMESTAMPDIFF", t);
  EDDY_ASSIGN_OR_RETURN(TimeUnit unit, UnitArg("TIMESTAMPDIFF", lits));
  bool d1 = t[1].id == TypeId::kDate, d2 = t[2].id == TypeId::kDate;
  std::vector<DataType> at = t;
  for (auto& d : at) d.time_attr = TimeAttr::kNone;
  return ResolvedFunction{
      fn::PerRow([unit, d1, d2](const Args& a, size_t i, EvalContext*, Column* out) {
        int64_t x = AsMicros(*a[1], i, d1), y = AsMicros(*a[2], i, d2);
        int64_t r = unit.months ? SubtractMonths(y, x) / unit.months : (y - x) / unit.micros;
        out->AppendInt(r);
        return absl::OkStatus();
      }),
      DataType::Int(), at};
}

// TIMESTAMPADD(unit, n, ts): ts plus n units (the type of ts; a DATE plus a day-time unit gives
// a TIMESTAMP). Errors: the result leaves years 0000-9999.
absl::StatusOr<ResolvedFunction> TimestampAdd(const std::vector<DataType>& t, const Lits& lits) {
  EDDY_RETURN_IF_ERROR(fn::WantArgs("TIMESTAMPADD", t, 3, 3));
  if (!fn::IsInt(t[1]) || !fn::IsTime(t[2])) return fn::BadArgs("TIMESTAMPADD", t);
  EDDY_ASSIGN_OR_RETURN(TimeUnit unit, UnitArg("TIMESTAMPADD", lits));
  bool date = t[2].id == TypeId::kDate;
  DataType r = t[2].id == TypeId::kNull ? DataType::Timestamp(3) : t[2];
  r.time_attr = TimeAttr::kNone;
  bool date_out = date && (unit.months || unit.micros % kMicrosPerDay == 0);
  if (date && !date_out) r = DataType::Timestamp(0);
  return ResolvedFunction{
      fn::PerRow([unit, date, date_out](const Args& a, size_t i, EvalContext*, Column* out) {
        int64_t ts = AsMicros(*a[2], i, date), n = a[1]->i64[i];
        std::optional<int64_t> v;
        int64_t delta;
        if (unit.months) {
          int64_t months;
          if (!__builtin_mul_overflow(n, unit.months, &months)) v = AddMonths(ts, months);
        } else if (!__builtin_mul_overflow(n, unit.micros, &delta) &&
                   !__builtin_add_overflow(ts, delta, &delta) && InTimestampRange(delta)) {
          v = delta;
        }
        if (!v) {
          return absl::InvalidArgumentError(
              "TIMESTAMPADD: the result left the TIMESTAMP range (years 0000-9999)");
        }
        out->AppendInt(date_out ? FloorDiv(*v, kMicrosPerDay) : *v);
        return absl::OkStatus();
      }),
      r,
      {DataType::String(), DataType::Bigint(), t[2].id == TypeId::kNull ? r : t[2]}};
}

// FROM_UNIXTIME(seconds[, format]): the time `seconds` after the epoch as text, by default
// 'yyyy-MM-dd HH:mm:ss' (Flink's default), in the session time zone (UTC).
absl::StatusOr<ResolvedFunction> FromUnixtime(const std::vector<DataType>& t, const Lits&) {
  EDDY_RETURN_IF_ERROR(fn::WantArgs("FROM_UNIXTIME", t, 1, 2));
  if (!fn::IsInt(t[0]) || (t.size() == 2 && !fn::IsStr(t[1]))) {
    return fn::BadArgs("FROM_UNIXTIME", t);
  }
  std::vector<DataType> at = {DataType::Bigint()};
  if (t.size() == 2) at.push_back(DataType::String());
  return ResolvedFunction{
      fn::PerRow([](const Args& a, size_t i, EvalContext* ctx, Column* out) {
        int64_t s = a[0]->i64[i], us;
        if (__builtin_mul_overflow(s, kMicrosPerSecond, &us) || !InTimestampRange(us)) {
          return absl::InvalidArgumentError(fmt::format(
              "FROM_UNIXTIME: {} s is outside the TIMESTAMP range (years 0000-9999)", s));
        }
        std::string_view fmt_text = a.size() > 1 ? a[1]->str[i] : "yyyy-MM-dd HH:mm:ss";
        out->AppendString(ctx->arena->Add(FormatTimestampPattern(us, fmt_text)));
        return absl::OkStatus();
      }),
      DataType::String(), at};
}

// UNIX_TIMESTAMP(): now in seconds since the epoch; UNIX_TIMESTAMP(string[, format]): the
// string read with the format (default 'yyyy-MM-dd HH:mm:ss') in UTC, in seconds; Flink returns
// Long.MIN_VALUE when it does not parse, eddy returns NULL (docs/sql-reference.md).
absl::StatusOr<ResolvedFunction> UnixTimestamp(const std::vector<DataType>& t, const Lits&) {
  EDDY_RETURN_IF_ERROR(fn::WantArgs("UNIX_TIMESTAMP", t, 0, 2));
  for (const DataType& d : t) {
    if (!fn::IsStr(d)) return fn::BadArgs("UNIX_TIMESTAMP", t);
  }
  if (t.empty()) {
    ScalarKernel k = [](const Args&, size_t n, EvalContext* ctx, Column* out) -> absl::Status {
      for (size_t i = 0; i < n; ++i) out->AppendInt(FloorDiv(ctx->now_micros, kMicrosPerSecond));
      return absl::OkStatus();
    };
    return ResolvedFunction{k, DataType::Bigint(), {}};
  }
  return ResolvedFunction{fn::PerRow([](const Args& a, size_t i, EvalContext*, Column* out) {
                            std::string_view pattern =
                                a.size() > 1 ? a[1]->str[i] : "yyyy-MM-dd HH:mm:ss";
                            std::optional<int64_t> v = ParseTimestampPattern(a[0]->str[i], pattern);
                            if (v) {
                              out->AppendInt(FloorDiv(*v, kMicrosPerSecond));
                            } else {
                              out->AppendNull();
                            }
                            return absl::OkStatus();
                          }),
                          DataType::Bigint(), std::vector<DataType>(t.size(), DataType::String())};
}

constexpr ScalarFunctionEntry kTemporalFunctions[] = {
    {"FROM_UNIXTIME", "FROM_UNIXTIME(seconds[, format])", FromUnixtime},
    {"TIMESTAMPADD", "TIMESTAMPADD(unit, integer, timestamp)", TimestampAdd, true},
    {"TIMESTAMPDIFF", "TIMESTAMPDIFF(unit, timestamp1, timestamp2)", TimestampDiff, true},
    {"UNIX_TIMESTAMP", "UNIX_TIMESTAMP([string[, format]])", UnixTimestamp},
};

}  // namespace

std::span<const ScalarFunctionEntry> TemporalFunctions() { return kTemporalFunctions; }

}  // namespace eddy
