// The eddy command line: subcommands are wiring only (DESIGN.md §2).
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "base/log.h"
#include "base/strings.h"
#include "catalog/options.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "connectors/connector.h"
#include "eddy/engine.h"
#include "state/checkpoint_storage.h"

namespace {

using eddy::cli::AddFlag;
using eddy::cli::AddRepeatedFlag;

eddy::Engine* g_engine = nullptr;
std::atomic<int> g_signals{0};

// Ctrl-C/SIGTERM cancels the running job; a second one exits at once.
void OnSignal(int) {
  if (g_engine) g_engine->Stop();
  if (g_signals.fetch_add(1) >= 1) _exit(130);
}

// Makes sure a cancelled job ends within `limit` (0.75 s; 120 s for a stop with savepoint) even
// when an operator is stuck in a blocking call (a sink writing to a pipe nobody reads): after that
// the process exits (code 130, as for a process ended by SIGINT) instead of hanging. Stops when
// destroyed.
class CancelWatchdog {
 public:
  // `limit`: how long a stopping job may take (a stop with savepoint writes its state first).
  explicit CancelWatchdog(std::chrono::milliseconds limit)
      : t_([this, limit] {
          std::unique_lock<std::mutex> l(mu_);
          std::chrono::steady_clock::time_point since{};
          while (!cv_.wait_for(l, std::chrono::milliseconds(50), [&] { return stop_; })) {
            if (g_signals.load() == 0) continue;
            auto now = std::chrono::steady_clock::now();
            if (since == std::chrono::steady_clock::time_point{}) since = now;
            if (now - since > limit) {
              std::fprintf(stderr,
                           "\neddy: the job did not stop within %g s of the signal (an operator "
                           "is blocked); exiting\n",
                           static_cast<double>(limit.count()) / 1000);
              std::fflush(stderr);
              _exit(130);
            }
          }
        }) {}
  ~CancelWatchdog() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    t_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread t_;
};

std::string Human(double v) {
  if (v >= 1e6) return fmt::format("{:.2f} M", v / 1e6);
  if (v >= 1e3) return fmt::format("{:.1f} k", v / 1e3);
  return fmt::format("{:.0f}", v);
}

void PrintSummary(const std::string& stmt, const eddy::JobSummary& s) {
  std::string first = stmt.substr(0, stmt.find('\n'));
  if (first.size() > 70) first = first.substr(0, 67) + "...";
  std::string text =
      fmt::format("eddy: {} after {:.2f} s: {}\n",
                  s.stopped ? "stopped" : (s.ok ? "finished" : "failed"), s.seconds, first);
  for (const auto& src : s.sources) {
    text += fmt::format("  source {}: {} rows read", src.table, src.rows);
    if (src.bad_skipped) text += fmt::format(", {} bad rows skipped", src.bad_skipped);
    if (src.bad_dead_lettered) {
      text += fmt::format(", {} bad rows sent to the dead-letter file", src.bad_dead_lettered);
    }
    if (s.seconds > 0) text += fmt::format(" ({} rows/s)", Human(src.rows / s.seconds));
    text += "\n";
  }
  for (const auto& l : s.late) {
    text += fmt::format("  late rows: {} in {}\n", l.rows, l.op);
    (void)0;
  }
  for (const auto& k : s.sinks) {
    text += fmt::format("  sink {}: {} row{} written\n", k.table, k.rows, k.rows == 1 ? "" : "s");
  }
  if (!s.restored_from.empty()) text += fmt::format("  restored from {}\n", s.restored_from);
  if (!s.savepoint.empty()) text += fmt::format("  savepoint: {}\n", s.savepoint);
  if (s.checkpoints_completed || s.checkpoints_failed) {
    text += fmt::format("  checkpoints: {} completed", s.checkpoints_completed);
    if (s.checkpoints_failed) text += fmt::format(", {} failed", s.checkpoints_failed);
    text += "\n";
  }
  std::fputs(text.c_str(), stderr);
}

// Options of `eddy run`.
struct RunOptions {
  std::string file;  // a script path, or "-" for stdin
  std::string inline_sql;
  std::vector<std::string> sets;
  std::string format;
  bool quiet = false;
  bool no_progress = false;
  std::string savepoint_on_stop;
};

const auto kRunFile =
    eddy::catalog::CommandFlag("eddy run", "FILE")
        .String()
        .Doc("The SQL script to run (statements separated by ';'); '-' reads it from stdin.");
const auto kRunExecute = eddy::catalog::CommandFlag("eddy run", "-e, --execute")
                             .String()
                             .Doc("SQL text to run instead of a file.");
const auto kRunSet = eddy::catalog::CommandFlag("eddy run", "--set")
                         .String()
                         .Doc(
                             "A configuration key=value, like SET 'key' = 'value' before the "
                             "script (repeatable; docs/options.md lists the keys).");
const auto kRunFormat = eddy::catalog::CommandFlag("eddy run", "--format")
                            .Enum("table", {"table", "csv", "json"})
                            .Doc("How SELECT results print.");
const auto kRunQuiet = eddy::catalog::CommandFlag("eddy run", "-q, --quiet")
                           .Bool(false)
                           .Doc("No progress and no summary on stderr.");
const auto kRunFromCheckpoint =
    eddy::catalog::CommandFlag("eddy run", "--from-checkpoint")
        .String()
        .Doc(
            "Resume from a checkpoint or savepoint directory, or 'latest' (the newest complete "
            "checkpoint of each job under 'execution.checkpointing.dir'; a fresh start when there "
            "is none); the same as --set execution.savepoint.path=….");
const auto kRunSavepointOnStop =
    eddy::catalog::CommandFlag("eddy run", "--savepoint-on-stop")
        .String()
        .Doc(
            "On Ctrl-C/SIGTERM, stop the job with a savepoint written to this directory (its "
            "output up to the savepoint is committed; resume with --from-checkpoint DIR).");
const auto kRunNoProgress = eddy::catalog::CommandFlag("eddy run", "--no-progress")
                                .Bool(false)
                                .Doc("No progress line on stderr.");

// The flags of `eddy sql` (SqlShellOptions).
const auto kSqlFile = eddy::catalog::CommandFlag("eddy sql", "-f, --file")
                          .String()
                          .Doc("Run the statements of this file and exit (as without a terminal).");
const auto kSqlServer =
    eddy::catalog::CommandFlag("eddy sql", "--server")
        .String()
        .Doc(
            "http://HOST:PORT of an `eddy server` REST API: SELECTs run there as push queries, "
            "CREATE PIPELINE submits pipelines (default: run statements in this process).");

// The flags of `eddy server` (ServerOptions).
const auto kServerDataDir = eddy::catalog::CommandFlag("eddy server", "--data-dir")
                                .String()
                                .Required()
                                .Doc("Directory of the log (created if missing).");
const auto kServerListen = eddy::catalog::CommandFlag("eddy server", "--kafka-listen")
                               .String("127.0.0.1:9092")
                               .Doc("HOST:PORT of the Kafka listener (port 0: any free port).");
const auto kServerAdvertisedHost = eddy::catalog::CommandFlag("eddy server", "--advertised-host")
                                       .String()
                                       .DefaultDoc("the listen host")
                                       .Doc("Host name clients are told to connect to.");
const auto kServerPartitions =
    eddy::catalog::CommandFlag("eddy server", "--num-partitions")
        .Int(1)
        .Range(1, 100000)
        .Doc("Partitions of automatically created topics (Kafka's num.partitions).");
const auto kServerNoAutoCreate =
    eddy::catalog::CommandFlag("eddy server", "--no-auto-create-topics")
        .Bool(false)
        .Doc("Do not create unknown topics on first use (auto.create.topics.enable=false).");
const auto kServerPortFile = eddy::catalog::CommandFlag("eddy server", "--port-file")
                                 .String()
                                 .Doc("Write the bound Kafka port to this file once listening.");
const auto kServerHttpListen =
    eddy::catalog::CommandFlag("eddy server", "--http-listen")
        .String("127.0.0.1:8080")
        .Doc(
            "HOST:PORT of the HTTP REST API, /metrics and health (port 0: any free port, "
            "logged; 'off': no HTTP). When the default port is in use, the server runs without "
            "HTTP and says so; an address given here must be free.");
const auto kServerHttpPortFile = eddy::catalog::CommandFlag("eddy server", "--http-port-file")
                                     .String()
                                     .Doc("Write the bound HTTP port to this file once listening.");
const auto kServerRebalanceDelay =
    eddy::catalog::CommandFlag("eddy server", "--group-initial-rebalance-delay-ms")
        .Int(1000)
        .Range(0, 300000)
        .Doc(
            "How long the first rebalance of an empty consumer group waits for more members, in "
            "ms (Kafka's group.initial.rebalance.delay.ms, default 3000 there).");
const auto kServerConsumerInstanceTimeout =
    eddy::catalog::CommandFlag("eddy server", "--consumer-instance-timeout-ms")
        .Int(300000)
        .Range(1000, 86400000)
        .Doc(
            "How long a REST Proxy consumer instance (POST /consumers/{group}) lives without a "
            "request, in ms (Confluent's consumer.instance.timeout.ms).");
const auto kServerSocketRequestMax =
    eddy::catalog::CommandFlag("eddy server", "--socket-request-max-bytes")
        .Int(100 << 20)
        .Range(8, INT32_MAX)
        .Doc(
            "Largest request a client may send, in bytes; a larger one closes its connection "
            "(Kafka's socket.request.max.bytes).");
const auto kServerQueuedRequestMax =
    eddy::catalog::CommandFlag("eddy server", "--queued-max-request-bytes")
        .Int(256 << 20)
        .Range(0, int64_t{1} << 50)
        .Doc(
            "Request bytes held at once over all connections (being read or handled, or acks=all "
            "and not yet fsynced); when used up, connections are not read (backpressure); 0: no "
            "limit; at least --socket-request-max-bytes (Kafka's queued.max.request.bytes).");
const auto kServerConnectionQueuedMax =
    eddy::catalog::CommandFlag("eddy server", "--connection-max-queued-bytes")
        .Int(32 << 20)
        .Range(1, int64_t{1} << 50)
        .Doc(
            "The same budget per connection, counting also answers not yet read by the client: "
            "its next request is read only below it.");
const auto kServerMaxConnections =
    eddy::catalog::CommandFlag("eddy server", "--max-connections")
        .Int(10000)
        .Range(1, 1000000)
        .Doc(
            "Open connections; more are closed at once with a log line (Kafka's "
            "max.connections).");
const auto kServerMaxConnectionsPerIp =
    eddy::catalog::CommandFlag("eddy server", "--max-connections-per-ip")
        .Int(0)
        .Range(0, 1000000)
        .Doc(
            "Open connections per client IP address; 0: --max-connections (Kafka's "
            "max.connections.per.ip).");
const auto kServerConnectionsMaxIdle =
    eddy::catalog::CommandFlag("eddy server", "--connections-max-idle-ms")
        .Int(600000)
        .Range(0, int64_t{1} << 40)
        .Doc(
            "Close a connection with nothing read or written for this long and no request in "
            "progress, in ms; 0: never (Kafka's connections.max.idle.ms).");
const auto kServerFetchMaxBytes =
    eddy::catalog::CommandFlag("eddy server", "--fetch-max-bytes")
        .Int(55 << 20)
        .Range(1, INT32_MAX)
        .Doc(
            "Most record bytes in one Fetch response, whatever the client asks (Kafka's "
            "fetch.max.bytes; the first batch may exceed it, KIP-74).");
const auto kServerTxnMaxTimeout =
    eddy::catalog::CommandFlag("eddy server", "--transaction-max-timeout-ms")
        .Int(900000)
        .Range(1, INT32_MAX)
        .Doc(
            "The longest transaction timeout a producer may ask for, in ms; longer ones get "
            "INVALID_TRANSACTION_TIMEOUT (Kafka's transaction.max.timeout.ms).");
const auto kServerTxnIdExpiration =
    eddy::catalog::CommandFlag("eddy server", "--transactional-id-expiration-ms")
        .Int(604800000)
        .Range(0, int64_t{1} << 40)
        .Doc(
            "A transactional id without an open transaction and without requests for this long "
            "is forgotten, in ms; 0: never (Kafka's transactional.id.expiration.ms).");
const auto kServerSql = eddy::catalog::CommandFlag("eddy server", "--sql")
                            .String()
                            .Doc(
                                "Run this SQL script inside the server as a pipeline once it "
                                "listens (repeatable; each on its own thread).");
const auto kServerLogLevel =
    eddy::catalog::CommandFlag("eddy server", "--log-level")
        .Enum("info", {"trace", "debug", "info", "warn", "error", "critical", "off"})
        .Doc("Least severe log messages written to stderr.");

const auto kSavepointSource = eddy::catalog::CommandFlag("eddy savepoint", "SOURCE")
                                  .String()
                                  .Doc(
                                      "A complete checkpoint directory (chk-<n>), or a job's "
                                      "checkpoint directory (<dir>/<job "
                                      "id>: its newest complete checkpoint that loads).");
const auto kSavepointTarget = eddy::catalog::CommandFlag("eddy savepoint", "TARGET")
                                  .String()
                                  .Doc("The new savepoint directory (must not hold one already).");

// `eddy savepoint SOURCE TARGET`: a checkpoint copied into a self-contained, movable savepoint.
int Savepoint(const std::string& source, const std::string& target) {
  absl::StatusOr<eddy::state::LoadedCheckpoint> cp = eddy::state::CheckpointStorage::Load(source);
  if (absl::IsNotFound(cp.status())) {
    auto latest = eddy::state::CheckpointStorage::LoadLatest(source);
    if (!latest.ok()) {
      cp = latest.status();
    } else if (!*latest) {
      cp = absl::NotFoundError(fmt::format(
          "{} holds no complete checkpoint (give chk-<n> or a job's directory)", source));
    } else {
      cp = std::move(**latest);
    }
  }
  if (!cp.ok()) {
    std::fprintf(stderr, "eddy savepoint: %s\n", std::string(cp.status().message()).c_str());
    return 1;
  }
  absl::Status st = eddy::state::CheckpointStorage::WriteSavepoint(target, *cp);
  if (!st.ok()) {
    std::fprintf(stderr, "eddy savepoint: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  std::fprintf(stderr,
               "eddy savepoint: checkpoint %lld of job %s written to %s (resume with eddy run "
               "--from-checkpoint %s)\n",
               static_cast<long long>(cp->manifest.checkpoint_id), cp->manifest.job_id.c_str(),
               target.c_str(), target.c_str());
  return 0;
}

// Reads the script of `eddy run`: `file`, or stdin for "-". Errors name the file.
absl::StatusOr<std::string> ReadScript(const std::string& file) {
  if (file == "-") {
    std::stringstream ss;
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    return absl::InvalidArgumentError(
        fmt::format("{} is a directory; give a SQL script file (or - to read the script from "
                    "stdin)",
                    file));
  }
  std::ifstream in(file);
  if (!in) {
    return absl::NotFoundError(fmt::format("cannot read {}: {}", file, std::strerror(errno)));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    return absl::DataLossError(fmt::format("cannot read {}: {}", file, std::strerror(errno)));
  }
  return ss.str();
}

int Run(const RunOptions& o) {
  std::string sql;
  if (!o.inline_sql.empty()) {
    sql = o.inline_sql;
  } else {
    auto text = ReadScript(o.file);
    if (!text.ok()) {
      std::fprintf(stderr, "eddy run: %s\n", std::string(text.status().message()).c_str());
      return 1;
    }
    sql = *std::move(text);
  }
  eddy::Engine engine;
  engine.SetSavepointOnStop(o.savepoint_on_stop);
  for (const auto& kv : o.sets) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "eddy run: --set takes key=value, got '%s'\n", kv.c_str());
      return 1;
    }
    absl::Status st = engine.Set(kv.substr(0, eq), kv.substr(eq + 1));
    if (!st.ok()) {
      std::fprintf(stderr, "eddy run: --set %s: %s\n", kv.c_str(),
                   std::string(st.message()).c_str());
      return 1;
    }
  }
  g_engine = &engine;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  eddy::OutputOptions out;
  if (o.format == "csv")
    out.format = eddy::OutputOptions::Format::kCsv;
  else if (o.format == "json")
    out.format = eddy::OutputOptions::Format::kJson;
  bool tty = isatty(STDERR_FILENO);
  bool no_progress = o.no_progress;
  if (tty && !o.quiet && !no_progress) {
    out.on_progress = [](const eddy::Progress& p) {
      if (p.streaming) return;  // result rows go to the terminal: no progress line among them
      std::string pct =
          p.total_bytes ? fmt::format(", {:.0f}% of input", 100.0 * p.bytes / p.total_bytes) : "";
      std::fprintf(stderr, "\r\033[Keddy: %s rows read, %s rows/s%s", Human(p.rows).c_str(),
                   Human(p.seconds > 0 ? p.rows / p.seconds : 0).c_str(), pct.c_str());
      std::fflush(stderr);
    };
  }
  if (!o.quiet) {
    out.on_summary = [tty, no_progress](const std::string& stmt, const eddy::JobSummary& s) {
      if (tty && !no_progress) std::fprintf(stderr, "\r\033[K");
      PrintSummary(stmt, s);
    };
  }
  absl::Status st;
  {
    CancelWatchdog watchdog(o.savepoint_on_stop.empty() ? std::chrono::milliseconds(750)
                                                        : std::chrono::milliseconds(120'000));
    st = engine.ExecuteScript(sql, out);
  }
  g_engine = nullptr;
  if (!st.ok()) {
    std::fprintf(stderr, "eddy: %s\n", std::string(st.message()).c_str());
    // A stop with savepoint is a clean end.
    return engine.last_summary().savepoint.empty() ? 1 : 0;
  }
  return 0;
}

// The connectors as docs/options.md describes them.
std::vector<eddy::catalog::ConnectorDoc> ConnectorDocs() {
  std::vector<eddy::catalog::ConnectorDoc> out;
  for (const eddy::connectors::ConnectorFactory* f : eddy::connectors::Connectors()) {
    eddy::catalog::ConnectorDoc d;
    d.identifier = f->identifier();
    eddy::connectors::ConnectorCapabilities c = f->capabilities();
    std::string source = "no";
    if (c.source) {
      source = c.bounded ? "bounded" : "unbounded";
      if (!c.bounded && !c.bounded_when.empty()) source += ", bounded by " + c.bounded_when;
    }
    std::string sink = "no";
    if (c.sink)
      sink = c.sink_accepts_updates ? "every change (+I, -U, +U, -D)" : "inserts only (+I)";
    d.summary = fmt::format("{}\n\nSource: {}. Sink: {}. Lookup joins: {}.\n", f->doc(), source,
                            sink, c.lookup ? "yes" : "no");
    auto meta = f->metadata_columns();
    if (!meta.empty()) {
      d.summary +=
          "\nMetadata columns (`col TYPE METADATA [FROM 'key'] [VIRTUAL]`):\n\n"
          "| Key | Type | Written by the sink | Description |\n|---|---|---|---|\n";
      for (const auto& m : meta) {
        d.summary += fmt::format("| `{}` | {} | {} | {} |\n", m.key, m.type_name,
                                 m.writable ? "yes" : "no (declare it VIRTUAL)", m.doc);
      }
    }
    d.options = f->options();
    d.format_selectors = f->format_selectors();
    out.push_back(std::move(d));
  }
  return out;
}

// `eddy options`: every option of the registry, as text or as docs/options.md.
int Options(bool markdown) {
  std::string md = eddy::catalog::OptionsMarkdown(ConnectorDocs());
  if (!markdown) {
    // The same content, without the markdown table syntax.
    std::string text;
    std::istringstream in(md);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("|---", 0) == 0 || line.rfind("<!--", 0) == 0) continue;
      if (line.rfind("| Key |", 0) == 0) continue;
      if (line.rfind("| ", 0) == 0) {
        std::vector<std::string> cells;
        size_t pos = 2;
        while (pos < line.size()) {
          size_t end = line.find(" |", pos);
          if (end == std::string::npos) break;
          cells.push_back(line.substr(pos, end - pos));
          pos = end + 3;
        }
        std::string row = "  " + (cells.empty() ? "" : cells[0]);
        if (cells.size() > 2) row += fmt::format(" ({}; default {})", cells[1], cells[2]);
        if (cells.size() > 1) row += ": " + cells.back();
        text += row + "\n";
        continue;
      }
      text += line + "\n";
    }
    std::fputs(text.c_str(), stdout);
    return 0;
  }
  std::fputs(md.c_str(), stdout);
  return 0;
}

// An unknown command word before any flag: a clear message with the closest command instead of
// CLI11's "arguments were not expected". Returns true when it printed one.
bool UnknownCommand(CLI::App* app, int argc, char** argv) {
  CLI::App* at = app;
  std::string path = "eddy";
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word.empty() || word[0] == '-') return false;
    std::vector<std::string> names;
    CLI::App* next = nullptr;
    for (CLI::App* sub : at->get_subcommands({})) {
      names.push_back(sub->get_name());
      if (sub->get_name() == word) next = sub;
    }
    if (next) {
      at = next;
      path += " " + word;
      continue;
    }
    if (names.empty() || at->get_require_subcommand_min() == 0) return false;
    std::string near = eddy::ClosestName(word, names);
    std::fprintf(stderr, "%s: unknown command '%s'%s\ncommands: %s\nRun `%s --help` for more.\n",
                 path.c_str(), word.c_str(),
                 near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near).c_str(),
                 fmt::format("{}", fmt::join(names, ", ")).c_str(), path.c_str());
    return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  eddy::SetLogLevel("info");
  CLI::App app{
      "eddy: event stream processing with Flink SQL in one binary.\n"
      "Run `eddy <command> --help` for the options of a command."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "eddy 0.1.0");

  auto* run = app.add_subcommand("run", "Run a SQL script (statements separated by ';')");
  RunOptions run_opts;
  AddFlag(run, kRunFile, &run_opts.file);
  AddFlag(run, kRunExecute, &run_opts.inline_sql);
  AddRepeatedFlag(run, kRunSet, &run_opts.sets)->allow_extra_args(false);
  AddFlag(run, kRunFormat, &run_opts.format);
  AddFlag(run, kRunQuiet, &run_opts.quiet);
  AddFlag(run, kRunNoProgress, &run_opts.no_progress);
  std::string from_checkpoint;
  AddFlag(run, kRunFromCheckpoint, &from_checkpoint);
  AddFlag(run, kRunSavepointOnStop, &run_opts.savepoint_on_stop);
  run->footer(
      "Examples:\n"
      "  eddy run examples/flights/delays.sql\n"
      "  eddy run -e \"SET 'parallelism.default' = '2'; SELECT ...\"\n"
      "  eddy run job.sql --set parallelism.default=1 --format csv\n"
      "  cat job.sql | eddy run -\n"
      "SELECT results print to stdout; progress (on a terminal) and a summary go to stderr.\n"
      "Exit code: 0 on success, 1 on any error (SQL errors name line:column).\n"
      "Every SET key: `eddy options` (docs/options.md).");

  auto* sql = app.add_subcommand("sql", "The interactive SQL shell (like Flink's SQL client)");
  eddy::cli::SqlShellOptions sql_opts;
  AddFlag(sql, kSqlFile, &sql_opts.file);
  AddFlag(sql, kSqlServer, &sql_opts.server);
  sql->footer(
      "Statements end with ';' and may span lines; line editing and history (~/.eddy_history)\n"
      "on a terminal. Ctrl-C cancels the running statement, Ctrl-D or QUIT; leaves; HELP; lists\n"
      "the shell's own statements. Without a terminal (a pipe) or with -f, the statements run\n"
      "and the shell exits (exit code 1 at the first error).\n"
      "Examples:\n"
      "  eddy sql\n"
      "  eddy sql -f examples/flights/delays.sql\n"
      "  echo 'SHOW CONNECTORS;' | eddy sql\n"
      "  eddy sql --server http://127.0.0.1:8080");

  auto* test = app.add_subcommand("test-sql", "Run sqllogictest-style SQL test files (tests/sql)");
  std::vector<std::string> test_files;
  test->add_option("files", test_files, "Test files")->required();

  auto* server = app.add_subcommand(
      "server", "Run the broker: a durable, partitioned log served to Kafka clients");
  eddy::cli::ServerOptions server_opts;
  bool no_auto_create = false;
  std::string log_level;
  AddFlag(server, kServerDataDir, &server_opts.data_dir);
  AddFlag(server, kServerListen, &server_opts.kafka_listen);
  AddFlag(server, kServerAdvertisedHost, &server_opts.advertised_host);
  AddFlag(server, kServerPartitions, &server_opts.default_partitions);
  AddFlag(server, kServerNoAutoCreate, &no_auto_create);
  AddFlag(server, kServerPortFile, &server_opts.port_file);
  CLI::Option* http_listen_flag = AddFlag(server, kServerHttpListen, &server_opts.http_listen);
  AddFlag(server, kServerHttpPortFile, &server_opts.http_port_file);
  AddFlag(server, kServerRebalanceDelay, &server_opts.group_initial_rebalance_delay_ms);
  AddFlag(server, kServerConsumerInstanceTimeout, &server_opts.consumer_instance_timeout_ms);
  AddFlag(server, kServerSocketRequestMax, &server_opts.socket_request_max_bytes);
  AddFlag(server, kServerQueuedRequestMax, &server_opts.queued_max_request_bytes);
  AddFlag(server, kServerConnectionQueuedMax, &server_opts.connection_max_queued_bytes);
  AddFlag(server, kServerMaxConnections, &server_opts.max_connections);
  AddFlag(server, kServerMaxConnectionsPerIp, &server_opts.max_connections_per_ip);
  AddFlag(server, kServerConnectionsMaxIdle, &server_opts.connections_max_idle_ms);
  AddFlag(server, kServerFetchMaxBytes, &server_opts.fetch_max_bytes);
  AddFlag(server, kServerTxnMaxTimeout, &server_opts.transaction_max_timeout_ms);
  AddFlag(server, kServerTxnIdExpiration, &server_opts.transactional_id_expiration_ms);
  AddRepeatedFlag(server, kServerSql, &server_opts.sql_files)->allow_extra_args(false);
  AddFlag(server, kServerLogLevel, &log_level);
  server->footer(
      "Runs in the foreground until SIGINT or SIGTERM, then cancels the --sql pipelines and\n"
      "flushes and closes every segment.\n"
      "Pipelines (--sql): each script runs as `eddy run` would run it, on its own thread. Kafka\n"
      "tables whose 'properties.bootstrap.servers' name this listener (its HOST:PORT, or\n"
      "localhost/127.0.0.1 with its port when listening on 127.0.0.1 or 0.0.0.0) read and write\n"
      "the log directly, without a Kafka client; others go through librdkafka. The log says\n"
      "when each pipeline starts, ends (with its summary) or fails; a failing pipeline does not\n"
      "stop the server.\n"
      "Example:\n"
      "  eddy server --data-dir /var/lib/eddy --kafka-listen 127.0.0.1:9092\n"
      "  eddy server --data-dir /var/lib/eddy --sql examples/flights/delays-kafka.sql\n"
      "  curl -s http://127.0.0.1:8080/v1/pipelines   (REST API: docs/rest-api.md)\n"
      "  kcat -b 127.0.0.1:9092 -L");

  // Kafka client commands (librdkafka): against eddy server or any Kafka cluster.
  eddy::cli::KafkaToolOptions kopts;
  auto add_client_options = [&](CLI::App* cmd) {
    cmd->add_option("--bootstrap-server", kopts.bootstrap, "HOST:PORT of a Kafka broker")
        ->capture_default_str();
    cmd->add_option("--property", kopts.properties,
                    "Extra librdkafka client property key=value (repeatable)");
    cmd->add_option("--timeout-ms", kopts.timeout_ms, "How long to wait for the broker (ms)")
        ->capture_default_str();
  };
  auto* topic = app.add_subcommand("topic", "Create, list, describe or delete Kafka topics");
  topic->require_subcommand(1);
  auto* topic_create = topic->add_subcommand("create", "Create a topic");
  topic_create->add_option("topic", kopts.topic, "Topic name")->required();
  topic_create->add_option("--partitions", kopts.partitions, "Number of partitions")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  topic_create->add_option("--config", kopts.configs,
                           "Topic config key=value, e.g. retention.ms=3600000 (repeatable)");
  auto* topic_list = topic->add_subcommand("list", "List the topics, one per line");
  auto* topic_describe = topic->add_subcommand("describe", "Show a topic's partitions and offsets");
  topic_describe->add_option("topic", kopts.topic, "Topic name")->required();
  auto* topic_delete = topic->add_subcommand("delete", "Delete a topic and its data");
  topic_delete->add_option("topic", kopts.topic, "Topic name")->required();
  for (auto* c : {topic_create, topic_list, topic_describe, topic_delete}) add_client_options(c);

  auto* produce = app.add_subcommand("produce", "Write stdin lines to a topic, one message each");
  produce->add_option("topic", kopts.topic, "Topic name")->required();
  produce->add_option("--key-separator", kopts.key_separator,
                      "Split each line at the first occurrence into key and value");
  produce->add_option("--partition", kopts.partition, "Write to this partition only");
  produce->add_option("--acks", kopts.acks, "all, 1 or 0")
      ->capture_default_str()
      ->check(CLI::IsMember({"all", "-1", "1", "0"}));
  produce->add_option("--rate", kopts.rate,
                      "Messages per second (default: as fast as possible), e.g. to replay a file "
                      "as a live stream");
  add_client_options(produce);
  produce->footer("Example:\n  printf 'k1:v1\\nk2:v2\\n' | eddy produce events --key-separator :");

  auto* consume = app.add_subcommand("consume", "Print a topic's messages, one per line");
  consume->add_option("topic", kopts.topic, "Topic name")->required();
  consume->add_flag("--from-beginning", kopts.from_beginning,
                    "Start at the oldest message (default: only new ones, or the group's "
                    "committed offsets)");
  consume->add_option("--group", kopts.group,
                      "Consume as a member of this consumer group (offsets are committed)");
  consume->add_flag("-e,--exit-at-end", kopts.exit_at_end,
                    "Stop once every partition is read to its end");
  consume->add_option("--max-messages", kopts.max_messages, "Stop after this many messages");
  consume->add_flag("--print-keys", kopts.print_keys,
                    "Print key, separator (default a tab) and value");
  consume->add_option("--key-separator", kopts.key_separator, "Separator for --print-keys");
  add_client_options(consume);

  auto* savepoint = app.add_subcommand(
      "savepoint", "Write a portable savepoint from a job's checkpoint (Flink: flink savepoint)");
  std::string sp_source, sp_target;
  AddFlag(savepoint, kSavepointSource, &sp_source)->required();
  AddFlag(savepoint, kSavepointTarget, &sp_target)->required();
  savepoint->footer(
      "Examples:\n"
      "  eddy savepoint /var/lib/eddy/checkpoints/job-0123456789abcdef /backups/sp-1\n"
      "  eddy run job.sql --from-checkpoint /backups/sp-1 --set parallelism.default=4\n"
      "A running `eddy run` job stops with a savepoint on Ctrl-C when started with\n"
      "--savepoint-on-stop DIR.\n");

  auto* options = app.add_subcommand(
      "options", "List every configuration option: SET keys, connector options, flags");
  bool markdown = false;
  options->add_flag("--markdown", markdown, "Print docs/options.md (generated from the registry)");

  // --help on every command and subcommand (CLI11 adds it to each).
  if (UnknownCommand(&app, argc, argv)) return 1;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 1, as `eddy run --help` promises.
    return app.exit(e) == 0 ? 0 : 1;
  }
  if (run->parsed()) {
    if (run_opts.file.empty() == run_opts.inline_sql.empty()) {
      std::fprintf(stderr,
                   "eddy run: give a script FILE, - (stdin) or -e 'SQL' (see eddy run --help)\n");
      return 1;
    }
    if (!from_checkpoint.empty()) {
      run_opts.sets.push_back("execution.savepoint.path=" + from_checkpoint);
    }
    return Run(run_opts);
  }
  if (options->parsed()) return Options(markdown);
  if (savepoint->parsed()) return Savepoint(sp_source, sp_target);
  if (test->parsed()) return eddy::cli::RunSqlTests(test_files);
  if (sql->parsed()) return eddy::cli::RunSqlShell(sql_opts);
  if (server->parsed()) {
    server_opts.auto_create_topics = !no_auto_create;
    server_opts.http_listen_explicit = http_listen_flag->count() > 0;
    eddy::SetLogLevel(log_level);
    return eddy::cli::RunServer(server_opts);
  }
  if (topic->parsed()) {
    for (auto* c : {topic_create, topic_list, topic_describe, topic_delete}) {
      if (c->parsed()) return eddy::cli::RunTopic(c->get_name(), kopts);
    }
  }
  if (produce->parsed()) return eddy::cli::RunProduce(kopts);
  if (consume->parsed()) return eddy::cli::RunConsume(kopts);
  return 1;
}
