// Reading text files in large chunks cut at record boundaries, transparently gunzipping, so that
// records of different chunks can be decoded in parallel; helpers to walk the records of a chunk;
// and expansion of a table 'path' option into the files it names.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"

namespace eddy {

/// How CSV records are delimited when a quoted field may contain line breaks. Mirrors
/// CsvOptions: {field_delimiter, quote, escape}; quote '\0' = no quoting.
struct CsvFraming {
  char delimiter = ',';
  char quote = '"';
  char escape = '\0';
};

/// Length of the CSV record that starts at `data`: the offset of its terminating '\n' (one that is
/// outside a quoted field), or `size` when the record is not terminated within `size` bytes (then
/// *complete is false, if given). A quote opens a quoted field only at the start of a field, as the
/// CSV decoder reads it. Fast path: a line without quote or escape bytes costs two memchr calls.
size_t CsvRecordLength(const char* data, size_t size, const CsvFraming& framing,
                       bool* complete = nullptr);

/// Calls f(line) for each '\n'-separated line of [data, data + size), without the '\n' and with
/// one trailing '\r' removed. A final line without '\n' is passed too; nothing is passed for the
/// empty remainder after a final '\n'. `f` may take (std::string_view line, size_t index) to also
/// receive the 0-based line index within the chunk, and may return bool: false stops the walk.
template <class F>
void ForEachLine(const char* data, size_t size, F&& f) {
  size_t pos = 0, index = 0;
  while (pos < size) {
    const char* nl = static_cast<const char*>(std::memchr(data + pos, '\n', size - pos));
    size_t end = nl ? static_cast<size_t>(nl - data) : size;
    size_t len = end - pos;
    if (len > 0 && data[pos + len - 1] == '\r') --len;
    std::string_view line(data + pos, len);
    bool go = true;
    if constexpr (std::is_invocable_v<F, std::string_view, size_t>) {
      using R = std::invoke_result_t<F, std::string_view, size_t>;
      if constexpr (std::is_same_v<R, bool>) {
        go = f(line, index);
      } else {
        f(line, index);
      }
    } else {
      using R = std::invoke_result_t<F, std::string_view>;
      if constexpr (std::is_same_v<R, bool>) {
        go = f(line);
      } else {
        f(line);
      }
    }
    if (!go) return;
    ++index;
    pos = end + 1;
  }
}

/// Like ForEachLine, but a record may span several lines when a quoted field contains '\n'
/// (RFC 4180 / Flink CSV). With the (std::string_view, size_t) signature the index is the 0-based
/// physical line within the chunk where the record starts (add LineSource's first_line for the
/// line number in the file). An unterminated quote makes the rest of the chunk one record.
template <class F>
void ForEachCsvRecord(const char* data, size_t size, F&& f, const CsvFraming& framing = {}) {
  // A chunk without quote and escape bytes has no multi-line records.
  if (framing.quote == '\0' ||
      (std::memchr(data, framing.quote, size) == nullptr &&
       (framing.escape == '\0' || std::memchr(data, framing.escape, size) == nullptr))) {
    ForEachLine(data, size, std::forward<F>(f));
    return;
  }
  size_t pos = 0, index = 0;
  while (pos < size) {
    size_t len = CsvRecordLength(data + pos, size - pos, framing);
    size_t rec_len = len;
    if (rec_len > 0 && data[pos + rec_len - 1] == '\r') --rec_len;
    std::string_view rec(data + pos, rec_len);
    bool go = true;
    if constexpr (std::is_invocable_v<F, std::string_view, size_t>) {
      using R = std::invoke_result_t<F, std::string_view, size_t>;
      if constexpr (std::is_same_v<R, bool>) {
        go = f(rec, index);
      } else {
        f(rec, index);
      }
    } else {
      using R = std::invoke_result_t<F, std::string_view>;
      if constexpr (std::is_same_v<R, bool>) {
        go = f(rec);
      } else {
        f(rec);
      }
    }
    if (!go) return;
    // Count the physical lines the record spans.
    const char* p = data + pos;
    const char* e = data + pos + len;
    while ((p = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(e - p))))) {
      ++index;
      ++p;
    }
    ++index;
    pos += len + 1;
  }
}

/// Default longest record a source reads ('source.max-record-size'): 64 MiB.
inline constexpr size_t kDefaultMaxRecordBytes = size_t{64} << 20;
/// How many bytes of a record longer than the limit are kept to show (dead-letter file): 4 KiB.
inline constexpr size_t kOversizedPrefixBytes = 4096;

/// One chunk handed out by LineSource::NextChunk.
struct TextChunk {
  /// Owns `size` bytes: whole records only (the file's last record may lack its '\n'). Empty
  /// (size 0) while a record longer than the limit is being skipped, so that a caller can stop
  /// between steps (a file without any '\n', such as /dev/zero, never ends).
  std::unique_ptr<char[]> data;
  size_t size = 0;
  /// 1-based line number in the file of the chunk's first line.
  size_t first_line = 0;
  /// The chunk stands for one record longer than the limit: `data` holds its first bytes (at
  /// most kOversizedPrefixBytes), `first_line` is its line. The rest of that record, up to the
  /// next '\n', is skipped (in later, empty chunks).
  bool oversized = false;
};

/// A file read as a sequence of chunks of whole records. Plain and gzip files (detected by the
/// 0x1f 0x8b magic, multi-member gzip supported) read the same way. A UTF-8 byte order mark
/// (EF BB BF) at byte 0 of the (uncompressed) file is skipped; anywhere else it is data.
///
/// Memory is bounded: a record never grows the buffer past max_record_bytes + 2 (a record
/// longer than that comes out as an `oversized` chunk and is skipped up to its '\n', reading at
/// most max(chunk_bytes, 64 KiB) bytes per call); a chunk holds at most
/// max(chunk_bytes, max_record_bytes + 2, 64 KiB) + chunk_bytes + 3 bytes. Records that are
/// longer than max_record_bytes but arrive whole inside a chunk are left to the caller to check
/// (every record longer than the limit is then reported exactly once, by one or the other).
///
/// Thread-safety: NextChunk must be called from one thread at a time; bytes_read() and
/// total_bytes() may be polled from any thread (progress reporting).
class LineSource {
 public:
  /// Opens `path`. `chunk_bytes` is the target uncompressed size of a chunk (a chunk grows past it
  /// only to finish a record longer than that). With `csv_quote_aware`, chunks are cut only at a
  /// '\n' outside a quoted CSV field (per `framing`); otherwise at any '\n'.
  /// A quoted record still open after `max_record_bytes` is cut at a plain '\n' instead
  /// (an unbalanced quote must not pull the rest of the file into memory); the decoder then reports
  /// the broken record. `max_record_bytes` (without the line break; at least 1) bounds a record.
  /// Errors: NotFound / PermissionDenied / Internal naming the path.
  static absl::StatusOr<std::unique_ptr<LineSource>> Open(
      const std::string& path, size_t chunk_bytes = 4 << 20, bool csv_quote_aware = true,
      CsvFraming framing = {}, size_t max_record_bytes = kDefaultMaxRecordBytes);
  ~LineSource();
  LineSource(const LineSource&) = delete;
  LineSource& operator=(const LineSource&) = delete;

  /// Reads the next chunk into `*out` (see TextChunk). Returns false at the end of the file.
  /// Errors: Internal on I/O failure, DataLoss "path: gzip stream is corrupt at byte N[: detail]"
  /// where N is the offset in the compressed file where inflating failed (also for a truncated
  /// stream).
  absl::StatusOr<bool> NextChunk(TextChunk* out);

  /// Bytes of the file (compressed bytes for gzip) consumed so far, and the file's size (0 when
  /// unknown, e.g. a pipe). bytes_read() / total_bytes() is the progress.
  uint64_t bytes_read() const { return bytes_read_.load(std::memory_order_relaxed); }
  uint64_t total_bytes() const { return total_bytes_; }
  /// True when the file is gzip-compressed.
  bool compressed() const { return gz_ != nullptr; }
  const std::string& path() const { return path_; }

 private:
  struct Gzip;
  LineSource() = default;

  // Reads up to `cap` uncompressed bytes into `dst`; *got = 0 only at the end of the file.
  absl::Status Read(char* dst, size_t cap, size_t* got);
  // Reads up to `cap` bytes of the file itself (the sniffed prefix first).
  absl::Status ReadFile(char* dst, size_t cap, size_t* got);
  absl::Status Inflate(char* dst, size_t cap, size_t* got);
  // Offset just past the last record boundary in data[0, size), or 0 when there is none.
  // `*scan` is a record start from which scanning resumes (updated, so that a caller that
  // appends data and calls again does not rescan whole records).
  size_t FindCut(const char* data, size_t size, size_t* scan, bool quote_aware) const;
  // Skips the first bytes of the file when they are a UTF-8 byte order mark.
  absl::Status SkipByteOrderMark();
  // Discards bytes of an oversized record up to its '\n' (reading at most about one chunk);
  // returns true when the '\n' was found (what follows it is in carry_).
  absl::StatusOr<bool> SkipOversized();

  std::string path_;
  int fd_ = -1;
  size_t chunk_bytes_ = 0;
  size_t max_record_ = kDefaultMaxRecordBytes;
  bool quote_aware_ = true;
  CsvFraming framing_;
  std::unique_ptr<Gzip> gz_;
  std::string prefix_;       // bytes read while sniffing the magic, not yet handed out
  std::vector<char> carry_;  // partial record after the last boundary of the last chunk
  bool eof_ = false;         // the file (decompressed stream) is exhausted
  bool started_ = false;     // the byte order mark has been looked for
  bool skipping_ = false;    // inside an oversized record, looking for its '\n'
  size_t next_line_ = 1;
  std::atomic<uint64_t> bytes_read_{0};
  uint64_t total_bytes_ = 0;
};

/// The files a table's 'path' names: a regular file → itself; a directory → the regular files
/// below it (recursively, as Flink's file source enumerates), skipping names starting with '.' or
/// '_' (Flink's hidden/temporary files), sorted by path; a pattern with * ? or [ → glob(3) matches
/// that are regular files, sorted. Errors: NotFound naming the path when nothing matches or it does
/// not exist.
absl::StatusOr<std::vector<std::string>> ExpandPath(const std::string& path);

}  // namespace eddy
