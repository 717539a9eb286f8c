#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <string>
#include <vector>

#include "formats/row_decoder.h"
#include "types/time_util.h"
#include "types/value.h"

namespace eddy {
namespace {

Schema MakeSchema(std::vector<Field> fields) {
  Schema s;
  s.fields = std::move(fields);
  return s;
}

// Decodes `lines` into one batch; fails the test on any decode error.
class CsvTest : public ::testing::Test {
 protected:
  void Init(Schema schema, CsvOptions opts = {}) {
    schema_ = std::move(schema);
    auto d = MakeCsvDecoder(schema_, opts);
    ASSERT_TRUE(d.ok()) << d.status();
    decoder_ = std::move(*d);
    batch_ = Batch::Empty(schema_);
    arena_ = batch_.NewArena();
  }
  bool Decode(std::string_view line) {
    lines_.emplace_back(line);  // keep the bytes alive: values may be views
    return decoder_->Decode(lines_.back(), &batch_, arena_, &err_);
  }
  std::string Cell(size_t col, size_t row) const {
    return FormatCell(batch_.columns[col], row, "NULL", true);
  }
  void ExpectEqualLengths() const {
    for (const Column& c : batch_.columns) {
      EXPECT_EQ(c.size(), batch_.num_rows());
      switch (c.type.physical()) {
        case Physical::kInt64:
          EXPECT_EQ(c.i64.size(), c.size());
          break;
        case Physical::kDouble:
          EXPECT_EQ(c.f64.size(), c.size());
          break;
        case Physical::kString:
          EXPECT_EQ(c.str.size(), c.size());
          break;
      }
    }
  }

  Schema schema_;
  std::unique_ptr<RowDecoder> decoder_;
  Batch batch_;
  Arena* arena_ = nullptr;
  DecodeError err_;
  std::deque<std::string> lines_;
};

Schema AllTypes() {
  return MakeSchema({{"b", DataType::Boolean()},
                     {"i", DataType::Int()},
                     {"l", DataType::Bigint()},
                     {"d", DataType::Double()},
                     {"m", DataType::Decimal(10, 2)},
                     {"s", DataType::String()},
                     {"ts", DataType::Timestamp(3)},
                     {"ltz", DataType::TimestampLtz(3)},
                     {"dt", DataType::Date()}});
}

TEST_F(CsvTest, DecodesEveryType) {
  Init(AllTypes());
  ASSERT_TRUE(
      Decode("TRUE,-42,9223372036854775807,0.5,12.345,hello,2001-01-01 00:01:00,"
             "2001-01-01T00:01:00.5Z,2001-02-28"))
      << err_.reason;
  ASSERT_EQ(batch_.num_rows(), 1u);
  EXPECT_EQ(batch_.kinds[0], RowKind::kInsert);
  EXPECT_EQ(batch_.columns[0].i64[0], 1);
  EXPECT_EQ(batch_.columns[1].i64[0], -42);
  EXPECT_EQ(batch_.columns[2].i64[0], INT64_MAX);
  EXPECT_EQ(batch_.columns[3].f64[0], 0.5);
  EXPECT_EQ(batch_.columns[4].i64[0], 1235);  // 12.345 rounds half up to 12.35
  EXPECT_EQ(batch_.columns[5].str[0], "hello");
  EXPECT_EQ(batch_.columns[6].i64[0], *ParseTimestamp("2001-01-01 00:01:00"));
  EXPECT_EQ(Cell(7, 0), "2001-01-01 00:01:00.500");
  EXPECT_EQ(Cell(8, 0), "2001-02-28");
}

TEST_F(CsvTest, EmptyFieldIsNullExceptForString) {
  Init(AllTypes());
  ASSERT_TRUE(Decode(",,,,,,,,")) << err_.reason;
  for (size_t c = 0; c < 9; ++c) {
    if (c == 5) {
      EXPECT_FALSE(batch_.columns[c].IsNull(0));
      EXPECT_EQ(batch_.columns[c].str[0], "");
    } else {
      EXPECT_TRUE(batch_.columns[c].IsNull(0)) << c;
    }
  }
  ExpectEqualLengths();
}

TEST_F(CsvTest, NullLiteral) {
  CsvOptions o;
  o.null_literal = "n/a";
  o.has_null_literal = true;
  Init(MakeSchema({{"s", DataType::String()}, {"i", DataType::Int()}, {"t", DataType::String()}}),
       o);
  ASSERT_TRUE(Decode("n/a,n/a,")) << err_.reason;
  EXPECT_TRUE(batch_.columns[0].IsNull(0));
  EXPECT_TRUE(batch_.columns[1].IsNull(0));
  EXPECT_EQ(batch_.columns[2].str[0], "");
  EXPECT_FALSE(batch_.columns[2].IsNull(0));
  ASSERT_TRUE(Decode("\"n/a\",1,x")) << err_.reason;  // quoted text equal to the literal, too
  EXPECT_TRUE(batch_.columns[0].IsNull(1));

  CsvOptions empty_is_null;
  empty_is_null.has_null_literal = true;  // null literal ""
  Init(MakeSchema({{"s", DataType::String()}}), empty_is_null);
  ASSERT_TRUE(Decode(""));
  EXPECT_TRUE(batch_.columns[0].IsNull(0));
}

TEST_F(CsvTest, QuotedFields) {
  Init(MakeSchema({{"a", DataType::String()}, {"b", DataType::String()}, {"n", DataType::Int()}}));
  ASSERT_TRUE(Decode(R"("x,y","say ""hi""","7")")) << err_.reason;
  EXPECT_EQ(batch_.columns[0].str[0], "x,y");
  EXPECT_EQ(batch_.columns[1].str[0], "say \"hi\"");
  EXPECT_EQ(batch_.columns[2].i64[0], 7);
  ASSERT_TRUE(Decode("\"multi\nline\r\ntext\",\"\",1")) << err_.reason;
  EXPECT_EQ(batch_.columns[0].str[1], "multi\nline\r\ntext");
  EXPECT_EQ(batch_.columns[1].str[1], "");
  EXPECT_FALSE(batch_.columns[1].IsNull(1));
  // A quote inside an unquoted field is an ordinary character.
  ASSERT_TRUE(Decode("5'10\",a\"b,2")) << err_.reason;
  EXPECT_EQ(batch_.columns[0].str[2], "5'10\"");
  EXPECT_EQ(batch_.columns[1].str[2], "a\"b");
}

TEST_F(CsvTest, StringsAreViewsIntoTheLineUnlessUnescaped) {
  Init(MakeSchema({{"a", DataType::String()}, {"b", DataType::String()}}));
  ASSERT_TRUE(Decode(R"(plain,"a""b")"));
  const std::string& line = lines_.back();
  std::string_view a = batch_.columns[0].str[0];
  EXPECT_GE(a.data(), line.data());
  EXPECT_LT(a.data(), line.data() + line.size());
  std::string_view b = batch_.columns[1].str[0];
  EXPECT_EQ(b, "a\"b");
  EXPECT_TRUE(b.data() < line.data() || b.data() >= line.data() + line.size());
}

TEST_F(CsvTest, WhitespaceKeptInStringsTrimmedForOtherTypes) {
  Init(MakeSchema(
      {{"s", DataType::String()}, {"i", DataType::Int()}, {"ts", DataType::Timestamp(3)}}));
  ASSERT_TRUE(Decode("  a b ,  12 , 2001-01-01 00:00:00 ")) << err_.reason;
  EXPECT_EQ(batch_.columns[0].str[0], "  a b ");
  EXPECT_EQ(batch_.columns[1].i64[0], 12);
  EXPECT_EQ(batch_.columns[2].i64[0], *ParseTimestamp("2001-01-01 00:00:00"));
}

TEST_F(CsvTest, WrongFieldCount) {
  Init(MakeSchema({{"date", DataType::Timestamp(3)},
                   {"delay", DataType::Int()},
                   {"distance", DataType::Int()},
                   {"origin", DataType::String()},
                   {"destination", DataType::String()}}));
  EXPECT_FALSE(Decode("2001-01-01T00:01:00,33,2176,LAS"));
  EXPECT_EQ(err_.reason, "expected 5 fields, found 4");
  EXPECT_EQ(err_.column, 32u);  // one past the end
  EXPECT_FALSE(Decode("2001-01-01T00:01:00,33,2176,LAS,PHL,\"x,y\",z"));
  EXPECT_EQ(err_.reason, "expected 5 fields, found 7");
  EXPECT_EQ(err_.column, 37u);  // where the sixth field starts
  EXPECT_FALSE(Decode("2001-01-01T00:01:00,33,2176,LAS,PHL,"));
  EXPECT_EQ(err_.reason, "expected 5 fields, found 6");
  EXPECT_EQ(batch_.num_rows(), 0u);
  ExpectEqualLengths();
  for (const Column& c : batch_.columns) EXPECT_EQ(c.size(), 0u);
}

TEST_F(CsvTest, BadValuesNameColumnAndReason) {
  Init(MakeSchema({{"date", DataType::Timestamp(3)},
                   {"delay", DataType::Int()},
                   {"origin", DataType::String()},
                   {"ok", DataType::Boolean()}}));
  ASSERT_TRUE(Decode("2001-01-01T00:01:00,1,A,true"));
  EXPECT_FALSE(Decode("2001-01-01T00:01:00,abc,LAS,true"));
  EXPECT_EQ(err_.reason, "field 'delay': 'abc' is not a valid INT");
  EXPECT_EQ(err_.column, 21u);
  EXPECT_FALSE(Decode("2001-01-01T00:01:00,2147483648,LAS,true"));
  EXPECT_EQ(err_.reason, "field 'delay': '2147483648' is not a valid INT");
  EXPECT_FALSE(Decode("2001-13-01T00:01:00,1,LAS,true"));
  EXPECT_EQ(err_.reason, "field 'date': '2001-13-01T00:01:00' is not a valid TIMESTAMP(3)");
  EXPECT_EQ(err_.column, 1u);
  EXPECT_FALSE(Decode("2001-01-01T00:01:00,1,LAS,yes"));
  EXPECT_EQ(err_.reason, "field 'ok': 'yes' is not a valid BOOLEAN");
  EXPECT_EQ(err_.column, 27u);
  EXPECT_FALSE(Decode("2001-01-01T00:01:00,1,\"LAS,true"));
  EXPECT_EQ(err_.reason, "field 'origin': unterminated quoted field");
  EXPECT_EQ(err_.column, 23u);
  EXPECT_FALSE(Decode("2001-01-01T00:01:00,1,\"LAS\"x,true"));
  EXPECT_EQ(err_.reason, "field 'origin': unexpected character after the closing quote");
  EXPECT_EQ(err_.column, 28u);
  EXPECT_EQ(batch_.num_rows(), 1u);
  ExpectEqualLengths();
}

TEST_F(CsvTest, ErrorMessagesEscapeBinaryBytesAndCutLongValues) {
  Init(MakeSchema({{"id", DataType::Int()}, {"name", DataType::String()}}));
  EXPECT_FALSE(Decode(std::string("1\x00\xff\x1b[2J,x", 9)));
  EXPECT_EQ(err_.reason, "field 'id': '1\\x00\\xff\\x1b[2J' is not a valid INT");
  EXPECT_FALSE(
      Decode("\xEF\xBB\xBF"
             "7,x"));  // a byte order mark in the middle of a file
  EXPECT_EQ(err_.reason, "field 'id': '\\u{feff}7' is not a valid INT");
  EXPECT_FALSE(Decode(std::string(100000, '9') + ",x"));
  EXPECT_EQ(err_.reason, "field 'id': '" + std::string(60, '9') + "...' is not a valid INT");
  for (char c = 0; c < 0x20; ++c) EXPECT_EQ(err_.reason.find(c), std::string::npos);
  EXPECT_EQ(batch_.num_rows(), 0u);
  ExpectEqualLengths();
}

TEST_F(CsvTest, AbsurdlyManyFieldsAreABadRowNotMemory) {
  Init(MakeSchema({{"a", DataType::Int()}, {"b", DataType::String()}}));
  std::string line = "1";
  for (int i = 0; i < 1000000; ++i) line += ",x";
  EXPECT_FALSE(Decode(line));
  EXPECT_EQ(err_.reason, "expected 2 fields, found 1000001");
  EXPECT_EQ(err_.column, 5u);  // where the third field starts
  EXPECT_EQ(batch_.num_rows(), 0u);
  ExpectEqualLengths();
}

TEST_F(CsvTest, IntegerRanges) {
  Init(MakeSchema({{"i", DataType::Int()}, {"l", DataType::Bigint()}}));
  ASSERT_TRUE(Decode("-2147483648,-9223372036854775808"));
  ASSERT_TRUE(Decode("+2147483647,0009223372036854775807"));
  EXPECT_EQ(batch_.columns[0].i64[0], INT32_MIN);
  EXPECT_EQ(batch_.columns[1].i64[0], INT64_MIN);
  EXPECT_EQ(batch_.columns[0].i64[1], INT32_MAX);
  EXPECT_EQ(batch_.columns[1].i64[1], INT64_MAX);
  EXPECT_FALSE(Decode("1,9223372036854775808"));
  EXPECT_EQ(err_.reason, "field 'l': '9223372036854775808' is not a valid BIGINT");
  EXPECT_FALSE(Decode("1.0,1"));
  EXPECT_FALSE(Decode("-,1"));
  EXPECT_FALSE(Decode("1 2,1"));
}

TEST_F(CsvTest, DoubleSyntax) {
  Init(MakeSchema({{"d", DataType::Double()}}));
  for (const char* s :
       {"1.5", "-0.25", "1e3", "+2", ".5", "NaN", "Infinity", "-Infinity", "1.0d", "1e400"}) {
    ASSERT_TRUE(Decode(s)) << s << ": " << err_.reason;
  }
  const auto& f = batch_.columns[0].f64;
  EXPECT_EQ(f[0], 1.5);
  EXPECT_EQ(f[1], -0.25);
  EXPECT_EQ(f[2], 1000);
  EXPECT_EQ(f[3], 2);
  EXPECT_EQ(f[4], 0.5);
  EXPECT_TRUE(std::isnan(f[5]));
  EXPECT_TRUE(std::isinf(f[6]) && f[6] > 0);
  EXPECT_TRUE(std::isinf(f[7]) && f[7] < 0);
  EXPECT_EQ(f[8], 1.0);
  EXPECT_TRUE(std::isinf(f[9]));
  EXPECT_FALSE(Decode("1,5"));
  EXPECT_FALSE(Decode("abc"));
  EXPECT_EQ(err_.reason, "field 'd': 'abc' is not a valid DOUBLE");
  EXPECT_FALSE(Decode("inf"));
}

TEST_F(CsvTest, DecimalRoundingAndOverflow) {
  Init(MakeSchema({{"m", DataType::Decimal(5, 2)}}));
  struct Case {
    const char* in;
    int64_t want;
  };
  for (Case c : std::vector<Case>{{"1", 100},
                                  {"-1.5", -150},
                                  {"123.454", 12345},
                                  {"123.455", 12346},
                                  {"-123.455", -12346},
                                  {"0.005", 1},
                                  {"0.004", 0},
                                  {"999.99", 99999},
                                  {".5", 50},
                                  {"1.5E2", 15000},
                                  {"1250E-3", 125},
                                  {"000123.4", 12340}}) {
    ASSERT_TRUE(Decode(c.in)) << c.in << ": " << err_.reason;
    EXPECT_EQ(batch_.columns[0].i64.back(), c.want) << c.in;
  }
  EXPECT_FALSE(Decode("1000"));
  EXPECT_EQ(err_.reason, "field 'm': '1000' does not fit DECIMAL(5, 2)");
  EXPECT_FALSE(Decode("999.995"));  // rounds up to 1000.00
  EXPECT_EQ(err_.reason, "field 'm': '999.995' does not fit DECIMAL(5, 2)");
  EXPECT_FALSE(Decode("1.2.3"));
  EXPECT_EQ(err_.reason, "field 'm': '1.2.3' is not a valid DECIMAL(5, 2)");
  EXPECT_FALSE(Decode("."));
  EXPECT_FALSE(Decode("1e"));
}

TEST_F(CsvTest, CustomDelimiterAndQuote) {
  CsvOptions o;
  o.field_delimiter = ';';
  o.quote = '\'';
  Init(MakeSchema({{"a", DataType::String()}, {"b", DataType::Int()}, {"c", DataType::String()}}),
       o);
  ASSERT_TRUE(Decode("x,y;3;'it''s;fine'")) << err_.reason;
  EXPECT_EQ(batch_.columns[0].str[0], "x,y");
  EXPECT_EQ(batch_.columns[1].i64[0], 3);
  EXPECT_EQ(batch_.columns[2].str[0], "it's;fine");

  CsvOptions tab;
  tab.field_delimiter = '\t';
  Init(MakeSchema({{"a", DataType::String()}, {"b", DataType::String()}}), tab);
  ASSERT_TRUE(Decode("a,b\tc d"));
  EXPECT_EQ(batch_.columns[0].str[0], "a,b");
  EXPECT_EQ(batch_.columns[1].str[0], "c d");
}

TEST_F(CsvTest, DisabledQuoteAndEscapeCharacter) {
  CsvOptions noquote;
  noquote.quote = '\0';
  Init(MakeSchema({{"a", DataType::String()}, {"b", DataType::String()}}), noquote);
  ASSERT_TRUE(Decode("\"a\",b"));
  EXPECT_EQ(batch_.columns[0].str[0], "\"a\"");

  CsvOptions esc;
  esc.escape = '\\';
  Init(MakeSchema({{"a", DataType::String()}, {"b", DataType::String()}}), esc);
  ASSERT_TRUE(Decode(R"(a\,b,"q\"x\n")")) << err_.reason;
  EXPECT_EQ(batch_.columns[0].str[0], "a,b");
  EXPECT_EQ(batch_.columns[1].str[0], "q\"x\n");
}

TEST_F(CsvTest, Comments) {
  CsvOptions o;
  o.allow_comments = true;
  Init(MakeSchema({{"a", DataType::String()}, {"b", DataType::Int()}}), o);
  EXPECT_TRUE(Decode("# a comment, not a row"));
  EXPECT_EQ(batch_.num_rows(), 0u);
  ASSERT_TRUE(Decode("x,1"));
  EXPECT_EQ(batch_.num_rows(), 1u);

  Init(MakeSchema({{"a", DataType::String()}, {"b", DataType::Int()}}));
  ASSERT_TRUE(Decode("#x,1"));  // without the option '#' is data (as Flink)
  EXPECT_EQ(batch_.columns[0].str[0], "#x");
}

TEST_F(CsvTest, IgnoreParseErrors) {
  CsvOptions o;
  o.ignore_parse_errors = true;
  Init(MakeSchema({{"a", DataType::String()}, {"b", DataType::Int()}, {"c", DataType::Int()}}), o);
  ASSERT_TRUE(Decode("x,abc,1"));
  EXPECT_TRUE(batch_.columns[1].IsNull(0));
  EXPECT_EQ(batch_.columns[2].i64[0], 1);
  ASSERT_TRUE(Decode("y"));  // missing trailing fields are NULL
  EXPECT_TRUE(batch_.columns[1].IsNull(1));
  EXPECT_TRUE(batch_.columns[2].IsNull(1));
  EXPECT_FALSE(Decode("z,1,2,3"));  // too many fields still fails (Flink drops the row)
  EXPECT_EQ(batch_.num_rows(), 2u);
  ExpectEqualLengths();
}

TEST_F(CsvTest, IntervalsAndSingleColumn) {
  Init(MakeSchema({{"ym", DataType::IntervalYearMonth()}, {"dt", DataType::IntervalDayTime()}}));
  ASSERT_TRUE(Decode("14,1500"));
  EXPECT_EQ(batch_.columns[0].i64[0], 14);
  EXPECT_EQ(batch_.columns[1].i64[0], 1'500'000);
  Init(MakeSchema({{"s", DataType::String()}}));
  ASSERT_TRUE(Decode(""));
  EXPECT_EQ(batch_.columns[0].str[0], "");
}

TEST(CsvOptionsTest, RejectsInconsistentOptions) {
  Schema s;
  s.fields = {{"a", DataType::String()}};
  CsvOptions o;
  o.quote = ',';
  EXPECT_FALSE(MakeCsvDecoder(s, o).ok());
  o = {};
  o.field_delimiter = '\n';
  EXPECT_FALSE(MakeCsvDecoder(s, o).ok());
  Schema n;
  n.fields = {{"x", DataType::Null()}};
  auto r = MakeCsvDecoder(n, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace eddy
