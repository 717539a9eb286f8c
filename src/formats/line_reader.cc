#include "formats/line_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>

#include "base/status.h"

namespace eddy {

size_t CsvRecordLength(const char* data, size_t size, const CsvFraming& f, bool* complete) {
  const char* nl = static_cast<const char*>(std::memchr(data, '\n', size));
  const size_t line = nl ? static_cast<size_t>(nl - data) : size;
  if (f.quote == '\0' || (std::memchr(data, f.quote, line) == nullptr &&
                          (f.escape == '\0' || std::memchr(data, f.escape, line) == nullptr))) {
    if (complete) *complete = nl != nullptr;
    return line;
  }
  // State machine over the record; a quote is special only at the start of a field.
  enum { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted } st = kFieldStart;
  for (size_t i = 0; i < size; ++i) {
    const char c = data[i];
    if (f.escape != '\0' && c == f.escape) {
      if (st != kQuoted) st = kUnquoted;
      ++i;  // the escaped byte is literal
      continue;
    }
    switch (st) {
      case kFieldStart:
      case kUnquoted:
      case kQuoteInQuoted:
        if (c == '\n') {
          if (complete) *complete = true;
          return i;
        }
        if (c == f.delimiter) {
          st = kFieldStart;
        } else if (st == kFieldStart && c == f.quote) {
          st = kQuoted;
        } else if (st == kQuoteInQuoted && c == f.quote) {
          st = kQuoted;  // "" inside a quoted field
        } else {
          st = kUnquoted;
        }
        break;
      case kQuoted:
        if (c == f.quote) st = kQuoteInQuoted;
        break;
    }
  }
  if (complete) *complete = false;
  return size;
}

// ---------------------------------------------------------------------------------------------

struct LineSource::Gzip {
  z_stream z{};
  std::unique_ptr<unsigned char[]> in;
  static constexpr size_t kInBytes = 1 << 20;
  uint64_t file_in = 0;  // compressed bytes read from the file
  bool file_eof = false;
  bool in_member = false;  // inside a gzip member (between header and trailer)
  bool done = false;
  ~Gzip() { inflateEnd(&z); }
};

namespace {

absl::Status ErrnoStatus(const std::string& path, int err, const char* what) {
  std::string msg = fmt::format("{}: {}: {}", path, what, std::strerror(err));
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(msg);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<LineSource>> LineSource::Open(const std::string& path,
                                                             size_t chunk_bytes,
                                                             bool csv_quote_aware,
                                                             CsvFraming framing,
                                                             size_t max_record_bytes) {
  std::unique_ptr<LineSource> s(new LineSource());
  s->path_ = path;
  s->chunk_bytes_ = std::max<size_t>(chunk_bytes, 1);
  s->max_record_ = std::max<size_t>(max_record_bytes, 1);
  s->quote_aware_ = csv_quote_aware && framing.quote != '\0';
  s->framing_ = framing;
  s->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (s->fd_ < 0) return ErrnoStatus(path, errno, "cannot open");
  struct stat st;
  if (fstat(s->fd_, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(fmt::format("{}: is a directory", path));
    }
    if (S_ISREG(st.st_mode)) {
      s->total_bytes_ = static_cast<uint64_t>(st.st_size);
      posix_fadvise(s->fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
  }
  // Sniff the gzip magic.
  char magic[2];
  size_t got = 0;
  while (got < 2) {
    ssize_t n = ::read(s->fd_, magic + got, 2 - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(path, errno, "cannot read");
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  s->prefix_.assign(magic, got);
  if (got == 2 && static_cast<unsigned char>(magic[0]) == 0x1f &&
      static_cast<unsigned char>(magic[1]) == 0x8b) {
    s->gz_ = std::make_unique<Gzip>();
    if (inflateInit2(&s->gz_->z, 16 + MAX_WBITS) != Z_OK) {
      return absl::InternalError(fmt::format("{}: cannot initialize zlib", path));
    }
    s->gz_->in = std::make_unique<unsigned char[]>(Gzip::kInBytes);
  }
  return s;
}

LineSource::~LineSource() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status LineSource::ReadFile(char* dst, size_t cap, size_t* got) {
  *got = 0;
  if (!prefix_.empty()) {
    size_t n = std::min(cap, prefix_.size());
    std::memcpy(dst, prefix_.data(), n);
    prefix_.erase(0, n);
    *got = n;
    return absl::OkStatus();
  }
  for (;;) {
    ssize_t n = ::read(fd_, dst, cap);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(path_, errno, "read failed");
    *got = static_cast<size_t>(n);
    return absl::OkStatus();
  }
}

absl::Status LineSource::Inflate(char* dst, size_t cap, size_t* got) {
  Gzip& g = *gz_;
  z_stream& z = g.z;
  z.next_out = reinterpret_cast<Bytef*>(dst);
  z.avail_out = static_cast<uInt>(std::min<size_t>(cap, 1u << 30));
  const uInt out_cap = z.avail_out;
  auto corrupt = [&](const char* detail) {
    uint64_t at = g.file_in - z.avail_in;
    return absl::DataLossError(
        fmt::format("{}: gzip stream is corrupt at byte {}: {}", path_, at, detail));
  };
  while (z.avail_out > 0 && !g.done) {
    if (z.avail_in == 0 && !g.file_eof) {
      size_t n = 0;
      absl::Status st = ReadFile(reinterpret_cast<char*>(g.in.get()), Gzip::kInBytes, &n);
      if (!st.ok()) return st;
      if (n == 0) g.file_eof = true;
      g.file_in += n;
      z.next_in = g.in.get();
      z.avail_in = static_cast<uInt>(n);
    }
    if (z.avail_in == 0) {  // end of the file
      if (g.in_member) return corrupt("unexpected end of file");
      g.done = true;
      break;
    }
    if (!g.in_member) {
      // A new member must start with the gzip magic; anything else after a complete member is
      // trailing garbage, which gzip(1) ignores too.
      if (z.next_in[0] != 0x1f) {
        g.done = true;
        break;
      }
      inflateReset(&z);
      g.in_member = true;
    }
    int r = inflate(&z, Z_NO_FLUSH);
    if (r == Z_STREAM_END) {
      g.in_member = false;
      continue;
    }
    if (r == Z_OK || (r == Z_BUF_ERROR && z.avail_in == 0)) continue;
    if (r == Z_BUF_ERROR) break;  // output full
    return corrupt(z.msg != nullptr ? z.msg : "invalid data");
  }
  bytes_read_.store(g.file_in - z.avail_in, std::memory_order_relaxed);
  *got = out_cap - z.avail_out;
  return absl::OkStatus();
}

absl::Status LineSource::Read(char* dst, size_t cap, size_t* got) {
  if (gz_) {
    // Inflate can return 0 bytes only at the end (it loops until output or end of input).
    return Inflate(dst, cap, got);
  }
  absl::Status st = ReadFile(dst, cap, got);
  if (st.ok()) bytes_read_.fetch_add(*got, std::memory_order_relaxed);
  return st;
}

size_t LineSource::FindCut(const char* data, size_t size, size_t* scan, bool quote_aware) const {
  size_t cut = 0;
  const bool has_special =
      quote_aware && (std::memchr(data + *scan, framing_.quote, size - *scan) != nullptr ||
                      (framing_.escape != '\0' &&
                       std::memchr(data + *scan, framing_.escape, size - *scan) != nullptr));
  if (!has_special) {
    const char* nl = static_cast<const char*>(memrchr(data + *scan, '\n', size - *scan));
    if (nl != nullptr) cut = static_cast<size_t>(nl - data) + 1;
    if (cut > 0) *scan = cut;
    return cut;
  }
  while (*scan < size) {
    bool complete = false;
    size_t len = CsvRecordLength(data + *scan, size - *scan, framing_, &complete);
    if (!complete) break;
    *scan += len + 1;
    cut = *scan;
  }
  return cut;
}

absl::Status LineSource::SkipByteOrderMark() {
  started_ = true;
  char head[3];
  size_t n = 0;
  while (n < sizeof(head)) {
    size_t got = 0;
    EDDY_RETURN_IF_ERROR(Read(head + n, sizeof(head) - n, &got));
    if (got == 0) {
      eof_ = true;
      break;
    }
    n += got;
  }
  if (n == 3 && std::memcmp(head, "\xEF\xBB\xBF", 3) == 0) return absl::OkStatus();
  carry_.assign(head, head + n);
  return absl::OkStatus();
}

absl::StatusOr<bool> LineSource::SkipOversized() {
  // Reads at most `step` bytes (at least 64 KiB, so that tiny test chunk sizes do not crawl)
  // through a buffer of at most 1 MiB.
  const size_t step = std::max<size_t>(chunk_bytes_, 64 << 10);
  const size_t cap = std::min<size_t>(step, 1 << 20);
  auto buf = std::make_unique_for_overwrite<char[]>(cap);
  size_t done = 0;
  while (done < step) {
    size_t got = 0;
    EDDY_RETURN_IF_ERROR(Read(buf.get(), std::min(cap, step - done), &got));
    if (got == 0) {
      eof_ = true;
      skipping_ = false;
      return false;
    }
    done += got;
    const char* nl = static_cast<const char*>(std::memchr(buf.get(), '\n', got));
    if (nl != nullptr) {
      carry_.assign(nl + 1, static_cast<const char*>(buf.get() + got));
      ++next_line_;
      skipping_ = false;
      return true;
    }
  }
  return false;
}

absl::StatusOr<bool> LineSource::NextChunk(TextChunk* out) {
  out->oversized = false;
  if (!started_) EDDY_RETURN_IF_ERROR(SkipByteOrderMark());
  if (skipping_) {
    EDDY_ASSIGN_OR_RETURN(bool found, SkipOversized());
    if (!found && !eof_) {
      out->data.reset();
      out->size = 0;
      out->first_line = next_line_;
      return true;
    }
  }
  // A record may be max_record_ bytes plus a '\r' before its '\n'.
  const size_t limit = max_record_ + 1;
  size_t cap = carry_.size() + chunk_bytes_;
  auto buf = std::make_unique_for_overwrite<char[]>(cap);
  size_t filled = carry_.size();
  if (filled > 0) std::memcpy(buf.get(), carry_.data(), filled);
  carry_.clear();
  size_t scan = 0;  // records before `scan` are complete
  for (;;) {
    while (filled < cap && !eof_) {
      size_t got = 0;
      absl::Status st = Read(buf.get() + filled, cap - filled, &got);
      if (!st.ok()) return st;
      if (got == 0) eof_ = true;
      filled += got;
    }
    if (eof_) {
      if (filled == 0) return false;
      break;  // the whole rest is the last chunk
    }
    // A quoted record longer than the limit stops being read quote-aware (an unbalanced quote
    // would otherwise pull the rest of the file into memory); the decoder then reports it.
    bool quote_aware = quote_aware_ && filled - scan <= limit;
    size_t cut = FindCut(buf.get(), filled, &scan, quote_aware);
    if (cut > 0) {
      carry_.assign(buf.get() + cut, buf.get() + filled);
      filled = cut;
      break;
    }
    // No record boundary yet: buf holds the start of one record (and no '\n' once it is longer
    // than the limit, since then it was scanned for a plain '\n').
    if (filled > limit) {
      size_t keep = std::min(filled, kOversizedPrefixBytes);
      out->data = std::make_unique_for_overwrite<char[]>(keep);
      std::memcpy(out->data.get(), buf.get(), keep);
      out->size = keep;
      out->first_line = next_line_;
      out->oversized = true;
      skipping_ = true;
      return true;
    }
    // Grow and read more, never past the limit (+1 byte to see that it is exceeded).
    size_t new_cap = std::min(cap * 2, limit + 1);
    auto bigger = std::make_unique_for_overwrite<char[]>(new_cap);
    std::memcpy(bigger.get(), buf.get(), filled);
    buf = std::move(bigger);
    cap = new_cap;
  }
  out->first_line = next_line_;
  const char* p = buf.get();
  const char* e = p + filled;
  while ((p = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(e - p))))) {
    ++next_line_;
    ++p;
  }
  out->size = filled;
  out->data = std::move(buf);
  return true;
}

// ---------------------------------------------------------------------------------------------

namespace {

bool Hidden(const std::string& name) { return !name.empty() && (name[0] == '.' || name[0] == '_'); }

}  // namespace

absl::StatusOr<std::vector<std::string>> ExpandPath(const std::string& path) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  if (path.find_first_of("*?[") != std::string::npos) {
    glob_t g;
    int r = glob(path.c_str(), 0, nullptr, &g);
    if (r == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        struct stat st;
        if (stat(g.gl_pathv[i], &st) == 0 && S_ISREG(st.st_mode)) out.emplace_back(g.gl_pathv[i]);
      }
    }
    globfree(&g);
    if (r != 0 && r != GLOB_NOMATCH) {
      return absl::InternalError(fmt::format("{}: cannot expand the pattern", path));
    }
    if (out.empty()) return absl::NotFoundError(fmt::format("{}: no file matches", path));
    std::sort(out.begin(), out.end());
    return out;
  }
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    return absl::NotFoundError(fmt::format("{}: no such file or directory", path));
  }
  if (!fs::is_directory(st)) {
    out.push_back(path);
    return out;
  }
  fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec);
  if (ec) return absl::InternalError(fmt::format("{}: {}", path, ec.message()));
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return absl::InternalError(fmt::format("{}: {}", path, ec.message()));
    const std::string name = it->path().filename().string();
    if (Hidden(name)) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec)) out.push_back(it->path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace eddy
