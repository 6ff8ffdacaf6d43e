// SSH host-key checking against the `known_hosts` a GitRepository's Secret provides.
//
// Gantry never trusts a host key it was not given: the key the server presents must appear in
// the Secret's known_hosts (OpenSSH format, as `ssh-keyscan` prints it) for that host and
// port. The user's ~/.ssh/known_hosts plays no part. Pure functions, safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "operator/common/status.h"

namespace gantry::git {

// Checks the server key `key_blob` (the raw SSH wire-format public key, as the base64 field
// of a known_hosts line decodes to) of `host`:`port`. Lines may list several comma-separated
// patterns with `*`, `?` and `!` negation, hashed names (`|1|salt|hash`), and a non-22 port as
// `[host]:port`; `@revoked` lines reject a key; `@cert-authority` lines are skipped (host
// certificates are not supported).
//
// OK when a line for the host carries this exact key. Forbidden when none does; the message
// names the host, the key type and its SHA256 fingerprint, and whether known_hosts lists a
// different key for the host (the key changed, or this is not the expected server).
// InvalidArgument when `known_hosts` is empty or a line is malformed ("known_hosts line 3:
// ...").
Status CheckKnownHost(std::string_view known_hosts, std::string_view host, int port,
                      std::string_view key_blob);

// "SHA256:<unpadded base64 of the SHA-256 of key_blob>", as `ssh-keygen -l` prints it.
std::string SshKeyFingerprint(std::string_view key_blob);

// The key type written at the start of a wire-format key ("ssh-ed25519"), or "" if the blob
// is malformed.
std::string SshKeyType(std::string_view key_blob);

// Standard base64 (RFC 4648) without line breaks; decoding accepts missing padding and fails
// (nullopt) on any other character.
std::string Base64Encode(std::string_view data);
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace gantry::git
