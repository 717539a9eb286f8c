// JSON Lines decoder: Flink's `json` format, read side (see row_decoder.h for the semantics).
//
// Uses simdjson's On-Demand API on a padded copy of the line. Values of a record are staged in
// one-row columns (fields arrive in any order and a later duplicate key replaces an earlier one)
// and appended to the batch only when the whole record is good. Strings without escapes are views
// into the caller's line; unescaped strings and minified nested JSON are copied into the arena.

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <unordered_map>

#include "base/status.h"
#include "formats/field_convert.h"
#include "formats/row_decoder.h"
#include "simdjson.h"

namespace eddy {
namespace {

using formats_internal::Convert;
using formats_internal::FieldConverter;
using formats_internal::Kind;
namespace ondemand = simdjson::ondemand;

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && static_cast<unsigned char>(s.back()) <= ' ') s.remove_suffix(1);
  return s;
}

// 1-based column of the '{' or '[' that opens nesting level kMaxJsonDepth + 1 in `line`, or 0
// when the line nests no deeper than kMaxJsonDepth (brackets inside strings do not count).
size_t TooDeepAt(std::string_view line) {
  size_t opens = 0;
  for (char ch : line) opens += (ch == '{') | (ch == '[');
  if (opens <= kMaxJsonDepth) return 0;  // cannot nest deeper than it has brackets
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (in_string) {
      if (ch == '\\') {
        ++i;
      } else if (ch == '"') {
        in_string = false;
      }
    } else if (ch == '"') {
      in_string = true;
    } else if (ch == '{' || ch == '[') {
      if (++depth > kMaxJsonDepth) return i + 1;
    } else if ((ch == '}' || ch == ']') && depth > 0) {
      --depth;
    }
  }
  return 0;
}

bool IsIntegerKind(Kind k) {
  return k == Kind::kInt || k == Kind::kBigint || k == Kind::kIntervalMonths ||
         k == Kind::kIntervalMillis;
}

class JsonDecoder final : public RowDecoder {
 public:
  JsonDecoder(std::vector<FieldConverter> fields, const JsonOptions& o)
      : fields_(std::move(fields)),
        ignore_errors_(o.ignore_parse_errors),
        fail_on_missing_(o.fail_on_missing_field) {
    for (size_t i = 0; i < fields_.size(); ++i) {
      stage_.emplace_back(fields_[i].type);
      index_.emplace(fields_[i].name, static_cast<int>(i));  // first of duplicate names wins
    }
  }

  bool Decode(std::string_view line, Batch* out, Arena* arena, DecodeError* err) override;

 private:
  int Lookup(std::string_view key, size_t hint) const {
    if (hint < fields_.size() && fields_[hint].name == key) return static_cast<int>(hint);
    auto it = index_.find(key);
    return it == index_.end() ? -1 : it->second;
  }

  // Offset of `p` (inside buf_) in the line, 1-based.
  size_t ColumnOf(const char* p) const { return static_cast<size_t>(p - buf_.data()) + 1; }

  // The same bytes as `s` (a view into buf_) but inside the caller's line.
  std::string_view InLine(std::string_view s) const {
    return std::string_view(line_ + (s.data() - buf_.data()), s.size());
  }

  // Converts the value of field `c` into stage_[c]. Returns false with *err set for a field error
  // (which ignore_parse_errors turns into NULL) and sets *syntax for malformed JSON.
  bool ConvertValue(size_t c, ondemand::value& v, Arena* arena, DecodeError* err, bool* syntax);

  bool SyntaxError(ondemand::document& doc, simdjson::error_code e, DecodeError* err) {
    const char* loc = nullptr;
    err->column = doc.current_location().get(loc) == simdjson::SUCCESS ? ColumnOf(loc) : 1;
    err->reason = fmt::format("malformed JSON: {}", simdjson::error_message(e));
    return false;
  }

  std::vector<FieldConverter> fields_;
  std::unordered_map<std::string_view, int> index_;  // views into fields_[i].name
  const bool ignore_errors_;
  const bool fail_on_missing_;
  std::vector<Column> stage_;
  ondemand::parser parser_;
  std::vector<char> buf_;  // padded copy of the line
  const char* line_ = nullptr;
};

bool JsonDecoder::ConvertValue(size_t c, ondemand::value& v, Arena* arena, DecodeError* err,
                               bool* syntax) {
  FieldConverter& f = fields_[c];
  Column* col = &stage_[c];
  std::string_view token = TrimRight(v.raw_json_token());
  ondemand::json_type type;
  if (v.type().get(type) != simdjson::SUCCESS) {
    *syntax = true;
    return false;
  }
  auto field_error = [&](std::string_view shown, Convert what) {
    err->column = ColumnOf(token.data());
    err->reason = formats_internal::ConvertError(f, shown, what);
    return false;
  };
  switch (type) {
    case ondemand::json_type::null:
      col->AppendNull();
      return true;
    case ondemand::json_type::string: {
      std::string_view s;
      if (v.get_string().get(s) != simdjson::SUCCESS) {
        *syntax = true;
        return false;
      }
      if (f.kind == Kind::kString) {
        // Escapes always shrink the text, so equal length means the raw bytes are the value.
        if (token.size() >= 2 && s.size() == token.size() - 2) {
          col->AppendString(InLine(token.substr(1, s.size())));
        } else {
          col->AppendString(arena->Add(s));
        }
        return true;
      }
      Convert r = f.AppendText(text::Trim(s), col);
      if (r != Convert::kOk) return field_error(s, r);
      return true;
    }
    case ondemand::json_type::number: {
      if (f.kind == Kind::kString) {
        col->AppendString(InLine(token));
        return true;
      }
      if (f.kind == Kind::kTimestamp || f.kind == Kind::kDate || f.kind == Kind::kBool) {
        return field_error(token, Convert::kInvalid);
      }
      Convert r = f.AppendText(token, col);
      if (r == Convert::kInvalid && IsIntegerKind(f.kind)) {
        // Jackson's asInt/asLong: a fractional number in range is truncated toward zero.
        double d;
        if (text::ParseDouble(token, &d) && std::isfinite(d)) {
          double t = std::trunc(d);
          double lo = f.kind == Kind::kInt || f.kind == Kind::kIntervalMonths
                          ? -2147483648.0
                          : -9.2233720368547758e18;
          double hi = f.kind == Kind::kInt || f.kind == Kind::kIntervalMonths
                          ? 2147483647.0
                          : 9.2233720368547748e18;
          if (t >= lo && t <= hi) {
            int64_t i = static_cast<int64_t>(t);
            col->AppendInt(f.kind == Kind::kIntervalMillis ? i * 1000 : i);
            return true;
          }
        }
      }
      if (r != Convert::kOk) return field_error(token, r);
      return true;
    }
    case ondemand::json_type::boolean: {
      bool b;
      if (v.get_bool().get(b) != simdjson::SUCCESS) {
        *syntax = true;
        return false;
      }
      if (f.kind == Kind::kString) {
        col->AppendString(b ? std::string_view("true") : std::string_view("false"));
        return true;
      }
      if (f.kind == Kind::kBool) {
        col->AppendInt(b ? 1 : 0);
        return true;
      }
      return field_error(b ? "true" : "false", Convert::kInvalid);
    }
    case ondemand::json_type::object:
    case ondemand::json_type::array: {
      std::string_view raw;
      simdjson::error_code e;
      if (type == ondemand::json_type::object) {
        ondemand::object o;
        e = v.get_object().get(o);
        if (!e) e = o.raw_json().get(raw);
      } else {
        ondemand::array a;
        e = v.get_array().get(a);
        if (!e) e = a.raw_json().get(raw);
      }
      if (e) {
        *syntax = true;
        return false;
      }
      raw = TrimRight(raw);
      if (f.kind != Kind::kString) return field_error(raw, Convert::kInvalid);
      // Flink stores JsonNode.toString(): compact JSON.
      char* dst = arena->Allocate(raw.size());
      size_t len = 0;
      if (simdjson::minify(raw.data(), raw.size(), dst, len) != simdjson::SUCCESS) {
        std::memcpy(dst, raw.data(), raw.size());
        len = raw.size();
      }
      col->AppendString(std::string_view(dst, len));
      return true;
    }
  }
  *syntax = true;
  return false;
}

bool JsonDecoder::Decode(std::string_view line, Batch* out, Arena* arena, DecodeError* err) {
  EDDY_CHECK(out->columns.size() == fields_.size());
  if (size_t at = TooDeepAt(line)) {
    err->column = at;
    err->reason = fmt::format("JSON nesting is deeper than {} levels", kMaxJsonDepth);
    return false;
  }
  const size_t need = line.size() + simdjson::SIMDJSON_PADDING;
  if (buf_.size() < need) buf_.resize(need);
  if (!line.empty()) std::memcpy(buf_.data(), line.data(), line.size());
  line_ = line.data();
  for (Column& c : stage_) c.Clear();

  ondemand::document doc;
  simdjson::error_code e = parser_.iterate(buf_.data(), line.size(), buf_.size()).get(doc);
  ondemand::object obj;
  if (!e) e = doc.get_object().get(obj);
  if (e) {
    err->column = 1;
    err->reason = e == simdjson::INCORRECT_TYPE || e == simdjson::EMPTY
                      ? "not a JSON object"
                      : fmt::format("malformed JSON: {}", simdjson::error_message(e));
    return false;
  }
  size_t hint = 0;
  for (auto field_result : obj) {
    ondemand::field field;
    if ((e = std::move(field_result).get(field))) return SyntaxError(doc, e, err);
    std::string_view key;
    if ((e = field.unescaped_key().get(key))) return SyntaxError(doc, e, err);
    int c = Lookup(key, hint);
    if (c < 0) continue;  // not in the schema: skipped by the iterator
    hint = static_cast<size_t>(c) + 1;
    stage_[c].Clear();
    bool syntax = false;
    if (!ConvertValue(static_cast<size_t>(c), field.value(), arena, err, &syntax)) {
      if (syntax) {
        stage_[c].Clear();
        return SyntaxError(doc, simdjson::TAPE_ERROR, err);
      }
      if (!ignore_errors_) return false;
      stage_[c].Clear();
      stage_[c].AppendNull();
    }
  }
  const char* trailing = nullptr;
  if (doc.current_location().get(trailing) == simdjson::SUCCESS) {  // OUT_OF_BOUNDS at the end
    err->column = ColumnOf(trailing);
    err->reason = "unexpected content after the JSON object";
    return false;
  }
  if (fail_on_missing_) {
    for (size_t c = 0; c < fields_.size(); ++c) {
      if (stage_[c].size() == 0) {
        err->column = 1;
        err->reason = fmt::format("field '{}' is missing", fields_[c].name);
        return false;
      }
    }
  }
  for (size_t c = 0; c < fields_.size(); ++c) {
    if (stage_[c].size() == 0) {
      out->columns[c].AppendNull();
    } else {
      out->columns[c].AppendFrom(stage_[c], 0);
    }
  }
  out->kinds.push_back(RowKind::kInsert);
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RowDecoder>> MakeJsonDecoder(const Schema& schema,
                                                            const JsonOptions& options) {
  if (options.ignore_parse_errors && options.fail_on_missing_field) {
    return absl::InvalidArgumentError(
        "JSON format doesn't support 'json.fail-on-missing-field' and "
        "'json.ignore-parse-errors' both enabled");
  }
  EDDY_ASSIGN_OR_RETURN(auto fields, formats_internal::MakeConverters(schema, "JSON"));
  return std::unique_ptr<RowDecoder>(new JsonDecoder(std::move(fields), options));
}

}  // namespace eddy
