// `eddy sql`: the interactive SQL shell (Flink's SQL client, ksqlDB's CLI). Embedded, it runs
// statements in-process on an eddy::Engine; with --server URL it talks to `eddy server`'s REST
// API (docs/rest-api.md): SELECTs become push queries whose rows print as they arrive, `CREATE
// PIPELINE name AS INSERT ...` (and a plain INSERT) become pipelines, SHOW/DROP PIPELINE(S) list
// and cancel them. Line editing and history come from libedit; a statement ends with ';' and
// may span lines. Ctrl-C cancels the running statement, not the shell; Ctrl-D or QUIT; leaves.
// Without a terminal (a pipe) or with -f FILE it runs the statements and exits.
#include <curl/curl.h>
#include <editline/readline.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "cli/commands.h"
#include "cli/result_view.h"
#include "eddy/engine.h"
#include "sql/lexer.h"

namespace eddy::cli {

namespace {

std::atomic<bool> g_interrupted{false};
std::atomic<Engine*> g_shell_engine{nullptr};
std::atomic<ResultView*> g_view{nullptr};  // the result being shown (table mode redraws)

void OnShellSigint(int) {
  g_interrupted = true;
  if (Engine* e = g_shell_engine.load()) e->Cancel();  // sets a flag: async-signal-safe
}

// Splits `*buf` into the complete statements it holds (each ended by a ';' token of the SQL
// lexer, so a ';' in a string, a back-quoted name or a comment does not count; the ';' dropped)
// and leaves the rest in `*buf`, or nothing when the rest is only white space and comments. An
// unterminated string, name or comment waits for more lines; another lexical error is skipped
// (the engine reports it when the statement runs).
std::vector<std::string> TakeStatements(std::string* buf) {
  std::vector<std::string> out;
  std::string_view s = *buf;
  size_t start = 0;      // where the current statement starts
  size_t base = 0;       // where the lexer started (after a skipped lexical error)
  bool pending = false;  // the current statement has a token
  bool open = false;     // it ends inside an unterminated string, name or comment
  sql::Lexer lx(s);
  while (true) {
    sql::Token t = lx.Next();
    if (t.kind == sql::TokenKind::kEnd) break;
    if (t.kind == sql::TokenKind::kError) {
      pending = true;
      if (absl::StartsWith(t.text, "unterminated")) {
        open = true;
        break;
      }
      base += t.pos.offset + 1;
      if (base >= s.size()) break;
      lx = sql::Lexer(s.substr(base));
      continue;
    }
    if (t.kind == sql::TokenKind::kOp && t.text == ";") {
      std::string_view text = s.substr(start, base + t.pos.offset - start);
      std::string stmt(absl::StripAsciiWhitespace(absl::string_view(text.data(), text.size())));
      if (!stmt.empty()) out.push_back(std::move(stmt));
      start = base + t.end;
      pending = false;
      continue;
    }
    pending = true;
  }
  *buf = pending || open ? buf->substr(start) : std::string();
  return out;
}

// The first `n` words of `stmt`, upper-cased (comments skipped by the lexer).
std::string Head(const std::string& stmt, int n) {
  std::string out;
  sql::Lexer lx(stmt);
  for (int i = 0; i < n; ++i) {
    sql::Token t = lx.Next();
    if (t.kind != sql::TokenKind::kIdent) break;
    out += (out.empty() ? "" : " ") + t.upper;
  }
  return out;
}

bool IsQuit(const std::string& stmt) {
  std::string h = Head(stmt, 1);
  return h == "QUIT" || h == "EXIT";
}

const char* kHelp =
    "Statements end with ';' and may span lines. Besides Flink SQL (CREATE TABLE/VIEW, SET,\n"
    "SELECT, INSERT INTO, EXPLAIN, SHOW TABLES/VIEWS/FUNCTIONS/CONNECTORS, DESCRIBE):\n"
    "  HELP;                 this text\n"
    "  QUIT; or EXIT;        leave (Ctrl-D too)\n"
    "  Ctrl-C                cancel the running statement (an unbounded SELECT ends cleanly)\n"
    "  SET 'sql-client.execution.result-mode' = 'tableau' | 'changelog' | 'table';\n"
    "With --server:\n"
    "  CREATE PIPELINE name AS INSERT INTO ...;   run an INSERT as a server pipeline\n"
    "  SHOW PIPELINES;  DESCRIBE PIPELINE name;  DROP PIPELINE name;\n";

// ---- Embedded: statements run on an Engine in this process. ----

class EmbeddedSession {
 public:
  explicit EmbeddedSession(bool interactive) : interactive_(interactive) {
    out_.format = OutputOptions::Format::kTable;
    // A Ctrl-C that came while the statement was planned (before its job started, which clears
    // the engine's cancel flag) cancels the job as soon as it reports progress.
    out_.on_progress = [this](const Progress&) {
      if (g_interrupted) engine_.Cancel();
    };
    if (interactive_) {
      out_.on_summary = [](const std::string&, const JobSummary& s) {
        if (!s.sinks.empty() && s.sinks[0].table != "(terminal)") {
          std::fprintf(stderr, "[INFO] job %s after %.2f s\n", s.ok ? "finished" : "failed",
                       s.seconds);
        }
      };
    }
  }
  // Runs one statement; false when it failed.
  bool Execute(const std::string& stmt) {
    std::string h = Head(stmt, 2);
    if (absl::StartsWith(h, "SHOW PIPELINES") || absl::StartsWith(h, "CREATE PIPELINE") ||
        absl::StartsWith(h, "DROP PIPELINE")) {
      std::fprintf(stderr, "[ERROR] pipelines live in a server: start the shell with --server\n");
      return false;
    }
    g_shell_engine = &engine_;
    std::string h1 = Head(stmt, 1);
    absl::Status st;
    if (mode_ != ResultMode::kTableau && (h1 == "SELECT" || h1 == "WITH")) {
      st = RunInView(stmt);
    } else {
      st = engine_.ExecuteScript(stmt, out_);
    }
    g_shell_engine = nullptr;
    g_interrupted = false;
    std::fflush(stdout);
    if (!st.ok()) {
      std::fprintf(stderr, "[ERROR] %s\n", std::string(st.message()).c_str());
      return false;
    }
    if (auto m = ResultModeSetBy(stmt)) mode_ = *m;
    std::string k = Head(stmt, 1);
    if (interactive_ && (k == "CREATE" || k == "DROP" || k == "SET" || k == "RESET")) {
      std::fprintf(stderr, "[INFO] Execute statement succeed.\n");
    }
    return true;
  }

 private:
  // A SELECT in table or changelog mode: the engine prints its changelog as JSON lines (with
  // each row's kind) into a FILE whose writes feed the view.
  absl::Status RunInView(const std::string& stmt) {
    ResultView view(mode_, stdout, isatty(STDOUT_FILENO));
    cookie_io_functions_t io{};
    io.write = [](void* cookie, const char* buf, size_t size) -> ssize_t {
      static_cast<ResultView*>(cookie)->Feed(buf, size);
      return static_cast<ssize_t>(size);
    };
    FILE* f = fopencookie(&view, "w", io);
    if (!f) return absl::InternalError("fopencookie failed");
    OutputOptions o = out_;
    o.format = OutputOptions::Format::kJson;
    o.always_kind = true;
    o.out = f;
    o.on_progress = [this, &view](const Progress&) {
      if (g_interrupted) engine_.Cancel();
      view.Tick();
    };
    absl::Status st = engine_.ExecuteScript(stmt, o);
    std::fclose(f);
    if (st.ok()) view.Finish(g_interrupted);
    return st;
  }

  bool interactive_;
  Engine engine_;
  OutputOptions out_;
  ResultMode mode_ = ResultMode::kTableau;
};

// ---- With --server: statements go to the REST API. ----

int OnProgress(void*, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  if (ResultView* v = g_view.load()) v->Tick();
  return g_interrupted.load() ? 1 : 0;  // aborts the transfer: the server cancels the query
}

class RemoteSession {
 public:
  explicit RemoteSession(std::string url) : url_(std::move(url)) {
    while (!url_.empty() && url_.back() == '/') url_.pop_back();
  }

  bool Execute(const std::string& stmt) {
    std::string h2 = Head(stmt, 2), h1 = Head(stmt, 1);
    if (h2 == "SHOW PIPELINES") return ShowPipelines();
    if (h2 == "DROP PIPELINE" || h2 == "DESCRIBE PIPELINE") {
      std::string name = Word(stmt, 3);
      long code = 0;
      std::string body;
      bool drop = h2 == "DROP PIPELINE";
      if (!Request(drop ? "DELETE" : "GET", "/v1/pipelines/" + name, "", &code, &body)) {
        return false;
      }
      if (code != 200) return Error(body);
      if (!drop) {
        std::printf("%s", body.c_str());
        return true;
      }
      std::fprintf(stderr, "[INFO] pipeline '%s' cancelled\n", name.c_str());
      return true;
    }
    if (h2 == "CREATE PIPELINE" || h1 == "INSERT") {
      std::string name, insert = stmt;
      if (h1 != "INSERT") {
        name = Word(stmt, 3);
        size_t as = AfterKeyword(stmt, "AS");
        if (name.empty() || as == std::string::npos) {
          std::fprintf(stderr, "[ERROR] write CREATE PIPELINE name AS INSERT INTO ...\n");
          return false;
        }
        insert = stmt.substr(as);
      } else {
        name = fmt::format("insert-{}", ++inserts_);
      }
      nlohmann::json req = {{"name", name}, {"sql", Script(insert)}};
      long code = 0;
      std::string body;
      if (!Request("POST", "/v1/pipelines", req.dump(), &code, &body)) return false;
      if (code != 201) return Error(body);
      std::fprintf(stderr, "[INFO] pipeline '%s' submitted\n", name.c_str());
      return true;
    }
    if (h1 == "SELECT" || h1 == "WITH" || h1 == "EXPLAIN") {
      if (h1 == "EXPLAIN") return Explain(stmt);
      return Query(stmt);
    }
    if (h1 == "CREATE" || h1 == "SET" || h1 == "RESET" || h1 == "DROP") {
      // Checked by the server (planned, nothing runs), then kept for the next statements.
      std::vector<std::string> next = ddl_;
      next.push_back(stmt);
      nlohmann::json req = {{"sql", Join(next, "")}};
      long code = 0;
      std::string body;
      if (!Request("POST", "/v1/explain", req.dump(), &code, &body)) return false;
      if (code != 200) return Error(body);
      ddl_ = std::move(next);
      if (auto m = ResultModeSetBy(stmt)) mode_ = *m;
      std::fprintf(stderr, "[INFO] Execute statement succeed.\n");
      return true;
    }
    std::fprintf(stderr,
                 "[ERROR] with --server: SELECT, EXPLAIN, CREATE/SET/DROP, "
                 "CREATE PIPELINE, SHOW PIPELINES, DROP PIPELINE (HELP;)\n");
    return false;
  }

 private:
  static std::string Word(const std::string& stmt, int n) {
    std::istringstream in(stmt);
    std::string w;
    for (int i = 0; i < n && in >> w; ++i) {
    }
    while (!w.empty() && w.back() == ';') w.pop_back();
    return w;
  }
  static size_t AfterKeyword(const std::string& stmt, const std::string& kw) {
    std::string up = stmt;
    for (char& c : up) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
    size_t p = up.find(" " + kw + " ");
    if (p == std::string::npos) p = up.find("\n" + kw + " ");
    return p == std::string::npos ? p : p + kw.size() + 2;
  }
  static std::string Join(const std::vector<std::string>& v, const std::string& last) {
    std::string s;
    for (const auto& x : v) s += x + ";\n";
    return s + last;
  }
  std::string Script(const std::string& stmt) const { return Join(ddl_, stmt); }
  static bool Error(const std::string& body) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    std::string msg =
        !j.is_discarded() && j.contains("message") ? j["message"].get<std::string>() : body;
    std::fprintf(stderr, "[ERROR] %s\n", msg.c_str());
    return false;
  }

  struct Sink {
    std::string* body;
    std::function<void(const std::string&)> line;  // streaming: called per complete line
    std::string partial;
  };
  static size_t OnData(char* data, size_t size, size_t n, void* user) {
    auto* s = static_cast<Sink*>(user);
    size_t len = size * n;
    if (!s->line) {
      s->body->append(data, len);
      return len;
    }
    s->partial.append(data, len);
    size_t nl;
    while ((nl = s->partial.find('\n')) != std::string::npos) {
      std::string l = s->partial.substr(0, nl);
      s->partial.erase(0, nl + 1);
      if (!l.empty()) s->line(l);
    }
    return len;
  }

  bool Request(const std::string& method, const std::string& path, const std::string& json,
               long* code, std::string* body,
               std::function<void(const std::string&)> line = nullptr) {
    CURL* c = curl_easy_init();
    if (!c) return false;
    Sink sink{body, std::move(line), {}};
    std::string url = url_ + path;
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (!json.empty()) {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, json.c_str());
      curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &RemoteSession::OnData);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &OnProgress);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, code);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    if (rc == CURLE_ABORTED_BY_CALLBACK) return true;  // Ctrl-C
    if (rc != CURLE_OK) {
      std::fprintf(stderr, "[ERROR] %s: %s\n", url.c_str(), curl_easy_strerror(rc));
      return false;
    }
    return true;
  }

  bool ShowPipelines() {
    long code = 0;
    std::string body;
    if (!Request("GET", "/v1/pipelines", "", &code, &body)) return false;
    if (code != 200) return Error(body);
    auto j = nlohmann::json::parse(body, nullptr, false);
    std::printf("%-24s %-11s %-25s %s\n", "name", "state", "start time", "error");
    for (const auto& p : j["pipelines"]) {
      std::printf("%-24s %-11s %-25s %s\n", p["name"].get<std::string>().c_str(),
                  p["state"].get<std::string>().c_str(),
                  p["start_time"].is_string() ? p["start_time"].get<std::string>().c_str() : "",
                  p["error"].is_string() ? p["error"].get<std::string>().c_str() : "");
    }
    return true;
  }

  bool Explain(const std::string& stmt) {
    std::string inner = stmt.substr(AfterKeyword(" " + stmt, "EXPLAIN") - 1);
    nlohmann::json req = {{"sql", Script(inner)}};
    long code = 0;
    std::string body;
    if (!Request("POST", "/v1/explain", req.dump(), &code, &body)) return false;
    if (code != 200) return Error(body);
    std::printf("%s", nlohmann::json::parse(body)["plan"].get<std::string>().c_str());
    return true;
  }

  // A push query: rows print as they arrive, "op | col | col" (the kind first, as Flink's
  // changelog mode shows it).
  bool Query(const std::string& stmt) {
    if (mode_ != ResultMode::kTableau) return QueryInView(stmt);
    nlohmann::json req = {{"sql", Script(stmt)}};
    long code = 0;
    std::string body;
    int64_t rows = 0;
    bool header = false;
    auto line = [&](const std::string& l) {
      auto j = nlohmann::ordered_json::parse(l, nullptr, false);
      if (j.is_discarded() || !j.is_object()) return;
      if (j.contains("error") && j.size() == 1) {
        std::fprintf(stderr, "[ERROR] %s\n", j["error"].get<std::string>().c_str());
        return;
      }
      std::string text;
      if (!header) {
        header = true;
        std::string h;
        for (const auto& [k, v] : j.items()) h += (h.empty() ? "" : " | ") + k;
        std::printf("%s\n", h.c_str());
      }
      for (const auto& [k, v] : j.items()) {
        text += (text.empty() ? "" : " | ") + (v.is_string() ? v.get<std::string>() : v.dump());
      }
      std::printf("%s\n", text.c_str());
      std::fflush(stdout);
      ++rows;
    };
    if (!Request("POST", "/v1/query", req.dump(), &code, &body, line)) return false;
    if (code != 200 && code != 0) {
      return Error(body.empty() ? fmt::format("HTTP {}", code) : body);
    }
    std::fprintf(stderr, "Received a total of %lld row%s%s\n", static_cast<long long>(rows),
                 rows == 1 ? "" : "s", g_interrupted ? " (stopped)" : "");
    return true;
  }

  // A push query in table or changelog mode: its JSON lines feed the view.
  bool QueryInView(const std::string& stmt) {
    nlohmann::json req = {{"sql", Script(stmt)}};
    long code = 0;
    std::string body;
    ResultView view(mode_, stdout, isatty(STDOUT_FILENO));
    g_view = &view;
    bool ok = Request("POST", "/v1/query", req.dump(), &code, &body, [&](const std::string& l) {
      std::string line = l + "\n";
      view.Feed(line.data(), line.size());
    });
    g_view = nullptr;
    if (!ok) return false;
    if (code != 200 && code != 0) return Error(body.empty() ? fmt::format("HTTP {}", code) : body);
    view.Finish(g_interrupted);
    return true;
  }

  std::string url_;
  ResultMode mode_ = ResultMode::kTableau;
  std::vector<std::string> ddl_;  // the session's CREATE/SET/DROP statements, sent with each query
  int inserts_ = 0;
};

template <typename Session>
int Loop(Session& session, bool interactive, std::istream* in) {
  std::string buf;
  bool failed = false;
  std::string history_file;
  if (interactive) {
    if (const char* home = std::getenv("HOME")) history_file = std::string(home) + "/.eddy_history";
    using_history();
    if (!history_file.empty()) read_history(history_file.c_str());
    std::fprintf(stderr,
                 "eddy SQL shell. Statements end with ';'. HELP; for help, QUIT; to leave.\n");
  }
  while (true) {
    std::string line;
    if (interactive) {
      g_interrupted = false;
      char* l = readline(buf.empty() ? "eddy> " : "   -> ");
      if (!l) {
        if (g_interrupted) {  // Ctrl-C at the prompt: drop the statement being typed
          buf.clear();
          std::fprintf(stderr, "\n");
          continue;
        }
        std::fprintf(stderr, "\n");
        break;  // Ctrl-D
      }
      line = l;
      std::free(l);
      if (!absl::StripAsciiWhitespace(line).empty()) add_history(line.c_str());
    } else if (!std::getline(*in, line)) {
      break;
    }
    buf += line + "\n";
    for (const std::string& stmt : TakeStatements(&buf)) {
      if (IsQuit(stmt)) {
        if (!history_file.empty()) write_history(history_file.c_str());
        return failed ? 1 : 0;
      }
      if (Head(stmt, 1) == "HELP") {
        std::fprintf(stderr, "%s", kHelp);
        continue;
      }
      g_interrupted = false;
      if (!session.Execute(stmt)) {
        failed = true;
        if (!interactive) return 1;  // a script stops at its first error, as `eddy run`
      }
    }
  }
  if (!absl::StripAsciiWhitespace(buf).empty()) {
    std::fprintf(stderr, "[ERROR] the last statement has no ';': %s\n",
                 std::string(absl::StripAsciiWhitespace(buf)).c_str());
    failed = true;
  }
  if (!history_file.empty()) write_history(history_file.c_str());
  return failed ? 1 : 0;
}

}  // namespace

int RunSqlShell(const SqlShellOptions& o) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (!o.file.empty()) {
    file.open(o.file);
    if (!file) {
      std::fprintf(stderr, "eddy sql: cannot read %s\n", o.file.c_str());
      return 1;
    }
    in = &file;
  }
  bool interactive = o.file.empty() && isatty(STDIN_FILENO);
  // Ctrl-C cancels the running statement (and drops a half-typed one), never the shell. No
  // SA_RESTART: readline returns at once when interrupted.
  struct sigaction sa {};
  sa.sa_handler = OnShellSigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  if (!o.server.empty()) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    RemoteSession session(o.server);
    return Loop(session, interactive, in);
  }
  EmbeddedSession session(interactive);
  return Loop(session, interactive, in);
}

}  // namespace eddy::cli
