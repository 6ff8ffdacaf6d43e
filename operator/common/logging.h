// Process-wide logging setup on spdlog. Call InitLogging once from main before any thread
// starts; afterwards spdlog's free functions (spdlog::info, ...) are safe from any thread.
// Log lines about an object name it as "<kind> <namespace>/<name>".
#pragma once

#include <string_view>

#include "operator/common/status.h"

namespace gantry {

// format: "text" (human: time, level, message) or "json" (one object per line with
// ts, level, msg). level: trace|debug|info|warn|error. InvalidArgument on anything else.
Status InitLogging(std::string_view format, std::string_view level);

}  // namespace gantry
