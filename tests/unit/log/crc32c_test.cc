#include "log/crc32c.h"

#include <random>
#include <string>

#include "gtest/gtest.h"

namespace eddy::log {
namespace {

std::string Bytes(std::initializer_list<int> values) {
  std::string s;
  for (int v : values) s.push_back(static_cast<char>(v));
  return s;
}

TEST(Crc32cTest, StandardCheckValue) { EXPECT_EQ(Crc32c("123456789"), 0xE3069283u); }

TEST(Crc32cTest, Rfc3720Vectors) {
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xFF')), 0x62A8AB43u);
  std::string ascending;
  std::string descending;
  for (int i = 0; i < 32; ++i) {
    ascending.push_back(static_cast<char>(i));
    descending.push_back(static_cast<char>(31 - i));
  }
  EXPECT_EQ(Crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(Crc32c(descending), 0x113FDB5Cu);
  // iSCSI SCSI Read (10) command PDU.
  std::string pdu = Bytes({0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                           0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
                           0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
                           0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00});
  EXPECT_EQ(Crc32c(pdu), 0xD9963A56u);
}

TEST(Crc32cTest, ExtendEqualsWhole) {
  std::string text = "The quick brown fox jumps over the lazy dog";
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    uint32_t first = Crc32c(std::string_view(text).substr(0, cut));
    uint32_t both = Crc32cExtend(first, text.data() + cut, text.size() - cut);
    EXPECT_EQ(both, Crc32c(text)) << "cut at " << cut;
  }
  EXPECT_EQ(Crc32c(text), 0x22620404u);
}

TEST(Crc32cTest, HardwareAndPortableAgreeOnEveryLengthAndAlignment) {
  std::mt19937 rng(42);
  std::string data(4096 + 16, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t size : {0, 1, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4096}) {
      uint32_t portable = internal::Crc32cPortable(0, data.data() + offset, size);
      if (internal::Crc32cHardwareAvailable()) {
        EXPECT_EQ(internal::Crc32cHardware(0, data.data() + offset, size), portable)
            << "offset " << offset << " size " << size;
      }
      EXPECT_EQ(Crc32cExtend(0, data.data() + offset, size), portable);
    }
  }
  EXPECT_EQ(internal::Crc32cPortable(0, "123456789", 9), 0xE3069283u);
}

}  // namespace
}  // namespace eddy::log
