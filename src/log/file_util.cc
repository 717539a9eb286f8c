#include "log/file_util.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <functional>
#include <system_error>

#include "log/log_error.h"

namespace eddy::log {

FileHandle& FileHandle::operator=(FileHandle&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

FileHandle::~FileHandle() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<FileHandle> OpenFile(const std::string& path, int flags) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return IoError(errno, "cannot open", path);
  return FileHandle(fd);
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError("no file " + path);
    return IoError(errno, "cannot open", path);
  }
  FileHandle file(fd);
  std::string contents;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError(errno, "cannot read", path);
    }
    if (n == 0) break;
    contents.append(buf, static_cast<size_t>(n));
  }
  return contents;
}

absl::Status WriteWholeFile(const std::string& path, std::string_view contents) {
  absl::StatusOr<FileHandle> file = OpenFile(path, O_WRONLY | O_CREAT | O_TRUNC);
  if (!file.ok()) return file.status();
  return WriteAt(file->get(), 0, contents, path);
}

absl::Status SyncDirectory(const std::string& dir) {
  absl::StatusOr<FileHandle> file = OpenFile(dir, O_RDONLY | O_DIRECTORY);
  if (!file.ok()) return file.status();
  if (::fsync(file->get()) != 0) return IoError(errno, "cannot fsync directory", dir);
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  std::filesystem::path p(path);
  std::string base = p.filename().string();
  // Keep the temporary name within NAME_MAX (255) even for the longest topic names.
  std::string tmp =
      base.size() + 4 <= 255
          ? path + ".tmp"
          : (p.parent_path() / fmt::format("{:016x}.tmp", std::hash<std::string>{}(base))).string();
  {
    absl::StatusOr<FileHandle> file = OpenFile(tmp, O_WRONLY | O_CREAT | O_TRUNC);
    if (!file.ok()) return file.status();
    absl::Status st = WriteAt(file->get(), 0, contents, tmp);
    if (!st.ok()) return st;
    if (::fsync(file->get()) != 0) return IoError(errno, "cannot fsync", tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return IoError(errno, "cannot rename", tmp);
  std::string dir = std::filesystem::path(path).parent_path().string();
  return SyncDirectory(dir.empty() ? "." : dir);
}

absl::StatusOr<size_t> ReadAt(int fd, int64_t position, char* out, size_t size,
                              const std::string& path) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, out + done, size - done, static_cast<off_t>(position + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError(errno, "cannot read", path);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

absl::Status WriteAt(int fd, int64_t position, std::string_view data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(position + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError(errno, "cannot write", path);
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status SyncFile(int fd, const std::string& path) {
#if defined(__linux__)
  int rc = ::fdatasync(fd);
#else
  int rc = ::fsync(fd);
#endif
  if (rc != 0) return IoError(errno, "cannot fsync", path);
  return absl::OkStatus();
}

absl::Status CreateDirectories(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError(ec.value(), "cannot create directory", dir);
  return absl::OkStatus();
}

absl::Status RemoveAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return IoError(ec.value(), "cannot remove", path);
  return absl::OkStatus();
}

}  // namespace eddy::log
