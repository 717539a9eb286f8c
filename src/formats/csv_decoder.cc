// CSV decoder: Flink's `csv` format, read side (see row_decoder.h for the semantics).
//
// Hot path: an unquoted field is a view [start, delimiter) of the line, converted in place with
// hand-written integer/timestamp parsers; nothing is allocated per field. Values are appended to
// the columns as they are parsed and popped again if the record turns out to be malformed.

#include <fmt/format.h>

#include <cstring>

#include "base/status.h"
#include "formats/field_convert.h"
#include "formats/row_decoder.h"

namespace eddy {

RowDecoder::~RowDecoder() = default;

namespace {

using formats_internal::Convert;
using formats_internal::FieldConverter;
using formats_internal::Kind;

/// Jackson's CsvDecoder reads these escaped characters as control characters.
char Unescape(char c) {
  switch (c) {
    case '0':
      return '\0';
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    default:
      return c;
  }
}

class CsvDecoder final : public RowDecoder {
 public:
  CsvDecoder(std::vector<FieldConverter> fields, const CsvOptions& o)
      : fields_(std::move(fields)),
        delim_(o.field_delimiter),
        quote_(o.quote),
        escape_(o.escape),
        has_null_(o.has_null_literal),
        null_literal_(o.null_literal),
        allow_comments_(o.allow_comments),
        ignore_errors_(o.ignore_parse_errors) {}

  bool Decode(std::string_view line, Batch* out, Arena* arena, DecodeError* err) override {
    EDDY_CHECK(out->columns.size() == fields_.size());
    if (allow_comments_ && !line.empty() && line[0] == '#') return true;
    return escape_ != '\0' ? DecodeImpl<true>(line, out, arena, err)
                           : DecodeImpl<false>(line, out, arena, err);
  }

 private:
  template <bool kEscape>
  bool DecodeImpl(std::string_view line, Batch* out, Arena* arena, DecodeError* err);

  // Converts one field's text and appends it to column `c`. `stable` is false when `text`
  // lives in scratch_ (unescaped) and must be copied before being kept. Returns false with
  // *reason set when the value is invalid (nothing appended).
  __attribute__((always_inline)) inline bool AppendField(size_t c, std::string_view text,
                                                         bool stable, Column* col, Arena* arena,
                                                         std::string* reason);

  // Number of fields in `line`, for the wrong-count message.
  size_t CountFields(std::string_view line) const;

  void Fail(Batch* out, size_t appended, size_t column, std::string reason, DecodeError* err) {
    for (size_t k = 0; k < appended; ++k) formats_internal::PopBack(&out->columns[k]);
    err->column = column;
    err->reason = std::move(reason);
  }

  std::vector<FieldConverter> fields_;
  const char delim_;
  const char quote_;
  const char escape_;
  const bool has_null_;
  const std::string null_literal_;
  const bool allow_comments_;
  const bool ignore_errors_;
  std::string scratch_;  // unescaped field text, reused across fields
};

inline bool CsvDecoder::AppendField(size_t c, std::string_view text, bool stable, Column* col,
                                    Arena* arena, std::string* reason) {
  FieldConverter& f = fields_[c];
  if (has_null_ && text == null_literal_) {
    col->AppendNull();
    return true;
  }
  if (f.kind == Kind::kString) {
    col->AppendString(stable ? text : arena->Add(text));
    return true;
  }
  if (text.empty()) {
    col->AppendNull();
    return true;
  }
  std::string_view t = text;
  if (static_cast<unsigned char>(t.front()) <= ' ' || static_cast<unsigned char>(t.back()) <= ' ') {
    t = text::Trim(t);
  }
  Convert r = f.AppendText(t, col);
  if (r == Convert::kOk) return true;
  if (ignore_errors_) {
    col->AppendNull();
    return true;
  }
  *reason = formats_internal::ConvertError(f, text, r);
  return false;
}

template <bool kEscape>
bool CsvDecoder::DecodeImpl(std::string_view line, Batch* out, Arena* arena, DecodeError* err) {
  const char* const begin = line.data();
  const char* const end = begin + line.size();
  const size_t ncols = fields_.size();
  const char delim = delim_;
  const char quote = quote_;
  const char esc = escape_;
  const char* p = begin;
  bool more = true;  // a field starts at p
  std::string reason;
  for (size_t c = 0; c < ncols; ++c) {
    Column* col = &out->columns[c];
    if (!more) {
      if (ignore_errors_) {
        for (; c < ncols; ++c) out->columns[c].AppendNull();
        break;
      }
      Fail(out, c, line.size() + 1, fmt::format("expected {} fields, found {}", ncols, c), err);
      return false;
    }
    const char* const fstart = p;
    std::string_view text;
    bool stable = true;
    if (quote != '\0' && p < end && *p == quote) {
      // Quoted field: find the closing quote, noting whether "" or escapes need rewriting.
      const char* q = p + 1;
      bool rewrite = false;
      const char* close = nullptr;
      while (q < end) {
        const char* hit;
        if constexpr (kEscape) {
          hit = q;
          while (hit < end && *hit != quote && *hit != esc) ++hit;
          if (hit == end) hit = nullptr;
        } else {
          hit = static_cast<const char*>(std::memchr(q, quote, static_cast<size_t>(end - q)));
        }
        if (hit == nullptr) break;
        if (kEscape && *hit == esc) {
          if (hit + 1 >= end) break;
          rewrite = true;
          q = hit + 2;
          continue;
        }
        if (hit + 1 < end && hit[1] == quote) {
          rewrite = true;
          q = hit + 2;
          continue;
        }
        close = hit;
        break;
      }
      if (close == nullptr) {
        const std::string& name = fields_[c].name;
        Fail(out, c, static_cast<size_t>(fstart - begin) + 1,
             fmt::format("field '{}': unterminated quoted field", name), err);
        return false;
      }
      if (!rewrite) {
        text = std::string_view(p + 1, static_cast<size_t>(close - p - 1));
      } else {
        scratch_.clear();
        for (const char* r = p + 1; r < close; ++r) {
          if (*r == quote) {
            scratch_.push_back(quote);
            ++r;  // the second quote of ""
          } else if (kEscape && *r == esc) {
            scratch_.push_back(Unescape(*++r));
          } else {
            scratch_.push_back(*r);
          }
        }
        text = scratch_;
        stable = false;
      }
      p = close + 1;
      if (p < end && *p != delim) {
        Fail(out, c, static_cast<size_t>(p - begin) + 1,
             fmt::format("field '{}': unexpected character after the closing quote",
                         fields_[c].name),
             err);
        return false;
      }
    } else {
      if constexpr (kEscape) {
        while (p < end && *p != delim && *p != esc) ++p;
        if (p < end && *p == esc) {
          scratch_.assign(fstart, p);
          while (p < end && *p != delim) {
            if (*p == esc && p + 1 < end) {
              scratch_.push_back(Unescape(p[1]));
              p += 2;
            } else {
              scratch_.push_back(*p++);
            }
          }
          stable = false;
          text = scratch_;
        } else {
          text = std::string_view(fstart, static_cast<size_t>(p - fstart));
        }
      } else {
        while (p < end && *p != delim) ++p;
        text = std::string_view(fstart, static_cast<size_t>(p - fstart));
      }
    }
    // p is at the delimiter or the end.
    if (p < end) {
      ++p;
    } else {
      more = false;
    }
    if (!AppendField(c, text, stable, col, arena, &reason)) {
      Fail(out, c, static_cast<size_t>(fstart - begin) + 1, std::move(reason), err);
      return false;
    }
  }
  if (more) {
    Fail(out, ncols, static_cast<size_t>(p - begin) + 1,
         fmt::format("expected {} fields, found {}", ncols, CountFields(line)), err);
    return false;
  }
  out->kinds.push_back(RowKind::kInsert);
  return true;
}

size_t CsvDecoder::CountFields(std::string_view line) const {
  size_t n = 1;
  size_t i = 0;
  bool field_start = true;
  while (i < line.size()) {
    char ch = line[i];
    if (field_start && quote_ != '\0' && ch == quote_) {
      ++i;
      while (i < line.size()) {
        if (escape_ != '\0' && line[i] == escape_) {
          i += 2;
        } else if (line[i] == quote_) {
          if (i + 1 < line.size() && line[i + 1] == quote_) {
            i += 2;
          } else {
            ++i;
            break;
          }
        } else {
          ++i;
        }
      }
      field_start = false;
      continue;
    }
    field_start = false;
    if (escape_ != '\0' && ch == escape_) {
      i += 2;
      continue;
    }
    if (ch == delim_) {
      ++n;
      field_start = true;
    }
    ++i;
  }
  return n;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RowDecoder>> MakeCsvDecoder(const Schema& schema,
                                                           const CsvOptions& options) {
  EDDY_RETURN_IF_ERROR(formats_internal::CheckCsvOptions(options));
  EDDY_ASSIGN_OR_RETURN(auto fields, formats_internal::MakeConverters(schema, "CSV"));
  return std::unique_ptr<RowDecoder>(new CsvDecoder(std::move(fields), options));
}

}  // namespace eddy
