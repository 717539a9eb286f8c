// Flink's old-style table option keys (the `connector.type` / `format.type` descriptors of
// Flink < 1.11, still written by older jobs such as Nexmark q13's side input): the ones that map
// one-to-one onto today's keys are accepted and read as the new key; the others are rejected
// with an error naming what to write instead.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "catalog/options.h"

namespace eddy::catalog {

/// Rewrites the old keys of `options` into their new names in place:
///   'connector.type' → 'connector', 'connector.path' → 'path', 'connector.topic' → 'topic',
///   'connector.properties.<k>' → 'properties.<k>', 'connector.startup-mode' →
///   'scan.startup.mode', 'format.type' → 'format', 'format.<k>' → '<format>.<k>' (e.g.
///   'format.field-delimiter' → 'csv.field-delimiter').
/// Errors: InvalidArgument when an old key has no new equivalent ('connector.version', …:
/// "'connector.version' is Flink's old key (…): remove it") or when a table sets both an old key
/// and its new one. `*hint` receives a hint for the error.
absl::Status MapLegacyTableOptions(OptionMap* options, std::string* hint);

}  // namespace eddy::catalog
