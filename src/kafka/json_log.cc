#include "kafka/json_log.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <vector>

namespace eddy::kafka {

absl::Status ReadJsonLinesLog(const std::string& path, std::string_view what,
                              const std::function<void(const nlohmann::json&)>& apply) {
  std::ifstream in(path);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  for (size_t i = 0; i < lines.size(); ++i) {
    nlohmann::json j = nlohmann::json::parse(lines[i], nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      if (i + 1 == lines.size()) {
        spdlog::warn("kafka: {}: ignoring a torn last line {} (a crash during a write)", path,
                     i + 1);
        break;
      }
      return absl::DataLossError(fmt::format("{}:{}: corrupt {} record", path, i + 1, what));
    }
    try {
      apply(j);
    } catch (const std::exception& e) {
      return absl::DataLossError(
          fmt::format("{}:{}: bad {} record: {}", path, i + 1, what, e.what()));
    }
  }
  return absl::OkStatus();
}

}  // namespace eddy::kafka
