// The 'filesystem' sink: CSV or JSON Lines, written as Flink writes them, with two-phase commit
// (Flink's FileSink): rows go to hidden in-progress files, which become visible only when the
// output is final — when the checkpoint that covers them completes, or at the end of a job that
// takes no checkpoints. A failed job never leaves a truncated or half-written visible file, and
// with checkpoints a reader of the visible files never sees a row twice or a row that a restart
// writes again (exactly once).
//
// 'path' naming a directory (an existing one, or ending in '/') gets part files, one sequence per
// subtask: in progress `.part-<job>-<run>-<subtask>-<n>.<ext>.inprogress`, committed by renaming
// to `part-<job>-<run>-<subtask>-<n>.<ext>` (readers of the directory skip hidden files).
// 'path' naming a file has one writer: without checkpoints the whole output is written to
// `.<name>.inprogress.<run>-0` and renamed over `<name>` at the end; with checkpoints each
// checkpoint's rows are appended to `<name>` at the offset the restored state expects
// (truncating anything a later, lost checkpoint appended), which makes the commit idempotent.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <set>

#include "absl/strings/str_split.h"
#include "base/file_io.h"
#include "base/log.h"
#include "base/status.h"
#include "connectors/connector.h"
#include "connectors/filesystem/options.h"
#include "formats/row_encoder.h"
#include "state/serializer.h"

namespace eddy::connectors {

namespace fs = std::filesystem;

namespace {

// A committable: "R\t<in-progress>\t<final>" (rename) or
// "A\t<in-progress>\t<final>\t<offset>\t<length>" (append at offset).
struct Committable {
  bool append = false;
  std::string tmp, final_path;
  int64_t offset = 0, length = 0;

  std::string Encode() const {
    if (!append) return fmt::format("R\t{}\t{}", tmp, final_path);
    return fmt::format("A\t{}\t{}\t{}\t{}", tmp, final_path, offset, length);
  }
  static absl::StatusOr<Committable> Decode(const std::string& s) {
    std::vector<std::string> f = absl::StrSplit(s, '\t');
    Committable c;
    if (f.size() == 3 && f[0] == "R") {
      c.tmp = f[1];
      c.final_path = f[2];
      return c;
    }
    if (f.size() == 5 && f[0] == "A") {
      c.append = true;
      c.tmp = f[1];
      c.final_path = f[2];
      try {
        c.offset = std::stoll(f[3]);
        c.length = std::stoll(f[4]);
        return c;
      } catch (...) {
      }
    }
    return absl::DataLossError(fmt::format("not a filesystem sink committable: '{}'", s));
  }
};

int64_t FileSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return -1;
  return st.st_size;
}

bool Exists(const std::string& path) { return FileSize(path) >= 0; }

// Appends the in-progress file `c.tmp` to `c.final_path` at `c.offset` and removes it.
absl::Status CommitAppend(const Committable& c) {
  if (!Exists(c.tmp)) {
    // Committed before (the temporary file is removed only after the append is durable).
    int64_t size = FileSize(c.final_path);
    if (size >= c.offset + c.length) return absl::OkStatus();
    return absl::DataLossError(fmt::format(
        "cannot commit {}: its in-progress file {} is gone and {} holds {} bytes, not "
        "{}",
        c.final_path, c.tmp, c.final_path, std::max<int64_t>(size, 0), c.offset + c.length));
  }
  int fd = ::open(c.final_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("cannot open", c.final_path, errno);
  auto fail = [&](const char* what, const std::string& p) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus(what, p, err);
  };
  struct stat st;
  if (::fstat(fd, &st) != 0) return fail("cannot stat", c.final_path);
  if (st.st_size < c.offset) {
    ::close(fd);
    return absl::DataLossError(fmt::format(
        "cannot commit to {}: it holds {} bytes but the committed output ends at {} (was the file "
        "changed by something else?)",
        c.final_path, static_cast<int64_t>(st.st_size), c.offset));
  }
  // Anything past the offset was appended by a checkpoint the job did not restore: drop it.
  if (::ftruncate(fd, c.offset) != 0) return fail("cannot truncate", c.final_path);
  auto data = ReadWholeFile(c.tmp);
  if (!data.ok()) {
    ::close(fd);
    return data.status();
  }
  if (static_cast<int64_t>(data->size()) != c.length) {
    ::close(fd);
    return absl::DataLossError(fmt::format("in-progress file {} has {} bytes, expected {}", c.tmp,
                                           data->size(), c.length));
  }
  size_t done = 0;
  while (done < data->size()) {
    ssize_t n = ::pwrite(fd, data->data() + done, data->size() - done,
                         static_cast<off_t>(c.offset + static_cast<int64_t>(done)));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write", c.final_path);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("cannot fsync", c.final_path);
  ::close(fd);
  if (::unlink(c.tmp.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus("cannot remove", c.tmp, errno);
  }
  return absl::OkStatus();
}

absl::Status CommitRename(const Committable& c) {
  if (!Exists(c.tmp)) {
    if (Exists(c.final_path)) return absl::OkStatus();  // committed before
    // Neither is there: the part was committed and later removed (e.g. the output was deleted
    // before an old savepoint was restored). Nothing to publish again.
    spdlog::warn(
        "{} of the restored checkpoint is gone (removed after it was committed?); not "
        "published again",
        c.final_path);
    return absl::OkStatus();
  }
  if (::rename(c.tmp.c_str(), c.final_path.c_str()) != 0) {
    return ErrnoStatus("cannot rename into", c.final_path, errno);
  }
  return FsyncDirectory(fs::path(c.final_path).parent_path().string());
}

// Publishes the sink's in-progress files. Thread-safe (no mutable state).
class FileCommitter final : public runtime::SinkCommitter {
 public:
  // `dir`: where in-progress files live; `prefix`: how this job's in-progress files start.
  FileCommitter(std::string dir, std::string prefix)
      : dir_(std::move(dir)), prefix_(std::move(prefix)) {}

  absl::Status Commit(const std::vector<std::string>& committables) override {
    for (const auto& s : committables) {
      EDDY_ASSIGN_OR_RETURN(Committable c, Committable::Decode(s));
      EDDY_RETURN_IF_ERROR(c.append ? CommitAppend(c) : CommitRename(c));
    }
    return absl::OkStatus();
  }
  void Abort(const std::vector<std::string>& committables) override {
    for (const auto& s : committables) {
      auto c = Committable::Decode(s);
      if (c.ok()) ::unlink(c->tmp.c_str());
    }
  }
  absl::Status CleanUp(const std::vector<std::string>& keep) override {
    std::set<std::string> kept;
    for (const auto& s : keep) {
      auto c = Committable::Decode(s);
      if (c.ok()) kept.insert(fs::path(c->tmp).filename().string());
    }
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_.empty() ? "." : dir_, ec)) {
      std::string name = e.path().filename().string();
      if (name.rfind(prefix_, 0) != 0 || kept.count(name)) continue;
      if (name.find(".inprogress") == std::string::npos) continue;
      fs::remove(e.path(), ec);
      spdlog::info("removed {}: in-progress output of an earlier attempt that was never committed",
                   e.path().string());
    }
    return absl::OkStatus();
  }

 private:
  std::string dir_;
  std::string prefix_;
};

struct SinkShared {
  std::string path;  // the 'path' option, without a trailing '/'
  bool dir = false;
  std::string ext;
  std::string job;  // stable across restarts of one job
  std::string run;  // unique per run
  std::shared_ptr<SinkMetrics> metrics;
};

class FileSink final : public runtime::OneInputOperator {
 public:
  FileSink(std::shared_ptr<const SinkShared> sh, int subtask, std::unique_ptr<RowEncoder> enc)
      : sh_(std::move(sh)), subtask_(subtask), enc_(std::move(enc)) {}
  ~FileSink() override { (void)Close(); }

  std::string uid() const override { return "FileSink(" + sh_->path + ")"; }

  absl::Status ProcessBatch(Batch& b, const runtime::RowWatermarks&, runtime::Output*) override {
    if (!f_) EDDY_RETURN_IF_ERROR(OpenPart());
    for (size_t r = 0; r < b.num_rows(); ++r) enc_->Encode(b, r, &buf_);
    sh_->metrics->rows_written += static_cast<int64_t>(b.num_rows());
    if (buf_.size() >= (1 << 20)) return WriteOut();
    return absl::OkStatus();
  }
  absl::Status ProcessWatermark(int64_t, runtime::Output*) override { return absl::OkStatus(); }
  absl::Status Finish(runtime::Output*) override {
    finished_ = true;
    // A single file exists after a job even when it wrote no row.
    if (!sh_->dir && !f_ && pending_.empty() && !committed_any_) {
      EDDY_RETURN_IF_ERROR(OpenPart());
    }
    return absl::OkStatus();
  }

  absl::Status PrepareCommit(std::vector<std::string>* out) override {
    if (f_) EDDY_RETURN_IF_ERROR(ClosePart());
    for (const auto& [id, c] : pending_) out->push_back(c);
    return absl::OkStatus();
  }
  absl::Status SnapshotState(int64_t checkpoint_id, state::OperatorSnapshot* out) override {
    // What was prepared for this checkpoint is tagged with it; the single file's committed
    // length is where the next run appends.
    for (auto& [id, c] : pending_) {
      if (id == 0) id = checkpoint_id;
    }
    state::StateWriter w(&out->operator_state);
    w.PutInt64(offset_);
    return absl::OkStatus();
  }
  absl::Status InitializeState(const state::OperatorRestore& in) override {
    for (std::string_view s : in.OperatorStates()) {
      state::StateReader r(s);
      int64_t off = 0;
      EDDY_RETURN_IF_ERROR(r.GetInt64(&off));
      offset_ = std::max(offset_, off);
    }
    committed_any_ = offset_ > 0;
    return absl::OkStatus();
  }
  absl::Status NotifyCheckpointComplete(int64_t checkpoint_id) override {
    size_t erased = std::erase_if(
        pending_, [&](const auto& p) { return p.first != 0 && p.first <= checkpoint_id; });
    if (erased > 0) committed_any_ = true;
    return absl::OkStatus();
  }
  absl::Status Close() override {
    // An in-progress file that was never handed over for commit is discarded.
    if (f_) {
      std::fclose(f_);
      f_ = nullptr;
      ::unlink(tmp_.c_str());
    }
    return absl::OkStatus();
  }

 private:
  absl::Status OpenPart() {
    std::string dir = sh_->dir ? sh_->path : fs::path(sh_->path).parent_path().string();
    std::string name = fs::path(sh_->path).filename().string();
    if (sh_->dir) {
      final_ = fmt::format("{}/part-{}-{}-{}-{}.{}", sh_->path, sh_->job, sh_->run, subtask_, seq_,
                           sh_->ext);
      tmp_ = fmt::format("{}/.part-{}-{}-{}-{}.{}.inprogress", sh_->path, sh_->job, sh_->run,
                         subtask_, seq_, sh_->ext);
    } else {
      final_ = sh_->path;
      tmp_ = (fs::path(dir) / fmt::format(".{}.inprogress.{}-{}", name, sh_->run, seq_)).string();
    }
    ++seq_;
    if (!dir.empty()) {
      std::error_code ec;
      fs::create_directories(dir, ec);
    }
    f_ = std::fopen(tmp_.c_str(), "wb");
    if (!f_) return ErrnoStatus("cannot write", tmp_, errno);
    part_bytes_ = 0;
    return absl::OkStatus();
  }

  absl::Status WriteOut() {
    if (!f_ || buf_.empty()) return absl::OkStatus();
    if (std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) {
      return ErrnoStatus("write failed:", tmp_, errno);
    }
    part_bytes_ += static_cast<int64_t>(buf_.size());
    buf_.clear();
    return absl::OkStatus();
  }

  // Closes the current part durably and queues its committable.
  absl::Status ClosePart() {
    EDDY_RETURN_IF_ERROR(WriteOut());
    FILE* f = f_;
    f_ = nullptr;
    if (std::fflush(f) != 0 || ::fsync(fileno(f)) != 0) {
      int err = errno;
      std::fclose(f);
      return ErrnoStatus("cannot flush", tmp_, err);
    }
    if (std::fclose(f) != 0) return ErrnoStatus("cannot close", tmp_, errno);
    Committable c;
    c.tmp = tmp_;
    c.final_path = final_;
    if (!sh_->dir && (committed_any_ || !pending_.empty() || !finished_)) {
      // A single file that receives its output in several parts: append at the offset.
      c.append = true;
      c.offset = offset_;
      c.length = part_bytes_;
    }
    // The single file's length once this part is committed (appended or renamed): a run restored
    // from this checkpoint appends after it and never replaces the file.
    if (!sh_->dir) offset_ += part_bytes_;
    pending_.emplace_back(0, c.Encode());
    return absl::OkStatus();
  }

  std::shared_ptr<const SinkShared> sh_;
  int subtask_;
  std::unique_ptr<RowEncoder> enc_;
  FILE* f_ = nullptr;
  std::string tmp_, final_;
  std::string buf_;
  int64_t seq_ = 0;
  int64_t part_bytes_ = 0;
  int64_t offset_ = 0;  // single file: bytes committed or handed over for commit
  bool finished_ = false;
  bool committed_any_ = false;
  // Committables handed over and not yet known to be committed: (checkpoint id, committable);
  // id 0 until the checkpoint they belong to is taken.
  std::vector<std::pair<int64_t, std::string>> pending_;
};

std::string RunId() {
  std::random_device rd;
  uint64_t r = (static_cast<uint64_t>(rd()) << 32) ^ rd() ^
               static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  return fmt::format("{:08x}", static_cast<uint32_t>(r ^ (r >> 32)));
}

}  // namespace

absl::StatusOr<SinkPlan> MakeFileSink(std::shared_ptr<const TableDef> table, const Schema& schema,
                                      int default_parallelism, const std::string& job_id) {
  EDDY_ASSIGN_OR_RETURN(FileFormatOptions fo, ParseFileFormatOptions(*table));
  std::string path = table->Option("path");
  if (path.empty()) {
    return absl::InvalidArgumentError(
        fmt::format("table '{}': the filesystem connector needs a 'path' option", table->name));
  }
  struct stat st;
  bool dir = path.back() == '/' || (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode));
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  SinkPlan plan;
  plan.parallelism = dir ? default_parallelism : 1;
  if (dir) {
    std::error_code ec;
    fs::create_directories(path, ec);
    if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(fmt::format("cannot create directory {}", path));
    }
  }
  auto sh = std::make_shared<SinkShared>();
  sh->path = path;
  sh->dir = dir;
  sh->ext = fo.json ? "json" : "csv";
  sh->job = job_id.empty() ? "job" : job_id;
  sh->run = RunId();
  sh->metrics = plan.metrics;
  std::string name = fs::path(path).filename().string();
  plan.committer = std::make_shared<FileCommitter>(
      dir ? path : fs::path(path).parent_path().string(),
      dir ? fmt::format(".part-{}-", sh->job) : fmt::format(".{}.inprogress.", name));
  plan.make = [sh, fo, schema](const runtime::SubtaskInfo& info)
      -> absl::StatusOr<std::unique_ptr<runtime::StreamOperator>> {
    std::unique_ptr<RowEncoder> enc;
    if (fo.json) {
      EDDY_ASSIGN_OR_RETURN(enc, MakeJsonEncoder(schema, fo.json_options));
    } else {
      CsvOptions co = fo.csv;
      EDDY_ASSIGN_OR_RETURN(enc, MakeCsvEncoder(schema, co));
    }
    return std::unique_ptr<runtime::StreamOperator>(
        std::make_unique<FileSink>(sh, info.index, std::move(enc)));
  };
  plan.description = fmt::format("filesystem, {}, {}", sh->ext, table->Option("path"));
  return plan;
}

namespace {

// The canonical form of `p` (resolving symlinks and '..' of the parts that exist).
std::string Canonical(const std::string& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(fs::absolute(p, ec), ec);
  return c.lexically_normal().string();
}

// Whether `inner` is `outer` or lies below it.
bool Within(const std::string& inner, const std::string& outer) {
  if (inner == outer) return true;
  std::string o = outer.back() == '/' ? outer : outer + "/";
  return inner.rfind(o, 0) == 0;
}

}  // namespace

absl::Status CheckFileSinkTarget(const TableDef& sink,
                                 const std::vector<std::shared_ptr<const TableDef>>& sources) {
  if (sink.Option("connector") != "filesystem") return absl::OkStatus();
  std::string spath = sink.Option("path");
  if (spath.empty()) return absl::OkStatus();
  struct stat st;
  bool sdir = spath.back() == '/' || (::stat(spath.c_str(), &st) == 0 && S_ISDIR(st.st_mode));
  std::string starget = Canonical(spath);
  for (const auto& src : sources) {
    if (!src || src->Option("connector") != "filesystem") continue;
    std::string rpath = src->Option("path");
    if (rpath.empty()) continue;
    bool conflict = false;
    std::string rcanon = Canonical(rpath);
    bool glob = rpath.find_first_of("*?[") != std::string::npos;
    bool rdir = !glob && ::stat(rpath.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    // The source reads a directory (or a glob's directory) the sink writes into or below.
    std::string rroot = glob ? Canonical(fs::path(rpath).parent_path().string()) : rcanon;
    if ((rdir || glob) && Within(starget, rroot)) conflict = true;
    if (rdir && sdir && Within(rroot, starget)) conflict = true;
    // A file the source reads is the sink's file or lies in the sink's directory.
    auto files = ExpandPath(rpath);
    if (files.ok()) {
      for (const auto& f : *files) {
        std::string fc = Canonical(f);
        if (sdir ? Within(fc, starget) : fc == starget) conflict = true;
      }
    } else if (!sdir && rcanon == starget) {
      conflict = true;
    }
    if (conflict) {
      return absl::InvalidArgumentError(fmt::format(
          "table '{}' writes to '{}', where table '{}' of the same job reads ('{}'): the job would "
          "overwrite its own input; write to another path",
          sink.name, spath, src->name, rpath));
    }
  }
  return absl::OkStatus();
}

}  // namespace eddy::connectors
