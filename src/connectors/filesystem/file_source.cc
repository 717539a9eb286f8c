// The 'filesystem' source: CSV or JSON Lines files (plain or .gz), a file, a directory or a glob.
// Chunks of whole records are parsed in parallel by the scan's subtasks; chunk k goes to subtask
// k mod P, and consumers read chunks back in file order, so results do not depend on parallelism.
#include <fmt/format.h>
#include <sys/stat.h>

#include <map>
#include <mutex>
#include <optional>
#include <tuple>

#include "base/log.h"
#include "base/status.h"
#include "base/strings.h"
#include "base/utf8.h"
#include "connectors/connector.h"
#include "connectors/dead_letter.h"
#include "connectors/filesystem/options.h"
#include "formats/line_reader.h"
#include "formats/row_decoder.h"
#include "runtime/calc.h"
#include "state/serializer.h"
#include "types/time_util.h"

namespace eddy::connectors {

namespace {

struct Chunk {
  std::shared_ptr<Arena> arena;  // owns the bytes
  const char* data = nullptr;
  size_t size = 0;
  size_t first_line = 0;
  size_t file = 0;
  bool oversized = false;  // one record over 'source.max-record-size': `data` is its first bytes
};

// Hands out the chunks of a list of files in order; chunk k to whoever asks for k.
// Thread-safe.
class ChunkDispenser {
 public:
  ChunkDispenser(std::vector<std::string> files, size_t chunk_bytes, bool csv, CsvFraming framing,
                 size_t max_record_bytes, std::shared_ptr<SourceMetrics> metrics)
      : files_(std::move(files)),
        chunk_bytes_(chunk_bytes),
        csv_(csv),
        framing_(framing),
        max_record_bytes_(max_record_bytes),
        metrics_(std::move(metrics)) {}

  const std::string& file(size_t i) const { return files_[i]; }

  /// Where chunk `k` starts: (file index, chunks of that file before it). For a chunk not read
  /// yet, `k` must be the next one to read.
  std::pair<size_t, int64_t> PositionOf(int64_t k) {
    std::lock_guard<std::mutex> l(mu_);
    if (k >= base_ && k < next_) return pos_[static_cast<size_t>(k - base_)];
    return {file_, in_file_};
  }
  /// Continues at chunk `k`, which starts after `index` chunks of file `file` (a restore).
  void RestoreAt(int64_t k, size_t file, int64_t index) {
    std::lock_guard<std::mutex> l(mu_);
    base_ = next_ = k;
    file_ = file;
    in_file_ = skip_ = index;
    pos_.clear();
    buffered_.clear();
    src_.reset();
  }
  size_t num_files() const { return files_.size(); }

  /// Chunk number `k`, or nullopt when the input has fewer chunks.
  absl::StatusOr<std::optional<Chunk>> Get(int64_t k) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = buffered_.find(k);
    if (it != buffered_.end()) {
      Chunk c = std::move(it->second);
      buffered_.erase(it);
      return std::optional<Chunk>(std::move(c));
    }
    while (next_ <= k) {
      std::pair<size_t, int64_t> at{file_, in_file_};
      EDDY_ASSIGN_OR_RETURN(auto c, ReadNext());
      if (!c) return std::optional<Chunk>();
      if (c->file != at.first) at = {c->file, 0};
      pos_.push_back(at);
      ++in_file_;
      int64_t id = next_++;
      if (id == k) return c;
      buffered_.emplace(id, std::move(*c));
    }
    return std::optional<Chunk>();
  }

 private:
  absl::StatusOr<std::optional<Chunk>> ReadNext() {
    while (true) {
      if (!src_) {
        if (file_ >= files_.size()) return std::optional<Chunk>();
        EDDY_ASSIGN_OR_RETURN(
            src_, LineSource::Open(files_[file_], chunk_bytes_, csv_, framing_, max_record_bytes_));
        done_bytes_ = 0;
        // A restored scan re-reads the chunks of this file before its position: chunk
        // boundaries depend only on the bytes, the chunk size and the record size limit.
        for (; skip_ > 0; --skip_) {
          TextChunk skipped;
          EDDY_ASSIGN_OR_RETURN(bool more, src_->NextChunk(&skipped));
          if (!more) {
            return absl::DataLossError(fmt::format(
                "{}: the file is shorter than when the checkpoint was taken (it changed)",
                files_[file_]));
          }
        }
      }
      TextChunk text;
      EDDY_ASSIGN_OR_RETURN(bool more, src_->NextChunk(&text));
      uint64_t now = src_->bytes_read();
      metrics_->bytes_read += now - done_bytes_;
      done_bytes_ = now;
      if (!more) {
        src_.reset();
        ++file_;
        in_file_ = 0;
        continue;
      }
      Chunk c;
      c.arena = std::make_shared<Arena>();
      c.data = text.data.get();
      c.size = text.size;
      if (text.data) c.arena->Adopt(std::move(text.data));
      c.first_line = text.first_line;
      c.file = file_;
      c.oversized = text.oversized;
      return std::optional<Chunk>(std::move(c));
    }
  }

  std::mutex mu_;
  std::vector<std::string> files_;
  size_t chunk_bytes_;
  bool csv_;
  CsvFraming framing_;
  size_t max_record_bytes_;
  std::shared_ptr<SourceMetrics> metrics_;
  std::unique_ptr<LineSource> src_;
  size_t file_ = 0;
  uint64_t done_bytes_ = 0;
  int64_t next_ = 0;
  std::map<int64_t, Chunk> buffered_;
  int64_t base_ = 0;                             // id of pos_[0]
  std::vector<std::pair<size_t, int64_t>> pos_;  // start of each chunk read: (file, index in file)
  int64_t in_file_ = 0;                          // chunks read from files_[file_]
  int64_t skip_ = 0;                             // chunks to skip when files_[file_] opens
};

// With 'error.policy' = 'fail', the job must report the FIRST bad row in file order although
// chunks are parsed in parallel. A subtask that meets a bad row in chunk k records it and stops
// without closing its outputs; every subtask stops when it reaches a chunk past the earliest
// failure. The last one to stop while an earlier chunk was pending (or the failing one, when none
// is) fails the job with the earliest chunk's error. Nothing waits, so subtasks sharing a worker
// thread cannot deadlock. Thread-safe.
class FailureArbiter {
 public:
  void Resize(int n) {
    std::lock_guard<std::mutex> l(mu_);
    if (static_cast<int>(position_.size()) < n) position_.resize(n, -1);
  }
  /// Subtask `i` is about to parse chunk `k`. nullopt: go on. Otherwise the subtask stops with
  /// the returned status: the job's error if it is the one to report it, else OK (halt quietly).
  std::optional<absl::Status> Enter(int i, int64_t k) {
    std::lock_guard<std::mutex> l(mu_);
    if (k < fail_chunk_) {
      position_[i] = k;
      return std::nullopt;
    }
    position_[i] = INT64_MAX;
    return ResolveLocked();
  }
  /// Subtask `i` has no more chunks. nullopt: end normally; else as for Enter().
  std::optional<absl::Status> Done(int i) {
    std::lock_guard<std::mutex> l(mu_);
    position_[i] = INT64_MAX;
    if (fail_chunk_ == INT64_MAX) return std::nullopt;
    return ResolveLocked();
  }
  /// Subtask `i` met bad row `st` in chunk `k`; it stops with the returned status (as Enter()).
  absl::Status Fail(int i, int64_t k, absl::Status st) {
    std::lock_guard<std::mutex> l(mu_);
    if (k < fail_chunk_) {
      fail_chunk_ = k;
      fail_ = st;
    }
    position_[i] = INT64_MAX;
    return ResolveLocked();
  }

 private:
  // The earliest failure's error once no subtask parses an earlier chunk (reported once).
  absl::Status ResolveLocked() {
    if (reported_) return absl::OkStatus();
    for (int64_t p : position_) {
      if (p < fail_chunk_) return absl::OkStatus();
    }
    reported_ = true;
    return fail_;
  }

  std::mutex mu_;
  std::vector<int64_t> position_;  // chunk each subtask is on; INT64_MAX when stopped
  int64_t fail_chunk_ = INT64_MAX;
  absl::Status fail_;
  bool reported_ = false;
};

// Checkpoint barriers of a file scan are chunk-aligned: for checkpoint n every subtask sends its
// barrier right before its first chunk >= K(n), K(n) being one past the highest chunk any subtask
// had started when the first of them saw the trigger. Consumers read chunks in file order, so
// when they reach chunk K(n) every channel holds its barrier next: the snapshot is the state
// after chunks [0, K(n)). Thread-safe (under `mu`).
struct BarrierPlan {
  std::mutex mu;
  std::vector<int64_t> claimed;  // per subtask: the last chunk it started (-1: none)
  int64_t checkpoint = 0;        // the newest checkpoint whose position is decided
  int64_t chunk = 0;             // its K
  bool restored = false;
};

struct Shared {
  BarrierPlan barriers;
  ScanSpec spec;
  FileFormatOptions fmt;
  std::shared_ptr<ChunkDispenser> dispenser;
  std::shared_ptr<DeadLetterWriter> dead_letter;
  std::shared_ptr<SourceMetrics> metrics;
  FailureArbiter arbiter;
};

class FileSourceSubtask final : public runtime::SourceOperator {
 public:
  FileSourceSubtask(std::shared_ptr<Shared> sh, runtime::SubtaskInfo info,
                    std::unique_ptr<RowDecoder> decoder)
      : sh_(std::move(sh)), info_(info), decoder_(std::move(decoder)) {
    const TableDef& t = *sh_->spec.table;
    rowtime_ = t.has_watermark ? t.rowtime : -1;
    next_chunk_ = info_.index;
    delay_ = t.watermark_delay;
  }

  std::string uid() const override {
    return fmt::format("filesystem source '{}' ({})", sh_->spec.table->name,
                       sh_->spec.table->Option("path"));
  }

  bool BarrierReady(int64_t checkpoint_id) override {
    BarrierPlan& b = sh_->barriers;
    std::lock_guard<std::mutex> l(b.mu);
    if (b.checkpoint < checkpoint_id) {
      b.checkpoint = checkpoint_id;
      int64_t k = -1;
      for (int64_t c : b.claimed) k = std::max(k, c);
      b.chunk = k + 1;
    }
    return next_chunk_ >= b.chunk;
  }

  absl::Status SnapshotState(int64_t checkpoint_id, state::OperatorSnapshot* out) override {
    int64_t k;
    {
      BarrierPlan& b = sh_->barriers;
      std::lock_guard<std::mutex> l(b.mu);
      last_barrier_ = checkpoint_id;
      // At the end of the scan (a final snapshot) the position is past every chunk.
      k = b.checkpoint == checkpoint_id && !ended_ ? b.chunk : INT64_MAX;
    }
    size_t file = sh_->dispenser->num_files();
    int64_t index = 0;
    if (k != INT64_MAX) std::tie(file, index) = sh_->dispenser->PositionOf(k);
    state::StateWriter w(&out->operator_state);
    w.PutVarint(2);  // state version (1 had no record size limit: it was 64 MiB)
    w.PutVarint(sh_->fmt.chunk_bytes);
    w.PutInt64(k);
    w.PutVarint(file);
    w.PutInt64(index);
    w.PutVarint(sh_->fmt.max_record_bytes);
    return absl::OkStatus();
  }

  absl::Status InitializeState(const state::OperatorRestore& in) override {
    // Every old subtask stored the scan's position; finished ones the end. The lowest is where
    // the checkpoint's barriers were.
    int64_t k = INT64_MAX, index = 0;
    uint64_t file = 0;
    bool any = false;
    for (std::string_view s : in.OperatorStates()) {
      state::StateReader r(s);
      uint64_t version = 0, chunk_bytes = 0, f = 0, max_record = kDefaultMaxRecordBytes;
      int64_t c = 0, i = 0;
      EDDY_RETURN_IF_ERROR(r.GetVarint(&version));
      if (version != 1 && version != 2) {
        return absl::DataLossError("unknown file source state version");
      }
      EDDY_RETURN_IF_ERROR(r.GetVarint(&chunk_bytes));
      EDDY_RETURN_IF_ERROR(r.GetInt64(&c));
      EDDY_RETURN_IF_ERROR(r.GetVarint(&f));
      EDDY_RETURN_IF_ERROR(r.GetInt64(&i));
      if (version >= 2) EDDY_RETURN_IF_ERROR(r.GetVarint(&max_record));
      if (chunk_bytes != sh_->fmt.chunk_bytes) {
        return absl::FailedPreconditionError(fmt::format(
            "table '{}': the checkpoint was taken with 'source.chunk-size' = {} bytes, the job has "
            "{}",
            sh_->spec.table->name, chunk_bytes, sh_->fmt.chunk_bytes));
      }
      // Chunk boundaries depend on the limit too (a longer record is cut out of its chunk).
      if (max_record != sh_->fmt.max_record_bytes) {
        return absl::FailedPreconditionError(fmt::format(
            "table '{}': the checkpoint was taken with 'source.max-record-size' = {} bytes, the "
            "job has {}",
            sh_->spec.table->name, max_record, sh_->fmt.max_record_bytes));
      }
      if (!any || c < k) {
        k = c;
        file = f;
        index = i;
      }
      any = true;
    }
    if (!any) return absl::OkStatus();
    if (file > sh_->dispenser->num_files()) {
      return absl::DataLossError(
          fmt::format("table '{}': the checkpoint names file {} of {}; the files changed",
                      sh_->spec.table->name, file, sh_->dispenser->num_files()));
    }
    if (k == INT64_MAX) {
      ended_ = true;  // the scan had ended: nothing left to read
      return absl::OkStatus();
    }
    BarrierPlan& b = sh_->barriers;
    std::lock_guard<std::mutex> l(b.mu);
    if (!b.restored) {
      b.restored = true;
      sh_->dispenser->RestoreAt(k, static_cast<size_t>(file), index);
      b.claimed.assign(b.claimed.size(), k - 1);
    }
    int64_t p = info_.parallelism, i = info_.index;
    next_chunk_ = k + ((i - k) % p + p) % p;  // the first chunk >= k of this subtask
    return absl::OkStatus();
  }

  absl::StatusOr<Step> NextStep(runtime::SourceOutput* out) override {
    // Halting quietly (OK from the arbiter) leaves the outputs open: the job fails soon.
    auto stop = [](absl::Status st) -> absl::StatusOr<Step> {
      if (!st.ok()) return st;
      return Step::kHalt;
    };
    if (ended_) return Step::kEnd;
    int64_t k = next_chunk_;
    {
      // Never pass the position of a pending checkpoint barrier; otherwise claim chunk k.
      BarrierPlan& b = sh_->barriers;
      std::lock_guard<std::mutex> l(b.mu);
      if (b.checkpoint > last_barrier_ && k >= b.chunk) return Step::kMore;
      b.claimed[static_cast<size_t>(info_.index)] = k;
    }
    if (auto st = sh_->arbiter.Enter(info_.index, k)) return stop(*st);
    EDDY_ASSIGN_OR_RETURN(auto chunk, sh_->dispenser->Get(k));
    if (!chunk) {
      if (auto st = sh_->arbiter.Done(info_.index)) return stop(*st);
      ended_ = true;
      return Step::kEnd;
    }
    bad_row_ = false;
    absl::Status st = ProcessChunk(*chunk, out);
    if (!st.ok()) {
      if (bad_row_) return stop(sh_->arbiter.Fail(info_.index, k, st));
      return st;
    }
    int64_t wm = INT64_MIN;
    if (chunk_max_ != INT64_MIN) wm = WatermarkOf(chunk_max_);
    EDDY_RETURN_IF_ERROR(out->EmitChunkEnd(k, wm));
    next_chunk_ += info_.parallelism;
    return Step::kMore;
  }

 private:
  int64_t WatermarkOf(int64_t max_ts) const {
    // Flink SQL's `WATERMARK FOR ts AS ts - INTERVAL …`: the largest value of the expression so
    // far, i.e. max timestamp - delay (not the DataStream API's max - delay - 1).
    if (max_ts < INT64_MIN + delay_) return INT64_MIN;
    return max_ts - delay_;
  }

  absl::Status ProcessChunk(const Chunk& c, runtime::SourceOutput* out) {
    chunk_max_ = INT64_MIN;
    NewBatch(c);
    const std::string& path = sh_->dispenser->file(c.file);
    const size_t max_record = sh_->fmt.max_record_bytes;
    if (c.oversized) {
      if (c.first_line == 1 && sh_->fmt.ignore_first_line) return absl::OkStatus();
      return BadRow(path, c.first_line, 1, OversizedReason(), std::string_view(c.data, c.size),
                    /*truncated=*/true);
    }
    if (c.size == 0) return absl::OkStatus();  // a step inside an oversized record
    absl::Status status;
    auto on_record = [&](std::string_view rec, size_t index) -> bool {
      size_t line = c.first_line + index;
      if (line == 1 && sh_->fmt.ignore_first_line) return true;
      if (rec.size() > max_record) {
        status = BadRow(path, line, 1, OversizedReason(), rec.substr(0, kOversizedPrefixBytes),
                        /*truncated=*/true);
        return status.ok();
      }
      if (rec.empty()) return true;  // blank lines carry no record
      DecodeError err;
      if (!decoder_->Decode(rec, &batch_, batch_.arenas.back().get(), &err)) {
        status = BadRow(path, line, err.column, err.reason, rec);
        return status.ok();
      }
      lines_.push_back(line);
      if (batch_.num_rows() >= sh_->spec.batch_size) {
        status = Flush(path, out);
        if (!status.ok()) return false;
        NewBatch(c);
      }
      return true;
    };
    if (sh_->fmt.json) {
      ForEachLine(c.data, c.size, on_record);
    } else {
      ForEachCsvRecord(c.data, c.size, on_record, sh_->fmt.framing);
    }
    EDDY_RETURN_IF_ERROR(status);
    return Flush(path, out);
  }

  void NewBatch(const Chunk& c) {
    batch_ = Batch::Empty(sh_->spec.table->physical);
    for (auto& col : batch_.columns) col.Reserve(sh_->spec.batch_size);
    batch_.arenas.push_back(c.arena);
    batch_.NewArena();  // for unescaped strings
    lines_.clear();
  }

  std::string OversizedReason() const {
    return fmt::format("the record is longer than 'source.max-record-size' ({} bytes)",
                       sh_->fmt.max_record_bytes);
  }

  // `raw` is the record, or its first bytes when `truncated`.
  absl::Status BadRow(const std::string& path, size_t line, size_t column,
                      const std::string& reason, std::string_view raw, bool truncated = false) {
    const std::string& policy = sh_->spec.error_policy;
    if (policy == "skip") {
      sh_->metrics->bad_skipped++;
      return absl::OkStatus();
    }
    if (policy == "dead-letter") {
      sh_->dead_letter->Write(fmt::format("{}:{}", path, line), column, reason, raw, truncated);
      sh_->metrics->bad_dead_lettered++;
      return absl::OkStatus();
    }
    bad_row_ = true;
    return absl::InvalidArgumentError(fmt::format(
        "{}:{}:{}: bad row in table '{}': {} (set 'error.policy' = 'skip' or 'dead-letter' to "
        "continue past bad rows)",
        EscapeForMessage(path, 4096), line, column, sh_->spec.table->name, reason));
  }

  // Adds computed columns and the per-row watermark, then emits.
  absl::Status Flush(const std::string& path, runtime::SourceOutput* out) {
    size_t n = batch_.num_rows();
    if (n == 0) return absl::OkStatus();
    batch_.kinds.assign(n, RowKind::kInsert);
    const TableDef& t = *sh_->spec.table;
    EDDY_ASSIGN_OR_RETURN(Batch full, CompleteScanBatch(sh_->spec, std::move(batch_), path));
    if (rowtime_ >= 0) {
      // NULL event time is a bad row.
      const Column& ts = full.columns[rowtime_];
      std::vector<uint32_t> keep;
      bool any_null = false;
      for (size_t i = 0; i < n; ++i) {
        if (ts.valid[i]) {
          keep.push_back(static_cast<uint32_t>(i));
        } else {
          any_null = true;
          EDDY_RETURN_IF_ERROR(BadRow(
              path, lines_[i], 1,
              fmt::format("the event-time column '{}' is NULL", t.columns[rowtime_].name), ""));
        }
      }
      if (any_null) full = full.Gather(keep);
      const Column& ts2 = full.columns[rowtime_];
      Column wm(DataType::Bigint());
      wm.Reserve(full.num_rows());
      for (size_t i = 0; i < full.num_rows(); ++i) {
        wm.AppendInt(chunk_max_ == INT64_MIN ? INT64_MIN : WatermarkOf(chunk_max_));
        if (ts2.i64[i] > chunk_max_) chunk_max_ = ts2.i64[i];
      }
      full.columns.push_back(std::move(wm));
    }
    sh_->metrics->rows_read += static_cast<int64_t>(full.num_rows());
    return out->Emit(std::move(full));
  }

  std::shared_ptr<Shared> sh_;
  runtime::SubtaskInfo info_;
  std::unique_ptr<RowDecoder> decoder_;
  int rowtime_ = -1;
  int64_t delay_ = 0;
  int64_t chunk_max_ = INT64_MIN;
  int64_t next_chunk_ = 0;  // the chunk the next step parses (chunk k belongs to subtask k mod P)
  bool bad_row_ = false;    // the current chunk failed on a bad row (fail policy)
  bool ended_ = false;      // no chunk left for this subtask
  int64_t last_barrier_ = 0;
  Batch batch_;
  std::vector<size_t> lines_;
};

class FileSourceFactory final : public SourceFactory {
 public:
  explicit FileSourceFactory(std::shared_ptr<Shared> sh) : sh_(std::move(sh)) {
    metrics = sh_->metrics;
  }
  absl::StatusOr<std::unique_ptr<runtime::SourceOperator>> Create(
      const runtime::SubtaskInfo& info) override {
    std::unique_ptr<RowDecoder> dec;
    if (sh_->fmt.json) {
      EDDY_ASSIGN_OR_RETURN(dec, MakeJsonDecoder(sh_->spec.table->physical, sh_->fmt.json_options));
    } else {
      EDDY_ASSIGN_OR_RETURN(dec, MakeCsvDecoder(sh_->spec.table->physical, sh_->fmt.csv));
    }
    sh_->arbiter.Resize(info.parallelism);
    {
      std::lock_guard<std::mutex> l(sh_->barriers.mu);
      if (sh_->barriers.claimed.size() < static_cast<size_t>(info.parallelism)) {
        sh_->barriers.claimed.resize(static_cast<size_t>(info.parallelism), -1);
      }
    }
    return std::unique_ptr<runtime::SourceOperator>(
        new FileSourceSubtask(sh_, info, std::move(dec)));
  }
  bool chunked() const override { return true; }

 private:
  std::shared_ptr<Shared> sh_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<SourceFactory>> MakeFileSourceFactory(const ScanSpec& spec) {
  auto sh = std::make_shared<Shared>();
  sh->spec = spec;
  sh->metrics = std::make_shared<SourceMetrics>();
  sh->metrics->table = spec.table->name;
  EDDY_ASSIGN_OR_RETURN(sh->fmt, ParseFileFormatOptions(*spec.table));
  std::string path = spec.table->Option(kFilePath.key());
  if (path.empty()) {
    return absl::InvalidArgumentError(fmt::format(
        "table '{}': the filesystem connector needs a 'path' option", spec.table->name));
  }
  auto files = ExpandPath(path);
  if (!files.ok()) {
    return absl::NotFoundError(
        fmt::format("table '{}': {}", spec.table->name, std::string(files.status().message())));
  }
  uint64_t total = 0;
  for (const auto& f : *files) {
    // stat, not open: opening a named pipe here would take (and lose) the bytes its writer sends
    // before the scan opens it again. Pipes and devices have no size (progress shows rows only).
    struct stat st;
    if (::stat(f.c_str(), &st) == 0 && S_ISREG(st.st_mode))
      total += static_cast<uint64_t>(st.st_size);
  }
  sh->metrics->bytes_total = total;
  EDDY_ASSIGN_OR_RETURN(sh->dead_letter, OpenBadRowPolicy(spec));
  sh->dispenser =
      std::make_shared<ChunkDispenser>(*files, sh->fmt.chunk_bytes, !sh->fmt.json, sh->fmt.framing,
                                       sh->fmt.max_record_bytes, sh->metrics);
  return std::shared_ptr<SourceFactory>(new FileSourceFactory(sh));
}

}  // namespace eddy::connectors
