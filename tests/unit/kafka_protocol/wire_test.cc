// ByteReader / ByteWriter primitives against encodings from the Kafka protocol guide.
#include "kafka/protocol/wire.h"

#include <cstdint>
#include <limits>
#include <string>

#include "gtest/gtest.h"
#include "test_bytes.h"

namespace eddy::kafka {
namespace {

TEST(WireTest, FixedWidthIntegersAreBigEndian) {
  ByteWriter w;
  w.WriteInt8(-2);
  w.WriteInt16(0x0102);
  w.WriteInt32(-2);
  w.WriteInt64(0x0102030405060708);
  w.WriteUint16(0xfffe);
  w.WriteUint32(0x80000001u);
  w.WriteBool(true);
  w.WriteFloat64(1.5);
  const std::string expected = Bytes(
      "fe  01 02  ff ff ff fe  01 02 03 04 05 06 07 08  ff fe  80 00 00 01  01"
      "3f f8 00 00 00 00 00 00");
  EXPECT_EQ(w.data(), expected);

  ByteReader r(expected);
  int8_t i8;
  int16_t i16;
  int32_t i32;
  int64_t i64;
  uint16_t u16;
  uint32_t u32;
  bool b;
  double d;
  ASSERT_TRUE(r.ReadInt8(&i8).ok());
  ASSERT_TRUE(r.ReadInt16(&i16).ok());
  ASSERT_TRUE(r.ReadInt32(&i32).ok());
  ASSERT_TRUE(r.ReadInt64(&i64).ok());
  ASSERT_TRUE(r.ReadUint16(&u16).ok());
  ASSERT_TRUE(r.ReadUint32(&u32).ok());
  ASSERT_TRUE(r.ReadBool(&b).ok());
  ASSERT_TRUE(r.ReadFloat64(&d).ok());
  EXPECT_EQ(i8, -2);
  EXPECT_EQ(i16, 0x0102);
  EXPECT_EQ(i32, -2);
  EXPECT_EQ(i64, 0x0102030405060708);
  EXPECT_EQ(u16, 0xfffe);
  EXPECT_EQ(u32, 0x80000001u);
  EXPECT_TRUE(b);
  EXPECT_EQ(d, 1.5);
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(r.ExpectEnd().ok());
  EXPECT_FALSE(r.ReadInt8(&i8).ok());
}

TEST(WireTest, UnsignedVarints) {
  struct Case {
    uint32_t value;
    const char* bytes;
  } cases[] = {
      {0, "00"},      {1, "01"},        {127, "7f"},         {128, "80 01"},
      {300, "ac 02"}, {16383, "ff 7f"}, {16384, "80 80 01"}, {0xffffffffu, "ff ff ff ff 0f"}};
  for (const Case& c : cases) {
    ByteWriter w;
    w.WriteUnsignedVarint(c.value);
    EXPECT_EQ(w.data(), Bytes(c.bytes)) << c.value;
    ByteReader r(w.data());
    uint32_t v;
    ASSERT_TRUE(r.ReadUnsignedVarint(&v).ok());
    EXPECT_EQ(v, c.value);
    EXPECT_TRUE(r.empty());
  }
}

TEST(WireTest, ZigZagVarintsAndVarlongs) {
  struct Case {
    int32_t value;
    const char* bytes;
  } cases[] = {{0, "00"},
               {-1, "01"},
               {1, "02"},
               {-64, "7f"},
               {63, "7e"},
               {64, "80 01"},
               {std::numeric_limits<int32_t>::max(), "fe ff ff ff 0f"},
               {std::numeric_limits<int32_t>::min(), "ff ff ff ff 0f"}};
  for (const Case& c : cases) {
    ByteWriter w;
    w.WriteVarint(c.value);
    EXPECT_EQ(w.data(), Bytes(c.bytes)) << c.value;
    ByteReader r(w.data());
    int32_t v;
    ASSERT_TRUE(r.ReadVarint(&v).ok());
    EXPECT_EQ(v, c.value);
  }
  for (int64_t value : {int64_t{0}, int64_t{-1}, int64_t{1} << 40, -(int64_t{1} << 40),
                        std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()}) {
    ByteWriter w;
    w.WriteVarlong(value);
    ByteReader r(w.data());
    int64_t v;
    ASSERT_TRUE(r.ReadVarlong(&v).ok());
    EXPECT_EQ(v, value);
    EXPECT_TRUE(r.empty());
  }
  ByteWriter w;
  w.WriteVarlong(std::numeric_limits<int64_t>::min());
  EXPECT_EQ(w.data(), Bytes("ff ff ff ff ff ff ff ff ff 01"));
  // 11 bytes, or a 10th byte with more than one bit: too long.
  const std::string too_long = Bytes("ff ff ff ff ff ff ff ff ff 02");
  ByteReader r(too_long);
  int64_t v;
  EXPECT_FALSE(r.ReadVarlong(&v).ok());
}

TEST(WireTest, StringsAndBytes) {
  ByteWriter w;
  w.WriteString("ab");
  w.WriteNullableString(std::nullopt);
  w.WriteCompactString("ab");
  w.WriteCompactNullableString(std::nullopt);
  w.WriteBytes("xyz");
  w.WriteNullableBytes(std::nullopt);
  w.WriteCompactBytes("");
  w.WriteCompactNullableBytes(std::nullopt);
  const std::string expected =
      Bytes("00 02 'ab'  ff ff  03 'ab'  00  00 00 00 03 'xyz'  ff ff ff ff  01  00");
  EXPECT_EQ(w.data(), expected);

  ByteReader r(expected);
  std::string s;
  std::optional<std::string> o = "not null";
  ASSERT_TRUE(r.ReadString(&s).ok());
  EXPECT_EQ(s, "ab");
  ASSERT_TRUE(r.ReadNullableString(&o).ok());
  EXPECT_FALSE(o.has_value());
  ASSERT_TRUE(r.ReadCompactString(&s).ok());
  EXPECT_EQ(s, "ab");
  ASSERT_TRUE(r.ReadCompactNullableString(&o).ok());
  EXPECT_FALSE(o.has_value());
  ASSERT_TRUE(r.ReadBytes(&s).ok());
  EXPECT_EQ(s, "xyz");
  ASSERT_TRUE(r.ReadNullableBytes(&o).ok());
  EXPECT_FALSE(o.has_value());
  ASSERT_TRUE(r.ReadCompactBytes(&s).ok());
  EXPECT_EQ(s, "");
  ASSERT_TRUE(r.ReadCompactNullableBytes(&o).ok());
  EXPECT_FALSE(o.has_value());
  EXPECT_TRUE(r.empty());
}

TEST(WireTest, ArrayLengths) {
  ByteWriter w;
  w.WriteArrayLength(-1);
  w.WriteCompactArrayLength(-1);
  w.WriteCompactArrayLength(2);
  w.WriteRaw("xx");
  EXPECT_EQ(w.data(), Bytes("ff ff ff ff  00  03 'xx'"));
  ByteReader r(w.data());
  int32_t n;
  ASSERT_TRUE(r.ReadArrayLength(&n).ok());
  EXPECT_EQ(n, -1);
  ASSERT_TRUE(r.ReadCompactArrayLength(&n).ok());
  EXPECT_EQ(n, -1);
  ASSERT_TRUE(r.ReadCompactArrayLength(&n).ok());
  EXPECT_EQ(n, 2);
  // More elements than bytes left.
  const std::string three = Bytes("00 00 00 03 'xx'");
  ByteReader big(three);
  EXPECT_FALSE(big.ReadArrayLength(&n).ok());
}

TEST(WireTest, UuidRawAndSkip) {
  Uuid u;
  EXPECT_TRUE(u.IsZero());
  for (int i = 0; i < 16; ++i) u.bytes[i] = static_cast<uint8_t>(i);
  EXPECT_FALSE(u.IsZero());
  ByteWriter w;
  w.WriteUuid(u);
  w.WriteRaw("abc");
  ByteReader r(w.data());
  Uuid back;
  ASSERT_TRUE(r.ReadUuid(&back).ok());
  EXPECT_EQ(back, u);
  std::string_view raw;
  ASSERT_TRUE(r.Skip(1).ok());
  EXPECT_EQ(r.offset(), 17u);
  ASSERT_TRUE(r.ReadRaw(2, &raw).ok());
  EXPECT_EQ(raw, "bc");
  EXPECT_FALSE(r.Skip(1).ok());
  EXPECT_FALSE(r.ReadRaw(1, &raw).ok());
}

TEST(WireTest, TaggedFieldsAreWrittenInTagOrder) {
  std::vector<TaggedField> unknown = {{9, "n"}, {2, ""}, {0, "z"}};
  ByteWriter w;
  {
    TaggedFieldsWriter tw(w, unknown, 2);
    ByteWriter one;
    one.WriteInt8(1);
    tw.Write(1, one);
    ByteWriter five;
    five.WriteInt16(5);
    tw.Write(5, five);
    tw.Finish();
  }
  EXPECT_EQ(w.data(), Bytes("05  00 01 'z'  01 01 01  02 00  05 02 00 05  09 01 'n'"));

  ByteReader r(w.data());
  std::vector<TaggedField> all;
  ASSERT_TRUE(r.ReadUnknownTaggedFields(&all).ok());
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[2].tag, 2u);
  EXPECT_EQ(all[2].data, "");
  EXPECT_EQ(all[3].data, Bytes("00 05"));

  ByteWriter only;
  only.WriteTaggedFields(unknown);
  EXPECT_EQ(only.data(), Bytes("03  00 01 'z'  02 00  09 01 'n'"));
}

TEST(WireTest, SubReaderReportsAbsoluteOffsets) {
  const std::string section = Bytes("01 05 02 aa bb");
  ByteReader r(section);
  uint32_t count, tag;
  ASSERT_TRUE(r.ReadUnsignedVarint(&count).ok());
  ByteReader body;
  ASSERT_TRUE(r.ReadTaggedField(&tag, &body).ok());
  EXPECT_EQ(tag, 5u);
  EXPECT_EQ(body.offset(), 3u);
  int32_t v;
  absl::Status s = body.ReadInt32(&v);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("at offset 3"), std::string_view::npos) << s;
}

TEST(WireTest, WriterAppendsToCallerStringAndPatches) {
  std::string out = "head";
  ByteWriter w(&out);
  const size_t pos = w.size();
  w.WriteInt32(0);
  w.WriteRaw("body");
  w.PatchInt32(pos, static_cast<int32_t>(w.size() - pos - 4));
  EXPECT_EQ(out, Bytes("'head' 00 00 00 04 'body'"));
  w.PatchInt32(out.size() - 2, 1);
  EXPECT_FALSE(w.ok());
}

TEST(WireTest, UnrepresentableValuesAreWriterErrors) {
  ByteWriter w;
  w.WriteString(std::string(40000, 'x'));
  EXPECT_FALSE(w.ok());
  EXPECT_EQ(w.size(), 2u + 32767u);
  ByteWriter n;
  std::optional<std::string> null;
  n.WriteString(n.NonNull(null, "Name"));
  EXPECT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("Name"), std::string_view::npos);
  EXPECT_EQ(n.data(), Bytes("00 00"));
}

}  // namespace
}  // namespace eddy::kafka
