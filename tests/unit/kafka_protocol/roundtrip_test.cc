// Round trip of every Kafka message (both headers, every request and response) at every valid
// version, filled by the generated FillForTest() with non-default values in every field present in
// the version: encode, decode, re-encode. Also truncation at every byte position.
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kafka/messages.h"
#include "kafka/test_fill.inc"

namespace eddy::kafka {
namespace {

// Type-erased access to one message type, so that the checks below are compiled once rather than
// once per message type.
class AnyMessage {
 public:
  virtual ~AnyMessage() = default;
  virtual std::unique_ptr<AnyMessage> New() const = 0;
  virtual void Fill(int16_t version, int seed) = 0;
  virtual void Encode(ByteWriter& w, int16_t version) const = 0;
  virtual absl::Status Decode(ByteReader& r, int16_t version) = 0;
  virtual bool Equals(const AnyMessage& other) const = 0;
};

template <typename T>
class Message final : public AnyMessage {
 public:
  std::unique_ptr<AnyMessage> New() const override { return std::make_unique<Message<T>>(); }
  void Fill(int16_t version, int seed) override { FillForTest(msg_, version, seed); }
  void Encode(ByteWriter& w, int16_t version) const override { msg_.Encode(w, version); }
  absl::Status Decode(ByteReader& r, int16_t version) override { return msg_.Decode(r, version); }
  bool Equals(const AnyMessage& other) const override {
    return msg_ == static_cast<const Message<T>&>(other).msg_;
  }

 private:
  T msg_;
};

// Decodes from a heap buffer of exactly `bytes.size()` bytes so that the sanitizers catch any read
// past the end.
absl::Status DecodeExact(const std::string& bytes, int16_t version, AnyMessage& out, size_t* left) {
  std::unique_ptr<char[]> buf(new char[bytes.size() + 1]);
  std::memcpy(buf.get(), bytes.data(), bytes.size());
  ByteReader r(std::string_view(buf.get(), bytes.size()));
  absl::Status s = out.Decode(r, version);
  *left = r.remaining();
  return s;
}

std::string Encode(const AnyMessage& msg, int16_t version) {
  ByteWriter w;
  msg.Encode(w, version);
  EXPECT_TRUE(w.ok()) << w.status();
  return w.Release();
}

void CheckRoundTrip(const AnyMessage& prototype, int16_t version, int seed) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::unique_ptr<AnyMessage> msg = prototype.New();
  msg->Fill(version, seed);
  const std::string bytes = Encode(*msg, version);

  std::unique_ptr<AnyMessage> decoded = prototype.New();
  size_t left = 0;
  absl::Status s = DecodeExact(bytes, version, *decoded, &left);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(left, 0u) << "decoding did not consume the whole buffer";
  EXPECT_TRUE(decoded->Equals(*msg)) << "decoded message differs from the encoded one";
  EXPECT_EQ(Encode(*decoded, version), bytes);

  // A filled message must not encode like a default one, unless the version has no fields.
  std::unique_ptr<AnyMessage> empty = prototype.New();
  const std::string default_bytes = Encode(*empty, version);
  if (!default_bytes.empty() && default_bytes != std::string(1, '\0')) {
    EXPECT_NE(bytes, default_bytes);
  }
  // The default message round trips too.
  std::unique_ptr<AnyMessage> decoded_default = prototype.New();
  s = DecodeExact(default_bytes, version, *decoded_default, &left);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(left, 0u);
  EXPECT_TRUE(decoded_default->Equals(*empty));
}

// Every strict prefix of a valid encoding must fail to decode (and never read out of bounds).
void CheckTruncation(const AnyMessage& prototype, int16_t version) {
  std::unique_ptr<AnyMessage> msg = prototype.New();
  msg->Fill(version, 0);
  const std::string bytes = Encode(*msg, version);
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::unique_ptr<AnyMessage> decoded = prototype.New();
    size_t left = 0;
    absl::Status s = DecodeExact(bytes.substr(0, n), version, *decoded, &left);
    ASSERT_FALSE(s.ok()) << "prefix of " << n << " of " << bytes.size() << " bytes decoded";
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  }
}

struct Case {
  std::string name;
  int16_t version;
  std::shared_ptr<const AnyMessage> prototype;
};

std::vector<Case> AllCases() {
  std::vector<Case> cases;
#define EDDY_ADD_CASES(T)                                         \
  for (int16_t v = T::kMinVersion; v <= T::kMaxVersion; ++v) {    \
    cases.push_back(Case{#T, v, std::make_shared<Message<T>>()}); \
  }
  EDDY_KAFKA_FOR_EACH_MESSAGE(EDDY_ADD_CASES)
#undef EDDY_ADD_CASES
  return cases;
}

class RoundTripTest : public testing::TestWithParam<Case> {};

TEST_P(RoundTripTest, EncodeDecodeEncode) {
  const Case& c = GetParam();
  for (int seed = 0; seed < 6; ++seed) {
    CheckRoundTrip(*c.prototype, c.version, seed);
    if (HasFatalFailure()) return;
  }
}

TEST_P(RoundTripTest, EveryTruncationFails) {
  const Case& c = GetParam();
  CheckTruncation(*c.prototype, c.version);
}

INSTANTIATE_TEST_SUITE_P(AllMessages, RoundTripTest, testing::ValuesIn(AllCases()),
                         [](const testing::TestParamInfo<Case>& info) {
                           return info.param.name + "_v" + std::to_string(info.param.version);
                         });

// The registry covers both headers and a request and a response for every API in AllApis().
TEST(RoundTripCoverageTest, EveryMessageAndVersionIsCovered) {
  std::set<std::string> names;
  size_t versions = 0;
  for (const Case& c : AllCases()) {
    names.insert(c.name);
    ++versions;
  }
  EXPECT_EQ(names.size(), 2 + 2 * AllApis().size());
  EXPECT_TRUE(names.count("RequestHeader"));
  EXPECT_TRUE(names.count("ResponseHeader"));
  size_t expected_versions = 3 + 2;  // RequestHeader v0-2, ResponseHeader v0-1
  for (const ApiInfo& api : AllApis()) {
    EXPECT_TRUE(names.count(std::string(api.name) + "Request")) << api.name;
    EXPECT_TRUE(names.count(std::string(api.name) + "Response")) << api.name;
    expected_versions += 2 * static_cast<size_t>(api.max_version - api.min_version + 1);
  }
  EXPECT_EQ(versions, expected_versions);
}

}  // namespace
}  // namespace eddy::kafka
