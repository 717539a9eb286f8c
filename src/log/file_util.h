// File helpers for the log: whole-file reads, atomic metadata writes, positional I/O that retries
// short reads and writes, directory fsync. Internal to src/log/. Errors are IoError statuses
// (KAFKA_STORAGE_ERROR) naming the path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace eddy::log {

/// An owned file descriptor, closed on destruction. Move-only.
class FileHandle {
 public:
  FileHandle() = default;
  explicit FileHandle(int fd) : fd_(fd) {}
  FileHandle(FileHandle&& other) noexcept : fd_(other.release()) {}
  FileHandle& operator=(FileHandle&& other) noexcept;
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;
  ~FileHandle();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

/// Opens `path` with open(2) `flags` (mode 0644 when creating).
absl::StatusOr<FileHandle> OpenFile(const std::string& path, int flags);

/// Reads the whole file at `path`. Errors: NotFound when it does not exist.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

/// Replaces `path` with `contents` durably: writes `<path>.tmp` (a shorter `*.tmp` name in the
/// same directory when that would exceed 255 bytes), fsyncs it, renames it over
/// `path`, fsyncs the directory. Readers see the old or the new file, never a mix.
absl::Status WriteFileAtomically(const std::string& path, std::string_view contents);

/// Writes `contents` to `path` (created or truncated) without fsync.
absl::Status WriteWholeFile(const std::string& path, std::string_view contents);

/// fsyncs the directory `dir`, making created, renamed and removed entries durable.
absl::Status SyncDirectory(const std::string& dir);

/// Reads up to `size` bytes at `position` into `out`, retrying short reads; returns the number
/// of bytes read (less than `size` only at end of file).
absl::StatusOr<size_t> ReadAt(int fd, int64_t position, char* out, size_t size,
                              const std::string& path);

/// Writes all of `data` at `position`, retrying short writes.
absl::Status WriteAt(int fd, int64_t position, std::string_view data, const std::string& path);

/// fdatasync(2) of `fd` (fsync where fdatasync is missing).
absl::Status SyncFile(int fd, const std::string& path);

/// Creates `dir` and its parents if missing.
absl::Status CreateDirectories(const std::string& dir);

/// Removes `path` (file or directory tree). OK when it does not exist.
absl::Status RemoveAll(const std::string& path);

}  // namespace eddy::log
