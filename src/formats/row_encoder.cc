// CSV and JSON Lines encoders (see row_encoder.h for the exact output rules).

#include "formats/row_encoder.h"

#include <algorithm>

#include "base/status.h"
#include "formats/field_convert.h"
#include "types/text_codec.h"
#include "types/value.h"

namespace eddy {

RowEncoder::~RowEncoder() = default;

namespace {

// Appends the text of a non-NULL int64-physical value that Flink writes as a JSON/CSV string
// (DATE, TIMESTAMP, TIMESTAMP_LTZ, DECIMAL); returns false for types written as numbers.
bool AppendStringLike(const DataType& t, int64_t v, char ts_separator, bool plain_decimal,
                      std::string* out) {
  switch (t.id) {
    case TypeId::kDate:
      text::AppendDate(v, out);
      return true;
    case TypeId::kTimestamp:
      text::AppendTimestamp(v, ts_separator, false, out);
      return true;
    case TypeId::kTimestampLtz:
      text::AppendTimestamp(v, ts_separator, true, out);
      return true;
    case TypeId::kDecimal:
      text::AppendJavaDecimal(v, t.scale, plain_decimal, out);
      return true;
    default:
      return false;
  }
}

// Appends a value Flink writes as a number or boolean: BOOLEAN, INT, BIGINT, INTERVAL.
void AppendNumber(const DataType& t, int64_t v, std::string* out) {
  switch (t.id) {
    case TypeId::kBoolean:
      out->append(v ? "true" : "false");
      break;
    case TypeId::kIntervalDayTime:
      text::AppendInt(v / 1000, out);
      break;  // milliseconds
    default:
      text::AppendInt(v, out);
  }
}

class CsvEncoder final : public RowEncoder {
 public:
  CsvEncoder(const Schema& schema, const CsvOptions& o) : o_(o) {
    for (const Field& f : schema.fields) types_.push_back(f.type);
    int min = std::max<int>(static_cast<unsigned char>(o.field_delimiter), '\n');
    if (o.quote != '\0') min = std::max<int>(min, static_cast<unsigned char>(o.quote));
    min_safe_ = min + 1;
  }

  void Encode(const Batch& b, size_t row, std::string* out) override {
    EDDY_CHECK(b.columns.size() == types_.size());
    for (size_t c = 0; c < types_.size(); ++c) {
      if (c > 0) out->push_back(o_.field_delimiter);
      const Column& col = b.columns[c];
      if (col.IsNull(row)) {
        if (o_.has_null_literal) out->append(o_.null_literal);
        continue;
      }
      switch (col.type.physical()) {
        case Physical::kString:
          AppendString(col.str[row], out);
          break;
        case Physical::kDouble:
          out->append(FormatDouble(col.f64[row]));
          break;
        case Physical::kInt64:
          scratch_.clear();
          if (AppendStringLike(types_[c], col.i64[row], ' ', false, &scratch_)) {
            AppendString(scratch_, out);
          } else {
            AppendNumber(types_[c], col.i64[row], out);
          }
          break;
      }
    }
    out->push_back('\n');
  }

 private:
  bool NeedsQuotes(std::string_view s) const {
    if (o_.quote == '\0') return false;
    const unsigned char esc = static_cast<unsigned char>(o_.escape);
    if (o_.minimal_quoting) {
      for (char ch : s) {
        if (ch == o_.field_delimiter || ch == o_.quote || ch == '\r' || ch == '\n' ||
            (esc != 0 && static_cast<unsigned char>(ch) == esc)) {
          return true;
        }
      }
      return false;
    }
    // Jackson CsvEncoder._mayNeedQuotes with STRICT_CHECK_FOR_QUOTING off: values longer than
    // MAX_QUOTE_CHECK (24) Java chars are always quoted.
    if (s.size() > 24) {
      size_t units = 0;
      for (char ch : s) {
        unsigned char u = static_cast<unsigned char>(ch);
        if ((u & 0xC0) != 0x80) ++units;  // one per UTF-8 sequence ...
        if (u >= 0xF0) ++units;           // ... two for a supplementary character
      }
      if (units > 24) return true;
    }
    for (char ch : s) {
      unsigned char u = static_cast<unsigned char>(ch);
      if (u < min_safe_ || (esc != 0 && u == esc)) return true;
    }
    return false;
  }

  void AppendString(std::string_view s, std::string* out) const {
    if (!NeedsQuotes(s)) {
      out->append(s);
      return;
    }
    out->push_back(o_.quote);
    for (char ch : s) {
      if (ch == o_.quote || (o_.escape != '\0' && ch == o_.escape)) out->push_back(ch);
      out->push_back(ch);
    }
    out->push_back(o_.quote);
  }

  const CsvOptions o_;
  std::vector<DataType> types_;
  int min_safe_ = 0;
  std::string scratch_;
};

class JsonEncoder final : public RowEncoder {
 public:
  JsonEncoder(const Schema& schema, const JsonOptions& o) : o_(o) {
    for (const Field& f : schema.fields) {
      types_.push_back(f.type);
      std::string key;
      text::AppendJsonString(f.name, &key);
      key.push_back(':');
      keys_.push_back(std::move(key));
    }
  }

  void Encode(const Batch& b, size_t row, std::string* out) override {
    EDDY_CHECK(b.columns.size() == types_.size());
    out->push_back('{');
    bool first = true;
    const char sep = o_.timestamp_iso8601 ? 'T' : ' ';
    for (size_t c = 0; c < types_.size(); ++c) {
      const Column& col = b.columns[c];
      const bool null = col.IsNull(row);
      if (null && o_.ignore_null_fields) continue;
      if (!first) out->push_back(',');
      first = false;
      out->append(keys_[c]);
      if (null) {
        out->append("null");
        continue;
      }
      switch (col.type.physical()) {
        case Physical::kString:
          text::AppendJsonString(col.str[row], out);
          break;
        case Physical::kDouble: {
          std::string d = FormatDouble(col.f64[row]);
          if (d == "NaN" || d == "Infinity" || d == "-Infinity") {
            text::AppendJsonString(d, out);
          } else {
            out->append(d);
          }
          break;
        }
        case Physical::kInt64: {
          const DataType& t = types_[c];
          if (t.id == TypeId::kDecimal) {
            text::AppendJavaDecimal(col.i64[row], t.scale, o_.encode_decimal_as_plain_number, out);
            break;
          }
          scratch_.clear();
          if (AppendStringLike(t, col.i64[row], sep, false, &scratch_)) {
            text::AppendJsonString(scratch_, out);
          } else {
            AppendNumber(t, col.i64[row], out);
          }
          break;
        }
      }
    }
    out->append("}\n");
  }

 private:
  const JsonOptions o_;
  std::vector<DataType> types_;
  std::vector<std::string> keys_;  // "name": with escaping
  std::string scratch_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RowEncoder>> MakeCsvEncoder(const Schema& schema,
                                                           const CsvOptions& options) {
  EDDY_RETURN_IF_ERROR(formats_internal::CheckCsvOptions(options));
  return std::unique_ptr<RowEncoder>(new CsvEncoder(schema, options));
}

absl::StatusOr<std::unique_ptr<RowEncoder>> MakeJsonEncoder(const Schema& schema,
                                                            const JsonOptions& options) {
  return std::unique_ptr<RowEncoder>(new JsonEncoder(schema, options));
}

}  // namespace eddy
