// Logging: spdlog on stderr. Logs say what happened in words (DEVELOPERS.md).
#pragma once

#include <spdlog/spdlog.h>

namespace eddy {

/// Sets the process-wide log level from a name ("debug", "info", "warn", "error", "off").
/// Thread-safe; call once at start.
void SetLogLevel(const std::string& level);

}  // namespace eddy
