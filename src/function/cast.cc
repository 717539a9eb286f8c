// CAST / TRY_CAST and type coercion rules (Flink SQL "Type conversion" table, simplified to
// eddy's types).
#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "base/status.h"
#include "base/utf8.h"
#include "function/expr.h"
#include "function/numeric.h"
#include "types/text_codec.h"
#include "types/time_util.h"

namespace eddy {

namespace {

bool IsNumericOrBool(const DataType& t) { return t.is_numeric() || t.id == TypeId::kBoolean; }

int IntegerDigits(const DataType& t) {
  switch (t.id) {
    case TypeId::kInt:
      return 10;
    case TypeId::kBigint:
      return 18;
    case TypeId::kDecimal:
      return t.precision - t.scale;
    default:
      return 0;
  }
}

// Converts one non-NULL value; returns false when it does not convert (out of range / bad text).
bool CastOne(const Column& in, size_t i, const DataType& to, Arena* arena, Column* out) {
  const DataType& from = in.type;
  if (to.id == TypeId::kString) {
    std::string s = FormatCell(in, i, "NULL", false);
    if (to.length >= 0) s = Utf8Prefix(s, to.length);
    if (from.is_string() && to.length < 0) {
      out->AppendString(in.str[i]);
    } else {
      out->AppendString(arena->Add(s));
    }
    return true;
  }
  if (from.is_string()) {
    std::string_view s = text::Trim(in.str[i]);
    switch (to.id) {
      case TypeId::kBoolean: {
        std::string u;
        for (char c : s) u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (u == "TRUE") {
          out->AppendInt(1);
          return true;
        }
        if (u == "FALSE") {
          out->AppendInt(0);
          return true;
        }
        return false;
      }
      case TypeId::kInt:
      case TypeId::kBigint: {
        int64_t v;
        if (!text::ParseInt64(s, &v)) {
          // Flink reads "3.75" as 3: a decimal number is truncated toward zero.
          size_t dot = s.find('.');
          if (dot == std::string_view::npos || !text::ParseInt64(s.substr(0, dot), &v)) {
            if (dot != 0 || s.size() < 2) return false;
            v = 0;
          }
          for (size_t k = dot + 1; k < s.size(); ++k) {
            if (s[k] < '0' || s[k] > '9') return false;
          }
        }
        if (to.id == TypeId::kInt && (v < INT32_MIN || v > INT32_MAX)) return false;
        out->AppendInt(v);
        return true;
      }
      case TypeId::kDouble: {
        double d;
        if (!text::ParseDouble(s, &d)) return false;
        out->AppendDouble(d);
        return true;
      }
      case TypeId::kDecimal: {
        int64_t v;
        if (text::ParseDecimal(s, to.precision, to.scale, &v) != text::DecimalParse::kOk)
          return false;
        out->AppendInt(v);
        return true;
      }
      case TypeId::kTimestamp:
      case TypeId::kTimestampLtz: {
        auto ts = ParseTimestamp(s);
        if (!ts) return false;
        out->AppendInt(TruncateMicros(*ts, to.precision));
        return true;
      }
      case TypeId::kDate: {
        auto d = ParseDate(s);
        if (!d) return false;
        out->AppendInt(*d);
        return true;
      }
      default:
        return false;
    }
  }
  if (IsNumericOrBool(from) && IsNumericOrBool(to)) {
    if (to.id == TypeId::kDouble) {
      out->AppendDouble(ToDouble(in, i));
      return true;
    }
    if (to.id == TypeId::kBoolean) {
      out->AppendInt(from.id == TypeId::kDouble ? in.f64[i] != 0 : in.i64[i] != 0);
      return true;
    }
    if (to.id == TypeId::kDecimal) {
      int64_t v;
      if (!ToDecimal(in, i, to.precision, to.scale, &v)) return false;
      out->AppendInt(v);
      return true;
    }
    // to INT / BIGINT: truncate toward zero, wrap like Java's narrowing conversion.
    int64_t v;
    if (from.id == TypeId::kDouble) {
      // Java's (int)/(long) of a double saturates at the target range; NaN is 0.
      double d = in.f64[i];
      bool narrow = to.id == TypeId::kInt;
      double hi = narrow ? 2147483647.0 : 9.2233720368547758e18;
      double lo = narrow ? -2147483648.0 : -9.2233720368547758e18;
      if (std::isnan(d)) {
        v = 0;
      } else if (d >= hi) {
        v = narrow ? INT32_MAX : INT64_MAX;
      } else if (d <= lo) {
        v = narrow ? INT32_MIN : INT64_MIN;
      } else {
        v = static_cast<int64_t>(d);
      }
    } else if (from.id == TypeId::kDecimal) {
      v = in.i64[i] / Pow10(from.scale);
    } else {
      v = in.i64[i];
    }
    if (to.id == TypeId::kInt) v = static_cast<int32_t>(static_cast<uint32_t>(v));
    out->AppendInt(v);
    return true;
  }
  if (from.is_timestamp() && to.is_timestamp()) {
    out->AppendInt(TruncateMicros(in.i64[i], to.precision));
    return true;
  }
  if (from.is_timestamp() && to.id == TypeId::kDate) {
    out->AppendInt(FloorDiv(in.i64[i], kMicrosPerDay));
    return true;
  }
  if (from.id == TypeId::kDate && to.is_timestamp()) {
    out->AppendInt(in.i64[i] * kMicrosPerDay);
    return true;
  }
  if (from.id == to.id) {
    out->AppendFrom(in, i);
    return true;
  }
  return false;
}

class CastExpr final : public BoundExpr {
 public:
  CastExpr(BoundExprPtr e, DataType t, bool try_cast)
      : BoundExpr(t), e_(std::move(e)), try_(try_cast) {}
  absl::Status Eval(const Batch& in, EvalContext* ctx, Column* out) const override {
    Column c(e_->type());
    c.Reserve(in.num_rows());
    EDDY_RETURN_IF_ERROR(e_->Eval(in, ctx, &c));
    for (size_t i = 0; i < in.num_rows(); ++i) {
      if (c.IsNull(i)) {
        out->AppendNull();
      } else if (!CastOne(c, i, type_, ctx->arena, out)) {
        if (try_) {
          out->AppendNull();
        } else {
          return absl::InvalidArgumentError(
              fmt::format("CAST of '{}' from {} to {} failed (use TRY_CAST to get NULL instead)",
                          EscapeForMessage(FormatCell(c, i)), c.type.ToString(), type_.ToString()));
        }
      }
    }
    return absl::OkStatus();
  }
  std::string ToString() const override {
    return fmt::format("{}({} AS {})", try_ ? "TRY_CAST" : "CAST", e_->ToString(),
                       type_.ToString());
  }
  std::vector<BoundExprPtr> children() const override { return {e_}; }
  BoundExprPtr WithChildren(std::vector<BoundExprPtr> c) const override {
    return std::make_shared<CastExpr>(c[0], type_, try_);
  }
  std::string_view function_name() const override { return try_ ? "TRY_CAST" : "CAST"; }

 private:
  BoundExprPtr e_;
  bool try_;
};

}  // namespace

BoundExprPtr MakeCast(BoundExprPtr e, DataType t, bool try_cast) {
  t.time_attr = TimeAttr::kNone;
  return std::make_shared<CastExpr>(std::move(e), t, try_cast);
}

bool CanCast(const DataType& from, const DataType& to) {
  if (from.id == TypeId::kNull || from.id == to.id) return true;
  if (to.is_string() || from.is_string()) {
    return !from.is_interval() || to.is_string();
  }
  if (IsNumericOrBool(from) && IsNumericOrBool(to)) return true;
  if ((from.is_timestamp() || from.id == TypeId::kDate) &&
      (to.is_timestamp() || to.id == TypeId::kDate)) {
    return true;
  }
  return false;
}

bool CanImplicitlyCast(const DataType& from, const DataType& to) {
  if (from.id == TypeId::kNull) return true;
  if (from.id == to.id) {
    if (to.id == TypeId::kDecimal) {
      return to.scale >= from.scale && to.precision - to.scale >= from.precision - from.scale;
    }
    return true;
  }
  switch (from.id) {
    case TypeId::kInt:
      return to.id == TypeId::kBigint || to.id == TypeId::kDouble ||
             (to.id == TypeId::kDecimal && to.precision - to.scale >= 10);
    case TypeId::kBigint:
      return to.id == TypeId::kDouble ||
             (to.id == TypeId::kDecimal && to.precision - to.scale >= 18);
    case TypeId::kDecimal:
      return to.id == TypeId::kDouble;
    case TypeId::kTimestamp:
      return to.id == TypeId::kTimestampLtz;
    case TypeId::kTimestampLtz:
      return to.id == TypeId::kTimestamp;
    case TypeId::kDate:
      return to.is_timestamp();
    default:
      return false;
  }
}

std::optional<DataType> CommonType(const DataType& a, const DataType& b) {
  if (a.id == TypeId::kNull) return b;
  if (b.id == TypeId::kNull) return a;
  if (a.id == b.id) {
    DataType t = a;
    t.time_attr = TimeAttr::kNone;
    t.nullable = a.nullable || b.nullable;
    if (a.id == TypeId::kString)
      t.length = (a.length < 0 || b.length < 0) ? -1 : std::max(a.length, b.length);
    if (a.is_timestamp()) t.precision = std::max(a.precision, b.precision);
    if (a.id == TypeId::kDecimal) {
      int scale = std::max(a.scale, b.scale);
      int digits = std::max(a.precision - a.scale, b.precision - b.scale);
      t = DataType::Decimal(std::min(18, digits + scale), scale);
    }
    return t;
  }
  if (a.is_numeric() && b.is_numeric()) {
    if (a.id == TypeId::kDouble || b.id == TypeId::kDouble) return DataType::Double();
    if (a.id == TypeId::kDecimal || b.id == TypeId::kDecimal) {
      int scale = std::max(a.scale, b.scale);
      int digits = std::max(IntegerDigits(a), IntegerDigits(b));
      return DataType::Decimal(std::min(18, digits + scale), scale);
    }
    return DataType::Bigint();
  }
  if (a.is_timestamp() && b.is_timestamp()) {
    return DataType::TimestampLtz(std::max(a.precision, b.precision));
  }
  if ((a.is_timestamp() && b.id == TypeId::kDate) || (b.is_timestamp() && a.id == TypeId::kDate)) {
    return a.is_timestamp() ? DataType::Timestamp(a.precision) : DataType::Timestamp(b.precision);
  }
  // A string compared with another type is converted to that type (Calcite's implicit coercion
  // of character literals in comparisons).
  if (a.is_string() &&
      (b.is_numeric() || b.is_timestamp() || b.id == TypeId::kDate || b.id == TypeId::kBoolean)) {
    DataType t = b;
    t.time_attr = TimeAttr::kNone;
    return t;
  }
  if (b.is_string() &&
      (a.is_numeric() || a.is_timestamp() || a.id == TypeId::kDate || a.id == TypeId::kBoolean)) {
    DataType t = a;
    t.time_attr = TimeAttr::kNone;
    return t;
  }
  return std::nullopt;
}

}  // namespace eddy
