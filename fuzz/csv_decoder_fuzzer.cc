// libFuzzer target: the CSV decoder (Flink's `csv` format) over the records that
// ForEachCsvRecord cuts from the input, under options chosen by the first two bytes (delimiter,
// quote, escape, null literal, comments, ignore-parse-errors) and a schema of every column type.
// Must never crash, hang or read out of bounds; after every record all columns have one value per
// row; a bad record appends nothing and its error has a column inside the record and a reason
// that is valid UTF-8 without raw control bytes (safe to print on a terminal); its dead-letter
// line (whole and truncated) is valid UTF-8 JSON (simdjson validates both) that gives the
// record's bytes back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/utf8.h"
#include "connectors/dead_letter_line.h"
#include "formats/line_reader.h"
#include "formats/row_decoder.h"
#include "simdjson.h"
#include "types/batch.h"
#include "types/value.h"

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "csv_decoder_fuzzer: invariant failed: %s\n", what);
    std::abort();
  }
}

eddy::Schema MakeSchema(uint8_t pick) {
  using eddy::DataType;
  eddy::Schema s;
  const DataType all[] = {DataType::Int(),
                          DataType::String(),
                          DataType::Bigint(),
                          DataType::Double(),
                          DataType::Decimal(10, 2),
                          DataType::Boolean(),
                          DataType::Timestamp(3),
                          DataType::TimestampLtz(6),
                          DataType::Date(),
                          DataType::String(),
                          DataType::IntervalYearMonth(),
                          DataType::IntervalDayTime()};
  const size_t n = 1 + pick % 6;
  for (size_t i = 0; i < n; ++i) {
    s.fields.push_back({"f" + std::to_string(i), all[(pick / 6 + i * 5) % std::size(all)]});
  }
  return s;
}

// Every column holds exactly `rows` values.
void CheckLengths(const eddy::Batch& b, size_t rows) {
  Check(b.kinds.size() == rows, "kinds size");
  for (const eddy::Column& c : b.columns) {
    Check(c.size() == rows, "column size");
    switch (c.type.physical()) {
      case eddy::Physical::kInt64:
        Check(c.i64.size() == rows, "i64 size");
        break;
      case eddy::Physical::kDouble:
        Check(c.f64.size() == rows, "f64 size");
        break;
      case eddy::Physical::kString:
        Check(c.str.size() == rows, "str size");
        break;
    }
  }
}

std::string Base64Decode(std::string_view s) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    int v = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '+'             ? 62
            : c == '/'             ? 63
                                   : -1;
    if (v < 0) break;  // '=' padding
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

// The dead-letter line of `raw` parses as JSON and gives `want` back.
void CheckDeadLetter(std::string_view raw, bool truncated, std::string_view want) {
  static simdjson::dom::parser parser;
  const std::string line = eddy::connectors::DeadLetterLine("f.csv:1", 1, "reason", raw, truncated);
  simdjson::dom::element doc;
  Check(parser.parse(line).get(doc) == simdjson::SUCCESS, "dead-letter line is valid JSON");
  std::string_view row, b64;
  Check(doc["row"].get(row) == simdjson::SUCCESS, "dead-letter line has a row");
  if (doc["row_base64"].get(b64) == simdjson::SUCCESS) {
    Check(Base64Decode(b64) == want, "row_base64 gives the bytes back");
  } else {
    Check(row == want, "row is the record");
  }
  bool t = false;
  Check((doc["row_truncated"].get(t) == simdjson::SUCCESS) == truncated, "row_truncated");
}

void CheckError(const eddy::DecodeError& err, std::string_view rec) {
  Check(err.column >= 1 && err.column <= rec.size() + 1, "error column inside the record");
  Check(!err.reason.empty(), "error has a reason");
  Check(eddy::IsValidUtf8(err.reason), "error reason is valid UTF-8");
  for (char c : err.reason) Check(static_cast<unsigned char>(c) >= 0x20, "no control bytes");
  CheckDeadLetter(rec, false, rec);
  std::string_view prefix = rec.substr(0, rec.size() / 2);
  CheckDeadLetter(prefix, true,
                  prefix.substr(0, prefix.size() - eddy::Utf8IncompleteSuffix(prefix)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t opt = data[0];
  const uint8_t pick = data[1];
  std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
  eddy::CsvOptions o;
  o.field_delimiter = "\x2c;|\t"[opt & 3];
  o.quote = (opt & 4) ? '\0' : ((opt & 8) ? '\'' : '"');
  o.escape = (opt & 16) ? '\\' : '\0';
  o.allow_comments = opt & 32;
  o.ignore_parse_errors = opt & 64;
  if (opt & 128) {
    o.null_literal = "\\N";
    o.has_null_literal = true;
  }
  eddy::Schema schema = MakeSchema(pick);
  auto dec = eddy::MakeCsvDecoder(schema, o);
  if (!dec.ok()) return 0;
  eddy::Batch batch = eddy::Batch::Empty(schema);
  eddy::Arena* arena = batch.NewArena();
  size_t rows = 0;
  const char* begin = text.data();
  eddy::ForEachCsvRecord(
      text.data(), text.size(),
      [&](std::string_view rec) {
        Check(rec.data() >= begin && rec.data() + rec.size() <= begin + text.size(),
              "record inside the input");
        eddy::DecodeError err;
        if ((*dec)->Decode(rec, &batch, arena, &err)) {
          rows = batch.kinds.size();
        } else {
          CheckError(err, rec);
        }
        CheckLengths(batch, rows);
      },
      eddy::CsvFraming{o.field_delimiter, o.quote, o.escape});
  // Formatting every decoded value must work too (views into the input or the arena).
  for (size_t r = 0; r < rows; ++r) {
    for (const eddy::Column& c : batch.columns) (void)eddy::FormatCell(c, r);
  }
  return 0;
}
