#include "state/snapshot.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "state/serializer.h"

namespace eddy::state {

namespace {
constexpr char kMagic[8] = {'E', 'D', 'D', 'Y', 'S', 'N', 'A', 'P'};

uint32_t Crc32(std::string_view data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths: feed large inputs in pieces.
  size_t pos = 0;
  while (pos < data.size()) {
    size_t n = std::min<size_t>(data.size() - pos, 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data.data() + pos), static_cast<uInt>(n));
    pos += n;
  }
  return static_cast<uint32_t>(crc);
}
}  // namespace

size_t OperatorSnapshot::ByteSize() const {
  size_t n = operator_state.size();
  for (const auto& [kg, sections] : key_groups) {
    for (const auto& s : sections) n += s.size();
  }
  return n;
}

size_t SubtaskSnapshot::ByteSize() const {
  size_t n = 0;
  for (const auto& o : operators) n += o.ByteSize();
  for (const auto& c : committables) n += c.size();
  return n;
}

std::string SubtaskSnapshot::Encode() const {
  std::string out(kMagic, sizeof(kMagic));
  out.reserve(ByteSize() + 64);
  StateWriter w(&out);
  w.PutVarint(kSnapshotFormatVersion);
  w.PutVarint(operators.size());
  for (const auto& op : operators) {
    w.PutString(op.uid);
    w.PutString(op.operator_state);
    w.PutVarint(op.key_groups.size());
    for (const auto& [kg, sections] : op.key_groups) {
      w.PutVarint(static_cast<uint64_t>(kg));
      w.PutVarint(sections.size());
      for (const auto& s : sections) w.PutString(s);
    }
  }
  w.PutVarint(committables.size());
  for (const auto& c : committables) w.PutString(c);
  uint32_t crc = Crc32(out);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(crc >> (8 * i)));
  return out;
}

absl::StatusOr<SubtaskSnapshot> SubtaskSnapshot::Decode(std::string_view data) {
  if (data.size() < sizeof(kMagic) + 4 || std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0) {
    return absl::DataLossError("not an eddy state snapshot (bad magic)");
  }
  std::string_view body = data.substr(0, data.size() - 4);
  uint32_t want = 0;
  for (int i = 0; i < 4; ++i) {
    want |= static_cast<uint32_t>(static_cast<uint8_t>(data[data.size() - 4 + i])) << (8 * i);
  }
  if (Crc32(body) != want) return absl::DataLossError("state snapshot checksum mismatch");
  StateReader r(body.substr(sizeof(kMagic)));
  uint64_t version = 0, nops = 0;
  if (auto s = r.GetVarint(&version); !s.ok()) return s;
  if (version != kSnapshotFormatVersion) {
    return absl::DataLossError("state snapshot has format version " + std::to_string(version) +
                               ", this eddy reads version " +
                               std::to_string(kSnapshotFormatVersion));
  }
  SubtaskSnapshot snap;
  if (auto s = r.GetCount(&nops); !s.ok()) return s;
  for (uint64_t i = 0; i < nops; ++i) {
    OperatorSnapshot op;
    if (auto s = r.GetString(&op.uid); !s.ok()) return s;
    if (auto s = r.GetString(&op.operator_state); !s.ok()) return s;
    uint64_t nkg = 0;
    if (auto s = r.GetCount(&nkg); !s.ok()) return s;
    for (uint64_t k = 0; k < nkg; ++k) {
      uint64_t kg = 0, nsec = 0;
      if (auto s = r.GetVarint(&kg); !s.ok()) return s;
      if (kg > INT32_MAX) return StateReader::Corrupt("key group out of range");
      if (auto s = r.GetCount(&nsec); !s.ok()) return s;
      auto [it, inserted] = op.key_groups.try_emplace(static_cast<int32_t>(kg));
      if (!inserted) return StateReader::Corrupt("a key group appears twice");
      it->second.resize(nsec);
      for (auto& sec : it->second) {
        if (auto s = r.GetString(&sec); !s.ok()) return s;
      }
    }
    snap.operators.push_back(std::move(op));
  }
  uint64_t nc = 0;
  if (auto s = r.GetCount(&nc); !s.ok()) return s;
  snap.committables.resize(nc);
  for (auto& c : snap.committables) {
    if (auto s = r.GetString(&c); !s.ok()) return s;
  }
  if (!r.done()) return StateReader::Corrupt("trailing bytes after the committables");
  return snap;
}

OperatorRestore::OperatorRestore(std::vector<const OperatorSnapshot*> olds, KeyGroupRange range)
    : range_(range) {
  for (const auto* o : olds) {
    if (!o) continue;
    olds_.push_back(o);
    for (const auto& [kg, sections] : o->key_groups) {
      if (range_.contains(KeyGroup(kg))) groups_[kg] = &sections;
    }
  }
}

std::vector<std::string_view> OperatorRestore::OperatorStates() const {
  std::vector<std::string_view> out;
  for (const auto* o : olds_) out.push_back(o->operator_state);
  return out;
}

std::vector<KeyGroup> OperatorRestore::KeyGroups() const {
  std::vector<KeyGroup> out;
  for (const auto& [kg, s] : groups_) out.push_back(KeyGroup(kg));
  return out;
}

std::string_view OperatorRestore::Section(KeyGroup kg, int section) const {
  auto it = groups_.find(kg.value());
  if (it == groups_.end() || section < 0 || static_cast<size_t>(section) >= it->second->size()) {
    return {};
  }
  return (*it->second)[static_cast<size_t>(section)];
}

}  // namespace eddy::state
