// Columnar rows → text: the `csv` and `json` formats of Flink SQL, write side. The output is
// byte-for-byte what Flink's CsvRowDataSerializationSchema / JsonRowDataSerializationSchema (which
// use Jackson) produce for the same row, plus a '\n' after each record as Flink's filesystem sink
// writes it.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "formats/row_decoder.h"
#include "types/batch.h"
#include "types/data_type.h"

namespace eddy {

/// Encodes rows of batches with a fixed schema. The RowKind is not written (the csv and json
/// formats are insert-only in Flink). Not thread-safe: use one per thread.
class RowEncoder {
 public:
  virtual ~RowEncoder();
  /// Appends row `row` of `b` (columns matching the schema given at construction) to `*out` as one
  /// record followed by '\n'.
  virtual void Encode(const Batch& b, size_t row, std::string* out) = 0;
};

/// CSV writer (Flink `csv` format: RowDataToCsvConverters + Jackson CsvEncoder), no header:
/// - NULL: empty field, or null_literal when set.
/// - BOOLEAN true/false; INT, BIGINT decimal; DOUBLE as Java's Double.toString (FormatDouble:
///   "0.30000000000000004", "1.0E7", "NaN"); INTERVAL YEAR TO MONTH as months, DAY TO SECOND as
///   milliseconds. These are never quoted.
/// - STRING, DATE ("2001-01-01"), TIMESTAMP ("2001-01-01 00:01:00", fraction only when non-zero
///   with trailing zeros removed: ".5", ".123"), TIMESTAMP_LTZ (same in UTC plus 'Z') and DECIMAL
///   (Jackson's BigDecimal text, see AppendJavaDecimal: 12.50 → 12.5, 100 → 1E+2) are strings and
///   go through Jackson's default ("loose") quoting check: a value is quoted when it is longer
///   than 24 UTF-16 units or contains any character below max(delimiter, quote, '\n') + 1 — for
///   ',' and '"' that is every byte below '-' (space, !"#$%&'()*+, and controls) — or the escape
///   character. So "2001-01-01 00:01:00" and "hello world" are written quoted, "LAS" and
///   "2001-01-01" are not (Flink's CsvRowDataSerDeSchemaTest expects "\"2018-10-12 12:12:12\"").
///   Inside quotes the quote is doubled (and the escape character, when set, doubled).
///   CsvOptions::minimal_quoting switches to quoting only values containing the delimiter, the
///   quote, the escape, '\r' or '\n'. With the quote disabled nothing is quoted.
/// Errors: InvalidArgument for inconsistent options (see MakeCsvDecoder).
absl::StatusOr<std::unique_ptr<RowEncoder>> MakeCsvEncoder(const Schema& schema,
                                                           const CsvOptions& options);

/// JSON Lines writer (Flink `json` format: RowDataToJsonConverters + Jackson ObjectMapper):
/// {"name":value,...} with the schema's fields in order, no spaces.
/// - NULL as null (or the field omitted with ignore_null_fields).
/// - Strings escaped as Jackson does (\" \\ \b \t \n \f \r, other controls \u00XX, UTF-8 as is).
/// - BOOLEAN true/false; INT, BIGINT, INTERVAL (months / milliseconds) as numbers; DOUBLE as
///   Double.toString, NaN and ±Infinity as the strings "NaN", "Infinity", "-Infinity".
/// - DECIMAL as a number in Jackson's BigDecimal form (12.5, 1E+2, 2.7E-8) or, with
///   encode_decimal_as_plain_number, plain (100, 0.000000027).
/// - DATE "yyyy-MM-dd"; TIMESTAMP "yyyy-MM-dd HH:mm:ss[.f…]" ('T' with timestamp_iso8601);
///   TIMESTAMP_LTZ the same in UTC plus 'Z'.
absl::StatusOr<std::unique_ptr<RowEncoder>> MakeJsonEncoder(const Schema& schema,
                                                            const JsonOptions& options = {});

}  // namespace eddy
