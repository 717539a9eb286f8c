// libFuzzer target: the Kafka request decoder. The input is a request frame (without its size
// prefix): the header is decoded at the version its API key and version ask for, then the body
// with the generated codec of every API eddy serves, at the frame's version and at every valid
// version. Decoding must never crash, read out of bounds or allocate without bound; what decodes
// must re-encode and decode to the same value.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "kafka/messages.h"

namespace {

using namespace eddy::kafka;

template <typename Msg>
void Check(std::string_view body, int16_t version) {
  if (version < Msg::kMinVersion || version > Msg::kMaxVersion) return;
  ByteReader r(body);
  Msg m;
  if (!m.Decode(r, version).ok()) return;
  std::string out;
  ByteWriter w(&out);
  m.Encode(w, version);
  if (!w.ok()) return;  // e.g. a value the version cannot represent
  ByteReader again(out);
  Msg m2;
  if (!m2.Decode(again, version).ok() || !(m2 == m)) __builtin_trap();
}

template <typename... Msgs>
void CheckAll(std::string_view body, int16_t version) {
  (Check<Msgs>(body, version), ...);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view frame(reinterpret_cast<const char*>(data), size);
  if (size < 4) return 0;
  int16_t key = static_cast<int16_t>((data[0] << 8) | data[1]);
  int16_t version = static_cast<int16_t>((data[2] << 8) | data[3]);
  RequestHeader h;
  ByteReader r(frame);
  int16_t hv = RequestHeaderVersion(key, version);
  if (!h.Decode(r, hv).ok()) return 0;
  std::string_view body = frame.substr(size - r.remaining());
  for (int16_t v : {version, static_cast<int16_t>(version & 15)}) {
    CheckAll<ProduceRequest, FetchRequest, ListOffsetsRequest, MetadataRequest, OffsetCommitRequest,
             OffsetFetchRequest, FindCoordinatorRequest, JoinGroupRequest, HeartbeatRequest,
             LeaveGroupRequest, SyncGroupRequest, DescribeGroupsRequest, ListGroupsRequest,
             ApiVersionsRequest, CreateTopicsRequest, DeleteTopicsRequest, DeleteGroupsRequest,
             InitProducerIdRequest, DescribeConfigsRequest, CreatePartitionsRequest,
             DescribeClusterRequest>(body, v);
  }
  return 0;
}
