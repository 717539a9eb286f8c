// Test helper: byte strings written as hex with quoted ASCII, e.g. Bytes("00 03 'foo' ff").
#pragma once

#include <cctype>
#include <string>
#include <string_view>

namespace eddy::kafka {

inline std::string Bytes(std::string_view spec) {
  std::string out;
  for (size_t i = 0; i < spec.size();) {
    const char c = spec[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '\'') {
      const size_t end = spec.find('\'', i + 1);
      out.append(spec.substr(i + 1, end - i - 1));
      i = end + 1;
    } else {
      out.push_back(static_cast<char>(std::stoi(std::string(spec.substr(i, 2)), nullptr, 16)));
      i += 2;
    }
  }
  return out;
}

}  // namespace eddy::kafka
