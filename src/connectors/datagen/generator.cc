#include "connectors/datagen/generator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/status.h"
#include "base/strings.h"
#include "catalog/options.h"
#include "types/text_codec.h"
#include "types/time_util.h"

namespace eddy::connectors::datagen {

namespace {

const std::vector<std::string> kDatagen = {"datagen"};

const auto kRowsPerSecond =
    catalog::TableOption(kDatagen, "rows-per-second")
        .Int(10000)
        .Min(1)
        .Doc(
            "The rows generated per second by the whole scan, shared evenly by its subtasks (a "
            "rate limit; set it high to generate as fast as the job takes them).");
const auto kNumberOfRows =
    catalog::TableOption(kDatagen, "number-of-rows")
        .Int()
        .Min(0)
        .DefaultDoc("unbounded")
        .Doc("The rows generated in all, then the scan ends; unset, it runs until cancelled.");
const auto kKind = catalog::TableOption(kDatagen, "fields.#.kind")
                       .Enum("random", {"random", "sequence"})
                       .Doc(
                           "How column # is generated: 'random' values, or a 'sequence' from "
                           "'fields.#.start' to 'fields.#.end' (the scan ends at its end).");
const auto kMin = catalog::TableOption(kDatagen, "fields.#.min")
                      .String()
                      .DefaultDoc("the type's minimum; 0 for DOUBLE, DECIMAL and intervals")
                      .Doc(
                          "The smallest random value of a numeric column (INTERVAL DAY TO SECOND "
                          "in milliseconds, INTERVAL YEAR TO MONTH in months).");
const auto kMax =
    catalog::TableOption(kDatagen, "fields.#.max")
        .String()
        .DefaultDoc("the type's maximum; 1 day or 120 months for intervals")
        .Doc("The largest random value of a numeric column (units as 'fields.#.min').");
const auto kMaxPast = catalog::TableOption(kDatagen, "fields.#.max-past")
                          .Duration("0 ms")
                          .Min(absl::ZeroDuration())
                          .Doc(
                              "A random TIMESTAMP, TIMESTAMP_LTZ or DATE is the current time minus "
                              "a uniform random duration up to this.");
const auto kLength = catalog::TableOption(kDatagen, "fields.#.length")
                         .Int(100)
                         .Range(1, 1 << 20)
                         .DefaultDoc("100, or n for VARCHAR(n) and CHAR(n) when smaller")
                         .Doc(
                             "The length of a random string (lower-case hex digits); at most the "
                             "declared length of VARCHAR(n)/CHAR(n).");
const auto kVarLen = catalog::TableOption(kDatagen, "fields.#.var-len")
                         .Bool(false)
                         .Doc(
                             "Random strings of a uniform random length from 1 to "
                             "'fields.#.length' instead of exactly that length.");
const auto kStart = catalog::TableOption(kDatagen, "fields.#.start")
                        .Int()
                        .Doc("The first value of a sequence (an integer; required).");
const auto kEnd = catalog::TableOption(kDatagen, "fields.#.end")
                      .Int()
                      .Doc("The last value of a sequence (an integer, >= start; required).");
const auto kNullRate = catalog::TableOption(kDatagen, "fields.#.null-rate")
                           .String("0")
                           .Doc("The proportion of NULL values, a number from 0 to 1.");

constexpr int64_t kMicrosPerDay = 86'400'000'000;

bool Sequenceable(const DataType& t) {
  return t.is_integral() || t.id == TypeId::kDouble || t.id == TypeId::kDecimal || t.is_string();
}
bool HasRange(const DataType& t) {
  return t.is_integral() || t.id == TypeId::kDouble || t.id == TypeId::kDecimal || t.is_interval();
}
bool HasPast(const DataType& t) { return t.is_timestamp() || t.id == TypeId::kDate; }

// The whole range of a type's values (unscaled for DECIMAL, the option's unit for intervals).
void TypeRange(const DataType& t, int64_t* lo, int64_t* hi) {
  switch (t.id) {
    case TypeId::kInt:
      *lo = INT32_MIN;
      *hi = INT32_MAX;
      return;
    case TypeId::kDecimal:
      *lo = -(Pow10(t.precision) - 1);
      *hi = Pow10(t.precision) - 1;
      return;
    case TypeId::kIntervalYearMonth:
      *lo = INT32_MIN;
      *hi = INT32_MAX;
      return;
    case TypeId::kIntervalDayTime:  // milliseconds, stored as µs
      *lo = INT64_MIN / 1000;
      *hi = INT64_MAX / 1000;
      return;
    default:
      *lo = INT64_MIN;
      *hi = INT64_MAX;
  }
}

// Parses the text of 'fields.#.min'/'max' for column type `t` into `*out` (or `*out_d`).
absl::Status ParseBound(const std::string& table, const std::string& key, const FieldSpec& f,
                        const std::string& text, int64_t* out, double* out_d) {
  auto bad = [&](const std::string& what) {
    return absl::InvalidArgumentError(
        fmt::format("table '{}': '{}' must be {} for column '{}' of "
                    "type {}, not '{}'",
                    table, key, what, f.name, f.type.ToString(), text));
  };
  std::string_view s = text::Trim(text);
  if (f.type.id == TypeId::kDouble) {
    if (!text::ParseDouble(s, out_d) || !std::isfinite(*out_d)) return bad("a finite number");
    return absl::OkStatus();
  }
  if (f.type.id == TypeId::kDecimal) {
    text::DecimalParse r = text::ParseDecimal(s, f.type.precision, f.type.scale, out);
    if (r == text::DecimalParse::kOverflow) {
      return bad(fmt::format("a number that fits {}", f.type.ToString()));
    }
    if (r != text::DecimalParse::kOk) return bad("a number");
    return absl::OkStatus();
  }
  int64_t lo, hi;
  TypeRange(f.type, &lo, &hi);
  if (!text::ParseInt64(s, out) || *out < lo || *out > hi) {
    return bad(fmt::format("an integer from {} to {}", lo, hi));
  }
  return absl::OkStatus();
}

// The value of option `spec` ('fields.#.x') of column `name` when set.
template <typename T>
absl::StatusOr<std::optional<T>> FieldOption(const TableDef& t, const catalog::ConfigOption<T>& o,
                                             const std::string& name) {
  std::string key = o.key();
  key.replace(key.find('#'), 1, name);
  auto it = t.options.find(key);
  if (it == t.options.end()) return std::optional<T>();
  absl::Status st = catalog::CheckValue(o.spec(), it->second, key);
  if (!st.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("table '{}': {}", t.name, std::string(st.message())));
  }
  EDDY_ASSIGN_OR_RETURN(T v, o.Parse(it->second));
  return std::optional<T>(std::move(v));
}

absl::Status ParseField(const TableDef& t, FieldSpec* f) {
  const std::string& n = f->name;
  auto key = [&](const char* opt) { return fmt::format("fields.{}.{}", n, opt); };
  auto refuse = [&](const char* opt, const std::string& why) {
    return absl::InvalidArgumentError(
        fmt::format("table '{}': option '{}' {}", t.name, key(opt), why));
  };
  EDDY_ASSIGN_OR_RETURN(auto kind, FieldOption(t, kKind, n));
  EDDY_ASSIGN_OR_RETURN(auto min, FieldOption(t, kMin, n));
  EDDY_ASSIGN_OR_RETURN(auto max, FieldOption(t, kMax, n));
  EDDY_ASSIGN_OR_RETURN(auto max_past, FieldOption(t, kMaxPast, n));
  EDDY_ASSIGN_OR_RETURN(auto length, FieldOption(t, kLength, n));
  EDDY_ASSIGN_OR_RETURN(auto var_len, FieldOption(t, kVarLen, n));
  EDDY_ASSIGN_OR_RETURN(auto start, FieldOption(t, kStart, n));
  EDDY_ASSIGN_OR_RETURN(auto end, FieldOption(t, kEnd, n));
  EDDY_ASSIGN_OR_RETURN(auto null_rate, FieldOption(t, kNullRate, n));
  const DataType& type = f->type;
  const std::string tn = type.ToString();
  f->sequence = kind && *kind == "sequence";

  if (null_rate) {
    double r = 0;
    if (!text::ParseDouble(text::Trim(*null_rate), &r) || !(r >= 0 && r <= 1)) {
      return refuse("null-rate", fmt::format("must be a number from 0 to 1, not '{}'", *null_rate));
    }
    f->null_rate = r;
  }
  if (f->sequence) {
    if (!Sequenceable(type)) {
      return refuse("kind", fmt::format("is 'sequence', which column '{}' of type {} cannot be "
                                        "(sequences are INT, BIGINT, DOUBLE, DECIMAL or STRING)",
                                        n, tn));
    }
    for (const char* o : {"min", "max", "max-past", "length", "var-len"}) {
      if (t.options.count(key(o))) {
        return refuse(o, fmt::format("applies to random columns; column '{}' is a sequence", n));
      }
    }
    if (!start || !end) {
      return absl::InvalidArgumentError(
          fmt::format("table '{}': the sequence column '{}' needs '{}' and '{}'", t.name, n,
                      key("start"), key("end")));
    }
    if (*start > *end) {
      return refuse("start", fmt::format("({}) must not be greater than '{}' ({})", *start,
                                         key("end"), *end));
    }
    int64_t lo = INT64_MIN, hi = INT64_MAX;
    if (type.id == TypeId::kInt) TypeRange(type, &lo, &hi);
    if (type.id == TypeId::kDecimal) {
      hi = (Pow10(type.precision) - 1) / Pow10(type.scale);
      lo = -hi;
    }
    for (auto [o, v] : {std::pair{"start", *start}, std::pair{"end", *end}}) {
      if (v < lo || v > hi) {
        return refuse(o, fmt::format("({}) is outside the values of column '{}' of type {} ({} to "
                                     "{})",
                                     v, n, tn, lo, hi));
      }
    }
    f->start = *start;
    f->end = *end;
    return absl::OkStatus();
  }
  if (start || end) {
    return refuse(start ? "start" : "end",
                  fmt::format("applies to sequences; set '{}' = 'sequence'", key("kind")));
  }
  if ((min || max) && !HasRange(type)) {
    return refuse(min ? "min" : "max",
                  fmt::format("applies to numeric and interval columns, not to column '{}' of "
                              "type {}",
                              n, tn));
  }
  if (max_past && !HasPast(type)) {
    return refuse("max-past", fmt::format("applies to TIMESTAMP, TIMESTAMP_LTZ and DATE columns, "
                                          "not to column '{}' of type {}",
                                          n, tn));
  }
  if ((length || var_len) && !type.is_string()) {
    return refuse(length ? "length" : "var-len",
                  fmt::format("applies to string columns, not to column '{}' of type {}", n, tn));
  }
  if (HasRange(type)) {
    if (type.id == TypeId::kDouble) {
      f->min_d = std::numeric_limits<double>::denorm_min();  // Flink: Double.MIN_VALUE …
      f->max_d = std::numeric_limits<double>::max();         // … to Double.MAX_VALUE
      if (min) EDDY_RETURN_IF_ERROR(ParseBound(t.name, key("min"), *f, *min, &f->min, &f->min_d));
      if (max) EDDY_RETURN_IF_ERROR(ParseBound(t.name, key("max"), *f, *max, &f->max, &f->max_d));
      if (f->min_d > f->max_d) {
        return refuse("min", fmt::format("({}) must not be greater than the maximum ({})",
                                         min ? *min : "the default", max ? *max : "the default"));
      }
    } else {
      TypeRange(type, &f->min, &f->max);
      if (type.id == TypeId::kDecimal) f->min = 0;  // Flink: from Double.MIN_VALUE, i.e. 0
      if (type.is_interval()) f->min = 0;
      if (type.id == TypeId::kIntervalDayTime) f->max = 86'400'000;  // 1 day, in ms
      if (type.id == TypeId::kIntervalYearMonth) f->max = 120;       // 10 years
      double unused;
      if (min) EDDY_RETURN_IF_ERROR(ParseBound(t.name, key("min"), *f, *min, &f->min, &unused));
      if (max) EDDY_RETURN_IF_ERROR(ParseBound(t.name, key("max"), *f, *max, &f->max, &unused));
      if (f->min > f->max) {
        return refuse("min", fmt::format("({}) must not be greater than the maximum ({})",
                                         min ? *min : "the default", max ? *max : "the default"));
      }
      if (type.id == TypeId::kIntervalDayTime) {  // milliseconds → µs
        f->min *= 1000;
        f->max *= 1000;
      }
    }
  }
  if (max_past) f->max_past_us = absl::ToInt64Microseconds(*max_past);
  if (type.is_string()) {
    int64_t declared = type.length > 0 ? type.length : -1;
    f->length = declared > 0 ? std::min<int64_t>(100, declared) : 100;
    if (length) {
      if (declared > 0 && *length > declared) {
        return refuse("length",
                      fmt::format("({}) is longer than column '{}' of type {}", *length, n, tn));
      }
      f->length = *length;
    }
    f->var_len = var_len && *var_len;
  }
  return absl::OkStatus();
}

// SplitMix64's output function.
uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

absl::StatusOr<DatagenOptions> ParseDatagenOptions(const TableDef& t) {
  DatagenOptions o;
  EDDY_ASSIGN_OR_RETURN(o.rows_per_second, kRowsPerSecond.Get(t.options));
  EDDY_ASSIGN_OR_RETURN(std::optional<int64_t> n, kNumberOfRows.Find(t.options));
  if (t.HasMetadata()) {
    return absl::InvalidArgumentError(
        fmt::format("table '{}': the datagen connector has no metadata columns", t.name));
  }
  // Every 'fields.<column>.<option>' names a physical column.
  std::vector<std::string> names;
  for (const Field& f : t.physical.fields) names.push_back(f.name);
  for (const auto& [k, v] : t.options) {
    if (k.rfind("fields.", 0) != 0) continue;
    size_t dot = k.rfind('.');
    std::string col = dot > 7 ? k.substr(7, dot - 7) : "";
    if (std::find(names.begin(), names.end(), col) != names.end()) continue;
    bool computed = false;
    for (size_t i = 0; i < t.columns.size(); ++i) {
      if (t.computed.size() > i && t.computed[i] && t.columns[i].name == col) computed = true;
    }
    if (computed) {
      return absl::InvalidArgumentError(fmt::format(
          "table '{}': option '{}' names the computed column '{}'; only physical columns are "
          "generated",
          t.name, k, col));
    }
    std::string near = ClosestName(col, names);
    return absl::InvalidArgumentError(
        fmt::format("table '{}': option '{}' names no column of the table{}", t.name, k,
                    near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near)));
  }
  if (n) o.total_rows = *n;
  for (const Field& f : t.physical.fields) {
    FieldSpec s;
    s.name = f.name;
    s.type = f.type;
    EDDY_RETURN_IF_ERROR(ParseField(t, &s));
    if (s.sequence) {
      uint64_t len = static_cast<uint64_t>(s.end) - static_cast<uint64_t>(s.start) + 1;
      int64_t rows = len == 0 || len > static_cast<uint64_t>(RowRange::kUnbounded - 1)
                         ? RowRange::kUnbounded - 1
                         : static_cast<int64_t>(len);
      o.total_rows = o.total_rows ? std::min(*o.total_rows, rows) : rows;
    }
    o.fields.push_back(std::move(s));
  }
  return o;
}

std::vector<RowRange> SplitRows(const std::vector<RowRange>& ranges, int index, int parallelism) {
  std::vector<RowRange> out;
  const int64_t p = parallelism, i = index;
  for (const RowRange& r : ranges) {
    if (r.count <= i) continue;
    RowRange s;
    s.first = r.first + i * r.step;
    s.step = r.step * p;
    // Rows i, i + p, … below count: ceil((count - i) / p).
    s.count = r.count == RowRange::kUnbounded ? RowRange::kUnbounded : (r.count - i + p - 1) / p;
    out.push_back(s);
  }
  return out;
}

RowGenerator::RowGenerator(const DatagenOptions* options, uint64_t seed)
    : options_(options), state_(seed) {}

uint64_t RowGenerator::Next() {
  state_ += 0x9e3779b97f4a7c15ULL;
  return Mix(state_);
}

int64_t RowGenerator::Uniform(int64_t lo, int64_t hi) {
  uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) + 1;
  if (span == 0) return static_cast<int64_t>(Next());  // the whole int64 range
  // Lemire's multiply-shift (its bias, span / 2^64, is negligible here).
  uint64_t r = static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * span) >> 64);
  return static_cast<int64_t>(static_cast<uint64_t>(lo) + r);
}

double RowGenerator::UniformDouble(double lo, double hi) {
  double u = static_cast<double>(Next() >> 11) * 0x1.0p-53;  // [0, 1)
  double v = lo * (1 - u) + hi * u;                          // no overflow of hi - lo
  return std::clamp(v, lo, hi);
}

void RowGenerator::Generate(const std::vector<int64_t>& rows, int64_t now_us, Arena* arena,
                            Batch* out) {
  for (size_t c = 0; c < options_->fields.size(); ++c) {
    GenerateColumn(options_->fields[c], rows, now_us, arena, &out->columns[c]);
  }
}

void RowGenerator::GenerateColumn(const FieldSpec& f, const std::vector<int64_t>& rows,
                                  int64_t now_us, Arena* arena, Column* col) {
  static constexpr char kHex[] = "0123456789abcdef";
  const uint64_t null_below =
      f.null_rate >= 1 ? UINT64_MAX : static_cast<uint64_t>(f.null_rate * 0x1.0p64);
  const bool nulls = f.null_rate > 0;
  col->Reserve(col->size() + rows.size());
  for (int64_t g : rows) {
    if (nulls && (f.null_rate >= 1 || Next() < null_below)) {
      col->AppendNull();
      continue;
    }
    const DataType& t = f.type;
    if (f.sequence) {
      int64_t v = f.start + g;
      if (t.id == TypeId::kDouble) {
        col->AppendDouble(static_cast<double>(v));
      } else if (t.id == TypeId::kDecimal) {
        col->AppendInt(v * Pow10(t.scale));
      } else if (t.is_string()) {
        text_.clear();
        text::AppendInt(v, &text_);
        col->AppendString(arena->Add(text_));
      } else {
        col->AppendInt(v);
      }
      continue;
    }
    switch (t.id) {
      case TypeId::kBoolean:
        col->AppendInt(static_cast<int64_t>(Next() >> 63));
        break;
      case TypeId::kDouble:
        col->AppendDouble(UniformDouble(f.min_d, f.max_d));
        break;
      case TypeId::kString: {
        int64_t len = f.var_len ? Uniform(1, f.length) : f.length;
        char* p = arena->Allocate(static_cast<size_t>(len));
        for (int64_t k = 0; k < len; k += 16) {
          uint64_t r = Next();
          for (int64_t j = k; j < std::min<int64_t>(len, k + 16); ++j, r >>= 4) p[j] = kHex[r & 15];
        }
        col->AppendString(std::string_view(p, static_cast<size_t>(len)));
        break;
      }
      case TypeId::kTimestamp:
      case TypeId::kTimestampLtz: {
        // Flink: the current time in milliseconds minus a random past.
        int64_t us = now_us - (f.max_past_us > 0 ? Uniform(0, f.max_past_us) : 0);
        int64_t unit = t.precision >= 3 ? 1000 : Pow10(6 - t.precision);
        col->AppendInt(FloorDiv(us, unit) * unit);
        break;
      }
      case TypeId::kDate: {
        int64_t us = now_us - (f.max_past_us > 0 ? Uniform(0, f.max_past_us) : 0);
        col->AppendInt(FloorDiv(us, kMicrosPerDay));
        break;
      }
      default:  // integers, DECIMAL, intervals
        col->AppendInt(Uniform(f.min, f.max));
    }
  }
}

}  // namespace eddy::connectors::datagen
