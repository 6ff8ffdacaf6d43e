// Encodings that Kubernetes objects and URLs use: base64 (Secret data, kubeconfig *-data
// fields) and percent-encoding of URL query values and path segments. Pure functions.
#pragma once

#include <string>
#include <string_view>

#include "operator/common/status.h"

namespace gantry::kube {

// Standard alphabet with padding, as Kubernetes writes []byte fields.
std::string Base64Encode(std::string_view data);
// Accepts the standard alphabet, with or without padding, ignoring whitespace and newlines
// (kubeconfigs wrap long lines). InvalidArgument on any other character.
Result<std::string> Base64Decode(std::string_view text);

// Percent-encodes everything but RFC 3986 unreserved characters, for query values and path
// segments.
std::string UrlEscape(std::string_view text);

}  // namespace gantry::kube
