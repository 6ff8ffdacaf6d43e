// Git remote URLs as GitRepository `spec.url` accepts them: https://, http://, ssh://,
// scp-like `user@host:path`, git:// and file://. Pure functions, safe from any thread.
//
// A URL may carry credentials in its user-info (https://user:token@host/repo). Gantry never
// writes such a URL to a log, an error, a status field or the disk: every place that shows a
// URL shows Redacted().
#pragma once

#include <string>
#include <string_view>

#include "operator/common/status.h"

namespace gantry::git {

struct GitUrl {
  std::string scheme;  // "https", "http", "ssh", "git" or "file"; scp-like URLs are "ssh"
  std::string user;    // may be empty
  std::string password;
  std::string host;  // without brackets for IPv6 literals; empty for file://
  int port = 0;      // 0: the scheme's default
  std::string path;  // as written, e.g. "/org/repo.git" or "org/repo.git" for scp-like
  bool scp_like = false;

  // The port to connect to: `port`, or the scheme's default (443, 80, 22, 9418; 0 for file).
  int EffectivePort() const;

  // The URL with the password removed; for http(s) the whole user-info is removed, since
  // hosts such as GitHub take a token as the user name. Safe to show anywhere.
  std::string Redacted() const;
};

// Parses `url`. InvalidArgument names the redacted URL and what is wrong (unsupported
// scheme, missing host or path, bad port).
Result<GitUrl> ParseGitUrl(std::string_view url);

// Redacts the credentials of anything that looks like a URL, even one ParseGitUrl rejects.
std::string RedactUrl(std::string_view url);

}  // namespace gantry::git
