// Keyed state: a map from (key group, key bytes) to an operator's per-key value, split by key
// group so it can be snapshotted and restored one key group at a time and redistributed when a
// job is rescaled (DESIGN.md §3 "State backends"; Flink: HeapKeyedStateBackend's StateTable).
//
// KeyedMapState is the in-memory backend: one absl::flat_hash_map per key group of the owned
// range. Its operations are the whole keyed-state interface operators use; a RocksDB backend
// would implement the same operations with keys prefixed by the key group (big-endian, so one
// key group is one contiguous key range: ForEachInKeyGroup is a prefix scan and a key group's
// snapshot is that range), and values serialized with StateSerializer<V> on every write. Code
// that must also run on such a backend should therefore not keep V* across calls that insert
// or erase, and should write a value back after changing it; operators that need stable
// addresses store std::unique_ptr<X> values in memory today.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "state/key_group_range.h"
#include "state/serializer.h"

namespace eddy::state {

/// Version byte that starts every key-group snapshot of KeyedMapState (docs/architecture.md
/// "Keyed state"). Restore rejects other versions.
inline constexpr uint8_t kKeyedStateFormatVersion = 1;

/// Per-key state of one operator instance over the key groups of `range`: key bytes (any
/// encoding, e.g. AppendKeyBytes of the key values) → V, where each key belongs to exactly one
/// key group chosen by the caller (the key group the exchange routed its row by).
///
/// Pointers to values stay valid until that entry is erased or another entry of the same key
/// group is inserted (flat_hash_map rehashing); use std::unique_ptr<X> values for addresses that
/// must survive insertions. Not thread-safe: one subtask thread owns an instance.
template <class V>
class KeyedMapState {
 public:
  using Map = absl::flat_hash_map<std::string, V>;

  /// State for the key groups of `range` (all empty).
  explicit KeyedMapState(KeyGroupRange range)
      : range_(range), maps_(static_cast<size_t>(range.size())) {}
  KeyedMapState(const KeyedMapState&) = delete;
  KeyedMapState& operator=(const KeyedMapState&) = delete;

  const KeyGroupRange& range() const { return range_; }

  /// The value of `key` in key group `kg` (which must be in range()), or null.
  V* Find(KeyGroup kg, std::string_view key) {
    Map& m = MapOf(kg);
    auto it = m.find(View(key));
    return it == m.end() ? nullptr : &it->second;
  }
  const V* Find(KeyGroup kg, std::string_view key) const {
    const Map& m = maps_[static_cast<size_t>(range_.IndexOf(kg))];
    auto it = m.find(View(key));
    return it == m.end() ? nullptr : &it->second;
  }

  /// The value of `key` in `kg`, inserted value-initialized (V{}) when absent; `.second` says
  /// whether it was inserted. `kg` must be in range().
  std::pair<V*, bool> FindOrInsert(KeyGroup kg, std::string_view key) {
    Map& m = MapOf(kg);
    size_t before = m.size();
    // One hash and probe whether or not the key is there.
    auto it = m.lazy_emplace(View(key), [&](const typename Map::constructor& ctor) {
      ctor(std::piecewise_construct, std::forward_as_tuple(key.data(), key.size()),
           std::forward_as_tuple());
    });
    bool inserted = m.size() != before;
    size_ += inserted;
    return {&it->second, inserted};
  }

  /// Removes `key` from `kg`; returns whether it was there.
  bool Erase(KeyGroup kg, std::string_view key) {
    Map& m = MapOf(kg);
    auto it = m.find(View(key));
    if (it == m.end()) return false;
    m.erase(it);
    --size_;
    return true;
  }

  /// Entries over all key groups. O(1).
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  /// Entries of one key group.
  size_t size(KeyGroup kg) const { return maps_[static_cast<size_t>(range_.IndexOf(kg))].size(); }

  /// Calls f(KeyGroup, std::string_view key, V& value) for every entry, by ascending key group
  /// (in unspecified order within one). `f` must not insert or erase entries.
  template <class F>
  void ForEach(F&& f) {
    for (size_t i = 0; i < maps_.size(); ++i) {
      KeyGroup kg(range_.first().value() + static_cast<int32_t>(i));
      for (auto& [k, v] : maps_[i]) f(kg, std::string_view(k), v);
    }
  }
  /// Calls f(KeyGroup, std::string_view key, const V& value) for every entry (read-only).
  template <class F>
  void ForEach(F&& f) const {
    for (size_t i = 0; i < maps_.size(); ++i) {
      KeyGroup kg(range_.first().value() + static_cast<int32_t>(i));
      for (const auto& [k, v] : maps_[i]) f(kg, std::string_view(k), v);
    }
  }
  /// Same for the entries of key group `kg` only.
  template <class F>
  void ForEachInKeyGroup(KeyGroup kg, F&& f) {
    for (auto& [k, v] : MapOf(kg)) f(kg, std::string_view(k), v);
  }

  /// Erases every entry for which pred(KeyGroup, std::string_view key, V& value) is true (the
  /// predicate may release what the value owns before it is destroyed), e.g. a state TTL sweep.
  /// Returns the number of entries erased. O(entries).
  template <class Pred>
  size_t EraseIf(Pred&& pred) {
    size_t erased = 0;
    for (size_t i = 0; i < maps_.size(); ++i) {
      KeyGroup kg(range_.first().value() + static_cast<int32_t>(i));
      Map& m = maps_[i];
      for (auto it = m.begin(); it != m.end();) {
        if (pred(kg, std::string_view(it->first), it->second)) {
          m.erase(it++);
          ++erased;
        } else {
          ++it;
        }
      }
    }
    size_ -= erased;
    return erased;
  }

  /// Removes every entry.
  void Clear() {
    for (Map& m : maps_) m.clear();
    size_ = 0;
  }

  /// Approximate bytes held by the maps: slot arrays (key, value and control byte per slot)
  /// plus heap-allocated key bytes. Memory a V owns beyond sizeof(V) is not counted. O(entries).
  size_t ApproximateMemoryBytes() const {
    size_t bytes = maps_.capacity() * sizeof(Map);
    for (const Map& m : maps_) {
      bytes += m.capacity() * (sizeof(typename Map::value_type) + 1);
      for (const auto& [k, v] : m) {
        if (k.capacity() > std::string().capacity()) bytes += k.capacity() + 1;
      }
    }
    return bytes;
  }

  /// Appends the snapshot of key group `kg` (in range()) to `*out`:
  ///   byte version (kKeyedStateFormatVersion), varint key group, varint entry count,
  ///   then per entry: string key, value (StateSerializer<V>), in unspecified order.
  /// Requires a StateSerializer<V> specialization.
  void SnapshotKeyGroup(KeyGroup kg, std::string* out) const {
    const Map& m = maps_[static_cast<size_t>(range_.IndexOf(kg))];
    StateWriter w(out);
    w.PutByte(kKeyedStateFormatVersion);
    w.PutVarint(static_cast<uint64_t>(kg.value()));
    w.PutVarint(m.size());
    for (const auto& [k, v] : m) {
      w.PutString(k);
      StateSerializer<V>::Write(v, &w);
    }
  }

  /// Replaces the contents of key group `kg` with the snapshot `data` (one SnapshotKeyGroup
  /// output, possibly taken by an instance with another range). Errors, with the state left
  /// unchanged: InvalidArgument when `kg` is not in range(); DataLoss when `data` is truncated,
  /// corrupt, of another format version, of another key group, has trailing bytes or a key twice.
  absl::Status RestoreKeyGroup(KeyGroup kg, std::string_view data) {
    if (!range_.contains(kg)) {
      return absl::InvalidArgumentError("key group " + std::to_string(kg.value()) +
                                        " is not in this state's range [" +
                                        std::to_string(range_.first().value()) + ", " +
                                        std::to_string(range_.last().value()) + "]");
    }
    StateReader r(data);
    uint8_t version = 0;
    if (absl::Status s = r.GetByte(&version); !s.ok()) return s;
    if (version != kKeyedStateFormatVersion) {
      return absl::DataLossError("keyed state snapshot has format version " +
                                 std::to_string(version) + ", expected " +
                                 std::to_string(kKeyedStateFormatVersion));
    }
    uint64_t snap_kg = 0, n = 0;
    if (absl::Status s = r.GetVarint(&snap_kg); !s.ok()) return s;
    if (snap_kg != static_cast<uint64_t>(kg.value())) {
      return absl::DataLossError("keyed state snapshot is of key group " + std::to_string(snap_kg) +
                                 ", not " + std::to_string(kg.value()));
    }
    if (absl::Status s = r.GetCount(&n); !s.ok()) return s;
    Map m;
    // Every entry takes at least 2 bytes (key length, value), so a corrupt count cannot make
    // this reserve more than the snapshot's size justifies.
    m.reserve(static_cast<size_t>(std::min<uint64_t>(n, r.remaining() / 2)));
    for (uint64_t i = 0; i < n; ++i) {
      std::string_view key;
      if (absl::Status s = r.GetStringView(&key); !s.ok()) return s;
      auto [it, inserted] = m.try_emplace(std::string(key));
      if (!inserted) return StateReader::Corrupt("a key appears twice in one key group");
      if (absl::Status s = StateSerializer<V>::Read(&r, &it->second); !s.ok()) return s;
    }
    if (!r.done()) return StateReader::Corrupt("trailing bytes after the last entry");
    Map& dst = MapOf(kg);
    size_ = size_ - dst.size() + m.size();
    dst = std::move(m);
    return absl::OkStatus();
  }

 private:
  // abseil may have its own string_view type (not std::string_view) for heterogeneous lookup.
  static absl::string_view View(std::string_view s) {
    return absl::string_view(s.data(), s.size());
  }
  Map& MapOf(KeyGroup kg) {
    assert(range_.contains(kg) && "key group outside this state's range");
    return maps_[static_cast<size_t>(range_.IndexOf(kg))];
  }

  KeyGroupRange range_;
  std::vector<Map> maps_;  // maps_[i]: key group range_.first() + i
  size_t size_ = 0;
};

}  // namespace eddy::state
