// Text → columnar rows: the `csv` and `json` formats of Flink SQL, decode side.
//
// A RowDecoder turns one record (one line of CSV or one JSON object) into one row appended to a
// Batch. Decoders are built once per table/subtask from the table's physical schema (the columns
// that are read from the data, in order; computed columns and PROCTIME are not part of it).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "types/batch.h"
#include "types/data_type.h"

namespace eddy {

/// Why a record could not be decoded.
struct DecodeError {
  /// 1-based byte column in the record where the offending field starts (for a wrong field
  /// count: where the first extra field starts, or one past the end when fields are missing).
  size_t column = 0;
  /// Human-readable reason naming the field, e.g. "field 'delay': 'abc' is not a valid INT".
  std::string reason;
};

/// Options of the `csv` format. Names and defaults follow Flink's CSV format page
/// (docs/connectors/table/formats/csv): `csv.field-delimiter` (','), `csv.quote-character` ('"'),
/// `csv.disable-quote-character` (quote = '\0'), `csv.allow-comments` (false),
/// `csv.ignore-parse-errors` (false), `csv.escape-character` (disabled = '\0'),
/// `csv.null-literal` (disabled). The options are fixed when a decoder/encoder is built.
struct CsvOptions {
  char field_delimiter = ',';
  /// Quote character; '\0' disables quoting (`csv.disable-quote-character` = true).
  char quote = '"';
  /// `csv.null-literal`: this exact field text reads as NULL and NULL is written as it.
  std::string null_literal;
  bool has_null_literal = false;
  /// `csv.allow-comments`: lines starting with '#' are skipped (Decode returns true, no row).
  bool allow_comments = false;
  /// `csv.ignore-parse-errors`: a bad field becomes NULL, missing trailing fields are NULL and
  /// extra fields are dropped, instead of failing the record. Unterminated quotes still fail.
  bool ignore_parse_errors = false;
  /// `csv.escape-character`; '\0' = none. Inside and outside quotes it makes the next character
  /// literal (`\n`, `\r`, `\t`, `\0` are read as the control characters, as Jackson does).
  char escape = '\0';
  /// eddy extension (not a Flink option): when writing, quote a string only if it contains the
  /// delimiter, the quote, the escape, '\r' or '\n' (RFC 4180 minimal quoting). The default
  /// (false) quotes exactly as Flink's Jackson-based writer does; see MakeCsvEncoder.
  bool minimal_quoting = false;
};

/// Options of the `json` format (Flink's JSON format page, docs/connectors/table/formats/json).
struct JsonOptions {
  /// `json.ignore-parse-errors` (default false): a field whose value does not convert to the
  /// column type becomes NULL instead of failing the record. A line that is not a JSON object
  /// (or is malformed JSON) still fails. Cannot be combined with fail_on_missing_field.
  bool ignore_parse_errors = false;
  /// `json.fail-on-missing-field` (default false): a schema field absent from the object fails
  /// the record instead of reading as NULL.
  bool fail_on_missing_field = false;
  /// `json.timestamp-format.standard` = 'ISO-8601' (default 'SQL'): the writer puts 'T' between
  /// date and time. The reader accepts both forms either way.
  bool timestamp_iso8601 = false;
  /// `json.encode.decimal-as-plain-number` (default false): DECIMAL written as 100 rather than
  /// Jackson's default 1E+2 (see MakeJsonEncoder).
  bool encode_decimal_as_plain_number = false;
  /// `json.ignore-null-fields` (default false): the writer omits fields whose value is NULL.
  bool ignore_null_fields = false;
};

/// Decodes records into rows. Not thread-safe (holds scratch buffers): use one per thread.
class RowDecoder {
 public:
  virtual ~RowDecoder();

  /// Decodes one record (`line`, without the trailing '\n' or "\r\n") and appends exactly one row
  /// (RowKind +I) to `out`, whose columns must match the schema given at construction.
  /// Returns false and fills `*err` when the record is malformed; then NOTHING is appended to any
  /// column or to `out->kinds` (all columns keep equal length).
  /// String values are views into `line` when no unescaping is needed (the caller keeps the line's
  /// buffer alive, e.g. by adopting the chunk into one of `out`'s arenas) or are copied into
  /// `arena`. Exception: with CsvOptions::allow_comments a line starting with '#' returns true and
  /// appends nothing.
  virtual bool Decode(std::string_view line, Batch* out, Arena* arena, DecodeError* err) = 0;
};

/// CSV decoder (Flink `csv` format). Fields map by position to `schema`'s fields.
/// - A wrong field count fails: "expected 5 fields, found 4".
/// - A field quoted with `quote` may contain the delimiter, newlines and doubled quotes ("").
///   A quote is special only at the start of a field; after the closing quote the delimiter or
///   the end of the record must follow.
/// - Empty field: NULL for every type but STRING, which reads "" (Flink: an empty string is NULL
///   for non-string types). A field equal to null_literal (when set) is NULL for every type.
/// - STRING keeps all bytes (no trimming). Other types ignore surrounding whitespace (as Flink's
///   converters trim): BOOLEAN true/false (any case); INT (32-bit, range-checked); BIGINT; DOUBLE
///   (Java syntax incl. NaN, Infinity); DECIMAL(p,s) rounded HALF_UP to s digits, error when the
///   integer digits exceed p-s; TIMESTAMP/TIMESTAMP_LTZ "yyyy-MM-dd[ T]HH:mm[:ss[.f…]][Z]";
///   DATE "yyyy-MM-dd"; INTERVAL YEAR TO MONTH as months and INTERVAL DAY TO SECOND as
///   milliseconds (Flink's CSV representation).
/// Errors: InvalidArgument for a schema type the format cannot read (NULL) or inconsistent
/// options (delimiter equal to the quote or escape, or '\n'/'\r').
absl::StatusOr<std::unique_ptr<RowDecoder>> MakeCsvDecoder(const Schema& schema,
                                                           const CsvOptions& options);

/// Deepest nesting of objects and arrays the JSON decoder accepts (the record's own object is
/// level 1); a deeper record is malformed ("JSON nesting is deeper than 64 levels", with the
/// column of the bracket that goes too deep). Jackson, which Flink uses, allows 1000.
inline constexpr size_t kMaxJsonDepth = 64;

/// JSON Lines decoder (Flink `json` format): one JSON object per record; fields match schema
/// names exactly (case-sensitive, as Flink); other fields are ignored; a missing field or JSON
/// null is NULL; for a duplicated key the last one wins.
/// - Numbers convert to INT/BIGINT (a fractional number is truncated toward zero when in range,
///   as Jackson's asInt/asLong), DOUBLE and DECIMAL (exact text, HALF_UP); numeric columns also
///   accept numeric strings ("42").
/// - STRING takes a string as is, and any other value as its JSON text (objects and arrays
///   minified, numbers as written, true/false).
/// - TIMESTAMP/TIMESTAMP_LTZ/DATE take strings only, parsed as for CSV ('T' or space).
/// - BOOLEAN takes true/false or the strings "true"/"false" (any case).
/// Errors: InvalidArgument when both ignore_parse_errors and fail_on_missing_field are set (as
/// Flink), or for a NULL-typed field.
absl::StatusOr<std::unique_ptr<RowDecoder>> MakeJsonDecoder(const Schema& schema,
                                                            const JsonOptions& options);

}  // namespace eddy
