#include "function/function_registry.h"

#include <fmt/format.h>

#include <algorithm>

namespace eddy {

namespace {

std::span<const ScalarFunctionEntry> (*const kFamilies[])() = {
    StringFunctions, MathFunctions, TemporalFunctions, ConditionalFunctions};

}  // namespace

const ScalarFunctionEntry* FindScalarFunction(std::string_view upper_name) {
  for (auto family : kFamilies) {
    for (const ScalarFunctionEntry& e : family()) {
      if (e.name == upper_name) return &e;
    }
  }
  return nullptr;
}

std::vector<const ScalarFunctionEntry*> RegisteredScalarFunctions() {
  std::vector<const ScalarFunctionEntry*> out;
  for (auto family : kFamilies) {
    for (const ScalarFunctionEntry& e : family()) out.push_back(&e);
  }
  return out;
}

namespace fn {

absl::Status BadArgs(std::string_view name, const std::vector<DataType>& t) {
  std::vector<std::string> types;
  for (const DataType& d : t) types.push_back(d.ToString());
  return absl::InvalidArgumentError(
      fmt::format("cannot apply {} to argument types {}({})", name, name, fmt::join(types, ", ")));
}

absl::Status WantArgs(std::string_view name, const std::vector<DataType>& t, size_t lo, size_t hi) {
  if (t.size() >= lo && t.size() <= hi) return absl::OkStatus();
  return absl::InvalidArgumentError(
      fmt::format("{} takes {} argument(s), got {}", name,
                  lo == hi ? std::to_string(lo) : fmt::format("{} to {}", lo, hi), t.size()));
}

uint32_t NextCodePoint(std::string_view s, size_t* i) {
  unsigned char b = static_cast<unsigned char>(s[*i]);
  size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 1;
  if (*i + len > s.size()) len = 1;
  uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
  for (size_t k = 1; k < len; ++k) {
    unsigned char c = static_cast<unsigned char>(s[*i + k]);
    if ((c & 0xC0) != 0x80) {
      len = 1;
      cp = b;
      break;
    }
    cp = (cp << 6) | (c & 0x3F);
  }
  *i += len;
  return cp;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace fn

}  // namespace eddy
