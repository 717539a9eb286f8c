// libFuzzer target: keyed state snapshot restore (src/state/keyed_map_state.h RestoreKeyGroup with
// the serializers of src/state/serializer.h and value_serializer.h) over arbitrary bytes, for
// several value types. The first byte picks the value type and the key group; the rest is the
// snapshot. A bad snapshot must give DataLoss and leave the state unchanged (here: empty); a good
// one must survive a snapshot / restore round trip with the same keys and value encodings.
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "state/keyed_map_state.h"
#include "state/value_serializer.h"

namespace {

using eddy::KeyGroup;
using eddy::state::KeyedMapState;
using eddy::state::KeyGroupRange;
using eddy::state::StateSerializer;
using eddy::state::StateWriter;

template <class V>
std::map<std::string, std::string> Contents(KeyedMapState<V>& st, KeyGroup kg) {
  std::map<std::string, std::string> m;
  st.ForEachInKeyGroup(kg, [&](KeyGroup, std::string_view k, V& v) {
    std::string bytes;
    StateWriter w(&bytes);
    StateSerializer<V>::Write(v, &w);
    m[std::string(k)] = bytes;
  });
  return m;
}

template <class V>
void Check(KeyGroup kg, std::string_view snapshot) {
  KeyedMapState<V> st(KeyGroupRange(KeyGroup(0), KeyGroup(3)));
  absl::Status s = st.RestoreKeyGroup(kg, snapshot);
  if (!s.ok()) {
    if (!absl::IsDataLoss(s) || st.size() != 0) std::abort();
    return;
  }
  std::string again;
  st.SnapshotKeyGroup(kg, &again);
  KeyedMapState<V> st2(KeyGroupRange(KeyGroup(0), KeyGroup(3)));
  if (!st2.RestoreKeyGroup(kg, again).ok()) std::abort();
  if (Contents(st, kg) != Contents(st2, kg)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  KeyGroup kg(data[0] >> 4 & 3);
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] & 15) {
    case 0:
      Check<int64_t>(kg, in);
      break;
    case 1:
      Check<std::string>(kg, in);
      break;
    case 2:
      Check<eddy::Value>(kg, in);
      break;
    case 3:
      Check<std::vector<eddy::Value>>(kg, in);
      break;
    case 4:
      Check<std::pair<int64_t, std::deque<std::string>>>(kg, in);
      break;
    case 5:
      Check<std::map<std::string, int64_t>>(kg, in);
      break;
    case 6:
      Check<std::unique_ptr<std::vector<eddy::Value>>>(kg, in);
      break;
    case 7:
      Check<std::optional<double>>(kg, in);
      break;
    case 8:
      Check<bool>(kg, in);
      break;
    case 9:
      Check<std::map<int64_t, std::vector<std::pair<eddy::DataType, uint8_t>>>>(kg, in);
      break;
    default:
      Check<int32_t>(kg, in);
      break;
  }
  return 0;
}
