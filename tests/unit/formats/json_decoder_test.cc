#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "formats/row_decoder.h"
#include "types/time_util.h"
#include "types/value.h"

namespace eddy {
namespace {

class JsonTest : public ::testing::Test {
 protected:
  void Init(std::vector<Field> fields, JsonOptions opts = {}) {
    schema_.fields = std::move(fields);
    auto d = MakeJsonDecoder(schema_, opts);
    ASSERT_TRUE(d.ok()) << d.status();
    decoder_ = std::move(*d);
    batch_ = Batch::Empty(schema_);
    arena_ = batch_.NewArena();
  }
  bool Decode(std::string_view line) {
    lines_.emplace_back(line);
    return decoder_->Decode(lines_.back(), &batch_, arena_, &err_);
  }
  std::string Cell(size_t col, size_t row) const {
    return FormatCell(batch_.columns[col], row, "NULL", true);
  }

  Schema schema_;
  std::unique_ptr<RowDecoder> decoder_;
  Batch batch_;
  Arena* arena_ = nullptr;
  DecodeError err_;
  std::deque<std::string> lines_;
};

TEST_F(JsonTest, DecodesEveryType) {
  Init({{"b", DataType::Boolean()},
        {"i", DataType::Int()},
        {"l", DataType::Bigint()},
        {"d", DataType::Double()},
        {"m", DataType::Decimal(10, 2)},
        {"s", DataType::String()},
        {"ts", DataType::Timestamp(3)},
        {"ltz", DataType::TimestampLtz(3)},
        {"dt", DataType::Date()}});
  ASSERT_TRUE(Decode(R"({"b":true,"i":-7,"l":12345678901,"d":0.1,"m":12.345,"s":"héllo",)"
                     R"("ts":"2001-01-01 00:01:00","ltz":"2001-01-01T00:01:00.123Z",)"
                     R"("dt":"2001-02-03"})"))
      << err_.reason;
  ASSERT_EQ(batch_.num_rows(), 1u);
  EXPECT_EQ(batch_.columns[0].i64[0], 1);
  EXPECT_EQ(batch_.columns[1].i64[0], -7);
  EXPECT_EQ(batch_.columns[2].i64[0], 12345678901);
  EXPECT_EQ(batch_.columns[3].f64[0], 0.1);
  EXPECT_EQ(batch_.columns[4].i64[0], 1235);
  EXPECT_EQ(batch_.columns[5].str[0], "héllo");
  EXPECT_EQ(Cell(6, 0), "2001-01-01 00:01:00.000");
  EXPECT_EQ(Cell(7, 0), "2001-01-01 00:01:00.123");
  EXPECT_EQ(Cell(8, 0), "2001-02-03");
}

TEST_F(JsonTest, MissingFieldsAndNullsAreNull) {
  Init({{"a", DataType::Int()}, {"b", DataType::String()}, {"c", DataType::Double()}});
  ASSERT_TRUE(Decode(R"({"b":null,"zzz":[1,2,{"x":1}]})")) << err_.reason;
  EXPECT_TRUE(batch_.columns[0].IsNull(0));
  EXPECT_TRUE(batch_.columns[1].IsNull(0));
  EXPECT_TRUE(batch_.columns[2].IsNull(0));
  ASSERT_TRUE(Decode("{}"));
  EXPECT_EQ(batch_.num_rows(), 2u);
}

TEST_F(JsonTest, FieldNamesAreCaseSensitiveAndOrderFree) {
  Init({{"Name", DataType::String()}, {"n", DataType::Int()}});
  ASSERT_TRUE(Decode(R"({"n":1,"name":"lower","Name":"upper"})"));
  EXPECT_EQ(batch_.columns[0].str[0], "upper");
  EXPECT_EQ(batch_.columns[1].i64[0], 1);
  ASSERT_TRUE(Decode(R"({"n":1,"n":2})"));  // last duplicate wins
  EXPECT_EQ(batch_.columns[1].i64[1], 2);
}

TEST_F(JsonTest, NestedValuesIntoStringAsJsonText) {
  Init({{"o", DataType::String()},
        {"a", DataType::String()},
        {"n", DataType::String()},
        {"t", DataType::String()}});
  ASSERT_TRUE(Decode(R"({"o": {"k" : [1, 2], "s":"a b"}, "a":[ true ,null], "n": 1.50, "t":true})"))
      << err_.reason;
  EXPECT_EQ(batch_.columns[0].str[0], R"({"k":[1,2],"s":"a b"})");
  EXPECT_EQ(batch_.columns[1].str[0], "[true,null]");
  EXPECT_EQ(batch_.columns[2].str[0], "1.50");
  EXPECT_EQ(batch_.columns[3].str[0], "true");
}

TEST_F(JsonTest, EscapedStringsAreUnescapedPlainOnesAreViews) {
  Init({{"a", DataType::String()}, {"b", DataType::String()}});
  ASSERT_TRUE(Decode(R"({"a":"plain","b":"q\"\u00e9\n"})"));
  const std::string& line = lines_.back();
  std::string_view a = batch_.columns[0].str[0];
  EXPECT_EQ(a, "plain");
  EXPECT_TRUE(a.data() >= line.data() && a.data() < line.data() + line.size());
  EXPECT_EQ(batch_.columns[1].str[0], "q\"\xc3\xa9\n");
}

TEST_F(JsonTest, NumbersAndStringsConvert) {
  Init({{"i", DataType::Int()},
        {"d", DataType::Double()},
        {"b", DataType::Boolean()},
        {"m", DataType::Decimal(6, 3)}});
  ASSERT_TRUE(Decode(R"({"i":"42","d":"1.5","b":"TRUE","m":"1.0005"})")) << err_.reason;
  EXPECT_EQ(batch_.columns[0].i64[0], 42);
  EXPECT_EQ(batch_.columns[1].f64[0], 1.5);
  EXPECT_EQ(batch_.columns[2].i64[0], 1);
  EXPECT_EQ(batch_.columns[3].i64[0], 1001);
  ASSERT_TRUE(Decode(R"({"i":7.9,"d":3,"m":1e2})")) << err_.reason;
  EXPECT_EQ(batch_.columns[0].i64[1], 7);  // truncated, as Jackson's asInt
  EXPECT_EQ(batch_.columns[1].f64[1], 3.0);
  EXPECT_EQ(batch_.columns[3].i64[1], 100000);
}

TEST_F(JsonTest, BadFieldErrors) {
  Init({{"ts", DataType::Timestamp(3)}, {"delay", DataType::Int()}});
  EXPECT_FALSE(Decode(R"({"ts":"2001-01-01 00:00:00","delay":"abc"})"));
  EXPECT_EQ(err_.reason, "field 'delay': 'abc' is not a valid INT");
  EXPECT_EQ(err_.column, 37u);
  EXPECT_FALSE(Decode(R"({"ts":978307200000})"));
  EXPECT_EQ(err_.reason, "field 'ts': '978307200000' is not a valid TIMESTAMP(3)");
  EXPECT_EQ(err_.column, 7u);
  EXPECT_FALSE(Decode(R"({"delay":99999999999})"));
  EXPECT_EQ(err_.reason, "field 'delay': '99999999999' is not a valid INT");
  EXPECT_FALSE(Decode(R"({"delay":{"x":1}})"));
  EXPECT_EQ(err_.reason, R"(field 'delay': '{"x":1}' is not a valid INT)");
  EXPECT_EQ(batch_.num_rows(), 0u);
  for (const Column& c : batch_.columns) EXPECT_EQ(c.size(), 0u);
}

TEST_F(JsonTest, NotAnObjectOrMalformed) {
  Init({{"a", DataType::Int()}});
  EXPECT_FALSE(Decode("[1,2]"));
  EXPECT_EQ(err_.reason, "not a JSON object");
  EXPECT_FALSE(Decode(""));
  EXPECT_EQ(err_.reason, "not a JSON object");
  EXPECT_FALSE(Decode("42"));
  EXPECT_FALSE(Decode(R"({"a":1)"));
  EXPECT_FALSE(Decode(R"({"a":1,})"));
  EXPECT_FALSE(Decode(R"({"a":1} {"a":2})"));
  EXPECT_FALSE(Decode(R"({"a" 1})"));
  EXPECT_EQ(batch_.num_rows(), 0u);
  for (const Column& c : batch_.columns) EXPECT_EQ(c.size(), 0u);
  EXPECT_TRUE(Decode(R"(  {"a":1}  )"));
}

TEST_F(JsonTest, IgnoreParseErrors) {
  JsonOptions o;
  o.ignore_parse_errors = true;
  Init({{"a", DataType::Int()}, {"b", DataType::String()}}, o);
  ASSERT_TRUE(Decode(R"({"a":"x","b":"ok"})"));
  EXPECT_TRUE(batch_.columns[0].IsNull(0));
  EXPECT_EQ(batch_.columns[1].str[0], "ok");
  EXPECT_FALSE(Decode("not json"));  // still an error: not an object
  EXPECT_EQ(batch_.num_rows(), 1u);
}

TEST_F(JsonTest, FailOnMissingField) {
  JsonOptions o;
  o.fail_on_missing_field = true;
  Init({{"a", DataType::Int()}, {"b", DataType::String()}}, o);
  EXPECT_FALSE(Decode(R"({"a":1})"));
  EXPECT_EQ(err_.reason, "field 'b' is missing");
  EXPECT_TRUE(Decode(R"({"a":1,"b":null})"));  // present as null is fine
  JsonOptions both;
  both.fail_on_missing_field = true;
  both.ignore_parse_errors = true;
  EXPECT_FALSE(MakeJsonDecoder(schema_, both).ok());
}

TEST_F(JsonTest, ManyRowsReuseTheParser) {
  Init({{"id", DataType::Bigint()}, {"name", DataType::String()}});
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(
        Decode("{\"id\":" + std::to_string(i) + ",\"name\":\"n" + std::to_string(i) + "\"}"));
  }
  ASSERT_EQ(batch_.num_rows(), 1000u);
  EXPECT_EQ(batch_.columns[0].i64[999], 999);
  EXPECT_EQ(batch_.columns[1].str[500], "n500");
}

TEST_F(JsonTest, NestingDeeperThanTheLimitIsABadRowWithItsPosition) {
  Init({{"id", DataType::Int()}, {"v", DataType::String()}});
  // The record's object is level 1, so v may hold 63 more levels.
  std::string ok = R"({"id":1,"v":)" + std::string(63, '[') + std::string(63, ']') + "}";
  ASSERT_TRUE(Decode(ok)) << err_.reason;
  EXPECT_EQ(Cell(1, 0), std::string(63, '[') + std::string(63, ']'));
  std::string deep = R"({"id":2,"v":)" + std::string(64, '[') + std::string(64, ']') + "}";
  EXPECT_FALSE(Decode(deep));
  EXPECT_EQ(err_.reason, "JSON nesting is deeper than 64 levels");
  EXPECT_EQ(err_.column, 12u + 64u);  // the 64th '[' opens level 65
  // Deep nesting in a field that is not in the schema counts too; brackets inside strings do not.
  std::string skipped = R"({"x":)" + std::string(100000, '{') + "}";
  EXPECT_FALSE(Decode(skipped));
  EXPECT_EQ(err_.column, 5u + 64u);
  std::string in_string = R"({"id":3,"v":")" + std::string(1000, '[') + R"(\"[{"})";
  ASSERT_TRUE(Decode(in_string)) << err_.reason;
  EXPECT_EQ(batch_.num_rows(), 2u);
}

TEST_F(JsonTest, ErrorMessagesEscapeControlCharacters) {
  Init({{"id", DataType::Int()}});
  EXPECT_FALSE(Decode(R"({"id":"1\u0000\u001b[2J"})"));
  EXPECT_EQ(err_.reason, "field 'id': '1\\x00\\x1b[2J' is not a valid INT");
  EXPECT_FALSE(Decode(R"({"id":")" + std::string(1000, '7') + R"("})"));
  EXPECT_EQ(err_.reason, "field 'id': '" + std::string(60, '7') + "...' is not a valid INT");
}

}  // namespace
}  // namespace eddy
