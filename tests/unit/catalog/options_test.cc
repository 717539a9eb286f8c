// The typed option registry (src/catalog/options.h): value syntax (Flink's durations and memory
// sizes), checks and their messages, typed reads, SET keys with "did you mean", and the checks
// of a table's WITH options. Expected values are worked out by hand from the units.
#include "catalog/options.h"

#include <gtest/gtest.h>

#include "catalog/session_config.h"

namespace eddy::catalog {
namespace {

using absl::Hours;
using absl::Microseconds;
using absl::Milliseconds;
using absl::Minutes;
using absl::Nanoseconds;
using absl::Seconds;

TEST(ParseDuration, FlinkUnits) {
  EXPECT_EQ(*ParseDuration("10 s"), Seconds(10));
  EXPECT_EQ(*ParseDuration("10s"), Seconds(10));
  EXPECT_EQ(*ParseDuration("500 ms"), Milliseconds(500));
  EXPECT_EQ(*ParseDuration("1 min"), Minutes(1));
  EXPECT_EQ(*ParseDuration("3 minutes"), Minutes(3));
  EXPECT_EQ(*ParseDuration("5m"), Minutes(5));  // as eddy accepted before the registry
  EXPECT_EQ(*ParseDuration("2 h"), Hours(2));
  EXPECT_EQ(*ParseDuration("1 d"), Hours(24));
  EXPECT_EQ(*ParseDuration("2 days"), Hours(48));
  EXPECT_EQ(*ParseDuration("7 seconds"), Seconds(7));
  EXPECT_EQ(*ParseDuration("5 µs"), Microseconds(5));
  EXPECT_EQ(*ParseDuration("5 us"), Microseconds(5));
  EXPECT_EQ(*ParseDuration("3 ns"), Nanoseconds(3));
  EXPECT_EQ(*ParseDuration("  4 MIN  "), Minutes(4));  // trimmed, any case
  // No unit: milliseconds (Flink's TimeUtils).
  EXPECT_EQ(*ParseDuration("250"), Milliseconds(250));
  EXPECT_EQ(*ParseDuration("0"), absl::ZeroDuration());
}

TEST(ParseDuration, Errors) {
  for (const char* bad : {"", "s", "1.5 s", "-1 s", "10 parsecs", "1 m s", "ten s"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
  auto unknown = ParseDuration("10 parsecs");
  EXPECT_NE(unknown.status().message().find("unknown time unit 'parsecs'"), std::string::npos)
      << unknown.status();
  // 2^63 ms overflows int64 nanoseconds.
  EXPECT_FALSE(ParseDuration("9223372036854775807 d").ok());
  EXPECT_FALSE(ParseDuration("99999999999999999999 s").ok());
}

TEST(ParseMemorySize, FlinkUnits) {
  EXPECT_EQ(*ParseMemorySize("64 mb"), 64 * 1024 * 1024);
  EXPECT_EQ(*ParseMemorySize("1 gb"), int64_t{1} << 30);
  EXPECT_EQ(*ParseMemorySize("1g"), int64_t{1} << 30);
  EXPECT_EQ(*ParseMemorySize("2 TB"), int64_t{2} << 40);
  EXPECT_EQ(*ParseMemorySize("3 kibibytes"), 3 * 1024);
  EXPECT_EQ(*ParseMemorySize("1k"), 1024);
  EXPECT_EQ(*ParseMemorySize("7 bytes"), 7);
  EXPECT_EQ(*ParseMemorySize("7b"), 7);
  EXPECT_EQ(*ParseMemorySize("1048576"), 1048576);  // no unit: bytes
}

TEST(ParseMemorySize, Errors) {
  for (const char* bad : {"", "mb", "1.5 mb", "-1 kb", "1 xb", "9000000 tb"}) {
    EXPECT_FALSE(ParseMemorySize(bad).ok()) << bad;
  }
}

TEST(FormatValues, LargestUnitThatDivides) {
  EXPECT_EQ(DurationText(absl::ZeroDuration()), "0 ms");
  EXPECT_EQ(DurationText(Milliseconds(500)), "500 ms");
  EXPECT_EQ(DurationText(Milliseconds(1500)), "1500 ms");
  EXPECT_EQ(DurationText(Seconds(120)), "2 min");
  EXPECT_EQ(DurationText(Hours(48)), "2 d");
  EXPECT_EQ(MemorySizeText(1 << 20), "1 mb");
  EXPECT_EQ(MemorySizeText(1536), "1536 bytes");
  EXPECT_EQ(MemorySizeText(512 * 1024), "512 kb");
}

OptionSpec Spec(OptionType type) {
  OptionSpec s;
  s.key = "k";
  s.type = type;
  return s;
}

TEST(CheckValue, ByType) {
  OptionSpec b = Spec(OptionType::kBool);
  EXPECT_TRUE(CheckValue(b, "true").ok());
  EXPECT_TRUE(CheckValue(b, "FALSE").ok());
  EXPECT_FALSE(CheckValue(b, "yes").ok());

  OptionSpec i = Spec(OptionType::kInt);
  i.min = 1;
  i.max = 10;
  EXPECT_TRUE(CheckValue(i, "1").ok());
  EXPECT_TRUE(CheckValue(i, "10").ok());
  for (const char* bad : {"0", "11", "", "5x", " 5", "five", "1e3"}) {
    EXPECT_FALSE(CheckValue(i, bad).ok()) << bad;
  }

  OptionSpec d = Spec(OptionType::kDuration);
  d.min = 0;
  EXPECT_TRUE(CheckValue(d, "0 ms").ok());
  EXPECT_TRUE(CheckValue(d, "1 h").ok());
  EXPECT_FALSE(CheckValue(d, "soon").ok());

  OptionSpec m = Spec(OptionType::kMemorySize);
  m.min = 1;
  EXPECT_TRUE(CheckValue(m, "1 kb").ok());
  EXPECT_FALSE(CheckValue(m, "0").ok());

  OptionSpec e = Spec(OptionType::kEnum);
  e.allowed = {"fail", "skip"};
  EXPECT_TRUE(CheckValue(e, "skip").ok());
  EXPECT_TRUE(CheckValue(e, "SKIP").ok());
  EXPECT_FALSE(CheckValue(e, "ignore").ok());

  OptionSpec c = Spec(OptionType::kChar);
  EXPECT_TRUE(CheckValue(c, "|").ok());
  EXPECT_TRUE(CheckValue(c, "\\t").ok());
  EXPECT_FALSE(CheckValue(c, "ab").ok());
  EXPECT_FALSE(CheckValue(c, "").ok());

  EXPECT_TRUE(CheckValue(Spec(OptionType::kString), "anything at all").ok());
}

TEST(CheckValue, MessagesNameTheKeyAndWhatItAccepts) {
  OptionSpec i = Spec(OptionType::kInt);
  i.key = "parallelism.default";
  i.min = 1;
  i.max = 1 << 20;
  EXPECT_EQ(std::string(CheckValue(i, "0").message()),
            "'parallelism.default' must be an integer from 1 to 1048576, not '0'");
  OptionSpec e = Spec(OptionType::kEnum);
  e.key = "error.policy";
  e.allowed = {"fail", "skip", "dead-letter"};
  EXPECT_EQ(std::string(CheckValue(e, "ignore").message()),
            "'error.policy' must be one of 'fail', 'skip', 'dead-letter', not 'ignore'");
  OptionSpec d = Spec(OptionType::kDuration);
  d.key = "ttl";
  std::string msg(CheckValue(d, "10 parsecs").message());
  EXPECT_EQ(msg.rfind("'ttl' must be a duration such as '10 s'", 0), 0u) << msg;
  EXPECT_NE(msg.find("not '10 parsecs' (unknown time unit 'parsecs'"), std::string::npos) << msg;
  // A format option is named as the table spells it.
  OptionSpec c = Spec(OptionType::kChar);
  c.key = "field-delimiter";
  EXPECT_EQ(std::string(CheckValue(c, "ab", "key.csv.field-delimiter").message()),
            "'key.csv.field-delimiter' must be a single character (or '\\t' for a tab), not 'ab'");
}

// Options registered by this test binary only (they are not in eddy's docs).
const auto kTestInt = SessionOption("test.catalog.int").Int(5).Range(1, 9).Doc("An integer.");
const auto kTestDuration =
    SessionOption("test.catalog.duration").Duration("2 s").Doc("A duration.");
const auto kTestEnum =
    SessionOption("test.catalog.enum").Enum("Alpha", {"Alpha", "BETA"}).Doc("An enum.");
const auto kTestBool = TableOption({"test-connector"}, "flag").Bool(false).Doc("A switch.");
const auto kTestRequired =
    TableOption({"test-connector"}, "target").String().Required().Doc("Where rows go.");
const auto kTestSize =
    TableOption({"test-connector"}, "buffer").MemorySize("1 mb").Min(1).Doc("A size.");
const auto kTestPrefix = TableOption({"test-connector"}, "client.").Prefix().Doc("Passed on.");
const auto kTestFormat = TableOption({"test-connector"}, "format")
                             .Enum({"test-format", "other-format"})
                             .Doc("The format.");
const auto kTestKeyFormat = TableOption({"test-connector"}, "key.format")
                                .Enum({"test-format", "other-format"})
                                .Doc("The key format.");
const auto kTestFormatChar = FormatOption("test-format", "delimiter").Char(',').Doc("A separator.");
const auto kTestOtherFormat = FormatOption("other-format", "strict").Bool(true).Doc("Strictness.");

TEST(ConfigOption, TypedReads) {
  OptionMap none;
  EXPECT_EQ(*kTestInt.Get(none), 5);
  EXPECT_EQ(*kTestInt.Get({{"test.catalog.int", "7"}}), 7);
  EXPECT_FALSE(kTestInt.Get({{"test.catalog.int", "70"}}).ok());
  EXPECT_EQ(*kTestDuration.Get(none), Seconds(2));
  EXPECT_EQ(*kTestDuration.Get({{"test.catalog.duration", "1 min"}}), Minutes(1));
  // Enums read back as the registry spells them.
  EXPECT_EQ(*kTestEnum.Get({{"test.catalog.enum", "beta"}}), "BETA");
  EXPECT_EQ(*kTestBool.Get({{"flag", "TRUE"}}), true);
  EXPECT_EQ(*kTestSize.Get({{"buffer", "2 kb"}}), 2048);
  EXPECT_EQ(*kTestFormatChar.Parse("\\t"), '\t');
  // Find: absent is nullopt, even with a default.
  EXPECT_FALSE(kTestBool.Find(none)->has_value());
  EXPECT_EQ(**kTestBool.Find({{"flag", "true"}}), true);
  // Get of an option without a default that is not set.
  EXPECT_EQ(std::string(kTestRequired.Get(none).status().message()), "'target' is required");
}

TEST(Registry, FindsOptionsByPlace) {
  EXPECT_EQ(FindSessionOption("test.catalog.int").get(), &kTestInt.spec());
  EXPECT_EQ(FindSessionOption("flag"), nullptr);  // a table option, not a SET key
  std::vector<std::string> keys;
  for (const auto& o : ConnectorOptions("test-connector")) keys.push_back(o->key);
  EXPECT_EQ(keys, (std::vector<std::string>{"buffer", "client.", "flag", "format", "key.format",
                                            "target"}));
  ASSERT_EQ(FormatOptions("test-format").size(), 1u);
  EXPECT_EQ(FormatOptions("test-format")[0]->key, "delimiter");
}

TEST(RegistryDeathTest, TheSameKeyTwiceInOnePlaceAborts) {
  EXPECT_DEATH(SessionOption("test.catalog.int").Int(1).Doc("Again."),
               "option 'test.catalog.int' is registered twice");
  EXPECT_DEATH(SessionOption("test.catalog.nodefault").Int().Doc("No default."), "needs a default");
  EXPECT_DEATH(SessionOption("test.catalog.baddefault").Int(0).Range(1, 2).Doc("Bad default."),
               "default of option 'test.catalog.baddefault' is invalid");
}

TEST(CheckSetting, UnknownKeysGetAHint) {
  std::string hint;
  absl::Status st = CheckSetting("paralelism.default", "2", &hint);
  EXPECT_EQ(std::string(st.message()), "unknown configuration key 'paralelism.default'");
  EXPECT_EQ(hint, "did you mean 'parallelism.default'?");
  hint.clear();
  st = CheckSetting("no.such.thing.at.all", "2", &hint);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(hint.find("SET;"), std::string::npos) << hint;
  EXPECT_TRUE(CheckSetting("parallelism.default", "2", &hint).ok());
  EXPECT_EQ(std::string(CheckSetting("parallelism.default", "0", &hint).message()),
            "'parallelism.default' must be an integer from 1 to 1048576, not '0'");
}

TEST(SessionConfig, SetResetAndTypedGet) {
  SessionConfig c;
  EXPECT_EQ(c.Get(kTestInt), 5);
  EXPECT_TRUE(c.Set("test.catalog.int", "8").ok());
  EXPECT_EQ(c.Get(kTestInt), 8);
  // A bad value changes nothing.
  EXPECT_FALSE(c.Set("test.catalog.int", "80").ok());
  EXPECT_EQ(c.Get(kTestInt), 8);
  std::string hint;
  EXPECT_FALSE(c.Set("test.catalog.inr", "3", &hint).ok());
  EXPECT_EQ(hint, "did you mean 'test.catalog.int'?");
  EXPECT_TRUE(c.Reset("test.catalog.int").ok());
  EXPECT_EQ(c.Get(kTestInt), 5);
  EXPECT_FALSE(c.Reset("test.catalog.inr").ok());
  EXPECT_TRUE(c.Set("eddy.batch-size", "2").ok());
  EXPECT_EQ(c.Get(options::kBatchSize), 2);
  c.ResetAll();
  EXPECT_EQ(c.Get(options::kBatchSize), 1024);
  EXPECT_EQ(c.Get(options::kSourceIdleTimeout), absl::ZeroDuration());
  EXPECT_EQ(c.values().at("error.policy"), "fail");
}

TableOptionRules TestRules() {
  TableOptionRules r;
  r.connector = "test-connector";
  r.options = ConnectorOptions("test-connector");
  r.format_selectors = {{"format", ""}, {"key.format", "key."}};
  return r;
}

TEST(ValidateTableOptions, AcceptsKnownOptionsPrefixesAndSelectedFormats) {
  std::string hint;
  EXPECT_TRUE(ValidateTableOptions(TestRules(),
                                   {{"connector", "test-connector"},
                                    {"target", "x"},
                                    {"flag", "true"},
                                    {"buffer", "4 mb"},
                                    {"client.anything.goes", "?"},
                                    {"format", "test-format"},
                                    {"test-format.delimiter", "|"},
                                    {"key.format", "other-format"},
                                    {"key.other-format.strict", "false"}},
                                   &hint)
                  .ok())
      << hint;
}

TEST(ValidateTableOptions, Errors) {
  std::string hint;
  absl::Status st = ValidateTableOptions(TestRules(), {{"target", "x"}, {"flga", "true"}}, &hint);
  EXPECT_EQ(std::string(st.message()), "unsupported option 'flga' for connector 'test-connector'");
  EXPECT_EQ(hint, "did you mean 'flag'?");

  hint.clear();
  st = ValidateTableOptions(TestRules(), {{"target", "x"}, {"zzzzzzzzzzzz", "1"}}, &hint);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(hint,
            "supported options: connector, buffer, flag, format, key.format, target, client.*");

  // A format's options need that format.
  hint.clear();
  st = ValidateTableOptions(
      TestRules(), {{"target", "x"}, {"format", "test-format"}, {"other-format.strict", "true"}},
      &hint);
  EXPECT_EQ(std::string(st.message()),
            "unsupported option 'other-format.strict' for connector 'test-connector'");
  EXPECT_EQ(hint,
            "'other-format.strict' is an option of format 'other-format', and 'format' is "
            "'test-format'");

  // Values are checked, named as the table spells them.
  st = ValidateTableOptions(
      TestRules(),
      {{"target", "x"}, {"key.format", "test-format"}, {"key.test-format.delimiter", "ab"}}, &hint);
  EXPECT_EQ(std::string(st.message()),
            "'key.test-format.delimiter' must be a single character (or '\\t' for a tab), not "
            "'ab'");
  st = ValidateTableOptions(TestRules(), {{"target", "x"}, {"buffer", "0"}}, &hint);
  EXPECT_NE(st.message().find("'buffer' must be a memory size of at least '1 byte'"),
            std::string::npos)
      << st;

  // Required options.
  st = ValidateTableOptions(TestRules(), {{"flag", "true"}}, &hint);
  EXPECT_EQ(std::string(st.message()),
            "connector 'test-connector' needs the option 'target' (Where rows go.)");
}

TEST(MatchesPattern, HashStandsForAnyText) {
  EXPECT_TRUE(MatchesPattern("fields.#.kind", "fields.id.kind"));
  EXPECT_TRUE(MatchesPattern("fields.#.kind", "fields.a.b.kind"));  // a column 'a.b'
  EXPECT_FALSE(MatchesPattern("fields.#.kind", "fields..kind"));    // no text for '#'
  EXPECT_FALSE(MatchesPattern("fields.#.kind", "fields.kind"));
  EXPECT_FALSE(MatchesPattern("fields.#.max", "fields.ts.max-past"));
  EXPECT_FALSE(MatchesPattern("fields.#.kind", "field.id.kind"));
  EXPECT_TRUE(MatchesPattern("plain", "plain"));
  EXPECT_FALSE(MatchesPattern("plain", "plainer"));
}

const auto kPatternWidth =
    TableOption({"test-pattern"}, "cols.#.width").Int(1).Range(1, 9).Doc("A width per column.");

TEST(ValidateTableOptions, PatternOptions) {
  TableOptionRules rules;
  rules.connector = "test-pattern";
  rules.options = ConnectorOptions("test-pattern");
  std::string hint;
  EXPECT_TRUE(
      ValidateTableOptions(rules, {{"cols.a.width", "3"}, {"cols.b.width", "9"}}, &hint).ok());
  // The value is checked under the key as the table spells it.
  absl::Status st = ValidateTableOptions(rules, {{"cols.a.width", "10"}}, &hint);
  EXPECT_EQ(std::string(st.message()), "'cols.a.width' must be an integer from 1 to 9, not '10'");
  st = ValidateTableOptions(rules, {{"cols.a.widht", "1"}}, &hint);
  EXPECT_EQ(std::string(st.message()),
            "unsupported option 'cols.a.widht' for connector 'test-pattern'");
}

TEST(OptionsMarkdown, ListsEveryPlace) {
  ConnectorDoc d;
  d.identifier = "test-connector";
  d.summary = "A connector for tests.\n";
  d.options = ConnectorOptions("test-connector");
  d.format_selectors = {{"format", ""}};
  std::string md = OptionsMarkdown({d});
  for (const char* want :
       {"| `test.catalog.int` | integer, 1 … 9 | `5` | yes | An integer. |",
        "| `test.catalog.duration` | duration | `2 s` | yes | A duration. |", "### test-connector",
        "| `target` | string | (required) | Where rows go. |",
        "| `client.*` | any (passed on) | (none) | Passed on. |",
        "| `buffer` | memory size, ≥ 1 byte | `1 mb` | A size. |", "### test-format",
        "| `test-format.delimiter` | character | `,` | A separator. |"}) {
    EXPECT_NE(md.find(want), std::string::npos) << want << "\n" << md;
  }
}

}  // namespace
}  // namespace eddy::catalog
