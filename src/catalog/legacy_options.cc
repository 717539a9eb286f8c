#include "catalog/legacy_options.h"

#include <fmt/format.h>

#include <optional>
#include <vector>

namespace eddy::catalog {

namespace {

bool StartsWith(const std::string& s, std::string_view p) { return s.rfind(p, 0) == 0; }

// The new key of old key `k` (with the table's format `format` for 'format.<k>'), or nullopt when
// it has none.
std::optional<std::string> NewKey(const std::string& k, const std::string& format) {
  if (k == "connector.type") return "connector";
  if (k == "connector.path") return "path";
  if (k == "connector.topic") return "topic";
  if (k == "connector.startup-mode") return "scan.startup.mode";
  if (StartsWith(k, "connector.properties.")) return k.substr(std::string("connector.").size());
  if (k == "format.type") return "format";
  if (StartsWith(k, "format.") && !format.empty() && k != "format.derive-schema") {
    return format + "." + k.substr(std::string("format.").size());
  }
  return std::nullopt;
}

}  // namespace

absl::Status MapLegacyTableOptions(OptionMap* options, std::string* hint) {
  std::vector<std::string> old;
  for (const auto& [k, v] : *options) {
    if (StartsWith(k, "connector.") || (StartsWith(k, "format.") && k != "format")) {
      old.push_back(k);
    }
  }
  if (old.empty()) return absl::OkStatus();
  std::string format;
  if (auto it = options->find("format.type"); it != options->end()) format = it->second;
  if (auto it = options->find("format"); it != options->end()) format = it->second;
  OptionMap out = *options;
  for (const std::string& k : old) {
    std::optional<std::string> nk = NewKey(k, format);
    if (!nk) {
      *hint =
          "eddy reads Flink's old keys that have a new equivalent ('connector.type', "
          "'connector.path', 'format.type', …) as the new ones; this one has none";
      return absl::InvalidArgumentError(
          fmt::format("'{}' is Flink's old option key (connector.type style) and has no "
                      "equivalent: remove it",
                      k));
    }
    if (options->count(*nk)) {
      *hint = fmt::format("'{}' is Flink's old key for '{}': keep only '{}'", k, *nk, *nk);
      return absl::InvalidArgumentError(
          fmt::format("option '{}' is set twice, also as the old key '{}'", *nk, k));
    }
    out.erase(k);
    out[*nk] = options->at(k);
  }
  *options = std::move(out);
  return absl::OkStatus();
}

}  // namespace eddy::catalog
