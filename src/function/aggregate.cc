#include "function/aggregate.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <new>

#include "function/aggregate_distinct.h"
#include "function/numeric.h"
#include "state/serializer.h"
#include "state/value_serializer.h"

namespace eddy {

void AggregateFunction::AccumulateBatch(char* const* states, const Column* arg, const uint8_t* mask,
                                        size_t n) const {
  for (size_t i = 0; i < n; ++i) {
    if (!mask || mask[i]) Accumulate(states[i], arg, i);
  }
}

namespace {

// Runs `read` over a StateReader on `*in` and advances `*in` past what it consumed.
template <class F>
absl::Status ReadFrom(std::string_view* in, F&& read) {
  state::StateReader r(*in);
  if (absl::Status s = read(r); !s.ok()) return s;
  in->remove_prefix(in->size() - r.remaining());
  return absl::OkStatus();
}

struct CountState {
  int64_t count;
};

class Count final : public AggregateFunction {
 public:
  explicit Count(bool star) : star_(star) {
    result_type_ = DataType::Bigint();
    result_type_.nullable = false;
    state_size_ = sizeof(CountState);
  }
  void Init(char* s) const override { reinterpret_cast<CountState*>(s)->count = 0; }
  void Accumulate(char* s, const Column* a, size_t i) const override {
    if (star_ || a->valid[i]) reinterpret_cast<CountState*>(s)->count++;
  }
  void Retract(char* s, const Column* a, size_t i) const override {
    if (star_ || a->valid[i]) reinterpret_cast<CountState*>(s)->count--;
  }
  void Merge(char* d, const char* s) const override {
    reinterpret_cast<CountState*>(d)->count += reinterpret_cast<const CountState*>(s)->count;
  }
  Value Result(const char* s) const override {
    return Value::Int64(result_type_, reinterpret_cast<const CountState*>(s)->count);
  }
  void SerializeState(const char* s, std::string* out) const override {
    state::StateWriter(out).PutInt64(reinterpret_cast<const CountState*>(s)->count);
  }
  absl::Status DeserializeState(char* s, std::string_view* in) const override {
    return ReadFrom(in, [&](state::StateReader& r) {
      return r.GetInt64(&reinterpret_cast<CountState*>(s)->count);
    });
  }
  void AccumulateBatch(char* const* st, const Column* a, const uint8_t* mask,
                       size_t n) const override {
    for (size_t i = 0; i < n; ++i) {
      if ((!mask || mask[i]) && (star_ || a->valid[i])) {
        reinterpret_cast<CountState*>(st[i])->count++;
      }
    }
  }

 private:
  bool star_;
};

// SUM and AVG over an int64 lane (INT, BIGINT, DECIMAL) or a double lane.
template <class T>
struct SumState {
  T sum;
  int64_t count;
};

// Over a double lane the sum keeps only finite values, with Neumaier's compensation (the low-order
// bits that rounding took from `sum`), so that retracting a value undoes adding it even next to
// much larger values ((x + 1e16) - 1e16 is x, not 0 or 2) and the result does not drift with the
// order in which rows and retractions arrive (batch size, parallelism). NaN, +Infinity and
// -Infinity are counted apart, so retracting one undoes exactly its accumulation (Infinity -
// Infinity would otherwise leave NaN behind).
template <>
struct SumState<double> {
  double sum;
  int64_t count;
  double compensation;            // Neumaier: the exact sum is sum + compensation
  int64_t nan, pos_inf, neg_inf;  // how many NaN, +Infinity, -Infinity values are in the sum

  void AddFinite(double x) {
    double t = sum + x;
    compensation += std::fabs(sum) >= std::fabs(x) ? (sum - t) + x : (x - t) + sum;
    sum = t;
  }
  // Adds (sign +1) or removes (sign -1) one value.
  void Add(double x, int sign) {
    if (std::isfinite(x))
      AddFinite(sign > 0 ? x : -x);
    else if (std::isnan(x))
      nan += sign;
    else if (x > 0)
      pos_inf += sign;
    else
      neg_inf += sign;
    count += sign;
  }
  void Merge(const SumState<double>& o) {
    AddFinite(o.sum);
    compensation += o.compensation;
    count += o.count;
    nan += o.nan;
    pos_inf += o.pos_inf;
    neg_inf += o.neg_inf;
  }
  // The sum with the non-finite values: IEEE 754's rules for a sum of them.
  double Total() const {
    if (nan > 0 || (pos_inf > 0 && neg_inf > 0)) return std::numeric_limits<double>::quiet_NaN();
    if (pos_inf > 0) return std::numeric_limits<double>::infinity();
    if (neg_inf > 0) return -std::numeric_limits<double>::infinity();
    return sum + compensation;
  }
};

template <class T>
class SumAvg final : public AggregateFunction {
 public:
  SumAvg(bool avg, DataType arg) : avg_(avg), arg_(arg) {
    state_size_ = sizeof(SumState<T>);
    if (!avg) {
      result_type_ = arg;
      // Flink: SUM(DECIMAL(p, s)) is DECIMAL(38, s); eddy's DECIMAL holds 18 digits.
      if (arg.id == TypeId::kDecimal) result_type_ = DataType::Decimal(18, arg.scale);
    } else if (arg.id == TypeId::kDecimal) {
      result_type_ = DataType::Decimal(18, std::max(6, arg.scale));
    } else {
      result_type_ = arg;  // Flink: AVG of an integer type stays that integer type
    }
    result_type_.nullable = true;
    result_type_.time_attr = TimeAttr::kNone;
  }
  void Init(char* s) const override { *reinterpret_cast<SumState<T>*>(s) = SumState<T>{}; }
  static T Get(const Column* a, size_t i) {
    if constexpr (std::is_same_v<T, double>)
      return a->f64[i];
    else
      return a->i64[i];
  }
  void Accumulate(char* s, const Column* a, size_t i) const override {
    if (!a->valid[i]) return;
    auto* st = reinterpret_cast<SumState<T>*>(s);
    if constexpr (std::is_same_v<T, double>) {
      st->Add(a->f64[i], +1);
    } else {
      st->sum = static_cast<T>(static_cast<uint64_t>(st->sum) + static_cast<uint64_t>(a->i64[i]));
      st->count++;
    }
  }
  void Retract(char* s, const Column* a, size_t i) const override {
    if (!a->valid[i]) return;
    auto* st = reinterpret_cast<SumState<T>*>(s);
    if constexpr (std::is_same_v<T, double>) {
      st->Add(a->f64[i], -1);
    } else {
      st->sum = static_cast<T>(static_cast<uint64_t>(st->sum) - static_cast<uint64_t>(a->i64[i]));
      st->count--;
    }
  }
  void AccumulateBatch(char* const* states, const Column* a, const uint8_t* mask,
                       size_t n) const override {
    for (size_t i = 0; i < n; ++i) {
      if ((!mask || mask[i]) && a->valid[i]) {
        auto* st = reinterpret_cast<SumState<T>*>(states[i]);
        if constexpr (std::is_same_v<T, double>) {
          st->Add(a->f64[i], +1);
        } else {
          st->sum =
              static_cast<T>(static_cast<uint64_t>(st->sum) + static_cast<uint64_t>(a->i64[i]));
          st->count++;
        }
      }
    }
  }
  void Merge(char* d, const char* s) const override {
    auto* a = reinterpret_cast<SumState<T>*>(d);
    auto* b = reinterpret_cast<const SumState<T>*>(s);
    if constexpr (std::is_same_v<T, double>) {
      a->Merge(*b);
    } else {
      a->sum += b->sum;
      a->count += b->count;
    }
  }
  void SerializeState(const char* s, std::string* out) const override {
    auto* st = reinterpret_cast<const SumState<T>*>(s);
    state::StateWriter w(out);
    if constexpr (std::is_same_v<T, double>) {
      // `double sum, int64 count` as before the compensation and the non-finite counts existed;
      // when one of them is not zero, the count is written as -(count + 1) and they follow.
      w.PutDouble(st->sum);
      bool extended = st->compensation != 0 || st->nan != 0 || st->pos_inf != 0 || st->neg_inf != 0;
      w.PutInt64(extended ? -(st->count + 1) : st->count);
      if (extended) {
        w.PutDouble(st->compensation);
        w.PutInt64(st->nan);
        w.PutInt64(st->pos_inf);
        w.PutInt64(st->neg_inf);
      }
    } else {
      w.PutInt64(st->sum);
      w.PutInt64(st->count);
    }
  }
  absl::Status DeserializeState(char* s, std::string_view* in) const override {
    auto* st = reinterpret_cast<SumState<T>*>(s);
    return ReadFrom(in, [&](state::StateReader& r) -> absl::Status {
      absl::Status x;
      if constexpr (std::is_same_v<T, double>) {
        *st = SumState<double>{};
        if (x = r.GetDouble(&st->sum); !x.ok()) return x;
        if (x = r.GetInt64(&st->count); !x.ok()) return x;
        if (st->count < 0) {
          st->count = -(st->count + 1);
          if (x = r.GetDouble(&st->compensation); !x.ok()) return x;
          for (int64_t* c : {&st->nan, &st->pos_inf, &st->neg_inf})
            if (x = r.GetInt64(c); !x.ok()) return x;
        } else if (!std::isfinite(st->sum)) {
          // Written before non-finite values were counted apart: the sum stands for one of them.
          double v = st->sum;
          st->sum = 0;
          st->Add(v, +1);
          st->count--;  // Add counted it as a row; the row count was read above
        }
        return absl::OkStatus();
      } else {
        if (x = r.GetInt64(&st->sum); !x.ok()) return x;
        return r.GetInt64(&st->count);
      }
    });
  }
  Value Result(const char* s) const override {
    auto* st = reinterpret_cast<const SumState<T>*>(s);
    if (st->count == 0) return Value::Null(result_type_);
    if constexpr (std::is_same_v<T, double>) {
      double total = st->Total();
      Value v = Value::Double(avg_ ? total / static_cast<double>(st->count) : total);
      v.type = result_type_;
      return v;
    } else {
      int64_t r = st->sum;
      if (avg_) {
        if (arg_.id == TypeId::kDecimal) {
          // sum at scale s → average at the result scale, rounded half up.
          __int128 p = static_cast<__int128>(st->sum) * Pow10(result_type_.scale - arg_.scale);
          __int128 q = p / st->count, rem = p % st->count;
          if (2 * (rem < 0 ? -rem : rem) >= st->count) q += p < 0 ? -1 : 1;
          r = static_cast<int64_t>(q);
        } else {
          r = st->sum / st->count;  // Java long division truncates toward zero
        }
      }
      if (result_type_.id == TypeId::kInt) r = static_cast<int32_t>(static_cast<uint32_t>(r));
      return Value::Int64(result_type_, r);
    }
  }

 private:
  bool avg_;
  DataType arg_;
};

// MIN / MAX. Numeric lanes keep the value inline; strings keep a std::string in the state.
// Retraction needs every value (issue 4 adds a multiset state); not supported here.
template <class T>
struct ExtState {
  T v;
  bool has;
};

template <class T>
class MinMax final : public AggregateFunction {
 public:
  MinMax(bool is_max, DataType arg) : max_(is_max) {
    result_type_ = arg;
    result_type_.nullable = true;
    result_type_.time_attr = TimeAttr::kNone;
    state_size_ = sizeof(ExtState<T>);
  }
  void Init(char* s) const override { new (s) ExtState<T>{T{}, false}; }
  void Destroy(char* s) const override { reinterpret_cast<ExtState<T>*>(s)->~ExtState<T>(); }
  bool supports_retract() const override { return false; }
  static T Get(const Column* a, size_t i) {
    if constexpr (std::is_same_v<T, double>)
      return a->f64[i];
    else if constexpr (std::is_same_v<T, int64_t>)
      return a->i64[i];
    else
      return std::string(a->str[i]);
  }
  void Accumulate(char* s, const Column* a, size_t i) const override {
    if (!a->valid[i]) return;
    auto* st = reinterpret_cast<ExtState<T>*>(s);
    if constexpr (std::is_same_v<T, std::string>) {
      std::string_view x = a->str[i];
      if (!st->has || (max_ ? x > std::string_view(st->v) : x < std::string_view(st->v))) {
        st->v.assign(x.data(), x.size());
        st->has = true;
      }
    } else {
      T x = Get(a, i);
      if (!st->has || (max_ ? x > st->v : x < st->v)) {
        st->v = x;
        st->has = true;
      }
    }
  }
  void Merge(char* d, const char* s) const override {
    auto* a = reinterpret_cast<ExtState<T>*>(d);
    auto* b = reinterpret_cast<const ExtState<T>*>(s);
    if (b->has && (!a->has || (max_ ? b->v > a->v : b->v < a->v))) {
      a->v = b->v;
      a->has = true;
    }
  }
  void SerializeState(const char* s, std::string* out) const override {
    auto* st = reinterpret_cast<const ExtState<T>*>(s);
    state::StateWriter w(out);
    w.PutBool(st->has);
    if (st->has) state::StateSerializer<T>::Write(st->v, &w);
  }
  absl::Status DeserializeState(char* s, std::string_view* in) const override {
    auto* st = reinterpret_cast<ExtState<T>*>(s);
    return ReadFrom(in, [&](state::StateReader& r) -> absl::Status {
      if (absl::Status x = r.GetBool(&st->has); !x.ok()) return x;
      if (!st->has) return absl::OkStatus();
      return state::StateSerializer<T>::Read(&r, &st->v);
    });
  }
  Value Result(const char* s) const override {
    auto* st = reinterpret_cast<const ExtState<T>*>(s);
    if (!st->has) return Value::Null(result_type_);
    Value v{result_type_};
    v.is_null = false;
    if constexpr (std::is_same_v<T, double>)
      v.d = st->v;
    else if constexpr (std::is_same_v<T, int64_t>)
      v.i = st->v;
    else
      v.s = st->v;
    return v;
  }

 private:
  bool max_;
};

// STDDEV_POP, STDDEV_SAMP, VAR_POP, VAR_SAMP with Welford's update and Chan's merge.
struct VarState {
  int64_t n;
  double mean;
  double m2;
};

class Variance final : public AggregateFunction {
 public:
  Variance(bool sqrt, bool sample, DataType arg) : sqrt_(sqrt), sample_(sample), arg_(arg) {
    // Flink derives the result type from the argument (Calcite's reduction of these functions).
    result_type_ = arg.id == TypeId::kDecimal ? DataType::Double() : arg;
    result_type_.nullable = true;
    result_type_.time_attr = TimeAttr::kNone;
    state_size_ = sizeof(VarState);
  }
  void Init(char* s) const override { *reinterpret_cast<VarState*>(s) = {0, 0, 0}; }
  void Accumulate(char* s, const Column* a, size_t i) const override {
    if (!a->valid[i]) return;
    auto* st = reinterpret_cast<VarState*>(s);
    double x = ToDouble(*a, i);
    st->n++;
    double d = x - st->mean;
    st->mean += d / static_cast<double>(st->n);
    st->m2 += d * (x - st->mean);
  }
  void Retract(char* s, const Column* a, size_t i) const override {
    if (!a->valid[i]) return;
    auto* st = reinterpret_cast<VarState*>(s);
    double x = ToDouble(*a, i);
    if (st->n <= 1) {
      *st = {0, 0, 0};
      return;
    }
    double mean_old = (st->mean * static_cast<double>(st->n) - x) / static_cast<double>(st->n - 1);
    st->m2 -= (x - st->mean) * (x - mean_old);
    st->mean = mean_old;
    st->n--;
  }
  void Merge(char* d, const char* s) const override {
    auto* a = reinterpret_cast<VarState*>(d);
    auto* b = reinterpret_cast<const VarState*>(s);
    if (b->n == 0) return;
    if (a->n == 0) {
      *a = *b;
      return;
    }
    int64_t n = a->n + b->n;
    double delta = b->mean - a->mean;
    a->m2 += b->m2 + delta * delta * static_cast<double>(a->n) * static_cast<double>(b->n) /
                         static_cast<double>(n);
    a->mean += delta * static_cast<double>(b->n) / static_cast<double>(n);
    a->n = n;
  }
  void SerializeState(const char* s, std::string* out) const override {
    auto* st = reinterpret_cast<const VarState*>(s);
    state::StateWriter w(out);
    w.PutInt64(st->n);
    w.PutDouble(st->mean);
    w.PutDouble(st->m2);
  }
  absl::Status DeserializeState(char* s, std::string_view* in) const override {
    auto* st = reinterpret_cast<VarState*>(s);
    return ReadFrom(in, [&](state::StateReader& r) -> absl::Status {
      if (absl::Status x = r.GetInt64(&st->n); !x.ok()) return x;
      if (absl::Status x = r.GetDouble(&st->mean); !x.ok()) return x;
      return r.GetDouble(&st->m2);
    });
  }
  Value Result(const char* s) const override {
    auto* st = reinterpret_cast<const VarState*>(s);
    int64_t denom = sample_ ? st->n - 1 : st->n;
    if (st->n == 0 || denom <= 0) return Value::Null(result_type_);
    double v = std::max(0.0, st->m2) / static_cast<double>(denom);
    if (sqrt_) v = std::sqrt(v);
    if (result_type_.id == TypeId::kDouble) {
      Value r = Value::Double(v);
      r.type = result_type_;
      return r;
    }
    // An integer result type: Java's (long) / (int) cast of a double, which saturates (a
    // variance of large values exceeds the type; a plain cast would be undefined).
    bool narrow = result_type_.id == TypeId::kInt;
    double hi = narrow ? 2147483647.0 : 9.2233720368547758e18;
    int64_t iv = std::isnan(v) ? 0
                 : v >= hi     ? (narrow ? INT32_MAX : INT64_MAX)
                               : static_cast<int64_t>(v);  // v >= 0: no lower bound to check
    return Value::Int64(result_type_, iv);
  }

 private:
  bool sqrt_, sample_;
  DataType arg_;
};

const std::vector<std::string>& Names() {
  static const std::vector<std::string> kNames = {"AVG",        "COUNT",       "MAX",   "MIN",
                                                  "STDDEV_POP", "STDDEV_SAMP", "SUM",   "VAR_POP",
                                                  "VAR_SAMP",   "VARIANCE",    "STDDEV"};
  return kNames;
}

}  // namespace

bool IsAggregateFunction(const std::string& name) {
  for (const auto& n : Names()) {
    if (n == name) return true;
  }
  return false;
}

std::vector<std::string> AggregateFunctionNames() { return Names(); }

absl::StatusOr<std::shared_ptr<const AggregateFunction>> ResolveAggregate(
    const std::string& name, const std::vector<DataType>& args, bool distinct) {
  std::shared_ptr<const AggregateFunction> f;
  auto bad = [&]() {
    std::string s;
    for (size_t i = 0; i < args.size(); ++i) s += (i ? ", " : "") + args[i].ToString();
    return absl::InvalidArgumentError(
        fmt::format("cannot apply {} to argument type{} {}", name, args.size() == 1 ? "" : "s", s));
  };
  if (name == "COUNT") {
    if (args.size() > 1) return absl::InvalidArgumentError("COUNT takes one argument or *");
    f = std::make_shared<Count>(args.empty());
  } else {
    if (args.size() != 1) {
      return absl::InvalidArgumentError(fmt::format("{} takes exactly one argument", name));
    }
    DataType a = args[0];
    a.time_attr = TimeAttr::kNone;
    if (a.id == TypeId::kNull) a = DataType::Int();
    if (name == "SUM" || name == "AVG") {
      if (!a.is_numeric()) return bad();
      if (a.id == TypeId::kDouble)
        f = std::make_shared<SumAvg<double>>(name == "AVG", a);
      else
        f = std::make_shared<SumAvg<int64_t>>(name == "AVG", a);
    } else if (name == "MIN" || name == "MAX") {
      bool mx = name == "MAX";
      if (a.is_interval()) return bad();
      switch (a.physical()) {
        case Physical::kInt64:
          f = std::make_shared<MinMax<int64_t>>(mx, a);
          break;
        case Physical::kDouble:
          f = std::make_shared<MinMax<double>>(mx, a);
          break;
        case Physical::kString:
          f = std::make_shared<MinMax<std::string>>(mx, a);
          break;
      }
    } else if (name == "STDDEV_POP" || name == "STDDEV_SAMP" || name == "VAR_POP" ||
               name == "VAR_SAMP" || name == "VARIANCE" || name == "STDDEV") {
      if (!a.is_numeric()) return bad();
      bool sq = name.rfind("STDDEV", 0) == 0;
      bool sample =
          name.find("SAMP") != std::string::npos || name == "VARIANCE" || name == "STDDEV";
      f = std::make_shared<Variance>(sq, sample, a);
    } else {
      return absl::NotFoundError(fmt::format("no aggregate function named {}", name));
    }
  }
  if (distinct && !args.empty()) {
    DataType a = args[0];
    a.time_attr = TimeAttr::kNone;
    // COUNT, SUM and AVG retract exactly: their distinct form keeps its result up to date.
    bool incremental = name == "COUNT" || name == "SUM" || name == "AVG";
    f = MakeDistinctAggregate(std::move(f), a, incremental);
  }
  return f;
}

}  // namespace eddy
