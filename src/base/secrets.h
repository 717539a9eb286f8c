// Keeping secrets (passwords, tokens, keys given as options) out of logs, error messages and
// EXPLAIN. The rule is Flink's (GlobalConfiguration.isSensitive): an option is secret when its key
// contains, in any case, one of "password", "secret", "fs.azure.account.key", "apikey", "api-key",
// "auth-params", "service-key", "token", "basic-auth", "jaas.config" or "http-headers"; its value
// is shown as "******". eddy adds "headers" (the http sink's 'headers' carry Authorization
// tokens).
#pragma once

#include <string>
#include <string_view>

namespace eddy {

/// What a secret's value is shown as.
inline constexpr std::string_view kHiddenSecret = "******";

/// Whether option `key` holds a secret (the rule above; 'properties.sasl.password' is secret).
bool IsSecretOption(std::string_view key);

/// `value`, or kHiddenSecret when option `key` is secret.
std::string ShownOptionValue(std::string_view key, std::string_view value);

/// `sql` with the value of every secret option in a WITH list hidden: in `'password' = 'x'` the
/// literal 'x' becomes '******' (a literal after a secret key's literal and '='). A value that
/// runs past the end of `sql` (a literal not closed on this line) is hidden to the end; a URL's
/// user-info password in any literal is hidden as HideUrlPassword does.
/// `*pos`, when given, is a byte offset into `sql` (a caret) and is moved to the same place in
/// the result. Works on one line of SQL text; comments are not recognised.
std::string HideSecretsInSql(std::string_view sql, size_t* pos = nullptr);

/// `url` with the password of its user info and secret query parameters hidden:
/// 'http://u:pw@host/x' → 'http://u:******@host/x', 'jdbc:postgresql://h/db?password=pw' →
/// 'jdbc:postgresql://h/db?password=******'; other URLs unchanged.
std::string HideUrlPassword(std::string_view url);

}  // namespace eddy
