// One line of the dead-letter file (docs/sql-reference.md "Bad rows"), apart from the writer so
// that tests and the fuzz targets check it without the connectors.
#pragma once

#include <string>
#include <string_view>

#include "base/strings.h"
#include "base/utf8.h"

namespace eddy::connectors {

/// The dead-letter JSON line (with its '\n') of one bad row:
/// {"source":"<where>","column":N,"reason":"…","row":"<raw text>"}, then "row_base64":"<raw
/// bytes, RFC 4648>" when `raw` is not valid UTF-8 ("row" then has U+FFFD for each maximal
/// invalid subsequence), then "row_truncated":true when `raw` is only the first bytes of the
/// record (an incomplete character at its end is dropped first). Always valid UTF-8 and JSON.
inline std::string DeadLetterLine(std::string_view where, size_t column, std::string_view reason,
                                  std::string_view raw, bool truncated) {
  std::string line = "{\"source\":" + JsonQuote(ToValidUtf8(where)) +
                     ",\"column\":" + std::to_string(column) +
                     ",\"reason\":" + JsonQuote(ToValidUtf8(reason)) + ",\"row\":";
  if (truncated) raw.remove_suffix(Utf8IncompleteSuffix(raw));
  if (IsValidUtf8(raw)) {
    line += JsonQuote(raw);
  } else {
    line += JsonQuote(ToValidUtf8(raw));
    line += ",\"row_base64\":\"" + Base64Encode(raw) + "\"";
  }
  if (truncated) line += ",\"row_truncated\":true";
  line += "}\n";
  return line;
}

}  // namespace eddy::connectors
