#include "operator/git/known_hosts.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <vector>

namespace gantry::git {
namespace {

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) fields.push_back(line.substr(start, i - start));
  }
  return fields;
}

// OpenSSH's pattern language: '*' any run, '?' any one character. Iterative with one
// backtrack point, so it is linear-ish and cannot recurse deeply on hostile input.
bool GlobMatch(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// A hashed entry "|1|<base64 salt>|<base64 HMAC-SHA1(salt, name)>".
bool HashedMatch(std::string_view entry, std::string_view name) {
  std::string_view rest = entry.substr(3);
  const size_t bar = rest.find('|');
  if (bar == std::string_view::npos) return false;
  auto salt = Base64Decode(rest.substr(0, bar));
  auto want = Base64Decode(rest.substr(bar + 1));
  if (!salt || !want || want->size() != 20) return false;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha1(), salt->data(), static_cast<int>(salt->size()),
           reinterpret_cast<const unsigned char*>(name.data()), name.size(), mac,
           &mac_len) == nullptr) {
    return false;
  }
  return mac_len == want->size() &&
         std::equal(want->begin(), want->end(), mac,
                    [](char a, unsigned char b) { return static_cast<unsigned char>(a) == b; });
}

// True if the comma-separated `patterns` name `name`: some positive pattern matches and no
// negated one does.
bool HostMatches(std::string_view patterns, const std::string& name) {
  if (patterns.starts_with("|1|")) return HashedMatch(patterns, name);
  bool matched = false;
  size_t start = 0;
  while (start <= patterns.size()) {
    size_t comma = patterns.find(',', start);
    std::string_view pattern =
        patterns.substr(start, comma == std::string_view::npos ? patterns.npos : comma - start);
    bool negated = pattern.starts_with("!");
    if (negated) pattern.remove_prefix(1);
    if (!pattern.empty() && GlobMatch(Lower(pattern), name)) {
      if (negated) return false;
      matched = true;
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return matched;
}

}  // namespace

std::string Base64Encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t v = (uint32_t{static_cast<unsigned char>(data[i])} << 16) |
                 (uint32_t{static_cast<unsigned char>(data[i + 1])} << 8) |
                 uint32_t{static_cast<unsigned char>(data[i + 2])};
    for (int shift = 18; shift >= 0; shift -= 6) out += kBase64Alphabet[(v >> shift) & 63];
  }
  if (i < data.size()) {
    uint32_t v = uint32_t{static_cast<unsigned char>(data[i])} << 16;
    if (i + 1 < data.size()) v |= uint32_t{static_cast<unsigned char>(data[i + 1])} << 8;
    out += kBase64Alphabet[(v >> 18) & 63];
    out += kBase64Alphabet[(v >> 12) & 63];
    out += i + 1 < data.size() ? kBase64Alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    size_t v = kBase64Alphabet.find(c);
    if (v == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::string SshKeyFingerprint(std::string_view key_blob) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(key_blob.data(), key_blob.size(), digest, &len, EVP_sha256(), nullptr);
  std::string b64 = Base64Encode(std::string_view(reinterpret_cast<char*>(digest), len));
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return "SHA256:" + b64;
}

std::string SshKeyType(std::string_view key_blob) {
  if (key_blob.size() < 4) return "";
  uint32_t n = (uint32_t{static_cast<unsigned char>(key_blob[0])} << 24) |
               (uint32_t{static_cast<unsigned char>(key_blob[1])} << 16) |
               (uint32_t{static_cast<unsigned char>(key_blob[2])} << 8) |
               uint32_t{static_cast<unsigned char>(key_blob[3])};
  if (n == 0 || n > 64 || n > key_blob.size() - 4) return "";
  return std::string(key_blob.substr(4, n));
}

Status CheckKnownHost(std::string_view known_hosts, std::string_view host, int port,
                      std::string_view key_blob) {
  const std::string name =
      port == 22 || port == 0 ? Lower(host) : fmt::format("[{}]:{}", Lower(host), port);
  const std::string type = SshKeyType(key_blob);
  const std::string fingerprint = SshKeyFingerprint(key_blob);
  std::vector<std::string> other_keys;  // keys listed for this host that are not the server's
  bool any_line = false;
  bool listed = false;  // a plain line carries this key; @revoked lines still get a say
  size_t line_no = 0;
  size_t start = 0;
  while (start < known_hosts.size()) {
    size_t nl = known_hosts.find('\n', start);
    std::string_view line =
        known_hosts.substr(start, nl == std::string_view::npos ? known_hosts.npos : nl - start);
    start = nl == std::string_view::npos ? known_hosts.size() : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto fields = SplitFields(line);
    if (fields.empty() || fields[0].starts_with("#")) continue;
    any_line = true;
    std::string_view marker;
    if (fields[0].starts_with("@")) {
      marker = fields[0];
      fields.erase(fields.begin());
      if (marker != "@revoked" && marker != "@cert-authority") {
        return InvalidArgument(
            fmt::format("known_hosts line {}: unknown marker \"{}\"", line_no, marker));
      }
    }
    if (fields.size() < 3) {
      return InvalidArgument(fmt::format(
          "known_hosts line {}: want \"<hosts> <key type> <base64 key>\", got {} field(s)", line_no,
          fields.size()));
    }
    auto blob = Base64Decode(fields[2]);
    if (!blob || SshKeyType(*blob).empty()) {
      return InvalidArgument(
          fmt::format("known_hosts line {}: the key is not valid base64 SSH key data", line_no));
    }
    if (SshKeyType(*blob) != fields[1]) {
      return InvalidArgument(fmt::format(
          "known_hosts line {}: key type \"{}\" does not match the key's own type \"{}\"", line_no,
          fields[1], SshKeyType(*blob)));
    }
    if (marker == "@cert-authority" || !HostMatches(fields[0], name)) continue;
    if (*blob == key_blob) {
      if (marker == "@revoked") {
        return Status(StatusCode::kForbidden,
                      fmt::format("ssh host key of {} ({} {}) is marked @revoked in known_hosts "
                                  "line {}",
                                  name, type, fingerprint, line_no));
      }
      listed = true;
      continue;
    }
    std::string other = fmt::format("{} {}", fields[1], SshKeyFingerprint(*blob));
    if (marker.empty() &&
        std::find(other_keys.begin(), other_keys.end(), other) == other_keys.end()) {
      other_keys.push_back(std::move(other));
    }
  }
  if (listed) return Status::Ok();
  if (!any_line) {
    return InvalidArgument(
        "known_hosts is empty; ssh needs the server's host key (e.g. from "
        "`ssh-keyscan`) in the Secret's known_hosts");
  }
  if (!other_keys.empty()) {
    return Status(StatusCode::kForbidden,
                  fmt::format("ssh host key of {} ({} {}) does not match known_hosts, which "
                              "lists {}: the server's key changed or this is not the expected "
                              "server",
                              name, type, fingerprint, fmt::join(other_keys, ", ")));
  }
  return Status(StatusCode::kForbidden,
                fmt::format("ssh host key of {} ({} {}) is unknown: known_hosts has no entry for "
                            "{}; add the output of `ssh-keyscan{} {}`",
                            name, type, fingerprint, name,
                            port == 22 || port == 0 ? "" : fmt::format(" -p {}", port), host));
}

}  // namespace gantry::git
