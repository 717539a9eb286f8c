// The eddy command line: subcommands are wiring only (DESIGN.md §2).
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "base/log.h"
#include "cli/commands.h"
#include "eddy/engine.h"

namespace {

eddy::Engine* g_engine = nullptr;

void OnSignal(int) {
  if (g_engine) g_engine->Cancel();
}

std::string Human(double v) {
  if (v >= 1e6) return fmt::format("{:.2f} M", v / 1e6);
  if (v >= 1e3) return fmt::format("{:.1f} k", v / 1e3);
  return fmt::format("{:.0f}", v);
}

void PrintSummary(const std::string& stmt, const eddy::JobSummary& s) {
  std::string first = stmt.substr(0, stmt.find('\n'));
  if (first.size() > 70) first = first.substr(0, 67) + "...";
  std::string text =
      fmt::format("eddy: {} after {:.2f} s: {}\n", s.ok ? "finished" : "failed", s.seconds, first);
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
  absl::Status st = engine.ExecuteScript(sql, out);
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
  server->add_option_function<std::string>(
      "--log-level", [](const std::string& l) { eddy::SetLogLevel(l); },
      "Log level: debug, info, warn, error (default info)");
  server->footer(
      "Runs in the foreground until SIGINT or SIGTERM, then flushes and closes every segment.\n"
      "Example:\n"
      "  eddy server --data-dir /var/lib/eddy --kafka-listen 127.0.0.1:9092\n"
      "  kcat -b 127.0.0.1:9092 -L");

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
    return Run(file, inline_sql, sets, format, quiet, no_progress);
  }
  if (test->parsed()) return eddy::cli::RunSqlTests(test_files);
  if (server->parsed()) return eddy::cli::RunServer(server_opts);
  return 1;
}
