#include "operator/common/duration.h"

#include <fmt/format.h>

#include <cstdint>
#include <limits>

namespace gantry {
namespace {

// Nanoseconds per unit, for the units Go accepts.
int64_t UnitNanos(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") return 1'000;
  if (unit == "ms") return 1'000'000;
  if (unit == "s") return 1'000'000'000;
  if (unit == "m") return 60LL * 1'000'000'000;
  if (unit == "h") return 3600LL * 1'000'000'000;
  return 0;
}

Status Bad(std::string_view text, std::string_view why) {
  return InvalidArgument(
      fmt::format("invalid duration \"{}\": {} (want e.g. \"30s\", \"5m\", \"1h30m\")", text, why));
}

}  // namespace

Result<Millis> ParseDuration(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Millis(0);
  if (s.empty()) return Bad(text, "empty");

  // Integer nanoseconds, as Go does: the whole part of each number is exact; only the fraction
  // goes through floating point, scaled from exact integer digits, so "8.446s" is exactly
  // 8446ms (summing 0.4 + 0.04 + 0.006 in floating point gave 8445.999...ms, truncated to
  // 8445). An int64 of nanoseconds caps at ~292 years, as in Go.
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t total_ns = 0;
  while (!s.empty()) {
    size_t i = 0;
    uint64_t whole = 0;
    bool digits = false;
    bool too_large = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (whole > static_cast<uint64_t>(kMax) / 10) too_large = true;
      whole = too_large ? whole : whole * 10 + static_cast<uint64_t>(s[i] - '0');
      digits = true;
      ++i;
    }
    uint64_t fraction = 0;  // the first digits after '.', as an integer
    uint64_t scale = 1;     // 10^(number of digits in `fraction`)
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        // Digits past 10^-18 cannot change a result kept in nanoseconds; they are dropped.
        if (scale <= 100'000'000'000'000'000ULL) {
          fraction = fraction * 10 + static_cast<uint64_t>(s[i] - '0');
          scale *= 10;
        }
        digits = true;
        ++i;
      }
    }
    if (!digits) return Bad(text, "expected a number");
    size_t unit_start = i;
    while (i < s.size() && !(s[i] >= '0' && s[i] <= '9') && s[i] != '.') ++i;
    std::string_view unit = s.substr(unit_start, i - unit_start);
    if (unit.empty()) return Bad(text, "missing unit");
    int64_t per = UnitNanos(unit);
    if (per == 0) return Bad(text, fmt::format("unknown unit \"{}\"", unit));
    if (too_large || whole > static_cast<uint64_t>(kMax / per)) return Bad(text, "out of range");
    const int64_t whole_ns = static_cast<int64_t>(whole) * per;
    // fraction / scale < 1, so this part is at most `per`.
    const auto fraction_ns =
        static_cast<int64_t>(static_cast<long double>(fraction) *
                             (static_cast<long double>(per) / static_cast<long double>(scale)));
    if (fraction_ns > kMax - whole_ns || total_ns > kMax - whole_ns - fraction_ns) {
      return Bad(text, "out of range");
    }
    total_ns += whole_ns + fraction_ns;
    s.remove_prefix(i);
  }
  const int64_t ms = total_ns / 1'000'000;
  return Millis(negative ? -ms : ms);
}

std::string FormatDuration(Millis d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  if (ms < 1000) return out + fmt::format("{}ms", ms);
  int64_t h = ms / 3'600'000;
  ms %= 3'600'000;
  int64_t m = ms / 60'000;
  ms %= 60'000;
  if (h > 0) out += fmt::format("{}h", h);
  if (h > 0 || m > 0) out += fmt::format("{}m", m);
  if (ms % 1000 == 0) {
    out += fmt::format("{}s", ms / 1000);
  } else {
    std::string frac = fmt::format("{:03d}", ms % 1000);
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    out += fmt::format("{}.{}s", ms / 1000, frac);
  }
  return out;
}

}  // namespace gantry
