#include "base/secrets.h"

#include <array>
#include <cctype>

#include "base/strings.h"

namespace eddy {

bool IsSecretOption(std::string_view key) {
  static constexpr std::array<std::string_view, 12> kSensitive = {
      "password",    "secret", "fs.azure.account.key", "apikey",      "api-key",      "auth-params",
      "service-key", "token",  "basic-auth",           "jaas.config", "http-headers", "headers"};
  std::string k = ToLower(key);
  for (std::string_view s : kSensitive) {
    if (k.find(s) != std::string::npos) return true;
  }
  return false;
}

std::string ShownOptionValue(std::string_view key, std::string_view value) {
  return IsSecretOption(key) ? std::string(kHiddenSecret) : std::string(value);
}

std::string HideSecretsInSql(std::string_view sql, size_t* pos) {
  std::string out;
  out.reserve(sql.size());
  size_t i = 0;
  size_t prev_end = std::string_view::npos;  // end of the last literal, if it named a secret key
  size_t new_pos = pos ? *pos : 0;
  while (i < sql.size()) {
    if (sql[i] != '\'') {
      out += sql[i++];
      continue;
    }
    // A string literal from i to end (exclusive; '' is an escaped quote inside).
    size_t start = i;
    std::string content;
    size_t j = i + 1;
    bool closed = false;
    while (j < sql.size()) {
      if (sql[j] == '\'') {
        if (j + 1 < sql.size() && sql[j + 1] == '\'') {
          content += '\'';
          j += 2;
          continue;
        }
        closed = true;
        ++j;
        break;
      }
      content += sql[j++];
    }
    size_t end = j;
    bool is_value = false;
    if (prev_end != std::string_view::npos) {
      // Only blanks and one '=' between the secret key's literal and this one.
      bool eq = false, other = false;
      for (size_t k = prev_end; k < start; ++k) {
        char c = sql[k];
        if (c == '=' && !eq) {
          eq = true;
        } else if (!std::isspace(static_cast<unsigned char>(c))) {
          other = true;
        }
      }
      is_value = eq && !other;
    }
    std::string literal(sql.substr(start, end - start));
    std::string shown = literal;
    if (is_value) {
      shown = "'" + std::string(kHiddenSecret) + (closed ? "'" : "");
    } else if (literal.find("://") != std::string::npos) {
      shown = HideUrlPassword(literal);  // 'url' = 'http://user:pw@host/…'
    }
    if (shown != literal) {
      if (pos && *pos >= end) {
        new_pos = new_pos + shown.size() - literal.size();
      } else if (pos && *pos > start) {
        new_pos = out.size();
      }
    }
    out += shown;
    prev_end = !is_value && IsSecretOption(content) ? end : std::string_view::npos;
    i = end;
  }
  if (pos) *pos = new_pos;
  return out;
}

namespace {

// `url` with the values of secret query parameters hidden ('?password=x' → '?password=******').
std::string HideQuerySecrets(std::string url) {
  size_t q = url.find('?');
  if (q == std::string::npos) return url;
  size_t end = url.find('#', q);
  if (end == std::string::npos) end = url.size();
  std::string out = url.substr(0, q + 1);
  size_t p = q + 1;
  while (p <= end) {
    size_t amp = url.find('&', p);
    if (amp == std::string::npos || amp > end) amp = end;
    std::string_view param(url.data() + p, amp - p);
    size_t eq = param.find('=');
    if (eq != std::string_view::npos && IsSecretOption(param.substr(0, eq))) {
      out += std::string(param.substr(0, eq + 1)) + std::string(kHiddenSecret);
    } else {
      out += std::string(param);
    }
    if (amp < end) out += '&';
    p = amp + 1;
  }
  return out + url.substr(end);
}

}  // namespace

std::string HideUrlPassword(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  size_t host_start = scheme + 3;
  size_t authority_end = url.find_first_of("/?#", host_start);
  if (authority_end == std::string_view::npos) authority_end = url.size();
  std::string_view authority = url.substr(host_start, authority_end - host_start);
  size_t at = authority.rfind('@');
  size_t colon = authority.find(':');
  if (at == std::string_view::npos || colon == std::string_view::npos || colon > at) {
    return HideQuerySecrets(std::string(url));
  }
  return HideQuerySecrets(std::string(url.substr(0, host_start + colon + 1)) +
                          std::string(kHiddenSecret) + std::string(url.substr(host_start + at)));
}

}  // namespace eddy
