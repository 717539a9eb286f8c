// libFuzzer target: the chunked line reader (LineSource) that every file source reads through,
// with a chunk size, a record size limit and the CSV quote mode chosen by the first three bytes;
// the rest is the file (plain, or gzip when it starts with the gzip magic). Must never crash or
// hang; every chunk stays within the documented memory bound; and for a plain file read line by
// line the records (with their line numbers, records over the limit reported once each, a byte
// order mark at byte 0 skipped) must equal those of a naive reference that splits the whole
// file at '\n'.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "formats/line_reader.h"

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "line_reader_fuzzer: invariant failed: %s\n", what);
    std::abort();
  }
}

struct Rec {
  size_t line;
  std::string text;  // "" with too_long set for a record over the limit
  bool too_long;
  bool operator==(const Rec& o) const {
    return line == o.line && text == o.text && too_long == o.too_long;
  }
};

// The naive reading: strip a BOM at byte 0, split at '\n', drop one '\r' before it, skip the
// empty remainder after a final '\n'.
std::vector<Rec> Reference(std::string_view file, size_t max_record) {
  if (file.substr(0, 3) == "\xEF\xBB\xBF") file.remove_prefix(3);
  std::vector<Rec> out;
  size_t pos = 0, line = 1;
  while (pos < file.size()) {
    size_t nl = file.find('\n', pos);
    size_t end = nl == std::string_view::npos ? file.size() : nl;
    std::string_view rec = file.substr(pos, end - pos);
    if (!rec.empty() && rec.back() == '\r') rec.remove_suffix(1);
    if (rec.size() > max_record) {
      out.push_back({line, "", true});
    } else {
      out.push_back({line, std::string(rec), false});
    }
    ++line;
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const size_t chunk = 1 + data[0] % 64;
  const size_t max_record = 1 + data[1] % 128;
  const bool csv = data[2] & 1;
  const eddy::CsvFraming framing{',', (data[2] & 2) ? '\'' : '"', (data[2] & 4) ? '\\' : '\0'};
  std::string_view file(reinterpret_cast<const char*>(data + 3), size - 3);
  int fd = memfd_create("line_reader_fuzzer", 0);
  Check(fd >= 0, "memfd_create");
  size_t written = 0;
  while (written < file.size()) {
    ssize_t n = write(fd, file.data() + written, file.size() - written);
    Check(n > 0, "write");
    written += static_cast<size_t>(n);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  auto src = eddy::LineSource::Open(path, chunk, csv, framing, max_record);
  Check(src.ok(), "open");
  const bool gzip = file.size() >= 2 && static_cast<unsigned char>(file[0]) == 0x1f &&
                    static_cast<unsigned char>(file[1]) == 0x8b;
  const size_t bound = std::max({chunk, max_record + 2, size_t{64} << 10}) + chunk + 3;
  std::vector<Rec> got;
  size_t last_line = 1;
  eddy::TextChunk c;
  for (size_t steps = 0;; ++steps) {
    Check(steps < 1000000, "ends");
    auto more = (*src)->NextChunk(&c);
    if (!more.ok()) {
      Check(gzip, "only a gzip stream can fail to read");
      break;
    }
    if (!*more) break;
    Check(c.size <= bound, "chunk within the memory bound");
    Check(c.first_line >= last_line, "line numbers never go back");
    last_line = c.first_line;
    if (c.oversized) {
      Check(c.size > 0 && c.size <= eddy::kOversizedPrefixBytes, "oversized prefix size");
      got.push_back({c.first_line, "", true});
      continue;
    }
    if (c.size == 0) continue;
    auto add = [&](std::string_view rec, size_t index) {
      if (rec.size() > max_record) {
        got.push_back({c.first_line + index, "", true});
      } else {
        got.push_back({c.first_line + index, std::string(rec), false});
      }
    };
    if (csv) {
      eddy::ForEachCsvRecord(c.data.get(), c.size, add, framing);
    } else {
      eddy::ForEachLine(c.data.get(), c.size, add);
    }
  }
  if (!gzip && !csv) Check(got == Reference(file, max_record), "records equal the reference");
  close(fd);
  return 0;
}
