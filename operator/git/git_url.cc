#include "operator/git/git_url.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace gantry::git {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Status Bad(std::string_view url, std::string_view why) {
  return InvalidArgument(fmt::format(
      "invalid git URL \"{}\": {} (want https://, http://, ssh://, git@host:path, git:// or "
      "file://)",
      RedactUrl(url), why));
}

bool HostCharsOk(std::string_view host) {
  return !host.empty() && std::none_of(host.begin(), host.end(), [](unsigned char c) {
    return c <= ' ' || c == '/' || c == '@' || c == '?' || c == '#' || c == 0x7f;
  });
}

}  // namespace

int GitUrl::EffectivePort() const {
  if (port != 0) return port;
  if (scheme == "https") return 443;
  if (scheme == "http") return 80;
  if (scheme == "ssh") return 22;
  if (scheme == "git") return 9418;
  return 0;
}

std::string GitUrl::Redacted() const {
  if (scheme == "file") return "file://" + path;
  std::string host_part = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (scp_like) return (user.empty() ? "" : user + "@") + host_part + ":" + path;
  std::string user_part;
  if (scheme == "ssh" && !user.empty()) user_part = user + "@";
  std::string port_part = port != 0 ? fmt::format(":{}", port) : "";
  return scheme + "://" + user_part + host_part + port_part + path;
}

Result<GitUrl> ParseGitUrl(std::string_view url) {
  if (url.empty()) return Bad(url, "empty");
  if (std::any_of(url.begin(), url.end(), [](unsigned char c) { return c < ' ' || c == 0x7f; })) {
    return Bad(url, "contains control characters");
  }
  GitUrl out;
  const size_t sep = url.find("://");
  if (sep == std::string_view::npos) {
    // scp-like: [user@]host:path, recognised by a ':' before any '/'.
    const size_t colon = url.find(':');
    const size_t slash = url.find('/');
    if (colon == std::string_view::npos || (slash != std::string_view::npos && slash < colon)) {
      return Bad(url, "no scheme (local paths need file://)");
    }
    std::string_view authority = url.substr(0, colon);
    const size_t at = authority.rfind('@');
    if (at != std::string_view::npos) {
      out.user = std::string(authority.substr(0, at));
      authority = authority.substr(at + 1);
    }
    if (!HostCharsOk(authority)) return Bad(url, "missing or malformed host");
    out.scheme = "ssh";
    out.scp_like = true;
    out.host = std::string(authority);
    out.path = std::string(url.substr(colon + 1));
    if (out.path.empty()) return Bad(url, "missing repository path");
    return out;
  }

  out.scheme = Lower(url.substr(0, sep));
  std::string_view rest = url.substr(sep + 3);
  if (out.scheme == "file") {
    if (rest.starts_with("localhost/")) rest.remove_prefix(std::string_view("localhost").size());
    if (rest.empty() || rest[0] != '/') return Bad(url, "file:// URLs need an absolute path");
    out.path = std::string(rest);
    return out;
  }
  if (out.scheme != "https" && out.scheme != "http" && out.scheme != "ssh" && out.scheme != "git") {
    return Bad(url, fmt::format("unsupported scheme \"{}\"", out.scheme));
  }
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  out.path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
  if (out.path.size() <= 1) return Bad(url, "missing repository path");
  const size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    const size_t colon = userinfo.find(':');
    out.user = std::string(userinfo.substr(0, colon));
    if (colon != std::string_view::npos) out.password = std::string(userinfo.substr(colon + 1));
    authority = authority.substr(at + 1);
  }
  std::string_view port_text;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Bad(url, "unterminated IPv6 address");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Bad(url, "junk after IPv6 address");
      port_text = after.substr(1);
      if (port_text.empty()) return Bad(url, "empty port");
    }
    if (out.host.empty()) return Bad(url, "missing host");
  } else {
    const size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      authority = authority.substr(0, colon);
      if (port_text.empty()) return Bad(url, "empty port");
    }
    if (!HostCharsOk(authority) || authority.find(':') != std::string_view::npos) {
      return Bad(url, "missing or malformed host");
    }
    out.host = std::string(authority);
  }
  if (!port_text.empty()) {
    int port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 ||
        port > 65535) {
      return Bad(url, fmt::format("bad port \"{}\"", port_text));
    }
    out.port = port;
  }
  return out;
}

std::string RedactUrl(std::string_view url) {
  // Works on the raw text (ParseGitUrl reports its errors through this function): only the
  // user-info between "://" and the first '/' matters.
  const size_t sep = url.find("://");
  if (sep == std::string_view::npos) return std::string(url);
  const std::string scheme = Lower(url.substr(0, sep));
  std::string_view rest = url.substr(sep + 3);
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  const size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  std::string_view userinfo = authority.substr(0, at);
  std::string kept;
  if (scheme == "ssh" || scheme == "git+ssh" || scheme == "ssh+git") {
    kept = std::string(userinfo.substr(0, userinfo.find(':'))) + "@";
  }
  return std::string(url.substr(0, sep + 3)) + kept + std::string(rest.substr(at + 1));
}

}  // namespace gantry::git
