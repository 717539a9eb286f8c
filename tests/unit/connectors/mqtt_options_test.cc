// The mqtt connector's WITH options (connectors/mqtt/mqtt_client.h): the broker address from
// 'hostname'/'port' or 'server-uri', TLS implied by ssl:// or a CA file, the topic list, the
// checks of topic filters and of options that depend on one another, and per-subtask client ids.
// The connection itself is tested against a real mosquitto in tests/integration/mqtt.sh.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "connectors/mqtt/mqtt_client.h"

namespace eddy::connectors::mqtt {
namespace {

TableDef Table(std::map<std::string, std::string> options) {
  TableDef t;
  t.name = "t";
  t.physical.fields = {{"v", DataType::String()}, {"tp", DataType::String()}};
  t.columns = t.physical.fields;
  t.metadata = {"", "topic"};
  options["connector"] = "mqtt";
  if (!options.count("format")) options["format"] = "raw";
  if (!options.count("topic")) options["topic"] = "a/+, b/#";
  t.options = std::move(options);
  return t;
}

TEST(MqttOptions, BrokerAddress) {
  auto o = ParseMqttOptions(Table({{"hostname", "broker"}}), 0);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->uri, "tcp://broker:1883");
  EXPECT_FALSE(o->tls);
  EXPECT_EQ(o->topics, (std::vector<std::string>{"a/+", "b/#"}));
  EXPECT_EQ(o->value_columns, (std::vector<int>{0}));
  o = ParseMqttOptions(Table({{"server-uri", "ssl://10.0.0.1"}}), 0);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->uri, "ssl://10.0.0.1:8883");
  EXPECT_TRUE(o->tls);
  o = ParseMqttOptions(Table({{"server-uri", "tcp://[::1]:1999"}}), 0);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->host, "::1");
  EXPECT_EQ(o->port, 1999);
  o = ParseMqttOptions(Table({{"hostname", "h"}, {"ssl.ca-file", "/ca.pem"}}), 0);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->uri, "ssl://h:8883");
}

TEST(MqttOptions, Refused) {
  auto error = [](std::map<std::string, std::string> opts) {
    auto o = ParseMqttOptions(Table(std::move(opts)), 0);
    return o.ok() ? std::string("ok") : std::string(o.status().message());
  };
  EXPECT_NE(error({}).find("needs 'hostname'"), std::string::npos);
  EXPECT_NE(error({{"server-uri", "http://h:1"}}).find("tcp://host:port"), std::string::npos);
  EXPECT_NE(error({{"server-uri", "tcp://h:x"}}).find("bad port"), std::string::npos);
  EXPECT_NE(error({{"server-uri", "tcp://h:1"}, {"hostname", "h"}}).find("not both"),
            std::string::npos);
  EXPECT_NE(error({{"hostname", "h"}, {"clean-session", "false"}}).find("needs 'client-id'"),
            std::string::npos);
  EXPECT_NE(error({{"hostname", "h"}, {"password", "p"}}).find("needs 'username'"),
            std::string::npos);
  EXPECT_NE(error({{"hostname", "h"}, {"qos", "3"}}).find("'qos'"), std::string::npos);
  TableDef two = Table({{"hostname", "h"}});
  two.physical.fields.push_back({"w", DataType::String()});
  two.metadata.push_back("");
  auto o = ParseMqttOptions(two, 0);
  ASSERT_FALSE(o.ok());
  EXPECT_NE(std::string(o.status().message()).find("'raw' format needs exactly one"),
            std::string::npos);
}

TEST(MqttOptions, TopicFilters) {
  auto check = [](const std::string& topic) {
    TableDef t = Table({{"hostname", "h"}, {"topic", topic}});
    auto o = ParseMqttOptions(t, 0);
    return o.ok() && CheckSourceTopics(t, *o).ok();
  };
  EXPECT_TRUE(check("a/+/c"));
  EXPECT_TRUE(check("#"));
  EXPECT_TRUE(check("a/b,c/#"));
  EXPECT_FALSE(check("a/#/c"));
  EXPECT_FALSE(check("a/b+"));
  EXPECT_FALSE(check("a,,b"));
  auto sink = [](const std::string& topic) {
    TableDef t = Table({{"hostname", "h"}, {"topic", topic}});
    auto o = ParseMqttOptions(t, 0);
    return o.ok() && CheckSinkTopic(t, *o).ok();
  };
  EXPECT_TRUE(sink("alerts/{sensor}"));
  EXPECT_FALSE(sink("alerts/+"));
  EXPECT_FALSE(sink("a,b"));
}

TEST(MqttOptions, ClientIds) {
  auto o = ParseMqttOptions(Table({{"hostname", "h"}, {"client-id", "c"}}), 0);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(ClientId(*o, "src", 0, 1), "c");
  EXPECT_EQ(ClientId(*o, "src", 1, 2), "c-1");
  o = ParseMqttOptions(Table({{"hostname", "h"}}), 0);
  ASSERT_TRUE(o.ok());
  std::string a = ClientId(*o, "src", 0, 2), b = ClientId(*o, "src", 1, 2);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind("eddy-src-t-", 0), 0u) << a;
}

}  // namespace
}  // namespace eddy::connectors::mqtt
