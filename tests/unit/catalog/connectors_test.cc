// The connector factories (src/connectors/*/factory.cc, print, blackhole) as the binder sees them:
// one factory per identifier, their required options (Flink's connector pages: 'path' and
// 'format' for filesystem, 'topic' and 'properties.bootstrap.servers' for kafka), capabilities,
// and every registered option documented.
#include <gtest/gtest.h>

#include <set>

#include "catalog/options.h"
#include "connectors/connector.h"

namespace eddy::connectors {
namespace {

std::set<std::string> Required(const ConnectorFactory& f) {
  std::set<std::string> out;
  for (const auto& o : f.options()) {
    if (o->required) out.insert(o->key);
  }
  return out;
}

TEST(Connectors, OneFactoryPerIdentifier) {
  std::set<std::string> ids;
  for (const ConnectorFactory* f : Connectors()) {
    EXPECT_TRUE(ids.insert(f->identifier()).second) << f->identifier();
    EXPECT_EQ(FindConnector(f->identifier()), f);
    EXPECT_FALSE(f->doc().empty()) << f->identifier();
  }
  EXPECT_EQ(ids, (std::set<std::string>{"blackhole", "datagen", "filesystem", "http", "jdbc",
                                        "kafka", "mqtt", "print"}));
  EXPECT_EQ(FindConnector("filesytem"), nullptr);
}

TEST(Connectors, RequiredOptionsAndCapabilities) {
  const ConnectorFactory& fs = *FindConnector("filesystem");
  EXPECT_EQ(Required(fs), (std::set<std::string>{"format", "path"}));
  EXPECT_TRUE(fs.capabilities().source && fs.capabilities().bounded && fs.capabilities().lookup);
  EXPECT_TRUE(fs.capabilities().sink && !fs.capabilities().sink_accepts_updates);
  const ConnectorFactory& kafka = *FindConnector("kafka");
  EXPECT_EQ(Required(kafka), (std::set<std::string>{"properties.bootstrap.servers", "topic"}));
  EXPECT_TRUE(kafka.capabilities().source && !kafka.capabilities().bounded);
  EXPECT_FALSE(kafka.capabilities().lookup);
  EXPECT_EQ(kafka.metadata_columns().size(), 7u);
  // http: a sink of inserts only, with 'url' required.
  const ConnectorFactory& http = *FindConnector("http");
  EXPECT_EQ(Required(http), (std::set<std::string>{"url"}));
  EXPECT_TRUE(http.capabilities().sink && !http.capabilities().sink_accepts_updates);
  EXPECT_FALSE(http.capabilities().source);
  // mqtt: an unbounded source (bounded by an idle timeout) and a sink of inserts.
  const ConnectorFactory& mqtt = *FindConnector("mqtt");
  EXPECT_EQ(Required(mqtt), (std::set<std::string>{"format", "topic"}));
  EXPECT_TRUE(mqtt.capabilities().source && !mqtt.capabilities().bounded);
  EXPECT_TRUE(mqtt.capabilities().sink && !mqtt.capabilities().sink_accepts_updates);
  EXPECT_EQ(mqtt.metadata_columns().size(), 5u);
  for (const char* sink_only : {"print", "blackhole"}) {
    ConnectorCapabilities c = FindConnector(sink_only)->capabilities();
    EXPECT_FALSE(c.source) << sink_only;
    EXPECT_TRUE(c.sink && c.sink_accepts_updates) << sink_only;
    EXPECT_TRUE(Required(*FindConnector(sink_only)).empty()) << sink_only;
  }
}

TEST(Connectors, EveryOptionIsDocumentedAndChecksItsDefault) {
  std::vector<catalog::OptionSpecPtr> all = catalog::SessionOptions();
  for (const ConnectorFactory* f : Connectors()) {
    for (const auto& o : f->options()) all.push_back(o);
  }
  for (const auto& fmt : catalog::FormatsWithOptions()) {
    for (const auto& o : catalog::FormatOptions(fmt)) all.push_back(o);
  }
  EXPECT_GT(all.size(), 40u);
  for (const auto& o : all) {
    EXPECT_FALSE(o->doc.empty()) << o->key;
    if (!o->doc.empty()) {
      EXPECT_EQ(o->doc.back(), '.') << o->key << ": " << o->doc;
    }
    if (o->type == catalog::OptionType::kEnum) {
      EXPECT_FALSE(o->allowed.empty()) << o->key;
    }
    if (o->default_value) {
      EXPECT_TRUE(catalog::CheckValue(*o, *o->default_value).ok()) << o->key;
    }
  }
}

TEST(Connectors, SinkChangelogComesFromTheFactory) {
  auto table = std::make_shared<TableDef>();
  table->name = "out";
  table->options = {{"connector", "filesystem"}, {"path", "/nonexistent/x.csv"}, {"format", "csv"}};
  auto plan = MakeSink(table, Schema(), /*updating=*/true, 1);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("doesn't support consuming update changes"),
            std::string::npos)
      << plan.status();
  EXPECT_NE(plan.status().message().find("(blackhole, jdbc, print)"), std::string::npos)
      << plan.status();
  table->options = {{"connector", "print"}};
  EXPECT_TRUE(MakeSink(table, Schema(), /*updating=*/true, 1).ok());
}

}  // namespace
}  // namespace eddy::connectors
