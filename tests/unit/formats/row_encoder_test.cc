#include "formats/row_encoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "formats/row_decoder.h"
#include "types/text_codec.h"
#include "types/time_util.h"
#include "types/value.h"

namespace eddy {
namespace {

Schema MakeSchema(std::vector<Field> fields) {
  Schema s;
  s.fields = std::move(fields);
  return s;
}

// One-row batch from values.
Batch Row(const Schema& schema, const std::vector<Value>& values) {
  Batch b = Batch::Empty(schema);
  Arena* arena = b.NewArena();
  for (size_t c = 0; c < values.size(); ++c) values[c].AppendTo(&b.columns[c], arena);
  b.kinds.push_back(RowKind::kInsert);
  return b;
}

Value Ts(const char* s, DataType t = DataType::Timestamp(3)) {
  return Value::Int64(t, *ParseTimestamp(s));
}

std::string EncodeCsv(const Schema& s, const Batch& b, CsvOptions o = {}) {
  auto e = MakeCsvEncoder(s, o);
  EXPECT_TRUE(e.ok());
  std::string out;
  (*e)->Encode(b, 0, &out);
  return out;
}

std::string EncodeJson(const Schema& s, const Batch& b, JsonOptions o = {}) {
  auto e = MakeJsonEncoder(s, o);
  EXPECT_TRUE(e.ok());
  std::string out;
  (*e)->Encode(b, 0, &out);
  return out;
}

Schema Flights() {
  return MakeSchema({{"date", DataType::Timestamp(3)},
                     {"delay", DataType::Int()},
                     {"distance", DataType::Int()},
                     {"origin", DataType::String()},
                     {"destination", DataType::String()}});
}

TEST(CsvEncoderTest, FlinkOutputForCommonTypes) {
  Schema s = Flights();
  Batch b =
      Row(s, {Ts("2001-01-01 00:01:00"), Value::Int64(DataType::Int(), 33),
              Value::Int64(DataType::Int(), 2176), Value::String("LAS"), Value::String("PHL")});
  // The timestamp text contains a space, which Jackson's CSV writer quotes (Flink's
  // CsvRowDataSerDeSchemaTest: "\"2018-10-12 12:12:12\"").
  EXPECT_EQ(EncodeCsv(s, b), "\"2001-01-01 00:01:00\",33,2176,LAS,PHL\n");
  CsvOptions minimal;
  minimal.minimal_quoting = true;
  EXPECT_EQ(EncodeCsv(s, b, minimal), "2001-01-01 00:01:00,33,2176,LAS,PHL\n");
}

TEST(CsvEncoderTest, NumbersBooleansDecimalsDates) {
  Schema s = MakeSchema({{"d", DataType::Double()},
                         {"b", DataType::Boolean()},
                         {"m", DataType::Decimal(10, 2)},
                         {"m2", DataType::Decimal(10, 0)},
                         {"dt", DataType::Date()},
                         {"big", DataType::Double()},
                         {"nan", DataType::Double()},
                         {"l", DataType::Bigint()}});
  Batch b = Row(s, {Value::Double(0.1 + 0.2), Value::Bool(true),
                    Value::Int64(DataType::Decimal(10, 2), -1250),
                    Value::Int64(DataType::Decimal(10, 0), 100),
                    Value::Int64(DataType::Date(), *ParseDate("2001-01-31")), Value::Double(1e7),
                    Value::Double(std::numeric_limits<double>::quiet_NaN()),
                    Value::Int64(DataType::Bigint(), -9)});
  EXPECT_EQ(EncodeCsv(s, b), "0.30000000000000004,true,-12.5,\"1E+2\",2001-01-31,1.0E7,NaN,-9\n");
}

TEST(CsvEncoderTest, QuotingRules) {
  Schema s = MakeSchema({{"a", DataType::String()}});
  auto enc = [&](const char* v, CsvOptions o = {}) {
    return EncodeCsv(s, Row(s, {Value::String(v)}), o);
  };
  EXPECT_EQ(enc("plain"), "plain\n");
  EXPECT_EQ(enc(""), "\n");
  EXPECT_EQ(enc("a,b"), "\"a,b\"\n");
  EXPECT_EQ(enc("say \"hi\""), "\"say \"\"hi\"\"\"\n");
  EXPECT_EQ(enc("two\nlines"), "\"two\nlines\"\n");
  EXPECT_EQ(enc("hello world"), "\"hello world\"\n");  // space < '-' → quoted by Jackson
  EXPECT_EQ(enc("a-b.c/d"), "a-b.c/d\n");
  EXPECT_EQ(enc("abcdefghijklmnopqrstuvwx"), "abcdefghijklmnopqrstuvwx\n");        // 24 chars
  EXPECT_EQ(enc("abcdefghijklmnopqrstuvwxy"), "\"abcdefghijklmnopqrstuvwxy\"\n");  // 25 chars
  // 24 UTF-16 units in 48 bytes of UTF-8: not too long.
  std::string cyr;
  for (int i = 0; i < 24; ++i) cyr += "\xd0\xb6";
  EXPECT_EQ(enc(cyr.c_str()), cyr + "\n");
  CsvOptions minimal;
  minimal.minimal_quoting = true;
  EXPECT_EQ(enc("hello world", minimal), "hello world\n");
  EXPECT_EQ(enc("a,b", minimal), "\"a,b\"\n");
  CsvOptions noquote;
  noquote.quote = '\0';
  EXPECT_EQ(enc("a,b", noquote), "a,b\n");
  CsvOptions semi;
  semi.field_delimiter = ';';
  EXPECT_EQ(enc("a,b", semi), "\"a,b\"\n");  // ',' < ';'+1 → quoted by the loose check
  EXPECT_EQ(enc("abc", semi), "abc\n");
}

TEST(CsvEncoderTest, NullsAndNullLiteral) {
  Schema s = MakeSchema({{"a", DataType::String()}, {"b", DataType::Int()}});
  Batch b = Row(s, {Value::Null(DataType::String()), Value::Null(DataType::Int())});
  EXPECT_EQ(EncodeCsv(s, b), ",\n");
  CsvOptions o;
  o.null_literal = "NULL";
  o.has_null_literal = true;
  EXPECT_EQ(EncodeCsv(s, b, o), "NULL,NULL\n");
}

TEST(CsvEncoderTest, TimestampFractionsAndLtz) {
  Schema s = MakeSchema({{"a", DataType::Timestamp(3)},
                         {"b", DataType::Timestamp(6)},
                         {"c", DataType::TimestampLtz(3)}});
  Batch b = Row(s, {Ts("2001-01-01 00:01:00.5"), Ts("1969-12-31 23:59:59.000123"),
                    Ts("1970-01-01 00:02:03.456", DataType::TimestampLtz(3))});
  EXPECT_EQ(EncodeCsv(s, b),
            "\"2001-01-01 00:01:00.5\",\"1969-12-31 23:59:59.000123\","
            "\"1970-01-01 00:02:03.456Z\"\n");
}

TEST(JsonEncoderTest, FlinkOutput) {
  Schema s = MakeSchema({{"date", DataType::Timestamp(3)},
                         {"delay", DataType::Int()},
                         {"name", DataType::String()},
                         {"ok", DataType::Boolean()},
                         {"d", DataType::Double()},
                         {"m", DataType::Decimal(10, 2)},
                         {"n", DataType::String()},
                         {"dt", DataType::Date()},
                         {"ltz", DataType::TimestampLtz(3)}});
  Batch b =
      Row(s, {Ts("2001-01-01 00:01:00"), Value::Int64(DataType::Int(), -5),
              Value::String("a \"q\"\\\n\t\x01/é"), Value::Bool(false), Value::Double(0.1 + 0.2),
              Value::Int64(DataType::Decimal(10, 2), 1250), Value::Null(DataType::String()),
              Value::Int64(DataType::Date(), *ParseDate("2001-01-31")),
              Ts("2001-01-01 00:01:00.12", DataType::TimestampLtz(3))});
  EXPECT_EQ(EncodeJson(s, b),
            "{\"date\":\"2001-01-01 00:01:00\",\"delay\":-5,"
            "\"name\":\"a \\\"q\\\"\\\\\\n\\t\\u0001/é\",\"ok\":false,"
            "\"d\":0.30000000000000004,\"m\":12.5,\"n\":null,\"dt\":\"2001-01-31\","
            "\"ltz\":\"2001-01-01 00:01:00.12Z\"}\n");
  JsonOptions o;
  o.ignore_null_fields = true;
  o.timestamp_iso8601 = true;
  std::string out = EncodeJson(s, b, o);
  EXPECT_EQ(out.find("\"n\""), std::string::npos);
  EXPECT_NE(out.find("\"date\":\"2001-01-01T00:01:00\""), std::string::npos);
}

TEST(JsonEncoderTest, SpecialDoublesAndDecimals) {
  Schema s = MakeSchema({{"a", DataType::Double()},
                         {"b", DataType::Double()},
                         {"c", DataType::Decimal(18, 0)},
                         {"e", DataType::Decimal(11, 9)}});
  Batch b = Row(s, {Value::Double(std::numeric_limits<double>::quiet_NaN()),
                    Value::Double(-std::numeric_limits<double>::infinity()),
                    Value::Int64(DataType::Decimal(18, 0), 454621864049246170),
                    Value::Int64(DataType::Decimal(11, 9), 27)});
  // Flink's JsonRowDataSerDeSchemaTest.testSerializationDecimalEncode.
  EXPECT_EQ(EncodeJson(s, b),
            "{\"a\":\"NaN\",\"b\":\"-Infinity\",\"c\":4.5462186404924617E+17,\"e\":2.7E-8}\n");
  JsonOptions plain;
  plain.encode_decimal_as_plain_number = true;
  EXPECT_EQ(EncodeJson(s, b, plain),
            "{\"a\":\"NaN\",\"b\":\"-Infinity\",\"c\":454621864049246170,\"e\":0.000000027}\n");
}

TEST(TextCodecTest, JavaDecimal) {
  auto dec = [](int64_t v, int scale, bool plain = false) {
    std::string s;
    text::AppendJavaDecimal(v, scale, plain, &s);
    return s;
  };
  EXPECT_EQ(dec(0, 2), "0");
  EXPECT_EQ(dec(123456789, 6), "123.456789");
  EXPECT_EQ(dec(1250, 2), "12.5");
  EXPECT_EQ(dec(100, 0), "1E+2");
  EXPECT_EQ(dec(100, 0, true), "100");
  EXPECT_EQ(dec(-5, 3), "-0.005");
  EXPECT_EQ(dec(1, 7), "1E-7");
  EXPECT_EQ(dec(12, 7), "0.0000012");
  EXPECT_EQ(dec(-123, 8, true), "-0.00000123");
  EXPECT_EQ(dec(INT64_MIN, 0), "-9223372036854775808");
  EXPECT_EQ(dec(-9000, 0), "-9E+3");
}

TEST(TextCodecTest, DatesOutsideFourDigitYears) {
  std::string s;
  text::AppendDate(*ParseDate("0001-01-01") - 366, &s);
  EXPECT_EQ(s, "0000-01-01");
  s.clear();
  text::AppendDate(DaysFromCivil(12345, 6, 7), &s);
  EXPECT_EQ(s, "+12345-06-07");
  s.clear();
  text::AppendDate(DaysFromCivil(-44, 3, 15), &s);
  EXPECT_EQ(s, "-0044-03-15");
}

TEST(TextCodecTest, TimestampParserMatchesParseTimestamp) {
  text::TimestampParser p;
  for (const char* s :
       {"2001-01-01T00:01:00", "2001-01-01 00:01:00", "2001-01-01T23:59:59", "2001-01-02T00:00:00",
        "2001-02-29T00:00:00", "2001-01-01T24:00:00", "2001-01-01T00:60:00", "2001-01-01x00:00:00",
        "2001-01-01T0a:00:00", "2001-01-01", "2001-01-01 10:11", "2001-01-01 10:11:12.5Z", ""}) {
    EXPECT_EQ(p.Parse(s), ParseTimestamp(s)) << s;
  }
}

// Encode → decode gives back the same values, for both formats.
TEST(RoundTripTest, CsvAndJson) {
  Schema s = MakeSchema({{"b", DataType::Boolean()},
                         {"i", DataType::Int()},
                         {"l", DataType::Bigint()},
                         {"d", DataType::Double()},
                         {"m", DataType::Decimal(12, 3)},
                         {"s", DataType::String()},
                         {"ts", DataType::Timestamp(6)},
                         {"ltz", DataType::TimestampLtz(3)},
                         {"dt", DataType::Date()},
                         {"n", DataType::Int()}});
  Batch in = Batch::Empty(s);
  Arena* arena = in.NewArena();
  std::vector<std::vector<Value>> rows = {
      {Value::Bool(true), Value::Int64(DataType::Int(), INT32_MIN),
       Value::Int64(DataType::Bigint(), INT64_MAX), Value::Double(0.1 + 0.2),
       Value::Int64(DataType::Decimal(12, 3), -123456789), Value::String("a, \"b\"\nc é"),
       Ts("1999-12-31 23:59:59.123456", DataType::Timestamp(6)),
       Ts("2001-01-01 00:00:00.5", DataType::TimestampLtz(3)),
       Value::Int64(DataType::Date(), *ParseDate("1960-02-29")), Value::Null(DataType::Int())},
      {Value::Bool(false), Value::Int64(DataType::Int(), 0), Value::Int64(DataType::Bigint(), -1),
       Value::Double(1e-300), Value::Int64(DataType::Decimal(12, 3), 100000), Value::String("x"),
       Ts("2001-01-01 00:00:00", DataType::Timestamp(6)),
       Ts("1970-01-01 00:00:00", DataType::TimestampLtz(3)), Value::Int64(DataType::Date(), 0),
       Value::Int64(DataType::Int(), 5)}};
  for (const auto& r : rows) {
    for (size_t c = 0; c < r.size(); ++c) r[c].AppendTo(&in.columns[c], arena);
    in.kinds.push_back(RowKind::kInsert);
  }
  for (bool json : {false, true}) {
    std::unique_ptr<RowEncoder> enc = json ? *MakeJsonEncoder(s) : *MakeCsvEncoder(s, CsvOptions{});
    std::unique_ptr<RowDecoder> dec =
        json ? *MakeJsonDecoder(s, JsonOptions{}) : *MakeCsvDecoder(s, CsvOptions{});
    std::string text;
    for (size_t r = 0; r < in.num_rows(); ++r) enc->Encode(in, r, &text);
    Batch out = Batch::Empty(s);
    Arena* oa = out.NewArena();
    DecodeError err;
    // Records end with '\n'; the string field of row 0 contains one inside quotes, so split
    // by record rather than by line for CSV.
    size_t pos = 0;
    for (size_t r = 0; r < in.num_rows(); ++r) {
      size_t end = pos;
      if (json) {
        end = text.find('\n', pos);
      } else {
        bool quoted = false;
        for (end = pos; end < text.size(); ++end) {
          if (text[end] == '"') quoted = !quoted;
          if (text[end] == '\n' && !quoted) break;
        }
      }
      ASSERT_TRUE(dec->Decode(std::string_view(text).substr(pos, end - pos), &out, oa, &err))
          << (json ? "json: " : "csv: ") << err.reason << "\n"
          << text;
      pos = end + 1;
    }
    ASSERT_EQ(out.num_rows(), in.num_rows());
    for (size_t c = 0; c < s.size(); ++c) {
      for (size_t r = 0; r < in.num_rows(); ++r) {
        EXPECT_EQ(FormatCell(out.columns[c], r), FormatCell(in.columns[c], r))
            << (json ? "json" : "csv") << " column " << s.fields[c].name << " row " << r;
      }
    }
  }
}

}  // namespace
}  // namespace eddy
