// Subcommands implemented in their own files.
#pragma once

#include <string>
#include <vector>

namespace eddy::cli {

/// `eddy test-sql FILE…`: runs sqllogictest-style files (format in tests/sql/README.md).
/// Returns the process exit code: 0 when every record passed.
int RunSqlTests(const std::vector<std::string>& files);

}  // namespace eddy::cli
