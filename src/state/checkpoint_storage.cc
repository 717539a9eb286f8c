#include "state/checkpoint_storage.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/file_io.h"
#include "base/log.h"
#include "base/status.h"

namespace eddy::state {

namespace fs = std::filesystem;

namespace {
constexpr char kManifestName[] = "_metadata";

// chk-<n> → n, or -1 when the name is not a checkpoint directory.
int64_t CheckpointIdOf(const std::string& name) {
  if (name.rfind("chk-", 0) != 0 || name.size() == 4) return -1;
  int64_t id = 0;
  for (size_t i = 4; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9' || id > INT64_MAX / 10 - 10) return -1;
    id = id * 10 + (name[i] - '0');
  }
  return id;
}
}  // namespace

std::string CheckpointManifest::ToJson() const {
  nlohmann::json j;
  j["format_version"] = kManifestFormatVersion;
  j["kind"] = savepoint ? "savepoint" : "checkpoint";
  j["checkpoint_id"] = checkpoint_id;
  j["timestamp_ms"] = timestamp_ms;
  j["job_id"] = job_id;
  j["max_parallelism"] = max_parallelism;
  nlohmann::json vs = nlohmann::json::array();
  for (const auto& v : vertices) {
    vs.push_back({{"uid", v.uid},
                  {"name", v.name},
                  {"parallelism", v.parallelism},
                  {"files", v.files},
                  {"bytes", v.bytes}});
  }
  j["vertices"] = vs;
  return j.dump(1) + "\n";
}

absl::StatusOr<CheckpointManifest> CheckpointManifest::FromJson(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::DataLossError("checkpoint manifest is not valid JSON");
  }
  CheckpointManifest m;
  try {
    int version = j.at("format_version").get<int>();
    if (version != kManifestFormatVersion) {
      return absl::DataLossError(
          fmt::format("checkpoint manifest has format version {}, this eddy reads version {}",
                      version, kManifestFormatVersion));
    }
    m.savepoint = j.at("kind").get<std::string>() == "savepoint";
    m.checkpoint_id = j.at("checkpoint_id").get<int64_t>();
    m.timestamp_ms = j.at("timestamp_ms").get<int64_t>();
    m.job_id = j.at("job_id").get<std::string>();
    m.max_parallelism = j.at("max_parallelism").get<int>();
    for (const auto& v : j.at("vertices")) {
      Vertex x;
      x.uid = v.at("uid").get<std::string>();
      x.name = v.at("name").get<std::string>();
      x.parallelism = v.at("parallelism").get<int>();
      x.files = v.at("files").get<std::vector<std::string>>();
      x.bytes = v.at("bytes").get<std::vector<uint64_t>>();
      if (x.parallelism < 1 || x.files.size() != static_cast<size_t>(x.parallelism) ||
          x.bytes.size() != x.files.size()) {
        return absl::DataLossError(
            "checkpoint manifest: a vertex's files do not match its "
            "parallelism");
      }
      for (const auto& f : x.files) {
        if (f.empty() || f.find('/') != std::string::npos || f[0] == '.') {
          return absl::DataLossError("checkpoint manifest names a file outside its directory");
        }
      }
      m.vertices.push_back(std::move(x));
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(fmt::format("checkpoint manifest is malformed: {}", e.what()));
  }
  return m;
}

CheckpointStorage::CheckpointStorage(std::string base_dir, std::string job_id, int num_retained)
    : base_dir_(std::move(base_dir)),
      job_dir_((fs::path(base_dir_) / job_id).string()),
      num_retained_(std::max(1, num_retained)) {}

std::string CheckpointStorage::CheckpointDir(int64_t id) const {
  return (fs::path(job_dir_) / fmt::format("chk-{}", id)).string();
}

absl::StatusOr<std::string> CheckpointStorage::WriteSubtaskFile(int64_t id, int vertex, int subtask,
                                                                const std::string& bytes) const {
  std::string dir = CheckpointDir(id);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return ErrnoStatus("cannot create checkpoint directory", dir, ec.value());
  }
  std::string name = fmt::format("v{}-{}.state", vertex, subtask);
  EDDY_RETURN_IF_ERROR(WriteFileDurably((fs::path(dir) / name).string(), bytes));
  return name;
}

absl::Status CheckpointStorage::CompleteCheckpoint(const CheckpointManifest& manifest) const {
  std::string dir = CheckpointDir(manifest.checkpoint_id);
  EDDY_RETURN_IF_ERROR(
      WriteFileDurably((fs::path(dir) / kManifestName).string(), manifest.ToJson()));
  // Retention: keep the newest num_retained complete checkpoints; drop older ones and any
  // incomplete directory older than this one (a failed or aborted attempt).
  std::vector<std::pair<int64_t, std::string>> all;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(job_dir_, ec)) {
    int64_t id = CheckpointIdOf(e.path().filename().string());
    if (id >= 0) all.emplace_back(id, e.path().string());
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  int kept = 0;
  for (const auto& [id, path] : all) {
    bool complete = fs::exists(fs::path(path) / kManifestName, ec);
    if (id > manifest.checkpoint_id) continue;  // a newer attempt still in flight
    if (complete && kept < num_retained_) {
      ++kept;
      continue;
    }
    fs::remove_all(path, ec);
    if (ec) spdlog::warn("could not delete old checkpoint {}: {}", path, std::string(ec.message()));
  }
  return absl::OkStatus();
}

void CheckpointStorage::AbortCheckpoint(int64_t id) const {
  std::error_code ec;
  fs::remove_all(CheckpointDir(id), ec);
}

std::vector<std::string> CheckpointStorage::ListComplete(const std::string& job_dir) {
  std::vector<std::pair<int64_t, std::string>> all;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(job_dir, ec)) {
    int64_t id = CheckpointIdOf(e.path().filename().string());
    if (id >= 0 && fs::exists(e.path() / kManifestName, ec)) all.emplace_back(id, e.path());
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::string> out;
  for (auto& [id, p] : all) out.push_back(std::move(p));
  return out;
}

absl::StatusOr<LoadedCheckpoint> CheckpointStorage::Load(const std::string& dir) {
  LoadedCheckpoint out;
  out.path = dir;
  auto text = ReadWholeFile((fs::path(dir) / kManifestName).string());
  if (!text.ok()) {
    if (absl::IsNotFound(text.status())) {
      return absl::NotFoundError(
          fmt::format("{} is not a complete checkpoint or savepoint (no {})", dir, kManifestName));
    }
    return text.status();
  }
  auto m = CheckpointManifest::FromJson(*text);
  if (!m.ok())
    return absl::DataLossError(fmt::format("{}: {}", dir, std::string(m.status().message())));
  out.manifest = std::move(*m);
  for (const auto& v : out.manifest.vertices) {
    std::vector<SubtaskSnapshot> subtasks;
    for (size_t i = 0; i < v.files.size(); ++i) {
      std::string path = (fs::path(dir) / v.files[i]).string();
      auto bytes = ReadWholeFile(path);
      if (!bytes.ok()) {
        return absl::DataLossError(
            fmt::format("checkpoint file {}: {}", path, std::string(bytes.status().message())));
      }
      if (bytes->size() != v.bytes[i]) {
        return absl::DataLossError(
            fmt::format("checkpoint file {} has {} bytes, the manifest "
                        "says {}",
                        path, bytes->size(), v.bytes[i]));
      }
      auto snap = SubtaskSnapshot::Decode(*bytes);
      if (!snap.ok()) {
        return absl::DataLossError(
            fmt::format("checkpoint file {}: {}", path, std::string(snap.status().message())));
      }
      subtasks.push_back(std::move(*snap));
    }
    out.vertices.push_back(std::move(subtasks));
  }
  return out;
}

absl::StatusOr<std::optional<LoadedCheckpoint>> CheckpointStorage::LoadLatest(
    const std::string& job_dir) {
  std::string problems;
  for (const auto& dir : ListComplete(job_dir)) {
    auto c = Load(dir);
    if (c.ok()) return std::optional<LoadedCheckpoint>(std::move(*c));
    spdlog::warn("checkpoint {} cannot be restored ({}); trying the previous one", dir,
                 std::string(c.status().message()));
    problems += fmt::format("\n  {}: {}", dir, std::string(c.status().message()));
  }
  if (!problems.empty()) {
    return absl::DataLossError(fmt::format(
        "no checkpoint of {} can be restored:{}\nstarting over could publish results twice; "
        "restore an older savepoint or delete {} to start from the beginning",
        job_dir, problems, job_dir));
  }
  return std::optional<LoadedCheckpoint>();
}

absl::Status CheckpointStorage::WriteSavepoint(const std::string& dir,
                                               const LoadedCheckpoint& from) {
  std::error_code ec;
  if (fs::exists(fs::path(dir) / kManifestName, ec)) {
    return absl::AlreadyExistsError(fmt::format("{} already holds a savepoint", dir));
  }
  fs::create_directories(dir, ec);
  if (ec) return ErrnoStatus("cannot create savepoint directory", dir, ec.value());
  CheckpointManifest m = from.manifest;
  m.savepoint = true;
  for (size_t v = 0; v < from.vertices.size(); ++v) {
    for (size_t s = 0; s < from.vertices[v].size(); ++s) {
      std::string bytes = from.vertices[v][s].Encode();
      m.vertices[v].bytes[s] = bytes.size();
      EDDY_RETURN_IF_ERROR(
          WriteFileDurably((fs::path(dir) / m.vertices[v].files[s]).string(), bytes));
    }
  }
  return WriteFileDurably((fs::path(dir) / kManifestName).string(), m.ToJson());
}

}  // namespace eddy::state
