// Grammar-aware SQL fuzzer for eddy's parser, binder and planner (fuzz/sql_gen.h makes the SQL).
//
// Fuzz mode (default): each iteration generates a statement (or a token mutation of one) over the
// fuzz catalog and plans it: queries and INSERTs through EXPLAIN (parse, bind, optimize, build
// the job graph, nothing runs), other statements as they are. Checks: no crash and no sanitizer
// finding (the process dies with the statement printed), no hang (a watchdog fails a statement
// that takes longer than --timeout-ms), and every rejection is an error with a position: its
// message contains "at line L, column C" with L and C inside the statement. A share of the valid
// queries (--execute) also runs on the catalog's small data set at a random parallelism and batch
// size, where only crashes and hangs are findings.
//
// Differential mode (--differential): deterministic valid queries (GenOptions::deterministic) run
// at parallelism 1 and 2 and batch sizes 1 and 1024 must give the same result: the same multiset
// of rows, updating results compared as the tables their changelogs materialize (a changelog
// that retracts a row it never inserted is a finding too); DOUBLE columns are compared to 12
// significant digits.
//
// Every iteration's generator is seeded from (--seed, iteration), so `--seed S --only I`
// reproduces iteration I alone. Exit code 0 when nothing was found, 1 on a finding, 2 on bad
// usage.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "eddy/engine.h"
#include "sql/parser.h"
#include "sql_gen.h"

extern "C" void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

// Under the sanitizers: a report aborts (so the SIGABRT handler prints the statement) and comes
// with a stack trace.
extern "C" const char* __asan_default_options() { return "abort_on_error=1"; }
extern "C" const char* __ubsan_default_options() {
  return "abort_on_error=1:halt_on_error=1:print_stacktrace=1";
}

namespace eddy::fuzz {
namespace {

struct Flags {
  uint64_t seed = 1;
  int64_t count = 1000;
  double seconds = 0;  // 0: no time limit
  int64_t only = -1;
  int64_t timeout_ms = 20000;
  double execute = 0.1;
  bool differential = false;
  bool verbose = false;
  std::string data_dir;  // keep the catalog's data files here (else a temporary directory)
};

// ---- crash reporting: the statement being run is printed when the process dies ----

char g_current[1 << 16];
std::atomic<size_t> g_current_len{0};

void PrintCurrent() {
  static const char kHead[] = "\n=== sql_grammar_fuzz: the statement being run ===\n";
  ssize_t unused = write(2, kHead, sizeof(kHead) - 1);
  unused = write(2, g_current, g_current_len.load());
  unused = write(2, "\n", 1);
  (void)unused;
}

void OnSignal(int sig) {
  PrintCurrent();
  signal(sig, SIG_DFL);
  raise(sig);
}

void SetCurrent(const std::string& what) {
  size_t n = std::min(what.size(), sizeof(g_current) - 1);
  g_current_len = 0;
  std::memcpy(g_current, what.data(), n);
  g_current_len = n;
}

// ---- watchdog ----

class Watchdog {
 public:
  explicit Watchdog(int64_t timeout_ms) : timeout_(timeout_ms) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  /// Starts timing a statement; `engine` (may be null) is cancelled when it takes too long.
  void Start(Engine* engine) {
    std::lock_guard<std::mutex> l(mu_);
    engine_ = engine;
    start_ = std::chrono::steady_clock::now();
    busy_ = true;
  }
  void Stop() {
    std::lock_guard<std::mutex> l(mu_);
    busy_ = false;
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> l(mu_);
    while (!stop_) {
      cv_.wait_for(l, std::chrono::milliseconds(100));
      if (!busy_) continue;
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - start_)
                    .count();
      if (ms > timeout_) {
        std::fprintf(stderr, "\nFINDING: HANG: a statement took more than %lld ms\n",
                     static_cast<long long>(timeout_));
        PrintCurrent();
        if (engine_) engine_->Cancel();
        std::fflush(stderr);
        _exit(1);
      }
    }
  }

  int64_t timeout_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  bool stop_ = false, busy_ = false;
  Engine* engine_ = nullptr;
  std::chrono::steady_clock::time_point start_;
};

// ---- engine set-up ----

FILE* DevNull() {
  static FILE* f = std::fopen("/dev/null", "w");
  return f;
}

// Sets a session option the fuzzer relies on; a refusal is a bug of the fuzzer's set-up.
void MustSet(Engine* e, const std::string& key, const std::string& value) {
  absl::Status s = e->Set(key, value);
  if (!s.ok()) {
    std::fprintf(stderr, "sql_grammar_fuzz: SET '%s' = '%s' failed: %s\n", key.c_str(),
                 value.c_str(), std::string(s.message()).c_str());
    std::exit(2);
  }
}

std::unique_ptr<Engine> NewEngine(const FuzzCatalog& cat) {
  auto e = std::make_unique<Engine>();
  MustSet(e.get(), "eddy.worker-threads", "2");
  OutputOptions out;
  out.out = DevNull();
  for (const auto& ddl : cat.ddl) {
    absl::Status s = e->ExecuteScript(ddl, out);
    if (!s.ok()) {
      std::fprintf(stderr, "sql_grammar_fuzz: catalog DDL failed: %s\n%s\n", ddl.c_str(),
                   std::string(s.message()).c_str());
      std::exit(2);
    }
  }
  return e;
}

uint64_t Mix(uint64_t seed, uint64_t i) {
  Rng r(seed * 0x100000001B3ULL ^ (i + 0x5bd1e995));
  r.Next();
  return r.Next();
}

// "at line L, column C" inside `script`? Returns the problem, or "".
std::string CheckPosition(const std::string& script, const std::string& msg) {
  long line = 0, col = 0;
  size_t at = msg.find("at line ");
  if (at == std::string::npos ||
      std::sscanf(msg.c_str() + at, "at line %ld, column %ld", &line, &col) != 2) {
    return "the error has no line:column";
  }
  // Errors inside a view point into the view's own text.
  if (msg.rfind("in view '", 0) == 0) return "";
  std::vector<std::string> lines;
  size_t b = 0;
  while (true) {
    size_t e = script.find('\n', b);
    lines.push_back(script.substr(b, e == std::string::npos ? std::string::npos : e - b));
    if (e == std::string::npos) break;
    b = e + 1;
  }
  if (line < 1 || line > static_cast<long>(lines.size())) {
    return fmt::format("line {} is outside the statement ({} lines)", line, lines.size());
  }
  // Columns count characters (UTF-8 code points); allow one past the end (end of input).
  long chars = 0;
  for (unsigned char c : lines[line - 1]) chars += (c & 0xC0) != 0x80;
  if (col < 1 || col > chars + 1) {
    return fmt::format("column {} is outside line {} ({} characters)", col, line, chars);
  }
  return "";
}

bool ChangesSession(const std::string& text) {
  std::string u;
  for (char c : text) u += static_cast<char>(toupper(static_cast<unsigned char>(c)));
  for (const char* k : {"CREATE", "DROP", "SET", "RESET", "INSERT"}) {
    if (u.find(k) != std::string::npos) return true;
  }
  return false;
}

// ---- results ----

// Canonical rows of a result: updating results materialized; DOUBLE cells rounded.
absl::StatusOr<std::vector<std::string>> Canonical(const QueryResult& r) {
  std::vector<std::string> rows;
  auto cell = [&](size_t c, const std::string& v) -> std::string {
    if (c < r.column_types.size() && r.column_types[c].rfind("DOUBLE", 0) == 0 && v != "<NULL>") {
      char* end = nullptr;
      double d = std::strtod(v.c_str(), &end);
      if (end && *end == '\0' && std::isfinite(d)) return fmt::format("{:.12g}", d);
    }
    return v;
  };
  auto line = [&](const std::vector<std::string>& row) {
    std::string s;
    for (size_t c = 0; c < row.size(); ++c) s += (c ? "\t" : "") + cell(c, row[c]);
    return s;
  };
  if (!r.updating) {
    for (const auto& row : r.rows) rows.push_back(line(row));
  } else {
    std::map<std::string, int64_t> table;
    for (size_t i = 0; i < r.rows.size(); ++i) {
      std::string l = line(r.rows[i]);
      const std::string& k = r.kinds[i];
      if (k == "+I" || k == "+U") {
        ++table[l];
      } else {
        auto it = table.find(l);
        if (it == table.end() || it->second == 0) {
          return absl::InternalError(
              fmt::format("the changelog retracts a row it never inserted ({} {})", k, l));
        }
        --it->second;
      }
    }
    for (const auto& [l, n] : table) {
      for (int64_t c = 0; c < n; ++c) rows.push_back(l);
    }
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::string Diff(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::string> only_a, only_b;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only_a));
  std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(only_b));
  std::string s = fmt::format("{} rows versus {}\n", a.size(), b.size());
  for (size_t i = 0; i < only_a.size() && i < 10; ++i)
    s += "  only in the first:  " + only_a[i] + "\n";
  for (size_t i = 0; i < only_b.size() && i < 10; ++i)
    s += "  only in the second: " + only_b[i] + "\n";
  return s;
}

int Run(const Flags& f) {
  std::string dir = !f.data_dir.empty() ? f.data_dir
                                        : (std::filesystem::temp_directory_path() /
                                           fmt::format("eddy-sql-fuzz-{}-{}", getpid(), f.seed))
                                              .string();
  std::filesystem::create_directories(dir);
  struct Cleanup {
    std::string d;
    ~Cleanup() {
      std::error_code ec;
      if (!d.empty()) std::filesystem::remove_all(d, ec);
    }
  } cleanup{f.data_dir.empty() ? dir : ""};
  FuzzCatalog cat = MakeFuzzCatalog(dir, f.seed);
  auto engine = NewEngine(cat);
  // Self-check: every table's data loads (a catalog whose files do not parse tests little).
  for (const auto& t : cat.tables) {
    auto r = engine->Query("SELECT COUNT(*) FROM " + t.name);
    if (!r.ok()) {
      std::fprintf(stderr, "sql_grammar_fuzz: table %s does not load: %s\n", t.name.c_str(),
                   std::string(r.status().message()).c_str());
      return 2;
    }
  }
  Watchdog dog(f.timeout_ms);
  std::vector<std::unique_ptr<Engine>> diff_engines;
  std::vector<std::string> diff_names;
  if (f.differential) {
    for (const char* p : {"1", "2"}) {
      for (const char* b : {"1", "1024"}) {
        auto e = NewEngine(cat);
        MustSet(e.get(), "parallelism.default", p);
        MustSet(e.get(), "eddy.batch-size", b);
        diff_engines.push_back(std::move(e));
        diff_names.push_back(fmt::format("parallelism={} batch-size={}", p, b));
      }
    }
  }
  OutputOptions out;
  out.out = DevNull();
  auto start = std::chrono::steady_clock::now();
  int64_t n = 0, planned_ok = 0, rejected = 0, executed = 0, run_errors = 0, compared = 0,
          skipped = 0, findings = 0;
  std::map<std::string, int64_t> first_words;
  for (int64_t i = f.only >= 0 ? f.only : 0; f.only < 0 || i == f.only; ++i) {
    if (f.only < 0 && i >= f.count) break;
    if (f.only < 0 && f.seconds > 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >
            f.seconds) {
      break;
    }
    ++n;
    GenOptions go;
    go.deterministic = f.differential;
    if (f.differential) go.error_rate = 0;
    SqlGenerator gen(cat, Mix(f.seed, static_cast<uint64_t>(i)), go);
    std::string repro = fmt::format("reproduce: sql_grammar_fuzz {}--seed {} --only {}",
                                    f.differential ? "--differential " : "", f.seed, i);
    auto finding = [&](const std::string& what, const std::string& sql) {
      ++findings;
      std::fprintf(stderr, "\nFINDING: %s\n  statement: %s\n  %s\n", what.c_str(), sql.c_str(),
                   repro.c_str());
    };

    if (f.differential) {
      std::string q = gen.Query();
      SetCurrent(q + "\n" + repro);
      if (f.verbose) std::fprintf(stderr, "[%lld] %s\n", static_cast<long long>(i), q.c_str());
      dog.Start(nullptr);
      absl::Status plan = engine->ExecuteScript("EXPLAIN " + q, out);
      dog.Stop();
      if (!plan.ok()) {
        ++skipped;
        if (f.verbose) {
          std::string m(plan.message());
          std::fprintf(stderr, "  rejected: %s\n", m.substr(0, m.find('\n')).c_str());
        }
        std::string bad = CheckPosition("EXPLAIN " + q, std::string(plan.message()));
        if (!bad.empty()) finding(bad + ": " + std::string(plan.message()), q);
        continue;
      }
      std::vector<absl::StatusOr<std::vector<std::string>>> results;
      for (auto& e : diff_engines) {
        dog.Start(e.get());
        auto r = e->Query(q);
        dog.Stop();
        if (!r.ok()) {
          results.push_back(r.status());
        } else {
          results.push_back(Canonical(*r));
        }
      }
      ++compared;
      for (size_t k = 0; k < results.size(); ++k) {
        const auto& r = results[k];
        if (!r.ok() && absl::IsInternal(r.status()) &&
            std::string(r.status().message()).find("retracts a row") != std::string::npos) {
          finding(diff_names[k] + ": " + std::string(r.status().message()), q);
        }
      }
      for (size_t k = 1; k < results.size(); ++k) {
        if (results[k].ok() != results[0].ok()) {
          finding(fmt::format("{} {} but {} {}", diff_names[0],
                              results[0].ok()
                                  ? "succeeds"
                                  : "fails (" + std::string(results[0].status().message()) + ")",
                              diff_names[k],
                              results[k].ok()
                                  ? "succeeds"
                                  : "fails (" + std::string(results[k].status().message()) + ")"),
                  q);
        } else if (results[k].ok() && *results[k] != *results[0]) {
          finding(fmt::format("results differ between {} and {}: {}", diff_names[0], diff_names[k],
                              Diff(*results[0], *results[k])),
                  q);
        }
      }
      if (!results[0].ok()) ++run_errors;
      continue;
    }

    // Fuzz mode.
    std::string scratch = "scratch_obj";
    std::string stmt = gen.Statement(scratch);
    bool mutated = gen.rng().Chance(0.3);
    if (mutated) stmt = gen.Mutate(stmt);
    SetCurrent(stmt + "\n" + repro);
    if (f.verbose) std::fprintf(stderr, "[%lld] %s\n", static_cast<long long>(i), stmt.c_str());
    // Plan each statement of the script: queries and INSERTs through EXPLAIN.
    std::vector<std::string> scripts;
    auto parsed = sql::ParseScript(stmt);
    if (!parsed.ok()) {
      scripts.push_back(stmt);  // the parse error is checked below
    } else {
      // Planning a query over a kafka table would ask a broker for metadata: never here.
      bool kafka = stmt.find("kafka") != std::string::npos;
      for (const auto& st : *parsed) {
        bool plan = st->kind == sql::StmtKind::kQuery || st->kind == sql::StmtKind::kInsert;
        if (plan && kafka) continue;
        scripts.push_back((plan ? "EXPLAIN " : "") + st->text);
      }
    }
    bool session_changed = false;
    for (const auto& script : scripts) {
      SetCurrent(script + "\n" + repro);
      dog.Start(engine.get());
      absl::Status s = engine->ExecuteScript(script, out);
      dog.Stop();
      session_changed |= ChangesSession(script);
      std::string msg(s.message());
      if (s.ok()) {
        ++planned_ok;
      } else {
        ++rejected;
        if (f.verbose)
          std::fprintf(stderr, "  rejected: %s\n", msg.substr(0, msg.find('\n')).c_str());
        std::string bad = CheckPosition(script, msg);
        if (!bad.empty()) finding(bad + ":\n" + msg, script);
      }
      // Run some valid queries on the data (only crashes and hangs are findings there).
      if (s.ok() && script.rfind("EXPLAIN SELECT", 0) == 0 && gen.rng().Chance(f.execute)) {
        std::string q = script.substr(8);
        std::string p = gen.rng().Chance(0.5) ? "1" : "2";
        std::string b = gen.rng().Pick(std::vector<std::string>{"1", "2", "1024"});
        MustSet(engine.get(), "parallelism.default", p);
        MustSet(engine.get(), "eddy.batch-size", b);
        SetCurrent(
            fmt::format("{}\n(executing at parallelism {}, batch size {})\n{}", q, p, b, repro));
        dog.Start(engine.get());
        auto r = engine->Query(q);
        dog.Stop();
        ++executed;
        if (!r.ok()) ++run_errors;
        if (f.verbose && !r.ok()) {
          std::fprintf(stderr, "  run error: %s\n", std::string(r.status().message()).c_str());
        }
      }
    }
    if (session_changed) engine = NewEngine(cat);  // a fresh catalog and configuration
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (f.differential) {
    std::fprintf(stderr,
                 "sql_grammar_fuzz --differential: %lld queries in %.1f s: %lld compared at 4 "
                 "settings (%lld of them failing at every setting), %lld rejected by the "
                 "planner; %lld findings\n",
                 static_cast<long long>(n), secs, static_cast<long long>(compared),
                 static_cast<long long>(run_errors), static_cast<long long>(skipped),
                 static_cast<long long>(findings));
  } else {
    std::fprintf(stderr,
                 "sql_grammar_fuzz: %lld statements in %.1f s: %lld planned, %lld rejected with "
                 "a position, %lld executed (%lld failed at run time); %lld findings\n",
                 static_cast<long long>(n), secs, static_cast<long long>(planned_ok),
                 static_cast<long long>(rejected), static_cast<long long>(executed),
                 static_cast<long long>(run_errors), static_cast<long long>(findings));
  }
  return findings ? 1 : 0;
}

}  // namespace
}  // namespace eddy::fuzz

int main(int argc, char** argv) {
  eddy::fuzz::Flags f;
  bool count_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "sql_grammar_fuzz: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seed") {
      f.seed = std::stoull(value());
    } else if (a == "--count") {
      f.count = std::stoll(value());
      count_given = true;
    } else if (a == "--seconds") {
      f.seconds = std::stod(value());
    } else if (a == "--only") {
      f.only = std::stoll(value());
    } else if (a == "--timeout-ms") {
      f.timeout_ms = std::stoll(value());
    } else if (a == "--execute") {
      f.execute = std::stod(value());
    } else if (a == "--differential") {
      f.differential = true;
    } else if (a == "--data-dir") {
      f.data_dir = value();
    } else if (a == "--verbose" || a == "-v") {
      f.verbose = true;
    } else {
      std::fprintf(stderr,
                   "usage: sql_grammar_fuzz [--seed N] [--count N] [--seconds S] [--only I] "
                   "[--timeout-ms MS] [--execute FRACTION] [--differential] [--data-dir DIR] "
                   "[--verbose]\n");
      return 2;
    }
  }
  if (f.seconds > 0 && !count_given) f.count = INT64_MAX;
  for (int sig : {SIGSEGV, SIGABRT, SIGFPE, SIGILL, SIGBUS}) signal(sig, eddy::fuzz::OnSignal);
  if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(eddy::fuzz::PrintCurrent);
  return eddy::fuzz::Run(f);
}
