#include "base/secrets.h"

#include <gtest/gtest.h>

namespace eddy {
namespace {

TEST(Secrets, SecretOptionsFollowFlinksRule) {
  EXPECT_TRUE(IsSecretOption("password"));
  EXPECT_TRUE(IsSecretOption("properties.sasl.password"));
  EXPECT_TRUE(IsSecretOption("properties.sasl.jaas.config"));
  EXPECT_TRUE(IsSecretOption("Access-Token"));
  EXPECT_TRUE(IsSecretOption("headers"));
  EXPECT_FALSE(IsSecretOption("username"));
  EXPECT_FALSE(IsSecretOption("url"));
  EXPECT_EQ(ShownOptionValue("sasl.password", "pw"), "******");
  EXPECT_EQ(ShownOptionValue("sasl.username", "me"), "me");
}

TEST(Secrets, HidesValuesAfterSecretKeysInSql) {
  EXPECT_EQ(HideSecretsInSql("WITH ('username'='u', 'password'='pw', 'x'='y')"),
            "WITH ('username'='u', 'password'='******', 'x'='y')");
  EXPECT_EQ(HideSecretsInSql("('properties.sasl.password' =\t 'it''s')"),
            "('properties.sasl.password' =\t '******')");
  // Not a value: no '=' between, or the key is not a secret.
  EXPECT_EQ(HideSecretsInSql("SELECT 'password', 'pw'"), "SELECT 'password', 'pw'");
  EXPECT_EQ(HideSecretsInSql("('topic'='password')"), "('topic'='password')");
  EXPECT_EQ(HideSecretsInSql("('url' = 'http://u:pw@h/x', 'k' = 'v')"),
            "('url' = 'http://u:******@h/x', 'k' = 'v')");
  // A value not closed on this line is hidden to the end.
  EXPECT_EQ(HideSecretsInSql("'password' = 'abc"), "'password' = '******");
}

TEST(Secrets, MovesTheCaretWithTheText) {
  std::string sql = "('password'='a', 'bogus'='x')";
  size_t pos = sql.find("'bogus'");
  std::string shown = HideSecretsInSql(sql, &pos);
  EXPECT_EQ(shown.substr(pos, 7), "'bogus'");
  pos = sql.find("'a'") + 1;  // inside the secret: moved to its start
  shown = HideSecretsInSql(sql, &pos);
  EXPECT_EQ(shown.substr(pos, 8), "'******'");
  pos = 1;  // before it: unchanged
  HideSecretsInSql(sql, &pos);
  EXPECT_EQ(pos, 1u);
}

TEST(Secrets, HidesTheUrlPassword) {
  EXPECT_EQ(HideUrlPassword("https://bot:t0ken@example.com:8443/hook?x=1"),
            "https://bot:******@example.com:8443/hook?x=1");
  EXPECT_EQ(HideUrlPassword("http://user@example.com/a"), "http://user@example.com/a");
  EXPECT_EQ(HideUrlPassword("http://example.com/a@b:c"), "http://example.com/a@b:c");
  EXPECT_EQ(HideUrlPassword("not a url"), "not a url");
  EXPECT_EQ(HideUrlPassword("jdbc:postgresql://h:5432/db?user=u&password=pw&sslmode=require#f"),
            "jdbc:postgresql://h:5432/db?user=u&password=******&sslmode=require#f");
  EXPECT_EQ(HideUrlPassword("http://a:b@h/x?token=t"), "http://a:******@h/x?token=******");
  EXPECT_EQ(HideUrlPassword("http://h/x?a=1&&b"), "http://h/x?a=1&&b");
}

}  // namespace
}  // namespace eddy
