// The 'filesystem' sink: CSV or JSON Lines, written as Flink writes them. 'path' naming a file
// writes that file (one writer); a directory path (existing directory or ending in '/') writes one
// part file per subtask, "part-<job>-<subtask>-0.<ext>". Only whole records reach the file: rows
// are buffered and written in whole lines, and the file is flushed and closed at the end of the
// job or when the job fails, so results emitted before an error are kept.
#include <fmt/format.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "base/status.h"
#include "connectors/connector.h"
#include "connectors/filesystem/options.h"
#include "formats/row_encoder.h"

namespace eddy::connectors {

namespace {

class FileSink final : public runtime::OneInputOperator {
 public:
  FileSink(std::string path, std::unique_ptr<RowEncoder> enc, std::shared_ptr<SinkMetrics> m)
      : path_(std::move(path)), enc_(std::move(enc)), metrics_(std::move(m)) {}
  ~FileSink() override { (void)Close(); }

  absl::Status Open() {
    std::error_code ec;
    auto parent = std::filesystem::path(path_).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    f_ = std::fopen(path_.c_str(), "wb");
    if (!f_) {
      return absl::InvalidArgumentError(
          fmt::format("cannot write {}: {}", path_, std::strerror(errno)));
    }
    return absl::OkStatus();
  }
  absl::Status ProcessBatch(Batch& b, const runtime::RowWatermarks&, runtime::Output*) override {
    for (size_t r = 0; r < b.num_rows(); ++r) enc_->Encode(b, r, &buf_);
    metrics_->rows_written += static_cast<int64_t>(b.num_rows());
    if (buf_.size() >= (1 << 20)) return WriteOut();
    return absl::OkStatus();
  }
  absl::Status ProcessWatermark(int64_t, runtime::Output*) override { return absl::OkStatus(); }
  absl::Status Finish(runtime::Output*) override { return Close(); }

 private:
  absl::Status WriteOut() {
    if (!f_ || buf_.empty()) return absl::OkStatus();
    if (std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) {
      return absl::InternalError(
          fmt::format("write to {} failed: {}", path_, std::strerror(errno)));
    }
    buf_.clear();
    return absl::OkStatus();
  }
  absl::Status Close() {
    if (!f_) return absl::OkStatus();
    absl::Status s = WriteOut();
    if (std::fclose(f_) != 0 && s.ok()) {
      s = absl::InternalError(fmt::format("closing {} failed: {}", path_, std::strerror(errno)));
    }
    f_ = nullptr;
    return s;
  }

  std::string path_;
  std::unique_ptr<RowEncoder> enc_;
  std::shared_ptr<SinkMetrics> metrics_;
  FILE* f_ = nullptr;
  std::string buf_;
};

}  // namespace

absl::StatusOr<SinkPlan> MakeFileSink(std::shared_ptr<const TableDef> table, const Schema& schema,
                                      int default_parallelism) {
  EDDY_ASSIGN_OR_RETURN(FileFormatOptions fo, ParseFileFormatOptions(*table));
  std::string path = table->Option("path");
  if (path.empty()) {
    return absl::InvalidArgumentError(
        fmt::format("table '{}': the filesystem connector needs a 'path' option", table->name));
  }
  struct stat st;
  bool dir = (!path.empty() && path.back() == '/') ||
             (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode));
  SinkPlan plan;
  plan.parallelism = dir ? default_parallelism : 1;
  if (dir) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(fmt::format("cannot create directory {}", path));
    }
  }
  auto m = plan.metrics;
  std::string job = fmt::format(
      "{:x}", std::chrono::system_clock::now().time_since_epoch().count() & 0xffffffffff);
  std::string ext = fo.json ? "json" : "csv";
  plan.make = [=](const runtime::SubtaskInfo& info)
      -> absl::StatusOr<std::unique_ptr<runtime::StreamOperator>> {
    std::unique_ptr<RowEncoder> enc;
    if (fo.json) {
      EDDY_ASSIGN_OR_RETURN(enc, MakeJsonEncoder(schema, fo.json_options));
    } else {
      CsvOptions co = fo.csv;
      EDDY_ASSIGN_OR_RETURN(enc, MakeCsvEncoder(schema, co));
    }
    std::string file =
        dir ? fmt::format("{}/part-{}-{}-0.{}",
                          path.back() == '/' ? path.substr(0, path.size() - 1) : path, job,
                          info.index, ext)
            : path;
    auto sink = std::make_unique<FileSink>(file, std::move(enc), m);
    EDDY_RETURN_IF_ERROR(sink->Open());
    return std::unique_ptr<runtime::StreamOperator>(std::move(sink));
  };
  plan.description = fmt::format("filesystem, {}, {}", ext, path);
  return plan;
}

}  // namespace eddy::connectors
