// Where checkpoints live on disk (Flink: FsCheckpointStorage): one directory per checkpoint,
//   <execution.checkpointing.dir>/<job id>/chk-<n>/
//       v<vertex>-<subtask>.state    one file per subtask (SubtaskSnapshot::Encode)
//       _metadata                    the manifest, JSON, written last
// A checkpoint exists only once its _metadata is there: the manifest is written to a temporary
// name, fsynced, renamed and the directory fsynced, after every subtask file was fsynced. So a
// crash at any moment leaves either a complete checkpoint or a directory without _metadata,
// which is never used (and is deleted by the next checkpoint). A savepoint has the same layout in
// a directory of the user's choosing and holds only relative names: it can be moved.
// Format: docs/checkpoint-format.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "state/snapshot.h"

namespace eddy::state {

/// Format version of the _metadata manifest.
inline constexpr int kManifestFormatVersion = 1;

/// The manifest of a complete checkpoint or savepoint.
struct CheckpointManifest {
  struct Vertex {
    std::string uid;   // what the vertex is: its operators' kinds (checked on restore)
    std::string name;  // as EXPLAIN prints it, for messages
    int parallelism = 1;
    std::vector<std::string> files;  // per subtask, relative to the checkpoint directory
    std::vector<uint64_t> bytes;     // per subtask file
  };
  int64_t checkpoint_id = 0;
  int64_t timestamp_ms = 0;  // wall clock when it completed
  std::string job_id;
  bool savepoint = false;
  int max_parallelism = 128;
  std::vector<Vertex> vertices;

  std::string ToJson() const;
  static absl::StatusOr<CheckpointManifest> FromJson(std::string_view json);
};

/// A checkpoint read back: its manifest and every subtask snapshot, per vertex.
struct LoadedCheckpoint {
  std::string path;  // the checkpoint directory
  CheckpointManifest manifest;
  std::vector<std::vector<SubtaskSnapshot>> vertices;  // [vertex][old subtask]
};

/// Writes the checkpoints of one job. Thread-safe: subtask files may be written from several
/// threads at once; CompleteCheckpoint/AbortCheckpoint are called by the coordinator only.
class CheckpointStorage {
 public:
  /// Checkpoints of `job_id` under `base_dir`, keeping the newest `num_retained` complete ones.
  CheckpointStorage(std::string base_dir, std::string job_id, int num_retained);

  /// The directory of checkpoint `id` (not created).
  std::string CheckpointDir(int64_t id) const;
  const std::string& job_dir() const { return job_dir_; }

  /// Writes the file of subtask `subtask` of vertex `vertex` for checkpoint `id` and fsyncs it;
  /// returns its name relative to the checkpoint directory. Errors: the I/O error (disk full,
  /// permissions), naming the path.
  absl::StatusOr<std::string> WriteSubtaskFile(int64_t id, int vertex, int subtask,
                                               const std::string& bytes) const;
  /// Makes checkpoint `manifest.checkpoint_id` complete by writing its _metadata (temporary
  /// name, fsync, rename, directory fsync), then deletes older checkpoints beyond the retained
  /// count and any incomplete directory older than it.
  absl::Status CompleteCheckpoint(const CheckpointManifest& manifest) const;
  /// Deletes what checkpoint `id` wrote (it failed or timed out).
  void AbortCheckpoint(int64_t id) const;

  /// Complete checkpoint directories of the job directory `job_dir`, newest first.
  static std::vector<std::string> ListComplete(const std::string& job_dir);
  /// Reads a complete checkpoint or savepoint directory: manifest and every subtask file.
  /// Errors: NotFound when there is no _metadata; DataLoss when a file is missing, truncated or
  /// corrupt (checksums), naming the file.
  static absl::StatusOr<LoadedCheckpoint> Load(const std::string& dir);
  /// The newest complete checkpoint of `job_dir` that loads; a corrupt one is skipped with a
  /// warning in the log (and the next older one tried). nullopt when there is none. Errors:
  /// DataLoss listing each checkpoint's problem when there are complete checkpoints but none
  /// loads (starting over could publish results twice: the caller must not).
  static absl::StatusOr<std::optional<LoadedCheckpoint>> LoadLatest(const std::string& job_dir);
  /// Writes `manifest` and the given files as a self-contained directory `dir` (a savepoint),
  /// replacing nothing: Errors: AlreadyExists when `dir` has a _metadata already.
  static absl::Status WriteSavepoint(const std::string& dir, const LoadedCheckpoint& from);

 private:
  std::string base_dir_;
  std::string job_dir_;
  int num_retained_;
};

}  // namespace eddy::state
