#include "connectors/filesystem/options.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/status.h"
#include "base/strings.h"

namespace eddy::connectors {

namespace {
absl::StatusOr<bool> Bool(const TableDef& t, const std::string& key, bool def) {
  std::string v = t.Option(key);
  if (v.empty()) return def;
  if (v == "true" || v == "TRUE") return true;
  if (v == "false" || v == "FALSE") return false;
  return absl::InvalidArgumentError(
      fmt::format("table '{}': option '{}' must be 'true' or 'false', not '{}'", t.name, key, v));
}

absl::StatusOr<char> Char(const TableDef& t, const std::string& key, char def) {
  std::string v = t.Option(key);
  if (v.empty()) return def;
  if (v == "\\t") return '\t';
  if (v.size() != 1) {
    return absl::InvalidArgumentError(fmt::format(
        "table '{}': option '{}' must be a single character, not '{}'", t.name, key, v));
  }
  return v[0];
}
}  // namespace

absl::StatusOr<FileFormatOptions> ParseFileFormatOptions(const TableDef& t) {
  std::string format = t.Option("format", "");
  if (format.empty()) {
    return absl::InvalidArgumentError(fmt::format(
        "table '{}': the filesystem connector needs a 'format' option ('csv' or 'json')", t.name));
  }
  if (format != "json" && format != "csv") {
    return absl::InvalidArgumentError(fmt::format(
        "table '{}': unsupported format '{}' (eddy reads 'csv' and 'json')", t.name, format));
  }
  return ParseTextFormatOptions(t, format, "");
}

absl::StatusOr<FileFormatOptions> ParseTextFormatOptions(const TableDef& t,
                                                         const std::string& format,
                                                         const std::string& prefix) {
  FileFormatOptions o;
  o.json = format == "json";
  auto fd = Char(t, prefix + "csv.field-delimiter", ',');
  if (!fd.ok()) return fd.status();
  o.csv.field_delimiter = *fd;
  auto q = Char(t, prefix + "csv.quote-character", '"');
  if (!q.ok()) return q.status();
  o.csv.quote = *q;
  auto dq = Bool(t, prefix + "csv.disable-quote-character", false);
  if (!dq.ok()) return dq.status();
  if (*dq) o.csv.quote = '\0';
  auto esc = Char(t, prefix + "csv.escape-character", '\0');
  if (!esc.ok()) return esc.status();
  o.csv.escape = *esc;
  if (t.options.count(prefix + "csv.null-literal")) {
    o.csv.null_literal = t.Option(prefix + "csv.null-literal");
    o.csv.has_null_literal = true;
  }
  auto ac = Bool(t, prefix + "csv.allow-comments", false);
  if (!ac.ok()) return ac.status();
  o.csv.allow_comments = *ac;
  auto ipe = Bool(t, prefix + "csv.ignore-parse-errors", false);
  if (!ipe.ok()) return ipe.status();
  o.csv.ignore_parse_errors = *ipe;
  auto ifl = Bool(t, prefix + "csv.ignore-first-line", false);
  if (!ifl.ok()) return ifl.status();
  o.ignore_first_line = *ifl;
  auto jipe = Bool(t, prefix + "json.ignore-parse-errors", false);
  if (!jipe.ok()) return jipe.status();
  o.json_options.ignore_parse_errors = *jipe;
  auto jfm = Bool(t, prefix + "json.fail-on-missing-field", false);
  if (!jfm.ok()) return jfm.status();
  o.json_options.fail_on_missing_field = *jfm;
  o.json_options.timestamp_iso8601 =
      t.Option(prefix + "json.timestamp-format.standard") == "ISO-8601";
  o.framing = {o.csv.field_delimiter, o.csv.quote, o.csv.escape};
  std::string cs = t.Option("source.chunk-size");
  if (!cs.empty()) {
    int64_t n = ParseMemoryBytes(cs);
    if (n < 0) {
      return absl::InvalidArgumentError(fmt::format(
          "table '{}': 'source.chunk-size' must be a size such as '1048576' or '4 mb', not '{}'",
          t.name, cs));
    }
    o.chunk_bytes = std::max<size_t>(static_cast<size_t>(n), 1);
  }
  EDDY_ASSIGN_OR_RETURN(o.max_record_bytes, ParseMaxRecordSize(t));
  return o;
}

absl::StatusOr<size_t> ParseMaxRecordSize(const TableDef& t) {
  std::string v = t.Option("source.max-record-size");
  if (v.empty()) return kDefaultMaxRecordBytes;
  int64_t n = ParseMemoryBytes(v);
  if (n < 1 || static_cast<uint64_t>(n) > kMaxMaxRecordBytes) {
    return absl::InvalidArgumentError(
        fmt::format("table '{}': 'source.max-record-size' must be a size from 1 byte to 1 gb "
                    "(such as '64 mb' or '1048576'), not '{}'",
                    t.name, v));
  }
  return static_cast<size_t>(n);
}

}  // namespace eddy::connectors
