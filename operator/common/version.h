// Build identity of this binary, stamped at build time from git (see version.cc.in).
#pragma once

#include <string_view>

namespace gantry {

std::string_view Version();    // "0.1.0"
std::string_view GitCommit();  // full sha of HEAD at build time, "+dirty" if the tree had changes
std::string_view BuildDate();  // RFC 3339, UTC

}  // namespace gantry
