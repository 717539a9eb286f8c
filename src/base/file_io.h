// Small file helpers shared by modules that persist data outside the log (checkpoints, sink part
// files): durable whole-file writes, whole-file reads, directory fsync. Errors are absl::Status
// values naming the path and the system error. Thread-safe (no shared state).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace eddy {

/// Writes `bytes` to `path` through a temporary file in the same directory (`.<name>.tmp`),
/// fsyncs it, renames it into place and fsyncs the directory: after it returns OK, `path` holds
/// `bytes` durably; on error `path` is unchanged and the temporary file is removed.
absl::Status WriteFileDurably(const std::string& path, std::string_view bytes);

/// Reads the whole file at `path`. Errors: NotFound when it does not exist, else the system
/// error naming the path.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

/// fsyncs the directory `dir` (after creating, renaming or deleting entries in it).
absl::Status FsyncDirectory(const std::string& dir);

/// fsyncs the file at `path` (opened read-only).
absl::Status FsyncFile(const std::string& path);

/// An absl::Status for the failed system call `what` on `path` with errno `err`: NotFound for
/// ENOENT, ResourceExhausted for ENOSPC/EDQUOT, PermissionDenied for EACCES/EPERM, else Internal.
absl::Status ErrnoStatus(std::string_view what, const std::string& path, int err);

}  // namespace eddy
