// Format options of the 'filesystem' connector (Flink names: 'format', 'csv.*', 'json.*').
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "catalog/options.h"
#include "catalog/table.h"
#include "formats/line_reader.h"
#include "formats/row_decoder.h"

namespace eddy::connectors {

/// 'path' of a filesystem table (required).
extern const catalog::ConfigOption<std::string> kFilePath;

/// Parsed 'format' options of a file table.
struct FileFormatOptions {
  bool json = false;               // 'format' = 'json' (else 'csv')
  CsvOptions csv;                  // csv.field-delimiter, csv.quote-character, csv.null-literal…
  CsvFraming framing;              // the same, for record splitting
  JsonOptions json_options;        // json.ignore-parse-errors, json.fail-on-missing-field…
  bool ignore_first_line = false;  // csv.ignore-first-line (eddy/Flink legacy CSV option)
  size_t chunk_bytes = 1 << 20;    // 'source.chunk-size' (eddy), bytes per parallel chunk
  size_t max_record_bytes = kDefaultMaxRecordBytes;  // 'source.max-record-size' (eddy)
};

/// Largest value 'source.max-record-size' accepts: 1 GiB.
inline constexpr size_t kMaxMaxRecordBytes = size_t{1} << 30;

/// 'source.max-record-size' of `t` (eddy; every source connector): the longest record, in bytes
/// without its line break, a source reads; longer records are bad rows. A MemorySize ('64 mb',
/// '1048576'); default kDefaultMaxRecordBytes (64 MiB), at most kMaxMaxRecordBytes.
/// Errors: InvalidArgument naming the option and the value.
absl::StatusOr<size_t> ParseMaxRecordSize(const TableDef& t);

/// Reads the format options of `t`. Errors: InvalidArgument naming the bad option and value.
absl::StatusOr<FileFormatOptions> ParseFileFormatOptions(const TableDef& t);

/// Reads the options of text format `format` ('csv' or 'json') of `t`, each key preceded by
/// `prefix` ("" for 'csv.field-delimiter', "key." for 'key.csv.field-delimiter', as Flink's
/// Kafka connector names key and value format options). Errors as ParseFileFormatOptions.
absl::StatusOr<FileFormatOptions> ParseTextFormatOptions(const TableDef& t,
                                                         const std::string& format,
                                                         const std::string& prefix);

}  // namespace eddy::connectors
