// Typed configuration options (Flink's ConfigOption<T>): one registry of every option eddy reads —
// the SET keys of a session, the WITH options of each connector and format, and the command-line
// flags of `eddy run` and `eddy server` — each with its type, default, allowed range or values,
// whether it can change at runtime, and a one-line doc. Durations ('10 s', '500 ms', '1 min') and
// memory sizes ('64 mb', '1 gb') are parsed here, once, with their units.
//
// Adding an option is one declaration next to the code that reads it:
//
//   const auto kStateTtl = catalog::SessionOption("table.exec.state.ttl")
//                              .Duration("0 ms").Min(absl::ZeroDuration())
//                              .Doc("State of a key not updated for this long is dropped.");
//   ...
//   absl::Duration ttl = config.Get(kStateTtl);
//
// The declaration registers the option (at static initialization), so SET accepts the key, the
// value is checked against the type, and `eddy options --markdown` (docs/options.md) lists it.
// Table options name their connectors (`TableOption({"kafka"}, "topic")`), format options their
// format (`FormatOption("csv", "field-delimiter")`, set as 'csv.field-delimiter'), flags their
// command (`CommandFlag("eddy server", "--log-level")`).
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace eddy::catalog {

/// The syntax of an option's value.
enum class OptionType {
  kBool,        // 'true' or 'false' (any case)
  kInt,         // a decimal integer, within [min, max]
  kDuration,    // Flink's duration syntax ('500 ms', '10 s', '1 min'; no unit = ms), in [min, max]
  kMemorySize,  // Flink's memory size syntax ('64 mb', '1 gb'; no unit = bytes), in [min, max]
  kEnum,        // one of `allowed` (matched case-insensitively, read back as spelled there)
  kString,      // any text
  kChar,        // a single character, or '\t' for a tab
};

/// The shape of one option. Built by the builders below and immutable once registered.
struct OptionSpec {
  std::string key;  // 'parallelism.default'; a format option without its prefix; '--log-level'
  OptionType type = OptionType::kString;
  std::optional<std::string> default_value;  // as text; nullopt: none (absent means "not set")
  /// The default as the docs show it when it depends on the machine ("number of CPU cores").
  std::string default_doc;
  /// kInt: the value; kDuration: microseconds; kMemorySize: bytes.
  int64_t min = std::numeric_limits<int64_t>::min();
  int64_t max = std::numeric_limits<int64_t>::max();
  std::vector<std::string> allowed;  // kEnum, in the order docs list them
  /// Whether a new value takes effect while eddy runs (a SET applies from the next statement)
  /// rather than only when the table is created or the process starts.
  bool runtime = false;
  bool required = false;  // table options: CREATE TABLE fails without it
  /// The key is a prefix ending in '.' ('properties.'): every key under it is accepted as it is
  /// and passed on (to librdkafka); the value is not checked here.
  bool prefix = false;
  std::string doc;  // one line, a sentence
  // Where the option is set (one or more of):
  bool session = false;                 // SET 'key' = 'value' / `eddy run --set key=value`
  std::vector<std::string> connectors;  // WITH ('key' = …) of a table of these connectors
  std::string format;                   // WITH ('<format>.key' = …) when the table uses it
  std::string command;                  // a flag of this command ("eddy server")
};

using OptionSpecPtr = std::shared_ptr<const OptionSpec>;
/// Option values as written: SET values of a session, WITH options of a table.
using OptionMap = std::map<std::string, std::string>;

/// Parses a duration in Flink's syntax: an integer, optional spaces, then a unit (any case):
/// d|day|days, h|hour|hours, min|m|mins|minute|minutes, s|sec|secs|second|seconds,
/// ms|milli|millis|millisecond|milliseconds, µs|us|micro|micros|microsecond|microseconds,
/// ns|nano|nanos|nanosecond|nanoseconds; no unit means milliseconds (Flink: TimeUtils). Errors:
/// InvalidArgument saying what is wrong (no number, unknown unit, overflow).
absl::StatusOr<absl::Duration> ParseDuration(std::string_view text);

/// Parses a memory size in Flink's syntax: an integer, optional spaces, then a unit (any case):
/// b|bytes, k|kb|kibibytes, m|mb|mebibytes, g|gb|gibibytes, t|tb|tebibytes (powers of 1024); no
/// unit means bytes (Flink: MemorySize). Returns bytes. Errors: InvalidArgument as ParseDuration.
absl::StatusOr<int64_t> ParseMemorySize(std::string_view text);

/// A duration as the docs and messages write it: the largest unit that divides it ('0 ms',
/// '500 ms', '10 s', '1 min', '2 h', '1 d', '5 µs').
std::string DurationText(absl::Duration d);
/// A memory size the same way ('1 mb', '512 kb', '100 bytes').
std::string MemorySizeText(int64_t bytes);

/// The type as docs show it: "integer", "duration", "memory size", "enum", "boolean", "string",
/// "character".
std::string TypeName(OptionType type);
/// What `spec` accepts, for messages and docs: "an integer from 1 to 1048576", "one of 'fail',
/// 'skip', 'dead-letter'", "a duration such as '10 s', '500 ms' or '1 min'".
std::string Expectation(const OptionSpec& spec);

/// Checks `value` against `spec` (syntax, range, allowed values). Errors: InvalidArgument
/// "'<key>' must be <Expectation>, not '<value>'" (`shown_key` replaces the key when set: a
/// format option as the table spells it, 'key.csv.field-delimiter').
absl::Status CheckValue(const OptionSpec& spec, std::string_view value,
                        std::string_view shown_key = "");

/// A typed handle on a registered option (Flink's ConfigOption<T>). T is bool (kBool), int64_t
/// (kInt, kMemorySize in bytes), absl::Duration (kDuration), std::string (kString, kEnum) or
/// char (kChar). Cheap to copy; thread-safe (immutable).
template <typename T>
class ConfigOption {
 public:
  explicit ConfigOption(OptionSpecPtr spec) : spec_(std::move(spec)) {}

  const OptionSpec& spec() const { return *spec_; }
  const OptionSpecPtr& spec_ptr() const { return spec_; }
  const std::string& key() const { return spec_->key; }

  /// `text` as a value of this option. Errors: InvalidArgument from CheckValue.
  absl::StatusOr<T> Parse(std::string_view text) const;

  /// The value under key() in `values`, else the default. Errors: InvalidArgument from
  /// CheckValue, or "'<key>' is required" when it is neither set nor has a default.
  absl::StatusOr<T> Get(const OptionMap& values) const;

  /// The value under key() in `values` when set, nullopt when absent (the default is not used).
  /// Errors: InvalidArgument from CheckValue.
  absl::StatusOr<std::optional<T>> Find(const OptionMap& values) const;

 private:
  OptionSpecPtr spec_;
};

/// Builds one option; `Doc()` ends the declaration and registers it. Each method returns the
/// builder, so a declaration reads as one expression (Flink's ConfigOptions.key(…).…).
template <typename T>
class OptionBuilder {
 public:
  explicit OptionBuilder(OptionSpec spec) : spec_(std::move(spec)) {}
  /// Allowed range, inclusive (kInt, kMemorySize: in the value's unit; kDuration: as Durations).
  OptionBuilder& Range(T min, T max);
  OptionBuilder& Min(T min);
  /// A table option CREATE TABLE fails without.
  OptionBuilder& Required() {
    spec_.required = true;
    return *this;
  }
  /// Overrides whether a new value takes effect at runtime (default: true for SET keys, false
  /// for table options and flags).
  OptionBuilder& Runtime(bool runtime) {
    spec_.runtime = runtime;
    return *this;
  }
  /// The default as docs show it when the actual default depends on the machine.
  OptionBuilder& DefaultDoc(std::string text) {
    spec_.default_doc = std::move(text);
    return *this;
  }
  /// Also a table option of these connectors (a SET key that a table may override).
  OptionBuilder& AlsoTableOption(std::vector<std::string> connectors) {
    spec_.connectors = std::move(connectors);
    return *this;
  }
  /// Ends the declaration: registers the option and returns its handle. Aborts (at static
  /// initialization) when the key is already registered in the same place or the default does
  /// not pass the option's own check.
  ConfigOption<T> Doc(std::string doc);

 private:
  OptionSpec spec_;
};

/// The start of a declaration: the key and where it is set; then the type and default.
class OptionKey {
 public:
  explicit OptionKey(OptionSpec spec) : spec_(std::move(spec)) {}
  OptionBuilder<bool> Bool(bool def) const;
  OptionBuilder<bool> Bool() const;
  OptionBuilder<int64_t> Int(int64_t def) const;
  OptionBuilder<int64_t> Int() const;
  /// `def` in duration syntax ("0 ms", "5 s").
  OptionBuilder<absl::Duration> Duration(std::string def) const;
  OptionBuilder<absl::Duration> Duration() const;
  /// `def` in memory size syntax ("1 mb").
  OptionBuilder<int64_t> MemorySize(std::string def) const;
  OptionBuilder<int64_t> MemorySize() const;
  /// `def` must be one of `allowed`.
  OptionBuilder<std::string> Enum(std::string def, std::vector<std::string> allowed) const;
  OptionBuilder<std::string> Enum(std::vector<std::string> allowed) const;
  OptionBuilder<std::string> String(std::string def) const;
  OptionBuilder<std::string> String() const;
  OptionBuilder<char> Char(char def) const;
  OptionBuilder<char> Char() const;
  /// Every key under this prefix (which ends in '.') passes through unchecked.
  OptionBuilder<std::string> Prefix() const;

 private:
  OptionSpec spec_;
};

/// A SET key of a session (also `eddy run --set key=value`). Takes effect from the next statement.
OptionKey SessionOption(std::string key);
/// A WITH option of tables of these connectors.
OptionKey TableOption(std::vector<std::string> connectors, std::string key);
/// An option of a format, written '<format>.<key>' in WITH (with 'key.'/'value.' before it for
/// a Kafka key or value format).
OptionKey FormatOption(std::string format, std::string key);
/// A command-line flag of `command` ("eddy run", "eddy server"); `flag` as typed ("--data-dir").
OptionKey CommandFlag(std::string command, std::string flag);

// ---- the registry --------------------------------------------------------------------------

/// Every SET key, sorted by key.
std::vector<OptionSpecPtr> SessionOptions();
/// The SET key `key`, or null.
OptionSpecPtr FindSessionOption(std::string_view key);
/// The WITH options registered for `connector` (prefix options included), sorted by key.
std::vector<OptionSpecPtr> ConnectorOptions(std::string_view connector);
/// The options of `format` (keys without the format prefix), sorted by key.
std::vector<OptionSpecPtr> FormatOptions(std::string_view format);
/// The formats that have options, sorted.
std::vector<std::string> FormatsWithOptions();
/// The flags of `command`, in registration order; the commands that have flags, in registration
/// order.
std::vector<OptionSpecPtr> CommandFlags(std::string_view command);
std::vector<std::string> Commands();

/// Checks `SET key = value`: the key is a SET key and the value fits it. Errors:
/// InvalidArgument "unknown configuration key '<key>'" (with `*hint` "did you mean '…'?" when a
/// key is close) or CheckValue's error.
absl::Status CheckSetting(std::string_view key, std::string_view value, std::string* hint);

/// An option that chooses a table's format ('format' = 'csv'), and the prefix before the
/// format's own options ("" for 'csv.field-delimiter', "key." for 'key.csv.field-delimiter').
struct FormatSelector {
  std::string key;
  std::string prefix;
};

/// What a connector accepts in WITH, for ValidateTableOptions.
struct TableOptionRules {
  std::string connector;
  std::vector<OptionSpecPtr> options;  // exact keys, patterns, prefixes ('connector' implicit)
  std::vector<FormatSelector> format_selectors;
};

/// Whether `key` matches the option key `pattern`, in which a '#' stands for any non-empty text
/// (Flink's 'fields.#.kind', '#' being a column name): 'fields.id.kind' matches it. A pattern
/// without '#' matches itself only.
bool MatchesPattern(std::string_view pattern, std::string_view key);

/// Checks a table's WITH options against `rules` (Flink's FactoryUtil validation): every key is
/// an option of the connector (or matches one whose key has a '#', MatchesPattern), an option
/// of a format the table selects, or under a prefix option; every value fits its option; every
/// required option is present. Errors: InvalidArgument "unsupported option '<key>' for connector
/// '<c>'" (with `*hint`: the closest key, or which format a key belongs to, or the supported keys),
/// CheckValue's errors, and "connector '<c>' needs the option '<key>' (<doc>)".
absl::Status ValidateTableOptions(const TableOptionRules& rules, const OptionMap& options,
                                  std::string* hint);

/// docs/options.md as generated from the registry, with `connectors` (one section each: its doc
/// and capabilities as given, then its options) placed between SET keys and formats.
struct ConnectorDoc {
  std::string identifier;
  std::string summary;  // markdown lines: what it is, source/sink/lookup, metadata columns
  std::vector<OptionSpecPtr> options;
  std::vector<FormatSelector> format_selectors;
};
std::string OptionsMarkdown(const std::vector<ConnectorDoc>& connectors);

}  // namespace eddy::catalog
