// Go-style duration strings ("30s", "5m", "1h30m", "1.5h", "250ms"), as used by every
// interval, timeout and pause in Gantry's custom resources (Flux and Argo Rollouts accept the
// same). Pure functions; safe from any thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "operator/common/status.h"

namespace gantry {

using Millis = std::chrono::milliseconds;

// Parses a Go duration: a sequence of decimal numbers, each with an optional fraction and a
// unit of "ns", "us" (or "µs"), "ms", "s", "m", "h", with an optional leading sign. "0" alone
// is allowed. Precision is milliseconds; smaller units round toward zero. Errors are
// InvalidArgument naming the text and what was wrong.
Result<Millis> ParseDuration(std::string_view text);

// Formats as Go does for whole units: 90000ms -> "1m30s", 0 -> "0s", 1500ms -> "1.5s".
std::string FormatDuration(Millis d);

}  // namespace gantry
