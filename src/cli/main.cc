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
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "base/log.h"
#include "cli/commands.h"
#include "eddy/engine.h"

namespace {

eddy::Engine* g_engine = nullptr;
std::atomic<int> g_signals{0};

// Ctrl-C/SIGTERM cancels the running job; a second one exits at once.
void OnSignal(int) {
  if (g_engine) g_engine->Cancel();
  if (g_signals.fetch_add(1) >= 1) _exit(130);
}

// Makes sure a cancelled job ends within 1 s (0.75 s) even when an operator is stuck in a blocking
// call (a sink writing to a pipe nobody reads): after that the process exits (code 130, as for a
// process ended by SIGINT) instead of hanging. Stops when destroyed.
class CancelWatchdog {
 public:
  CancelWatchdog()
      : t_([this] {
          std::unique_lock<std::mutex> l(mu_);
          std::chrono::steady_clock::time_point since{};
          while (!cv_.wait_for(l, std::chrono::milliseconds(50), [&] { return stop_; })) {
            if (g_signals.load() == 0) continue;
            auto now = std::chrono::steady_clock::now();
            if (since == std::chrono::steady_clock::time_point{}) since = now;
            if (now - since > std::chrono::milliseconds(750)) {
              std::fputs(
                  "\neddy: the job did not stop within 0.75 s of the signal (an operator is "
                  "blocked); exiting\n",
                  stderr);
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
  if (s.checkpoints_completed || s.checkpoints_failed) {
    text += fmt::format("  checkpoints: {} completed", s.checkpoints_completed);
    if (s.checkpoints_failed) text += fmt::format(", {} failed", s.checkpoints_failed);
    text += "\n";
  }
  std::fputs(text.c_str(), stderr);
}

int Run(const std::string& file, const std::string& inline_sql,
        const std::vector<std::string>& sets, const std::string& format, bool quiet,
        bool no_progress) {
  std::string sql;
  if (!inline_sql.empty()) {
    sql = inline_sql;
  } else {
    std::ifstream in(file);
    if (!in) {
      std::fprintf(stderr, "eddy: cannot read %s: %s\n", file.c_str(), std::strerror(errno));
      return 1;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    sql = ss.str();
  }
  eddy::Engine engine;
  g_engine = &engine;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  for (const auto& kv : sets) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "eddy: --set takes key=value, got '%s'\n", kv.c_str());
      return 1;
    }
    engine.Set(kv.substr(0, eq), kv.substr(eq + 1));
  }
  eddy::OutputOptions out;
  if (format == "csv")
    out.format = eddy::OutputOptions::Format::kCsv;
  else if (format == "json")
    out.format = eddy::OutputOptions::Format::kJson;
  bool tty = isatty(STDERR_FILENO);
  if (tty && !quiet && !no_progress) {
    out.on_progress = [](const eddy::Progress& p) {
      if (p.streaming) return;  // result rows go to the terminal: no progress line among them
      std::string pct =
          p.total_bytes ? fmt::format(", {:.0f}% of input", 100.0 * p.bytes / p.total_bytes) : "";
      std::fprintf(stderr, "\r\033[Keddy: %s rows read, %s rows/s%s", Human(p.rows).c_str(),
                   Human(p.seconds > 0 ? p.rows / p.seconds : 0).c_str(), pct.c_str());
      std::fflush(stderr);
    };
  }
  if (!quiet) {
    out.on_summary = [tty, no_progress](const std::string& stmt, const eddy::JobSummary& s) {
      if (tty && !no_progress) std::fprintf(stderr, "\r\033[K");
      PrintSummary(stmt, s);
    };
  }
  absl::Status st;
  {
    CancelWatchdog watchdog;
    st = engine.ExecuteScript(sql, out);
  }
  g_engine = nullptr;
  if (!st.ok()) {
    std::fprintf(stderr, "eddy: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  return 0;
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
  std::string file, inline_sql, format = "table";
  std::vector<std::string> sets;
  bool quiet = false, no_progress = false;
  run->add_option("file", file, "SQL script to run");
  run->add_option("-e,--execute", inline_sql, "SQL text to run instead of a file");
  run->add_option("--set", sets, "Configuration key=value, like SET 'key' = 'value' (repeatable)")
      ->allow_extra_args(false);
  run->add_option("--format", format, "How SELECT results print: table, csv or json")
      ->check(CLI::IsMember({"table", "csv", "json"}));
  run->add_flag("-q,--quiet", quiet, "No progress and no summary on stderr");
  run->add_flag("--no-progress", no_progress, "No progress line on stderr");
  std::string from_checkpoint;
  run->add_option("--from-checkpoint", from_checkpoint,
                  "Resume from a checkpoint or savepoint directory, or 'latest' (the newest "
                  "complete checkpoint of each job under 'execution.checkpointing.dir'; a fresh "
                  "start when there is none)");
  run->footer(
      "Examples:\n"
      "  eddy run examples/flights/delays.sql\n"
      "  eddy run -e \"SET 'parallelism.default' = '2'; SELECT ...\"\n"
      "  eddy run job.sql --set parallelism.default=1 --format csv\n"
      "SELECT results print to stdout; progress (on a terminal) and a summary go to stderr.\n"
      "Exit code: 0 on success, 1 on any error (SQL errors name line:column).");

  auto* test = app.add_subcommand("test-sql", "Run sqllogictest-style SQL test files (tests/sql)");
  std::vector<std::string> test_files;
  test->add_option("files", test_files, "Test files")->required();

  auto* server = app.add_subcommand(
      "server", "Run the broker: a durable, partitioned log served to Kafka clients");
  eddy::cli::ServerOptions server_opts;
  server
      ->add_option("--data-dir", server_opts.data_dir, "Directory of the log (created if missing)")
      ->required();
  server
      ->add_option("--kafka-listen", server_opts.kafka_listen,
                   "HOST:PORT of the Kafka listener (port 0: any free port)")
      ->capture_default_str();
  server->add_option("--advertised-host", server_opts.advertised_host,
                     "Host name clients are told to connect to (default: the listen host)");
  server
      ->add_option("--num-partitions", server_opts.default_partitions,
                   "Partitions of automatically created topics (num.partitions)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  server->add_flag("!--no-auto-create-topics", server_opts.auto_create_topics,
                   "Do not create unknown topics on first use (auto.create.topics.enable=false)");
  server->add_option("--port-file", server_opts.port_file,
                     "Write the bound Kafka port to this file once listening");
  server
      ->add_option(
          "--group-initial-rebalance-delay-ms", server_opts.group_initial_rebalance_delay_ms,
          "How long the first rebalance of an empty consumer group waits for more members, "
          "in ms (group.initial.rebalance.delay.ms; Kafka: 3000)")
      ->capture_default_str()
      ->check(CLI::Range(0, 300000));
  server
      ->add_option("--transaction-max-timeout-ms", server_opts.transaction_max_timeout_ms,
                   "The longest transaction timeout a producer may ask for, in ms "
                   "(transaction.max.timeout.ms); longer ones get INVALID_TRANSACTION_TIMEOUT")
      ->capture_default_str()
      ->check(CLI::Range(1, INT32_MAX));
  server
      ->add_option("--socket-request-max-bytes", server_opts.socket_request_max_bytes,
                   "Largest request a client may send, in bytes; a larger one closes its "
                   "connection (socket.request.max.bytes)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{8}, int64_t{INT32_MAX}));
  server
      ->add_option("--queued-max-request-bytes", server_opts.queued_max_request_bytes,
                   "Request bytes held at once over all connections (being read or handled, or "
                   "acks=all and not yet fsynced); when used up, connections are not read "
                   "(backpressure). 0: no limit. At least --socket-request-max-bytes "
                   "(queued.max.request.bytes)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 50));
  server
      ->add_option("--connection-max-queued-bytes", server_opts.connection_max_queued_bytes,
                   "The same budget per connection, counting also answers not yet read by the "
                   "client: its next request is read only below it")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 50));
  server
      ->add_option("--max-connections", server_opts.max_connections,
                   "Open connections; more are closed at once with a log line (max.connections)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  server
      ->add_option("--max-connections-per-ip", server_opts.max_connections_per_ip,
                   "Open connections per client IP address; 0: --max-connections "
                   "(max.connections.per.ip)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  server
      ->add_option("--connections-max-idle-ms", server_opts.connections_max_idle_ms,
                   "Close a connection with nothing read or written for this long and no request "
                   "in progress, in ms; 0: never (connections.max.idle.ms)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  server
      ->add_option("--fetch-max-bytes", server_opts.fetch_max_bytes,
                   "Most record bytes in one Fetch response, whatever the client asks "
                   "(fetch.max.bytes; the first batch may exceed it, KIP-74)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{INT32_MAX}));
  server
      ->add_option("--sql", server_opts.sql_files,
                   "Run this SQL script inside the server as a pipeline once it listens "
                   "(repeatable; each on its own thread)")
      ->allow_extra_args(false);
  server->add_option_function<std::string>(
      "--log-level", [](const std::string& l) { eddy::SetLogLevel(l); },
      "Log level: debug, info, warn, error (default info)");
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 1, as `eddy run --help` promises.
    return app.exit(e) == 0 ? 0 : 1;
  }
  if (run->parsed()) {
    if (file.empty() == inline_sql.empty()) {
      std::fprintf(stderr, "eddy run: give a script FILE or -e 'SQL' (see eddy run --help)\n");
      return 1;
    }
    if (!from_checkpoint.empty()) sets.push_back("execution.savepoint.path=" + from_checkpoint);
    return Run(file, inline_sql, sets, format, quiet, no_progress);
  }
  if (test->parsed()) return eddy::cli::RunSqlTests(test_files);
  if (server->parsed()) return eddy::cli::RunServer(server_opts);
  if (topic->parsed()) {
    for (auto* c : {topic_create, topic_list, topic_describe, topic_delete}) {
      if (c->parsed()) return eddy::cli::RunTopic(c->get_name(), kopts);
    }
  }
  if (produce->parsed()) return eddy::cli::RunProduce(kopts);
  if (consume->parsed()) return eddy::cli::RunConsume(kopts);
  return 1;
}
