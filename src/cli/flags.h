// Command-line flags from the option registry: a flag is declared once with
// catalog::CommandFlag (type, default, allowed values, doc) and wired into CLI11 here, so
// `--help`, the checks of its value and docs/options.md all come from that declaration.
#pragma once

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "catalog/options.h"

namespace eddy::cli {

/// The help text of `spec`: its doc, and its allowed values when it is an enum.
inline std::string FlagHelp(const catalog::OptionSpec& spec) {
  std::string help = spec.doc;
  if (spec.type == catalog::OptionType::kEnum) {
    if (!help.empty() && help.back() == '.') help.pop_back();
    help += fmt::format(" (one of: {}).", fmt::join(spec.allowed, ", "));
  }
  return help;
}

/// A CLI11 check that runs the registry's CheckValue; CLI11 puts the flag before the message:
/// "--log-level: must be one of 'debug', …, not 'bogus'".
inline CLI::Validator FlagCheck(const catalog::OptionSpecPtr& spec) {
  return CLI::Validator(
      [spec](std::string& value) -> std::string {
        absl::Status st = catalog::CheckValue(*spec, value);
        if (st.ok()) return "";
        std::string msg(st.message());
        std::string named = "'" + spec->key + "' ";
        return msg.rfind(named, 0) == 0 ? msg.substr(named.size()) : msg;
      },
      "", catalog::TypeName(spec->type));
}

/// The value placeholder of a flag in --help: INT, DURATION, ENUM, TEXT, …
inline std::string FlagTypeName(const catalog::OptionSpec& spec) {
  switch (spec.type) {
    case catalog::OptionType::kInt:
      return "INT";
    case catalog::OptionType::kDuration:
      return "DURATION";
    case catalog::OptionType::kMemorySize:
      return "SIZE";
    case catalog::OptionType::kEnum:
      return "ENUM";
    default:
      return "TEXT";
  }
}

/// The CLI11 names of a flag key: "-e, --execute" → "-e,--execute".
inline std::string FlagNames(const std::string& key) {
  std::string out;
  for (size_t i = 0; i < key.size(); ++i) {
    if (key[i] == ' ' && i > 0 && key[i - 1] == ',') continue;
    out += key[i];
  }
  return out;
}

/// Adds the flag `option` (declared with catalog::CommandFlag as "--name" or "-n, --name"; a key
/// without '-' is a positional argument) to `cmd`, storing its value in `*target`, which starts
/// at the option's default. `names` overrides the CLI11 names. A bool option is a switch without
/// a value. Returns the CLI11 option for further settings.
template <typename T, typename U>
CLI::Option* AddFlag(CLI::App* cmd, const catalog::ConfigOption<T>& option, U* target,
                     const std::string& names = "") {
  const catalog::OptionSpec& spec = option.spec();
  if (spec.default_value) *target = static_cast<U>(*option.Parse(*spec.default_value));
  std::string name = names.empty() ? FlagNames(spec.key) : names;
  if constexpr (std::is_same_v<T, bool>) {
    return cmd->add_flag(name, *target, FlagHelp(spec));
  } else {
    CLI::Option* o = cmd->add_option_function<std::string>(
        name,
        [option, target](const std::string& v) { *target = static_cast<U>(*option.Parse(v)); },
        FlagHelp(spec));
    o->check(FlagCheck(option.spec_ptr()));
    o->type_name(FlagTypeName(spec));
    if (spec.default_value && !spec.default_value->empty()) o->default_str(*spec.default_value);
    if (spec.required) o->required();
    return o;
  }
}

/// Adds a repeatable flag (a string option): each occurrence appends its value to `*target`.
inline CLI::Option* AddRepeatedFlag(CLI::App* cmd, const catalog::ConfigOption<std::string>& option,
                                    std::vector<std::string>* target,
                                    const std::string& names = "") {
  const catalog::OptionSpec& spec = option.spec();
  CLI::Option* o =
      cmd->add_option(names.empty() ? FlagNames(spec.key) : names, *target, FlagHelp(spec));
  o->check(FlagCheck(option.spec_ptr()));
  return o;
}

}  // namespace eddy::cli
