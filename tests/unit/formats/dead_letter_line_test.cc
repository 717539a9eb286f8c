// Dead-letter lines (docs/sql-reference.md "Bad rows") are valid UTF-8 JSON whatever the record
// holds, and give the record's exact bytes back: checked with an independent strict JSON parser
// (nlohmann::json rejects invalid UTF-8) and an independent base64 decoder.
#include "connectors/dead_letter_line.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>

namespace eddy::connectors {
namespace {

std::string Base64Decode(const std::string& s) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=') break;
    int v = val(c);
    EXPECT_GE(v, 0) << "bad base64 character " << c;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

TEST(DeadLetterLine, ValidUtf8RecordAsItIs) {
  std::string line = DeadLetterLine("data/x.csv:3", 5, "field 'a': 'x' is not a valid INT",
                                    "1,x,\"q\"\tzoë", false);
  ASSERT_EQ(line.back(), '\n');
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["source"], "data/x.csv:3");
  EXPECT_EQ(j["column"], 5);
  EXPECT_EQ(j["reason"], "field 'a': 'x' is not a valid INT");
  EXPECT_EQ(j["row"], "1,x,\"q\"\tzoë");
  EXPECT_FALSE(j.contains("row_base64"));
  EXPECT_FALSE(j.contains("row_truncated"));
}

TEST(DeadLetterLine, BinaryRecordGetsReplacementCharactersAndItsBytesInBase64) {
  const std::string raw(
      "a\x00\xff\xfe"
      "b\xe2\x82",
      7);
  auto j = nlohmann::json::parse(DeadLetterLine("t/0/7", 1, "why", raw, false));
  EXPECT_EQ(j["source"], "t/0/7");
  EXPECT_EQ(j["row"], std::string("a\x00", 2) + "\uFFFD\uFFFDb\uFFFD");
  EXPECT_EQ(Base64Decode(j["row_base64"]), raw);
  // An invalid path or reason is made valid too.
  j = nlohmann::json::parse(DeadLetterLine("dir/\xff.csv:1", 1, "r\xc3", "ok", false));
  EXPECT_EQ(j["source"], "dir/\uFFFD.csv:1");
  EXPECT_EQ(j["reason"], "r\uFFFD");
}

TEST(DeadLetterLine, TruncatedRecordDropsASplitCharacterOnly) {
  auto j = nlohmann::json::parse(DeadLetterLine("f:1", 1, "too long", "abc\xe2\x82", true));
  EXPECT_EQ(j["row"], "abc");
  EXPECT_FALSE(j.contains("row_base64"));
  EXPECT_EQ(j["row_truncated"], true);
  j = nlohmann::json::parse(DeadLetterLine("f:1", 1, "too long", "abc\xff", true));
  EXPECT_EQ(Base64Decode(j["row_base64"]), "abc\xff");  // an invalid byte is kept
}

TEST(DeadLetterLine, RandomBytesAlwaysParseAndRoundTrip) {
  std::mt19937 rng(15);
  for (int i = 0; i < 20000; ++i) {
    std::string raw(rng() % 24, '\0');
    for (char& c : raw) c = static_cast<char>(rng() % 4 == 0 ? rng() % 0x20 : rng());
    const bool truncated = rng() % 2;
    std::string line = DeadLetterLine("f:1", 1, "reason " + raw, raw, truncated);
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(line)) << line;
    std::string back =
        j.contains("row_base64") ? Base64Decode(j["row_base64"]) : j["row"].get<std::string>();
    const size_t cut = truncated ? Utf8IncompleteSuffix(raw) : 0;
    EXPECT_EQ(back, raw.substr(0, raw.size() - cut));
    EXPECT_LE(cut, 3u);
  }
}

}  // namespace
}  // namespace eddy::connectors
