#include "catalog/options.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <set>

#include "base/status.h"
#include "base/strings.h"

namespace eddy::catalog {

namespace {

// ---- value syntax ----------------------------------------------------------------------------

// Splits "<digits><spaces><unit>" after trimming: the number and the lower-case unit.
absl::Status SplitNumberUnit(std::string_view text, int64_t* number, std::string* unit) {
  size_t b = 0, e = text.size();
  while (b < e && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1]))) --e;
  text = text.substr(b, e - b);
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return absl::InvalidArgumentError("it does not start with a number");
  int64_t n = 0;
  for (size_t i = 0; i < digits; ++i) {
    int d = text[i] - '0';
    if (n > (std::numeric_limits<int64_t>::max() - d) / 10) {
      return absl::InvalidArgumentError("the number is too large");
    }
    n = n * 10 + d;
  }
  size_t u = digits;
  while (u < text.size() && std::isspace(static_cast<unsigned char>(text[u]))) ++u;
  *number = n;
  *unit = ToLower(text.substr(u));
  return absl::OkStatus();
}

struct Unit {
  const char* const* labels;  // null-terminated
  int64_t factor;
};

const char* const kNs[] = {"ns", "nano", "nanos", "nanosecond", "nanoseconds", nullptr};
const char* const kUs[] = {"µs", "us", "micro", "micros", "microsecond", "microseconds", nullptr};
const char* const kMs[] = {"ms", "milli", "millis", "millisecond", "milliseconds", nullptr};
const char* const kS[] = {"s", "sec", "secs", "second", "seconds", nullptr};
const char* const kMin[] = {"min", "m", "mins", "minute", "minutes", nullptr};
const char* const kH[] = {"h", "hour", "hours", nullptr};
const char* const kD[] = {"d", "day", "days", nullptr};
// Factors in nanoseconds.
const Unit kTimeUnits[] = {{kNs, 1},
                           {kUs, 1000},
                           {kMs, 1000 * 1000},
                           {kS, 1000 * 1000 * 1000},
                           {kMin, 60LL * 1000 * 1000 * 1000},
                           {kH, 3600LL * 1000 * 1000 * 1000},
                           {kD, 86400LL * 1000 * 1000 * 1000}};

const char* const kB[] = {"b", "bytes", nullptr};
const char* const kKb[] = {"k", "kb", "kibibytes", nullptr};
const char* const kMb[] = {"m", "mb", "mebibytes", nullptr};
const char* const kGb[] = {"g", "gb", "gibibytes", nullptr};
const char* const kTb[] = {"t", "tb", "tebibytes", nullptr};
const Unit kSizeUnits[] = {
    {kB, 1}, {kKb, 1LL << 10}, {kMb, 1LL << 20}, {kGb, 1LL << 30}, {kTb, 1LL << 40}};

template <size_t N>
const Unit* FindUnit(const Unit (&units)[N], const std::string& label) {
  for (const Unit& u : units) {
    for (const char* const* l = u.labels; *l; ++l) {
      if (label == *l) return &u;
    }
  }
  return nullptr;
}

template <size_t N>
absl::StatusOr<int64_t> ParseWithUnits(std::string_view text, const Unit (&units)[N],
                                       int64_t default_factor, const char* what) {
  int64_t n = 0;
  std::string unit;
  EDDY_RETURN_IF_ERROR(SplitNumberUnit(text, &n, &unit));
  int64_t factor = default_factor;
  if (!unit.empty()) {
    const Unit* u = FindUnit(units, unit);
    if (!u) {
      std::vector<std::string> all;
      for (const Unit& x : units) {
        for (const char* const* l = x.labels; *l; ++l) all.push_back(*l);
      }
      return absl::InvalidArgumentError(
          fmt::format("unknown {} unit '{}' (units: {})", what, unit, fmt::join(all, ", ")));
    }
    factor = u->factor;
  }
  if (n > std::numeric_limits<int64_t>::max() / factor) {
    return absl::InvalidArgumentError("the value is too large");
  }
  return n * factor;
}

int64_t ToMicros(absl::Duration d) { return absl::ToInt64Microseconds(d); }

// ---- the registry -----------------------------------------------------------------------------

struct Registry {
  std::mutex mu;
  std::vector<OptionSpecPtr> all;  // registration order
};

Registry& TheRegistry() {
  static Registry* r = new Registry();  // never destroyed: options outlive static destructors
  return *r;
}

bool SamePlace(const OptionSpec& a, const OptionSpec& b) {
  if (a.key != b.key) return false;
  if (a.session && b.session) return true;
  for (const auto& c : a.connectors) {
    if (std::find(b.connectors.begin(), b.connectors.end(), c) != b.connectors.end()) return true;
  }
  if (!a.format.empty() && a.format == b.format) return true;
  return !a.command.empty() && a.command == b.command;
}

void Register(OptionSpecPtr spec) {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> l(r.mu);
  for (const auto& o : r.all) {
    if (SamePlace(*o, *spec)) {
      std::fprintf(stderr, "eddy: option '%s' is registered twice\n", spec->key.c_str());
      std::abort();
    }
  }
  r.all.push_back(std::move(spec));
}

template <typename Pred>
std::vector<OptionSpecPtr> Select(Pred pred, bool sorted) {
  Registry& r = TheRegistry();
  std::vector<OptionSpecPtr> out;
  {
    std::lock_guard<std::mutex> l(r.mu);
    for (const auto& o : r.all) {
      if (pred(*o)) out.push_back(o);
    }
  }
  if (sorted) {
    std::stable_sort(out.begin(), out.end(), [](const OptionSpecPtr& a, const OptionSpecPtr& b) {
      return a->key < b->key;
    });
  }
  return out;
}

std::string Quoted(const std::vector<std::string>& v) {
  std::vector<std::string> q;
  for (const auto& s : v) q.push_back("'" + s + "'");
  return fmt::format("{}", fmt::join(q, ", "));
}

// Typed conversion of a value that passed CheckValue.
template <typename T>
T Convert(const OptionSpec& spec, std::string_view text);

template <>
bool Convert<bool>(const OptionSpec&, std::string_view text) {
  return ToLower(text) == "true";
}
template <>
int64_t Convert<int64_t>(const OptionSpec& spec, std::string_view text) {
  if (spec.type == OptionType::kMemorySize) return *ParseMemorySize(text);
  return std::stoll(std::string(text));
}
template <>
absl::Duration Convert<absl::Duration>(const OptionSpec&, std::string_view text) {
  return *ParseDuration(text);
}
template <>
std::string Convert<std::string>(const OptionSpec& spec, std::string_view text) {
  if (spec.type == OptionType::kEnum) {
    for (const auto& a : spec.allowed) {
      if (ToLower(a) == ToLower(text)) return a;
    }
  }
  return std::string(text);
}
template <>
char Convert<char>(const OptionSpec&, std::string_view text) {
  return text == "\\t" ? '\t' : text[0];
}

int64_t RangeValue(int64_t v) { return v; }
int64_t RangeValue(absl::Duration d) { return ToMicros(d); }
template <typename T>
int64_t RangeValue(const T&) {
  std::fprintf(stderr, "eddy: Range/Min on an option that is not a number\n");
  std::abort();
}

std::string DefaultText(bool v) { return v ? "true" : "false"; }
std::string DefaultText(int64_t v) { return std::to_string(v); }

}  // namespace

// ---- value syntax ------------------------------------------------------------------------------

absl::StatusOr<absl::Duration> ParseDuration(std::string_view text) {
  EDDY_ASSIGN_OR_RETURN(int64_t ns, ParseWithUnits(text, kTimeUnits, 1000 * 1000, "time"));
  return absl::Nanoseconds(ns);
}

absl::StatusOr<int64_t> ParseMemorySize(std::string_view text) {
  return ParseWithUnits(text, kSizeUnits, 1, "memory size");
}

std::string DurationText(absl::Duration d) {
  int64_t ns = absl::ToInt64Nanoseconds(d);
  if (ns == 0) return "0 ms";
  struct U {
    int64_t factor;
    const char* name;
  };
  static const U kUnits[] = {{86400LL * 1000 * 1000 * 1000, "d"},
                             {3600LL * 1000 * 1000 * 1000, "h"},
                             {60LL * 1000 * 1000 * 1000, "min"},
                             {1000LL * 1000 * 1000, "s"},
                             {1000LL * 1000, "ms"},
                             {1000, "µs"},
                             {1, "ns"}};
  for (const U& u : kUnits) {
    if (ns % u.factor == 0) return fmt::format("{} {}", ns / u.factor, u.name);
  }
  return fmt::format("{} ns", ns);
}

std::string MemorySizeText(int64_t bytes) {
  if (bytes == 0) return "0 bytes";
  if (bytes == 1) return "1 byte";
  static const std::pair<int64_t, const char*> kUnits[] = {
      {1LL << 40, "tb"}, {1LL << 30, "gb"}, {1LL << 20, "mb"}, {1LL << 10, "kb"}};
  for (const auto& [f, name] : kUnits) {
    if (bytes % f == 0) return fmt::format("{} {}", bytes / f, name);
  }
  return fmt::format("{} bytes", bytes);
}

std::string TypeName(OptionType type) {
  switch (type) {
    case OptionType::kBool:
      return "boolean";
    case OptionType::kInt:
      return "integer";
    case OptionType::kDuration:
      return "duration";
    case OptionType::kMemorySize:
      return "memory size";
    case OptionType::kEnum:
      return "enum";
    case OptionType::kString:
      return "string";
    case OptionType::kChar:
      return "character";
  }
  return "string";
}

std::string Expectation(const OptionSpec& spec) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  auto range = [&](auto show) -> std::string {
    if (spec.min != kMin && spec.max != kMax) {
      return fmt::format(" from {} to {}", show(spec.min), show(spec.max));
    }
    if (spec.min != kMin) return fmt::format(" of at least {}", show(spec.min));
    if (spec.max != kMax) return fmt::format(" of at most {}", show(spec.max));
    return "";
  };
  switch (spec.type) {
    case OptionType::kBool:
      return "'true' or 'false'";
    case OptionType::kInt:
      return "an integer" + range([](int64_t v) { return std::to_string(v); });
    case OptionType::kDuration:
      return "a duration" +
             range([](int64_t v) { return "'" + DurationText(absl::Microseconds(v)) + "'"; }) +
             " such as '10 s', '500 ms' or '1 min' (units: ms, s, min, h, d; no unit: ms)";
    case OptionType::kMemorySize:
      return "a memory size" + range([](int64_t v) { return "'" + MemorySizeText(v) + "'"; }) +
             " such as '64 mb' or '1 gb' (units: bytes, kb, mb, gb, tb; no unit: bytes)";
    case OptionType::kEnum:
      return "one of " + Quoted(spec.allowed);
    case OptionType::kString:
      return "a string";
    case OptionType::kChar:
      return "a single character (or '\\t' for a tab)";
  }
  return "a string";
}

absl::Status CheckValue(const OptionSpec& spec, std::string_view value,
                        std::string_view shown_key) {
  std::string key(shown_key.empty() ? std::string_view(spec.key) : shown_key);
  auto bad = [&](std::string why = "") {
    return absl::InvalidArgumentError(fmt::format("'{}' must be {}, not '{}'{}", key,
                                                  Expectation(spec), value,
                                                  why.empty() ? "" : " (" + why + ")"));
  };
  auto in_range = [&](int64_t v) { return v >= spec.min && v <= spec.max; };
  switch (spec.type) {
    case OptionType::kBool: {
      std::string v = ToLower(value);
      if (v != "true" && v != "false") return bad();
      return absl::OkStatus();
    }
    case OptionType::kInt: {
      std::string v(value);
      size_t used = 0;
      int64_t n = 0;
      try {
        n = std::stoll(v, &used);
      } catch (...) {
        return bad();
      }
      if (used != v.size() || v.empty() || std::isspace(static_cast<unsigned char>(v[0]))) {
        return bad();
      }
      if (!in_range(n)) return bad();
      return absl::OkStatus();
    }
    case OptionType::kDuration: {
      auto d = ParseDuration(value);
      if (!d.ok()) return bad(std::string(d.status().message()));
      if (!in_range(ToMicros(*d))) return bad();
      return absl::OkStatus();
    }
    case OptionType::kMemorySize: {
      auto b = ParseMemorySize(value);
      if (!b.ok()) return bad(std::string(b.status().message()));
      if (!in_range(*b)) return bad();
      return absl::OkStatus();
    }
    case OptionType::kEnum:
      for (const auto& a : spec.allowed) {
        if (ToLower(a) == ToLower(value)) return absl::OkStatus();
      }
      return bad();
    case OptionType::kString:
      return absl::OkStatus();
    case OptionType::kChar:
      if (value.size() == 1 || value == "\\t") return absl::OkStatus();
      return bad();
  }
  return absl::OkStatus();
}

// ---- ConfigOption ------------------------------------------------------------------------------

template <typename T>
absl::StatusOr<T> ConfigOption<T>::Parse(std::string_view text) const {
  EDDY_RETURN_IF_ERROR(CheckValue(*spec_, text));
  return Convert<T>(*spec_, text);
}

template <typename T>
absl::StatusOr<T> ConfigOption<T>::Get(const OptionMap& values) const {
  auto it = values.find(spec_->key);
  if (it != values.end()) return Parse(it->second);
  if (spec_->default_value) return Parse(*spec_->default_value);
  return absl::InvalidArgumentError(fmt::format("'{}' is required", spec_->key));
}

template <typename T>
absl::StatusOr<std::optional<T>> ConfigOption<T>::Find(const OptionMap& values) const {
  auto it = values.find(spec_->key);
  if (it == values.end()) return std::optional<T>();
  EDDY_ASSIGN_OR_RETURN(T v, Parse(it->second));
  return std::optional<T>(std::move(v));
}

template class ConfigOption<bool>;
template class ConfigOption<int64_t>;
template class ConfigOption<absl::Duration>;
template class ConfigOption<std::string>;
template class ConfigOption<char>;

// ---- builders ----------------------------------------------------------------------------------

template <typename T>
OptionBuilder<T>& OptionBuilder<T>::Range(T min, T max) {
  spec_.min = RangeValue(min);
  spec_.max = RangeValue(max);
  return *this;
}

template <typename T>
OptionBuilder<T>& OptionBuilder<T>::Min(T min) {
  spec_.min = RangeValue(min);
  return *this;
}

template <typename T>
ConfigOption<T> OptionBuilder<T>::Doc(std::string doc) {
  spec_.doc = std::move(doc);
  if (spec_.session && !spec_.default_value) {
    std::fprintf(stderr, "eddy: SET key '%s' needs a default\n", spec_.key.c_str());
    std::abort();
  }
  if (spec_.default_value) {
    absl::Status st = CheckValue(spec_, *spec_.default_value);
    if (!st.ok()) {
      std::fprintf(stderr, "eddy: the default of option '%s' is invalid: %s\n", spec_.key.c_str(),
                   std::string(st.message()).c_str());
      std::abort();
    }
  }
  auto p = std::make_shared<const OptionSpec>(spec_);
  Register(p);
  return ConfigOption<T>(p);
}

template class OptionBuilder<bool>;
template class OptionBuilder<int64_t>;
template class OptionBuilder<absl::Duration>;
template class OptionBuilder<std::string>;
template class OptionBuilder<char>;

namespace {
template <typename T>
OptionBuilder<T> Typed(OptionSpec spec, OptionType type, std::optional<std::string> def) {
  spec.type = type;
  spec.default_value = std::move(def);
  return OptionBuilder<T>(std::move(spec));
}
}  // namespace

OptionBuilder<bool> OptionKey::Bool(bool def) const {
  return Typed<bool>(spec_, OptionType::kBool, DefaultText(def));
}
OptionBuilder<bool> OptionKey::Bool() const {
  return Typed<bool>(spec_, OptionType::kBool, std::nullopt);
}
OptionBuilder<int64_t> OptionKey::Int(int64_t def) const {
  return Typed<int64_t>(spec_, OptionType::kInt, DefaultText(def));
}
OptionBuilder<int64_t> OptionKey::Int() const {
  return Typed<int64_t>(spec_, OptionType::kInt, std::nullopt);
}
OptionBuilder<absl::Duration> OptionKey::Duration(std::string def) const {
  return Typed<absl::Duration>(spec_, OptionType::kDuration, std::move(def));
}
OptionBuilder<absl::Duration> OptionKey::Duration() const {
  return Typed<absl::Duration>(spec_, OptionType::kDuration, std::nullopt);
}
OptionBuilder<int64_t> OptionKey::MemorySize(std::string def) const {
  return Typed<int64_t>(spec_, OptionType::kMemorySize, std::move(def));
}
OptionBuilder<int64_t> OptionKey::MemorySize() const {
  return Typed<int64_t>(spec_, OptionType::kMemorySize, std::nullopt);
}
OptionBuilder<std::string> OptionKey::Enum(std::string def,
                                           std::vector<std::string> allowed) const {
  OptionSpec s = spec_;
  s.allowed = std::move(allowed);
  return Typed<std::string>(std::move(s), OptionType::kEnum, std::move(def));
}
OptionBuilder<std::string> OptionKey::Enum(std::vector<std::string> allowed) const {
  OptionSpec s = spec_;
  s.allowed = std::move(allowed);
  return Typed<std::string>(std::move(s), OptionType::kEnum, std::nullopt);
}
OptionBuilder<std::string> OptionKey::String(std::string def) const {
  return Typed<std::string>(spec_, OptionType::kString, std::move(def));
}
OptionBuilder<std::string> OptionKey::String() const {
  return Typed<std::string>(spec_, OptionType::kString, std::nullopt);
}
OptionBuilder<char> OptionKey::Char(char def) const {
  return Typed<char>(spec_, OptionType::kChar, def == '\t' ? "\\t" : std::string(1, def));
}
OptionBuilder<char> OptionKey::Char() const {
  return Typed<char>(spec_, OptionType::kChar, std::nullopt);
}
OptionBuilder<std::string> OptionKey::Prefix() const {
  EDDY_CHECK(!spec_.key.empty() && spec_.key.back() == '.');
  OptionSpec s = spec_;
  s.prefix = true;
  return Typed<std::string>(std::move(s), OptionType::kString, std::nullopt);
}

OptionKey SessionOption(std::string key) {
  OptionSpec s;
  s.key = std::move(key);
  s.session = true;
  s.runtime = true;
  return OptionKey(std::move(s));
}

OptionKey TableOption(std::vector<std::string> connectors, std::string key) {
  OptionSpec s;
  s.key = std::move(key);
  s.connectors = std::move(connectors);
  return OptionKey(std::move(s));
}

OptionKey FormatOption(std::string format, std::string key) {
  OptionSpec s;
  s.key = std::move(key);
  s.format = std::move(format);
  return OptionKey(std::move(s));
}

OptionKey CommandFlag(std::string command, std::string flag) {
  OptionSpec s;
  s.key = std::move(flag);
  s.command = std::move(command);
  return OptionKey(std::move(s));
}

// ---- the registry ------------------------------------------------------------------------------

std::vector<OptionSpecPtr> SessionOptions() {
  return Select([](const OptionSpec& o) { return o.session; }, true);
}

OptionSpecPtr FindSessionOption(std::string_view key) {
  for (const auto& o : SessionOptions()) {
    if (o->key == key) return o;
  }
  return nullptr;
}

std::vector<OptionSpecPtr> ConnectorOptions(std::string_view connector) {
  return Select(
      [&](const OptionSpec& o) {
        return std::find(o.connectors.begin(), o.connectors.end(), connector) != o.connectors.end();
      },
      true);
}

std::vector<OptionSpecPtr> FormatOptions(std::string_view format) {
  return Select([&](const OptionSpec& o) { return o.format == format; }, true);
}

std::vector<std::string> FormatsWithOptions() {
  std::set<std::string> f;
  for (const auto& o : Select([](const OptionSpec& o) { return !o.format.empty(); }, false)) {
    f.insert(o->format);
  }
  return {f.begin(), f.end()};
}

std::vector<OptionSpecPtr> CommandFlags(std::string_view command) {
  return Select([&](const OptionSpec& o) { return o.command == command; }, false);
}

std::vector<std::string> Commands() {
  std::vector<std::string> out;
  for (const auto& o : Select([](const OptionSpec& o) { return !o.command.empty(); }, false)) {
    if (std::find(out.begin(), out.end(), o->command) == out.end()) out.push_back(o->command);
  }
  return out;
}

absl::Status CheckSetting(std::string_view key, std::string_view value, std::string* hint) {
  OptionSpecPtr spec = FindSessionOption(key);
  if (!spec) {
    std::vector<std::string> keys;
    for (const auto& o : SessionOptions()) keys.push_back(o->key);
    std::string near = ClosestName(key, keys);
    if (hint) {
      *hint = near.empty() ? "`SET;` lists the configuration keys (docs/options.md describes them)"
                           : fmt::format("did you mean '{}'?", near);
    }
    return absl::InvalidArgumentError(fmt::format("unknown configuration key '{}'", key));
  }
  return CheckValue(*spec, value);
}

bool MatchesPattern(std::string_view pattern, std::string_view key) {
  size_t hash = pattern.find('#');
  if (hash == std::string_view::npos) return pattern == key;
  std::string_view before = pattern.substr(0, hash), after = pattern.substr(hash + 1);
  return key.size() > before.size() + after.size() && key.substr(0, before.size()) == before &&
         key.substr(key.size() - after.size()) == after;
}

absl::Status ValidateTableOptions(const TableOptionRules& rules, const OptionMap& options,
                                  std::string* hint) {
  // Every key the table may use, with its option and the key as the table spells it.
  std::map<std::string, OptionSpecPtr> exact;
  std::vector<OptionSpecPtr> prefixes;
  std::vector<OptionSpecPtr> patterns;  // keys with '#' ('fields.#.kind')
  for (const auto& o : rules.options) {
    if (o->prefix) {
      prefixes.push_back(o);
    } else if (o->key.find('#') != std::string::npos) {
      patterns.push_back(o);
    } else {
      exact[o->key] = o;
    }
  }
  // Format options of the formats the table selects; and of the others, for hints.
  std::map<std::string, std::string> other_format;  // key → "format 'json'"
  for (const auto& sel : rules.format_selectors) {
    auto it = options.find(sel.key);
    for (const auto& f : FormatsWithOptions()) {
      for (const auto& o : FormatOptions(f)) {
        std::string key = sel.prefix + f + "." + o->key;
        if (it != options.end() && ToLower(it->second) == f) {
          exact[key] = o;
        } else {
          other_format.emplace(
              key, fmt::format("an option of format '{}', and '{}' is {}", f, sel.key,
                               it == options.end() ? "not set" : "'" + it->second + "'"));
        }
      }
    }
  }
  for (const auto& [k, v] : options) {
    if (k == "connector") continue;
    auto e = exact.find(k);
    if (e != exact.end()) {
      EDDY_RETURN_IF_ERROR(CheckValue(*e->second, v, k));
      continue;
    }
    const OptionSpecPtr* pattern = nullptr;
    for (const auto& p : patterns) {
      if (MatchesPattern(p->key, k)) pattern = &p;
    }
    if (pattern) {
      EDDY_RETURN_IF_ERROR(CheckValue(**pattern, v, k));
      continue;
    }
    bool under_prefix = false;
    for (const auto& p : prefixes) {
      if (k.size() > p->key.size() && k.compare(0, p->key.size(), p->key) == 0) {
        under_prefix = true;
      }
    }
    if (under_prefix) continue;
    std::vector<std::string> keys;
    for (const auto& [key, o] : exact) keys.push_back(key);
    for (const auto& p : prefixes) keys.push_back(p->key + "*");
    for (const auto& p : patterns) keys.push_back(p->key);
    if (hint) {
      auto of = other_format.find(k);
      std::string near = ClosestName(k, keys);
      if (of != other_format.end()) {
        *hint = fmt::format("'{}' is {}", k, of->second);
      } else if (!near.empty()) {
        *hint = fmt::format("did you mean '{}'?", near);
      } else {
        std::vector<std::string> all = {"connector"};
        all.insert(all.end(), keys.begin(), keys.end());
        *hint = fmt::format("supported options: {}", fmt::join(all, ", "));
      }
    }
    return absl::InvalidArgumentError(
        fmt::format("unsupported option '{}' for connector '{}'", k, rules.connector));
  }
  for (const auto& o : rules.options) {
    if (o->required && !options.count(o->key)) {
      return absl::InvalidArgumentError(fmt::format("connector '{}' needs the option '{}' ({})",
                                                    rules.connector, o->key, o->doc));
    }
  }
  return absl::OkStatus();
}

// ---- docs --------------------------------------------------------------------------------------

namespace {

std::string Cell(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += ' ';
    else
      out += c;
  }
  return out;
}

std::string TypeCell(const OptionSpec& o) {
  if (o.prefix) return "any (passed on)";
  if (o.type == OptionType::kEnum) return Cell("enum: " + Quoted(o.allowed));
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  auto show = [&](int64_t v) {
    if (o.type == OptionType::kDuration) return DurationText(absl::Microseconds(v));
    if (o.type == OptionType::kMemorySize) return MemorySizeText(v);
    return std::to_string(v);
  };
  std::string t = TypeName(o.type);
  if (o.min != kMin && o.max != kMax)
    return fmt::format("{}, {} … {}", t, show(o.min), show(o.max));
  if (o.min != kMin) return fmt::format("{}, ≥ {}", t, show(o.min));
  if (o.max != kMax) return fmt::format("{}, ≤ {}", t, show(o.max));
  return t;
}

std::string DefaultCell(const OptionSpec& o, bool table) {
  if (!o.default_doc.empty()) return Cell(o.default_doc);
  if (table && o.session) return fmt::format("the `SET '{}'` value", o.key);
  if (!o.default_value) return o.required ? "(required)" : "(none)";
  if (o.default_value->empty()) return "(empty)";
  return "`" + Cell(*o.default_value) + "`";
}

enum class Place { kSession, kTable, kFlag };

void Table(std::string* out, const std::vector<OptionSpecPtr>& opts, const std::string& prefix,
           Place place) {
  bool runtime_column = place == Place::kSession;
  const char* first = place == Place::kFlag ? "Flag" : "Key";
  *out +=
      runtime_column
          ? fmt::format("| {} | Type | Default | Runtime | Description |\n|---|---|---|---|---|\n",
                        first)
          : fmt::format("| {} | Type | Default | Description |\n|---|---|---|---|\n", first);
  for (const auto& o : opts) {
    std::string key = prefix + o->key + (o->prefix ? "*" : "");
    *out += fmt::format("| `{}` | {} | {} |", Cell(key), TypeCell(*o),
                        DefaultCell(*o, place == Place::kTable));
    if (runtime_column) *out += o->runtime ? " yes |" : " no |";
    *out += fmt::format(" {} |\n", Cell(o->doc));
  }
}

}  // namespace

std::string OptionsMarkdown(const std::vector<ConnectorDoc>& connectors) {
  std::string out =
      "# Configuration options\n\n"
      "<!-- Generated by `eddy options --markdown` from the option registry (src/catalog/); do "
      "not edit. The test docs/options_md checks that this page and the registry agree. -->\n\n"
      "Every option eddy reads, by where it is set: `SET` keys of a session, `WITH` options of "
      "each connector and format, and the flags of `eddy run` and `eddy server`. An unknown key "
      "or a value of the wrong type is an error that names the key and what it accepts.\n\n"
      "Value syntax: a **duration** is an integer and a unit (`500 ms`, `10 s`, `1 min`, `2 h`, "
      "`1 d`; also `µs`/`us` and `ns`; no unit means milliseconds), as in Flink; a **memory "
      "size** is an integer and a unit (`512 kb`, `64 mb`, `1 gb`; `b`, `k`, `m`, `g`, `t` also "
      "work; powers of 1024; no unit means bytes); a **boolean** is `true` or `false`; an "
      "**enum** is one of the listed values (any case).\n\n"
      "## Session options (`SET`)\n\n"
      "Set with `SET 'key' = 'value'` (or `eddy run --set key=value`), listed with their values "
      "by `SET;`, back to the default with `RESET 'key'`. A `SET` applies to the statements "
      "after it, never to a job that is already running (Runtime: yes).\n\n";
  Table(&out, SessionOptions(), "", Place::kSession);
  out +=
      "\n## Connector options (`WITH`)\n\n"
      "`CREATE TABLE … WITH ('connector' = '<name>', …)` checks every option when the table is "
      "created. `SHOW CONNECTORS` lists the connectors. Table options are fixed when the table "
      "is created (drop and create it again to change one).\n";
  for (const auto& c : connectors) {
    out += fmt::format("\n### {}\n\n{}", c.identifier, c.summary);
    if (!c.format_selectors.empty()) {
      std::vector<std::string> sels;
      for (const auto& s : c.format_selectors) {
        sels.push_back(fmt::format("`{}` (its options as `{}<format>.<option>`)", s.key, s.prefix));
      }
      out += fmt::format("\nFormat options: {}; see [formats](#format-options).\n",
                         fmt::join(sels, ", "));
    }
    out += "\n";
    if (c.options.empty()) {
      out += "Only `'connector'`.\n";
    } else {
      Table(&out, c.options, "", Place::kTable);
    }
  }
  out +=
      "\n## Format options\n\n"
      "Options of a format are written with the format's name before them (`'csv.field-"
      "delimiter'`), and for a Kafka key or value format after `key.` or `value.` when the "
      "format is chosen with `'key.format'` or `'value.format'`. A format's options are accepted "
      "only when the table uses that format.\n";
  for (const auto& f : FormatsWithOptions()) {
    out += fmt::format("\n### {}\n\n", f);
    Table(&out, FormatOptions(f), f + ".", Place::kTable);
  }
  out += "\n## Command-line flags\n";
  for (const auto& cmd : Commands()) {
    out += fmt::format("\n### `{}`\n\n", cmd);
    Table(&out, CommandFlags(cmd), "", Place::kFlag);
  }
  return out;
}

}  // namespace eddy::catalog
