// A small binary encoding for snapshots of keyed state: a writer, a reader that reports
// truncated or corrupt input as an error (never a crash), and the StateSerializer<T>
// customization point with serializers for integers, bool, double, std::string and the standard
// containers. Serializers for Value and DataType are in state/value_serializer.h.
//
// Encoding (little-endian throughout, docs/architecture.md "Keyed state"):
//   varint   unsigned LEB128, at most 10 bytes
//   int64    zigzag varint (every signed integer type)
//   double   8 bytes, the IEEE-754 bits (NaN payloads and -0.0 round-trip)
//   bool     1 byte, 0 or 1 (anything else is corrupt)
//   string   varint length, then the bytes
//   vector/deque/map  varint count, then the elements (map: key, value pairs)
//   pair     first, second;  unique_ptr  bool present, then the value;  optional  likewise
#pragma once

#include <bit>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace eddy::state {

/// Appends encoded values to a string it does not own. Not thread-safe.
class StateWriter {
 public:
  explicit StateWriter(std::string* out) : out_(out) {}

  void PutVarint(uint64_t v) {
    while (v >= 0x80) {
      out_->push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_->push_back(static_cast<char>(v));
  }
  void PutInt64(int64_t v) {
    PutVarint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));  // zigzag
  }
  void PutFixed64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_->push_back(static_cast<char>(v >> (8 * i)));
  }
  void PutDouble(double v) { PutFixed64(std::bit_cast<uint64_t>(v)); }
  void PutBool(bool v) { out_->push_back(v ? 1 : 0); }
  void PutByte(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void PutString(std::string_view s) {
    PutVarint(s.size());
    out_->append(s.data(), s.size());
  }

 private:
  std::string* out_;
};

/// Reads values encoded by StateWriter from a buffer it does not own (which must outlive it).
/// Every Get returns DataLossError on truncated or malformed input and leaves the position
/// unspecified. Not thread-safe.
class StateReader {
 public:
  explicit StateReader(std::string_view in) : in_(in) {}

  size_t remaining() const { return in_.size() - pos_; }
  bool done() const { return pos_ == in_.size(); }

  absl::Status GetVarint(uint64_t* v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return Truncated("varint");
      uint8_t b = static_cast<uint8_t>(in_[pos_++]);
      if (shift == 63 && b > 1) return Corrupt("varint longer than 64 bits");
      r |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        *v = r;
        return absl::OkStatus();
      }
    }
    return Corrupt("varint longer than 10 bytes");
  }
  absl::Status GetInt64(int64_t* v) {
    uint64_t u = 0;
    if (absl::Status s = GetVarint(&u); !s.ok()) return s;
    *v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
    return absl::OkStatus();
  }
  absl::Status GetFixed64(uint64_t* v) {
    if (remaining() < 8) return Truncated("fixed64");
    uint64_t r = 0;
    for (int i = 0; i < 8; ++i)
      r |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_++])) << (8 * i);
    *v = r;
    return absl::OkStatus();
  }
  absl::Status GetDouble(double* v) {
    uint64_t u = 0;
    if (absl::Status s = GetFixed64(&u); !s.ok()) return s;
    *v = std::bit_cast<double>(u);
    return absl::OkStatus();
  }
  absl::Status GetByte(uint8_t* v) {
    if (pos_ >= in_.size()) return Truncated("byte");
    *v = static_cast<uint8_t>(in_[pos_++]);
    return absl::OkStatus();
  }
  absl::Status GetBool(bool* v) {
    uint8_t b = 0;
    if (absl::Status s = GetByte(&b); !s.ok()) return s;
    if (b > 1) return Corrupt("bool is neither 0 nor 1");
    *v = b == 1;
    return absl::OkStatus();
  }
  /// A view of the next string's bytes inside the input buffer.
  absl::Status GetStringView(std::string_view* v) {
    uint64_t n = 0;
    if (absl::Status s = GetVarint(&n); !s.ok()) return s;
    if (n > remaining()) return Truncated("string");
    *v = in_.substr(pos_, n);
    pos_ += n;
    return absl::OkStatus();
  }
  absl::Status GetString(std::string* v) {
    std::string_view sv;
    if (absl::Status s = GetStringView(&sv); !s.ok()) return s;
    v->assign(sv.data(), sv.size());
    return absl::OkStatus();
  }
  /// A count of elements that follow, each at least one byte long: more than remaining() is
  /// corrupt (so a bad count never makes a reader allocate unbounded memory).
  absl::Status GetCount(uint64_t* n) {
    if (absl::Status s = GetVarint(n); !s.ok()) return s;
    if (*n > remaining()) return Corrupt("element count larger than the remaining input");
    return absl::OkStatus();
  }

  static absl::Status Truncated(std::string_view what) {
    return absl::DataLossError(std::string("state snapshot truncated: reading ") +
                               std::string(what));
  }
  static absl::Status Corrupt(std::string_view what) {
    return absl::DataLossError(std::string("state snapshot corrupt: ") + std::string(what));
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

/// How a T is written to and read from a snapshot. Specialize it for a state value type:
///   static void Write(const T& v, StateWriter* w);
///   static absl::Status Read(StateReader* r, T* v);  // DataLossError on bad input
/// Read may leave *v partly filled on error. The primary template is undefined: a type without
/// a serializer compiles in KeyedMapState until SnapshotKeyGroup/RestoreKeyGroup is used.
template <class T, class Enable = void>
struct StateSerializer;

template <>
struct StateSerializer<bool> {
  static void Write(bool v, StateWriter* w) { w->PutBool(v); }
  static absl::Status Read(StateReader* r, bool* v) { return r->GetBool(v); }
};

/// Every integer type but bool: zigzag varint; a value out of T's range is corrupt.
template <class T>
struct StateSerializer<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>> {
  static void Write(T v, StateWriter* w) {
    if constexpr (std::is_signed_v<T>) {
      w->PutInt64(v);
    } else {
      w->PutVarint(v);
    }
  }
  static absl::Status Read(StateReader* r, T* v) {
    if constexpr (std::is_signed_v<T>) {
      int64_t x = 0;
      if (absl::Status s = r->GetInt64(&x); !s.ok()) return s;
      if (x < std::numeric_limits<T>::min() || x > std::numeric_limits<T>::max()) {
        return StateReader::Corrupt("integer out of range");
      }
      *v = static_cast<T>(x);
    } else {
      uint64_t x = 0;
      if (absl::Status s = r->GetVarint(&x); !s.ok()) return s;
      if (x > std::numeric_limits<T>::max()) return StateReader::Corrupt("integer out of range");
      *v = static_cast<T>(x);
    }
    return absl::OkStatus();
  }
};

template <>
struct StateSerializer<double> {
  static void Write(double v, StateWriter* w) { w->PutDouble(v); }
  static absl::Status Read(StateReader* r, double* v) { return r->GetDouble(v); }
};

template <>
struct StateSerializer<std::string> {
  static void Write(const std::string& v, StateWriter* w) { w->PutString(v); }
  static absl::Status Read(StateReader* r, std::string* v) { return r->GetString(v); }
};

template <class A, class B>
struct StateSerializer<std::pair<A, B>> {
  static void Write(const std::pair<A, B>& v, StateWriter* w) {
    StateSerializer<A>::Write(v.first, w);
    StateSerializer<B>::Write(v.second, w);
  }
  static absl::Status Read(StateReader* r, std::pair<A, B>* v) {
    if (absl::Status s = StateSerializer<A>::Read(r, &v->first); !s.ok()) return s;
    return StateSerializer<B>::Read(r, &v->second);
  }
};

namespace internal {
// vector and deque: count, then the elements.
template <class C>
struct SequenceSerializer {
  using T = typename C::value_type;
  static void Write(const C& v, StateWriter* w) {
    w->PutVarint(v.size());
    for (const auto& x : v) StateSerializer<T>::Write(x, w);
  }
  static absl::Status Read(StateReader* r, C* v) {
    uint64_t n = 0;
    if (absl::Status s = r->GetCount(&n); !s.ok()) return s;
    v->clear();
    for (uint64_t i = 0; i < n; ++i) {
      T x{};
      if (absl::Status s = StateSerializer<T>::Read(r, &x); !s.ok()) return s;
      v->push_back(std::move(x));
    }
    return absl::OkStatus();
  }
};
}  // namespace internal

template <class T>
struct StateSerializer<std::vector<T>> : internal::SequenceSerializer<std::vector<T>> {};
template <class T>
struct StateSerializer<std::deque<T>> : internal::SequenceSerializer<std::deque<T>> {};

/// Entries in key order; a key that is not greater than the previous one is corrupt.
template <class K, class V>
struct StateSerializer<std::map<K, V>> {
  static void Write(const std::map<K, V>& m, StateWriter* w) {
    w->PutVarint(m.size());
    for (const auto& [k, v] : m) {
      StateSerializer<K>::Write(k, w);
      StateSerializer<V>::Write(v, w);
    }
  }
  static absl::Status Read(StateReader* r, std::map<K, V>* m) {
    uint64_t n = 0;
    if (absl::Status s = r->GetCount(&n); !s.ok()) return s;
    m->clear();
    for (uint64_t i = 0; i < n; ++i) {
      K k{};
      if (absl::Status s = StateSerializer<K>::Read(r, &k); !s.ok()) return s;
      if (!m->empty() && !(std::prev(m->end())->first < k)) {
        return StateReader::Corrupt("map keys out of order");
      }
      auto it = m->emplace_hint(m->end(), std::move(k), V{});
      if (absl::Status s = StateSerializer<V>::Read(r, &it->second); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
};

/// A presence flag, then the value (the state of operators that need stable addresses).
template <class T>
struct StateSerializer<std::unique_ptr<T>> {
  static void Write(const std::unique_ptr<T>& v, StateWriter* w) {
    w->PutBool(v != nullptr);
    if (v) StateSerializer<T>::Write(*v, w);
  }
  static absl::Status Read(StateReader* r, std::unique_ptr<T>* v) {
    bool present = false;
    if (absl::Status s = r->GetBool(&present); !s.ok()) return s;
    if (!present) {
      v->reset();
      return absl::OkStatus();
    }
    *v = std::make_unique<T>();
    return StateSerializer<T>::Read(r, v->get());
  }
};

template <class T>
struct StateSerializer<std::optional<T>> {
  static void Write(const std::optional<T>& v, StateWriter* w) {
    w->PutBool(v.has_value());
    if (v) StateSerializer<T>::Write(*v, w);
  }
  static absl::Status Read(StateReader* r, std::optional<T>* v) {
    bool present = false;
    if (absl::Status s = r->GetBool(&present); !s.ok()) return s;
    if (!present) {
      v->reset();
      return absl::OkStatus();
    }
    v->emplace();
    return StateSerializer<T>::Read(r, &**v);
  }
};

}  // namespace eddy::state
