// How `eddy sql` shows a query's changelog in Flink's SQL client result modes
// (SET 'sql-client.execution.result-mode' = 'table' | 'changelog' | 'tableau'): the rows come in
// as JSON lines with their kind ({"op": "+I", "col": ...}, what push queries and the json format
// print), and the view prints them as a changelog (each row with its kind) or keeps the result
// table up to date as retractions arrive (redrawn in place on a terminal, printed once at the
// end otherwise). Tableau is the engine's own printer and does not come here.
#pragma once

#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace eddy::cli {

/// Flink SQL client result modes.
enum class ResultMode { kTableau, kTable, kChangelog };

/// The mode a statement sets when it is SET 'sql-client.execution.result-mode' = 'x' (x one of
/// the three, case-insensitive), nullopt for any other statement. RESET of the key (or of all
/// keys) gives kTableau, the default.
std::optional<ResultMode> ResultModeSetBy(const std::string& stmt);

/// The result of one query as it arrives. Thread-safe: Feed may be called from a job's thread
/// while Tick runs on another.
class ResultView {
 public:
  /// `out`: where to print; `tty`: whether `out` is a terminal (table mode redraws in place).
  ResultView(ResultMode mode, FILE* out, bool tty) : mode_(mode), out_(out), tty_(tty) {}

  /// Takes bytes of JSON lines (a line may be split across calls).
  void Feed(const char* data, size_t size);
  /// Redraws the table when it changed since the last draw (table mode on a terminal; call it
  /// every few hundred ms).
  void Tick();
  /// After the query: the last lines and the count ("Received a total of N rows").
  void Finish(bool interrupted);

 private:
  void Row(const std::string& line);
  void Draw();
  std::string Separator(bool with_op) const;
  std::string Line(const std::string* op, const std::vector<std::string>& cells) const;

  std::mutex mu_;
  ResultMode mode_;
  FILE* out_;
  bool tty_;
  std::string partial_;
  std::vector<std::string> names_;
  std::vector<size_t> widths_;
  std::vector<std::vector<std::string>> table_;  // table mode: the rows of the result now
  int64_t changes_ = 0;
  bool dirty_ = false;
  int drawn_lines_ = 0;  // lines of the last draw (to move the cursor back over them)
  int64_t last_draw_ms_ = 0;
};

}  // namespace eddy::cli
