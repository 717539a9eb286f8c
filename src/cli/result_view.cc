#include "cli/result_view.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "sql/lexer.h"

namespace eddy::cli {

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Display width of UTF-8 text (code points).
size_t Width(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string Pad(const std::string& s, size_t w) {
  size_t len = Width(s);
  return len >= w ? s : s + std::string(w - len, ' ');
}

}  // namespace

std::optional<ResultMode> ResultModeSetBy(const std::string& stmt) {
  sql::Lexer lx(stmt);
  std::vector<sql::Token> t;
  for (sql::Token tok = lx.Next(); tok.kind != sql::TokenKind::kEnd && t.size() < 6;
       tok = lx.Next()) {
    t.push_back(tok);
  }
  const std::string kKey = "sql-client.execution.result-mode";
  if (!t.empty() && t[0].kind == sql::TokenKind::kIdent && t[0].upper == "RESET") {
    if (t.size() == 1 || (t.size() == 2 && t[1].kind == sql::TokenKind::kString &&
                          absl::AsciiStrToLower(t[1].text) == kKey)) {
      return ResultMode::kTableau;
    }
    return std::nullopt;
  }
  if (t.size() != 4 || t[0].kind != sql::TokenKind::kIdent || t[0].upper != "SET" ||
      t[1].kind != sql::TokenKind::kString || absl::AsciiStrToLower(t[1].text) != kKey ||
      t[2].text != "=" || t[3].kind != sql::TokenKind::kString) {
    return std::nullopt;
  }
  std::string v = absl::AsciiStrToLower(t[3].text);
  if (v == "table") return ResultMode::kTable;
  if (v == "changelog") return ResultMode::kChangelog;
  if (v == "tableau") return ResultMode::kTableau;
  return std::nullopt;  // the engine refuses the value with its message
}

void ResultView::Feed(const char* data, size_t size) {
  std::lock_guard<std::mutex> l(mu_);
  partial_.append(data, size);
  size_t nl;
  while ((nl = partial_.find('\n')) != std::string::npos) {
    std::string line = partial_.substr(0, nl);
    partial_.erase(0, nl + 1);
    if (!line.empty()) Row(line);
  }
  if (mode_ == ResultMode::kTable && tty_ && dirty_ && NowMs() - last_draw_ms_ >= 100) Draw();
}

void ResultView::Tick() {
  std::lock_guard<std::mutex> l(mu_);
  if (mode_ == ResultMode::kTable && tty_ && dirty_) Draw();
}

void ResultView::Row(const std::string& line) {
  auto j = nlohmann::ordered_json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return;
  if (j.contains("error") && j.size() == 1 && j["error"].is_string()) {
    std::fprintf(stderr, "[ERROR] %s\n", j["error"].get<std::string>().c_str());
    return;
  }
  std::string op = "+I";
  std::vector<std::string> names, cells;
  for (const auto& [k, v] : j.items()) {
    if (k == "op") {
      if (v.is_string()) op = v.get<std::string>();
      continue;
    }
    names.push_back(k);
    cells.push_back(v.is_null() ? "<NULL>" : v.is_string() ? v.get<std::string>() : v.dump());
  }
  bool first = names_.empty();
  if (first) {
    names_ = names;
    for (const auto& n : names_) widths_.push_back(std::max<size_t>(Width(n), 6));
  }
  for (size_t c = 0; c < cells.size() && c < widths_.size(); ++c) {
    widths_[c] = std::max(widths_[c], Width(cells[c]));
  }
  ++changes_;
  if (mode_ == ResultMode::kChangelog) {
    std::string text;
    if (first) text += Separator(true) + Line(nullptr, names_) + Separator(true);
    text += Line(&op, cells);
    std::fwrite(text.data(), 1, text.size(), out_);
    std::fflush(out_);
    return;
  }
  // Table mode: an insert or update-after adds the row; a retraction removes one equal row.
  if (op == "-U" || op == "-D") {
    auto it = std::find(table_.begin(), table_.end(), cells);
    if (it != table_.end()) table_.erase(it);
  } else {
    table_.push_back(std::move(cells));
  }
  dirty_ = true;
}

std::string ResultView::Separator(bool with_op) const {
  std::string s = with_op ? "+----+" : "+";
  for (size_t w : widths_) s += std::string(w + 2, '-') + "+";
  return s + "\n";
}

std::string ResultView::Line(const std::string* op, const std::vector<std::string>& cells) const {
  std::string s = "|";
  if (mode_ == ResultMode::kChangelog) s += " " + (op ? Pad(*op, 2) : std::string("op")) + " |";
  for (size_t c = 0; c < widths_.size(); ++c) {
    s += " " + Pad(c < cells.size() ? cells[c] : "", widths_[c]) + " |";
  }
  return s + "\n";
}

void ResultView::Draw() {
  // On a terminal, only as many rows as fit (the cursor cannot go back over scrolled lines).
  size_t max_rows = table_.size();
  if (tty_) {
    struct winsize ws {};
    int height = ioctl(fileno(out_), TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 ? ws.ws_row : 24;
    max_rows = static_cast<size_t>(std::max(1, height - 7));
  }
  std::string text;
  if (tty_ && drawn_lines_ > 0) text += "\x1b[" + std::to_string(drawn_lines_) + "A\x1b[J";
  int lines = 0;
  if (!names_.empty()) {
    text += Separator(false) + Line(nullptr, names_) + Separator(false);
    lines += 3;
    for (size_t r = 0; r < table_.size() && r < max_rows; ++r, ++lines) {
      text += Line(nullptr, table_[r]);
    }
    text += Separator(false);
    ++lines;
    if (table_.size() > max_rows) {
      text += std::to_string(table_.size() - max_rows) + " more rows not shown\n";
      ++lines;
    }
  }
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
  drawn_lines_ = lines;
  dirty_ = false;
  last_draw_ms_ = NowMs();
}

void ResultView::Finish(bool interrupted) {
  std::lock_guard<std::mutex> l(mu_);
  if (!partial_.empty()) {
    Row(partial_);
    partial_.clear();
  }
  std::string tail = interrupted ? " (stopped)" : "";
  if (mode_ == ResultMode::kChangelog) {
    if (!names_.empty()) {
      std::string sep = Separator(true);
      std::fwrite(sep.data(), 1, sep.size(), out_);
    }
    std::fprintf(out_, "Received a total of %lld row%s%s\n", static_cast<long long>(changes_),
                 changes_ == 1 ? "" : "s", tail.c_str());
  } else {
    if (dirty_ || drawn_lines_ == 0) Draw();
    std::fprintf(out_, "%zu row%s in the result (%lld change%s received)%s\n", table_.size(),
                 table_.size() == 1 ? "" : "s", static_cast<long long>(changes_),
                 changes_ == 1 ? "" : "s", tail.c_str());
  }
  std::fflush(out_);
}

}  // namespace eddy::cli
