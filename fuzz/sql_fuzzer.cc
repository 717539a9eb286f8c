// libFuzzer target: SQL text through the parser, binder and planner (nothing runs). The input is a
// script; every statement that parses is planned against a fresh session holding the fuzz catalog
// (fuzz/sql_gen.h): queries and INSERTs through EXPLAIN (bind, optimize, build the job graph),
// other statements (CREATE, DROP, SET, SHOW, DESCRIBE, …) as they are. Nothing may crash, hang or
// trip a sanitizer, and every error must carry a position ("at line L, column C"): an error
// without one aborts. Queries of a script that mentions kafka are not planned (that would ask a
// broker for metadata). Seeds: the SQL of tests/sql/**/*.test and examples/ (fuzz/run.sh).
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "eddy/engine.h"
#include "sql/parser.h"
#include "sql_gen.h"

namespace {

using eddy::fuzz::FuzzCatalog;

struct Setup {
  std::string dir;
  FuzzCatalog catalog;
  FILE* null_out = nullptr;
  Setup() {
    dir = (std::filesystem::temp_directory_path() / ("eddy-sql-fuzzer-" + std::to_string(getpid())))
              .string();
    std::filesystem::create_directories(dir);
    catalog = eddy::fuzz::MakeFuzzCatalog(dir, 1);
    null_out = std::fopen("/dev/null", "w");
  }
  ~Setup() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

void Check(const absl::Status& s, const std::string& script) {
  if (s.ok()) return;
  std::string msg(s.message());
  if (msg.find("at line ") != std::string::npos && msg.find(", column ") != std::string::npos) {
    return;
  }
  std::fprintf(stderr, "error without a position:\n%s\nfor the script:\n%s\n", msg.c_str(),
               script.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Setup* setup = new Setup();
  if (size > 1 << 16) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = eddy::sql::ParseScript(text);
  if (!parsed.ok()) {
    Check(parsed.status(), text);
    return 0;
  }
  eddy::Engine engine;
  eddy::OutputOptions out;
  out.out = setup->null_out;
  for (const auto& ddl : setup->catalog.ddl) {
    if (!engine.ExecuteScript(ddl, out).ok()) std::abort();
  }
  // Planning a query over a kafka table asks its brokers for metadata: the fuzzer never connects
  // anywhere, so such scripts only have their DDL checked.
  std::string lower;
  for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool kafka = lower.find("kafka") != std::string::npos;
  for (const auto& st : *parsed) {
    bool plan = st->kind == eddy::sql::StmtKind::kQuery || st->kind == eddy::sql::StmtKind::kInsert;
    if (plan && kafka) continue;
    std::string script = (plan ? "EXPLAIN " : "") + st->text;
    Check(engine.ExecuteScript(script, out), script);
  }
  return 0;
}
