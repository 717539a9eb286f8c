// libFuzzer target: the JSON Lines decoder (Flink's `json` format) over the lines of the input,
// with options from the first byte (ignore-parse-errors, fail-on-missing-field) and a schema of
// every column type whose names are likely keys ("a", "b", …). Must never crash, hang or read out
// of bounds, whatever the nesting; after every line all columns have one value per row; a bad line
// appends nothing and its error has a column inside the line and a reason that is valid UTF-8
// without raw control bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/utf8.h"
#include "formats/line_reader.h"
#include "formats/row_decoder.h"
#include "types/batch.h"
#include "types/value.h"

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "json_decoder_fuzzer: invariant failed: %s\n", what);
    std::abort();
  }
}

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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t opt = data[0];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  using eddy::DataType;
  eddy::Schema schema;
  const DataType types[] = {DataType::Int(),
                            DataType::String(),
                            DataType::Bigint(),
                            DataType::Double(),
                            DataType::Decimal(10, 2),
                            DataType::Boolean(),
                            DataType::Timestamp(3),
                            DataType::Date(),
                            DataType::IntervalYearMonth(),
                            DataType::IntervalDayTime(),
                            DataType::String()};
  for (size_t i = 0; i < std::size(types); ++i) {
    schema.fields.push_back(
        {std::string(1, static_cast<char>('a' + i)), types[(i + (opt >> 2)) % std::size(types)]});
  }
  eddy::JsonOptions o;
  o.ignore_parse_errors = opt & 1;
  o.fail_on_missing_field = (opt & 2) && !o.ignore_parse_errors;
  auto dec = eddy::MakeJsonDecoder(schema, o);
  if (!dec.ok()) return 0;
  eddy::Batch batch = eddy::Batch::Empty(schema);
  eddy::Arena* arena = batch.NewArena();
  size_t rows = 0;
  eddy::ForEachLine(text.data(), text.size(), [&](std::string_view line) {
    eddy::DecodeError err;
    if ((*dec)->Decode(line, &batch, arena, &err)) {
      rows = batch.kinds.size();
    } else {
      Check(err.column >= 1 && err.column <= line.size() + 1, "error column inside the line");
      Check(!err.reason.empty(), "error has a reason");
      Check(eddy::IsValidUtf8(err.reason), "error reason is valid UTF-8");
      for (char c : err.reason) Check(static_cast<unsigned char>(c) >= 0x20, "no control bytes");
    }
    CheckLengths(batch, rows);
  });
  for (size_t r = 0; r < rows; ++r) {
    for (const eddy::Column& c : batch.columns) (void)eddy::FormatCell(c, r);
  }
  return 0;
}
