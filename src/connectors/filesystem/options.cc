#include "connectors/filesystem/options.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/status.h"
#include "catalog/options.h"

namespace eddy::connectors {

// The 'filesystem' connector's options (Flink's names; 'source.chunk-size' is eddy's).
const catalog::ConfigOption<std::string> kFilePath =
    catalog::TableOption({"filesystem"}, "path")
        .String()
        .Required()
        .Doc(
            "A file, a directory (every file below it, in path order) or a glob pattern; a sink "
            "writes one file, or part files into a directory.");

namespace {

const auto kFileFormat = catalog::TableOption({"filesystem"}, "format")
                             .Enum({"csv", "json"})
                             .Required()
                             .Doc("The format of the files: CSV or JSON Lines.");

const auto kChunkSize =
    catalog::TableOption({"filesystem"}, "source.chunk-size")
        .MemorySize("1 mb")
        .Min(1)
        .Doc(
            "eddy: bytes per chunk of input; chunks are parsed in parallel by the source's "
            "subtasks and read back in file order.");

// Records longer than this are bad rows (file and kafka sources); see docs "Limits".
const auto kMaxRecordSize =
    catalog::TableOption({"filesystem", "kafka", "mqtt"}, "source.max-record-size")
        .MemorySize("64 mb")
        .Range(1, static_cast<int64_t>(kMaxMaxRecordBytes))
        .Doc(
            "eddy: the longest record (a line, or a CSV record with quoted line breaks; a Kafka "
            "record's key or value) a source reads; a longer one is a bad row and reading goes on "
            "after it, with memory bounded even for a file without line breaks.");

// Options of the text formats (Flink's 'csv' and 'json' formats), set as 'csv.<key>'.
const auto kCsvFieldDelimiter = catalog::FormatOption("csv", "field-delimiter")
                                    .Char(',')
                                    .Doc("The field separator; '\\t' is a tab.");
const auto kCsvQuote =
    catalog::FormatOption("csv", "quote-character").Char('"').Doc("The quote character.");
const auto kCsvDisableQuote = catalog::FormatOption("csv", "disable-quote-character")
                                  .Bool(false)
                                  .Doc("true: no quoting at all.");
const auto kCsvEscape =
    catalog::FormatOption("csv", "escape-character")
        .Char()
        .Doc("Makes the next character literal, inside and outside quotes (none by default).");
const auto kCsvNullLiteral =
    catalog::FormatOption("csv", "null-literal")
        .String()
        .Doc("A field with exactly this text is NULL (for every type), and NULL is written as it.");
const auto kCsvAllowComments = catalog::FormatOption("csv", "allow-comments")
                                   .Bool(false)
                                   .Doc("true: lines starting with '#' are skipped.");
const auto kCsvIgnoreParseErrors =
    catalog::FormatOption("csv", "ignore-parse-errors")
        .Bool(false)
        .Doc(
            "true: a field that does not convert is NULL and missing trailing fields are NULL (a "
            "line with too many fields or an unterminated quote is still a bad row).");
const auto kCsvIgnoreFirstLine =
    catalog::FormatOption("csv", "ignore-first-line")
        .Bool(false)
        .Doc("true: the first line of every file (a header) is skipped.");
const auto kJsonIgnoreParseErrors =
    catalog::FormatOption("json", "ignore-parse-errors")
        .Bool(false)
        .Doc(
            "true: a field that does not convert is NULL (a line that is not a JSON object is "
            "still a bad row); cannot be combined with 'json.fail-on-missing-field'.");
const auto kJsonFailOnMissingField =
    catalog::FormatOption("json", "fail-on-missing-field")
        .Bool(false)
        .Doc("true: a missing field is a bad row instead of NULL.");
const auto kJsonTimestampStandard =
    catalog::FormatOption("json", "timestamp-format.standard")
        .Enum("SQL", {"SQL", "ISO-8601"})
        .Doc(
            "How timestamps are written: 'ISO-8601' puts a 'T' between date and time (reading "
            "accepts both).");

// The value of a format option read from `t` with `prefix` ("key.", "value." or "") before its
// format and key. Errors name the table and the key as the table spells it.
template <typename T>
absl::StatusOr<std::optional<T>> FormatValue(const TableDef& t, const std::string& prefix,
                                             const std::string& format,
                                             const catalog::ConfigOption<T>& o) {
  std::string key = prefix + format + "." + o.key();
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

template <typename T>
absl::StatusOr<T> FormatValueOr(const TableDef& t, const std::string& prefix,
                                const std::string& format, const catalog::ConfigOption<T>& o) {
  EDDY_ASSIGN_OR_RETURN(std::optional<T> v, FormatValue(t, prefix, format, o));
  if (v) return *v;
  return o.Parse(*o.spec().default_value);
}

}  // namespace

absl::StatusOr<FileFormatOptions> ParseFileFormatOptions(const TableDef& t) {
  auto format = kFileFormat.Get(t.options);
  if (!format.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("table '{}': {}", t.name, std::string(format.status().message())));
  }
  EDDY_ASSIGN_OR_RETURN(FileFormatOptions o, ParseTextFormatOptions(t, *format, ""));
  auto chunk = kChunkSize.Get(t.options);
  if (!chunk.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("table '{}': {}", t.name, std::string(chunk.status().message())));
  }
  o.chunk_bytes = static_cast<size_t>(*chunk);
  EDDY_ASSIGN_OR_RETURN(o.max_record_bytes, ParseMaxRecordSize(t));
  return o;
}

absl::StatusOr<FileFormatOptions> ParseTextFormatOptions(const TableDef& t,
                                                         const std::string& format,
                                                         const std::string& prefix) {
  FileFormatOptions o;
  o.json = format == "json";
  if (format == "csv") {
    EDDY_ASSIGN_OR_RETURN(o.csv.field_delimiter,
                          FormatValueOr(t, prefix, "csv", kCsvFieldDelimiter));
    EDDY_ASSIGN_OR_RETURN(o.csv.quote, FormatValueOr(t, prefix, "csv", kCsvQuote));
    EDDY_ASSIGN_OR_RETURN(bool no_quote, FormatValueOr(t, prefix, "csv", kCsvDisableQuote));
    if (no_quote) o.csv.quote = '\0';
    EDDY_ASSIGN_OR_RETURN(std::optional<char> esc, FormatValue(t, prefix, "csv", kCsvEscape));
    o.csv.escape = esc.value_or('\0');
    EDDY_ASSIGN_OR_RETURN(std::optional<std::string> null_literal,
                          FormatValue(t, prefix, "csv", kCsvNullLiteral));
    if (null_literal) {
      o.csv.null_literal = *null_literal;
      o.csv.has_null_literal = true;
    }
    EDDY_ASSIGN_OR_RETURN(o.csv.allow_comments, FormatValueOr(t, prefix, "csv", kCsvAllowComments));
    EDDY_ASSIGN_OR_RETURN(o.csv.ignore_parse_errors,
                          FormatValueOr(t, prefix, "csv", kCsvIgnoreParseErrors));
    EDDY_ASSIGN_OR_RETURN(o.ignore_first_line,
                          FormatValueOr(t, prefix, "csv", kCsvIgnoreFirstLine));
  } else if (format == "json") {
    EDDY_ASSIGN_OR_RETURN(o.json_options.ignore_parse_errors,
                          FormatValueOr(t, prefix, "json", kJsonIgnoreParseErrors));
    EDDY_ASSIGN_OR_RETURN(o.json_options.fail_on_missing_field,
                          FormatValueOr(t, prefix, "json", kJsonFailOnMissingField));
    absl::StatusOr<std::string> ts = FormatValueOr(t, prefix, "json", kJsonTimestampStandard);
    if (!ts.ok()) return ts.status();
    o.json_options.timestamp_iso8601 = *ts == "ISO-8601";
  } else {
    return absl::InvalidArgumentError(
        fmt::format("table '{}': unsupported text format '{}'", t.name, format));
  }
  o.framing = {o.csv.field_delimiter, o.csv.quote, o.csv.escape};
  return o;
}

absl::StatusOr<size_t> ParseMaxRecordSize(const TableDef& t) {
  auto n = kMaxRecordSize.Get(t.options);
  if (!n.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("table '{}': {}", t.name, std::string(n.status().message())));
  }
  return static_cast<size_t>(*n);
}

}  // namespace eddy::connectors
