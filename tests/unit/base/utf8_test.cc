#include "base/utf8.h"

#include <gtest/gtest.h>

namespace eddy {
namespace {

TEST(Utf8, SequenceLengthFollowsRfc3629) {
  EXPECT_EQ(Utf8SequenceLength("a"), 1u);
  EXPECT_EQ(Utf8SequenceLength("\xC3\xA9"), 2u);          // é
  EXPECT_EQ(Utf8SequenceLength("\xE2\x82\xAC"), 3u);      // €
  EXPECT_EQ(Utf8SequenceLength("\xF0\x9F\x98\x80"), 4u);  // U+1F600
  EXPECT_EQ(Utf8SequenceLength(""), 0u);
  EXPECT_EQ(Utf8SequenceLength("\x80"), 0u);              // stray continuation byte
  EXPECT_EQ(Utf8SequenceLength("\xC0\x80"), 0u);          // overlong NUL
  EXPECT_EQ(Utf8SequenceLength("\xC1\xBF"), 0u);          // overlong
  EXPECT_EQ(Utf8SequenceLength("\xE0\x9F\xBF"), 0u);      // overlong 3-byte form
  EXPECT_EQ(Utf8SequenceLength("\xED\xA0\x80"), 0u);      // surrogate U+D800
  EXPECT_EQ(Utf8SequenceLength("\xF0\x8F\xBF\xBF"), 0u);  // overlong 4-byte form
  EXPECT_EQ(Utf8SequenceLength("\xF4\x90\x80\x80"), 0u);  // U+110000
  EXPECT_EQ(Utf8SequenceLength("\xF5\x80\x80\x80"), 0u);
  EXPECT_EQ(Utf8SequenceLength("\xFF"), 0u);
  EXPECT_EQ(Utf8SequenceLength("\xE2\x82"), 0u);  // truncated
  EXPECT_EQ(Utf8SequenceLength("\xE2(\xAC"), 0u);
}

TEST(Utf8, ValidityAndReplacement) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ASCII text that is longer than eight bytes"));
  EXPECT_TRUE(IsValidUtf8("zoë, €5, \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("abcdefgh\xFF"));
  EXPECT_FALSE(IsValidUtf8(std::string("ok\xC3", 3)));
  EXPECT_EQ(ToValidUtf8("zoë"), "zoë");
  // Each maximal ill-formed subsequence becomes one U+FFFD; valid neighbours stay (the examples
  // of Unicode 15 §3.9, Table 3-8: "\xF1\x80\x80" is one maximal subpart, "\xC0" and "\xAF"
  // are one each, "\xE0\x80" is two).
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(ToValidUtf8("a\xFF\xFE"
                        "b\xC3\xA9"),
            "a" + r + r + "b\xC3\xA9");
  EXPECT_EQ(ToValidUtf8("\xE2\x82"), r);
  EXPECT_EQ(ToValidUtf8("\xE2\x82x"), r + "x");
  EXPECT_EQ(ToValidUtf8("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64"),
            "a" + r + r + r + "b" + r + "c" + r + r + "d");
  EXPECT_EQ(ToValidUtf8("\xC0\xAF\xE0\x80\xBF\xF0\x81\x82\x41"),
            r + r + r + r + r + r + r + r + "A");
  EXPECT_EQ(ToValidUtf8("\xED\xA0\x80\x41"), r + r + r + "A");  // a surrogate: 3 subparts
}

TEST(Utf8, IncompleteSuffixIsTheStartOfACharacterCutShort) {
  EXPECT_EQ(Utf8IncompleteSuffix(""), 0u);
  EXPECT_EQ(Utf8IncompleteSuffix("abc"), 0u);
  EXPECT_EQ(Utf8IncompleteSuffix("ab\xC3"), 1u);                    // é cut after 1 of 2 bytes
  EXPECT_EQ(Utf8IncompleteSuffix("ab\xE2\x82"), 2u);                // € cut after 2 of 3
  EXPECT_EQ(Utf8IncompleteSuffix("\xF0\x9F\x98"), 3u);              // U+1F600 cut after 3 of 4
  EXPECT_EQ(Utf8IncompleteSuffix("ab\xE2\x82\xAC"), 0u);            // complete
  EXPECT_EQ(Utf8IncompleteSuffix("ab\xFF"), 0u);                    // invalid, not cut
  EXPECT_EQ(Utf8IncompleteSuffix("ab\x80"), 0u);                    // stray continuation byte
  EXPECT_EQ(Utf8IncompleteSuffix("ab\xE0\x80"), 0u);                // no character starts so
  EXPECT_EQ(Utf8IncompleteSuffix("\xF0\x9F\x98\x80\x80\x80"), 0u);  // too many continuations
}

TEST(Utf8, EscapeForMessageShowsNoRawControlOrInvalidBytes) {
  EXPECT_EQ(EscapeForMessage("abc"), "abc");
  EXPECT_EQ(EscapeForMessage("café"), "café");
  EXPECT_EQ(EscapeForMessage(std::string("a\x00"
                                         "b",
                                         3)),
            "a\\x00b");
  EXPECT_EQ(EscapeForMessage("\xFF\xFE"), "\\xff\\xfe");
  EXPECT_EQ(EscapeForMessage("\x1B[31mred"), "\\x1b[31mred");  // a terminal escape sequence
  EXPECT_EQ(EscapeForMessage("tab\there\nnl\rcr\x7F"), "tab\\there\\nnl\\rcr\\x7f");
  EXPECT_EQ(EscapeForMessage("back\\slash"), "back\\\\slash");
  // C1 control CSI (U+009B) and a right-to-left override (U+202E) are escaped.
  EXPECT_EQ(EscapeForMessage("\xC2\x9B"
                             "1m"),
            "\\u{009b}1m");
  EXPECT_EQ(EscapeForMessage("x\xE2\x80\xAEy"), "x\\u{202e}y");
  EXPECT_EQ(EscapeForMessage("\xEF\xBB\xBFid"), "\\u{feff}id");
  // Cut after max_bytes of input, never inside a character.
  EXPECT_EQ(EscapeForMessage(std::string(100, 'x'), 60), std::string(60, 'x') + "...");
  EXPECT_EQ(EscapeForMessage("abcdé", 5), "abcd...");
  EXPECT_EQ(EscapeForMessage("abcdé", 6), "abcdé");
  EXPECT_EQ(EscapeForMessage(std::string(10, '\0'), 3), "\\x00\\x00\\x00...");
}

TEST(Utf8, Base64Rfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode(std::string("\x00\xff\xfe", 3)), "AP/+");
}

}  // namespace
}  // namespace eddy
