// Helpers of the Kafka handler tests: request frames encoded and response frames decoded with the
// generated codecs (no network).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "kafka/messages.h"

namespace eddy::kafka {

// A request frame for `body` at `version`.
template <typename Msg>
std::string Frame(const Msg& body, int16_t version, int32_t correlation_id = 7) {
  std::string out;
  ByteWriter w(&out);
  RequestHeader h;
  h.request_api_key = Msg::kApiKey;
  h.request_api_version = version;
  h.correlation_id = correlation_id;
  h.client_id = "broker-test";
  h.Encode(w, RequestHeaderVersion(Msg::kApiKey, version));
  body.Encode(w, version);
  return out;
}

// Decodes a response frame of `Msg` at `version` (checking the correlation id).
template <typename Msg>
Msg Decode(const std::string& frame, int16_t api_key, int16_t version, int32_t correlation_id = 7) {
  ByteReader r(frame);
  ResponseHeader h;
  EXPECT_TRUE(h.Decode(r, ResponseHeaderVersion(api_key, version)).ok());
  EXPECT_EQ(h.correlation_id, correlation_id);
  Msg m;
  absl::Status st = m.Decode(r, version);
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_EQ(r.remaining(), 0u);
  return m;
}

}  // namespace eddy::kafka
