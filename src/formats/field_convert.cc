#include "formats/field_convert.h"

#include <fmt/format.h>

#include "base/utf8.h"
#include "types/time_util.h"

namespace eddy::formats_internal {

Convert FieldConverter::AppendTextSlow(std::string_view s, Column* col) {
  switch (kind) {
    case Kind::kBool: {
      bool b;
      if (!text::ParseBool(s, &b)) return Convert::kInvalid;
      col->AppendInt(b ? 1 : 0);
      return Convert::kOk;
    }
    case Kind::kDouble: {
      double d;
      if (!text::ParseDouble(s, &d)) return Convert::kInvalid;
      col->AppendDouble(d);
      return Convert::kOk;
    }
    case Kind::kDecimal: {
      int64_t v;
      switch (text::ParseDecimal(s, type.precision, type.scale, &v)) {
        case text::DecimalParse::kOk:
          col->AppendInt(v);
          return Convert::kOk;
        case text::DecimalParse::kOverflow:
          return Convert::kOverflow;
        case text::DecimalParse::kInvalid:
          return Convert::kInvalid;
      }
      return Convert::kInvalid;
    }
    case Kind::kDate: {
      auto d = ParseDate(s);
      if (!d) return Convert::kInvalid;
      col->AppendInt(*d);
      return Convert::kOk;
    }
    case Kind::kIntervalMillis: {
      int64_t v;
      if (!text::ParseInt64(s, &v) || v > INT64_MAX / 1000 || v < INT64_MIN / 1000) {
        return Convert::kInvalid;
      }
      col->AppendInt(v * 1000);
      return Convert::kOk;
    }
    case Kind::kString:
      col->AppendString(s);
      return Convert::kOk;
    default:
      return AppendText(s, col);
  }
}

absl::StatusOr<std::vector<FieldConverter>> MakeConverters(const Schema& schema,
                                                           const char* format) {
  std::vector<FieldConverter> out;
  out.reserve(schema.size());
  for (const Field& f : schema.fields) {
    FieldConverter c;
    c.type = f.type;
    c.name = f.name;
    switch (f.type.id) {
      case TypeId::kBoolean:
        c.kind = Kind::kBool;
        break;
      case TypeId::kInt:
        c.kind = Kind::kInt;
        break;
      case TypeId::kBigint:
        c.kind = Kind::kBigint;
        break;
      case TypeId::kDouble:
        c.kind = Kind::kDouble;
        break;
      case TypeId::kDecimal:
        c.kind = Kind::kDecimal;
        break;
      case TypeId::kString:
        c.kind = Kind::kString;
        break;
      case TypeId::kTimestamp:
      case TypeId::kTimestampLtz:
        c.kind = Kind::kTimestamp;
        break;
      case TypeId::kDate:
        c.kind = Kind::kDate;
        break;
      case TypeId::kIntervalYearMonth:
        c.kind = Kind::kIntervalMonths;
        break;
      case TypeId::kIntervalDayTime:
        c.kind = Kind::kIntervalMillis;
        break;
      case TypeId::kNull:
        return absl::InvalidArgumentError(
            fmt::format("{} format: field '{}' has type {}, which cannot be read", format, f.name,
                        TypeName(f.type)));
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::string TypeName(const DataType& t) {
  DataType plain = t;
  plain.time_attr = TimeAttr::kNone;
  return plain.ToString(false);
}

std::string Shorten(std::string_view text) { return EscapeForMessage(text, 60); }

std::string ConvertError(const FieldConverter& f, std::string_view text, Convert what) {
  if (what == Convert::kOverflow) {
    return fmt::format("field '{}': '{}' does not fit {}", f.name, Shorten(text), TypeName(f.type));
  }
  return fmt::format("field '{}': '{}' is not a valid {}", f.name, Shorten(text), TypeName(f.type));
}

absl::Status CheckCsvOptions(const CsvOptions& o) {
  auto bad = [](char c) { return c == '\n' || c == '\r'; };
  if (bad(o.field_delimiter) || o.field_delimiter == '\0') {
    return absl::InvalidArgumentError(
        "CSV format: 'csv.field-delimiter' must be one character "
        "other than a line break");
  }
  if (o.quote != '\0' && (o.quote == o.field_delimiter || bad(o.quote))) {
    return absl::InvalidArgumentError(
        "CSV format: 'csv.quote-character' must differ from the field delimiter and line breaks");
  }
  if (o.escape != '\0' && (o.escape == o.field_delimiter || o.escape == o.quote || bad(o.escape))) {
    return absl::InvalidArgumentError(
        "CSV format: 'csv.escape-character' must differ from the delimiter, the quote and line "
        "breaks");
  }
  return absl::OkStatus();
}

}  // namespace eddy::formats_internal
