#include "operator/api/validation.h"

#include <fmt/format.h>

#include <limits>

namespace gantry::api::internal {

void CheckRequired(FieldErrors& errors, std::string_view path, std::string_view value) {
  if (value.empty()) errors.Add(std::string(path), "is required");
}

void CheckDuration(FieldErrors& errors, std::string_view path, std::string_view text,
                   DurationRule rule) {
  if (text.empty()) return;
  Result<Millis> d = ParseDuration(text);
  if (!d.ok()) {
    errors.Add(std::string(path), d.status().message());
    return;
  }
  if (rule == DurationRule::kPositive && d->count() <= 0) {
    errors.Add(std::string(path), fmt::format("must be a positive duration, got \"{}\"", text));
  } else if (rule == DurationRule::kNonNegative && d->count() < 0) {
    errors.Add(std::string(path), fmt::format("must not be negative, got \"{}\"", text));
  }
}

Millis DurationOr(std::string_view text, Millis fallback) {
  if (text.empty()) return fallback;
  Result<Millis> d = ParseDuration(text);
  return d.ok() ? *d : fallback;
}

namespace {

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

}  // namespace

bool IsDnsLabel(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (!IsAlnum(name.front()) || !IsAlnum(name.back())) return false;
  for (char c : name) {
    if (!IsAlnum(c) && c != '-') return false;
  }
  return true;
}

bool IsDnsSubdomain(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    std::string_view label =
        name.substr(start, dot == std::string_view::npos ? name.npos : dot - start);
    // Subdomain labels may be longer than 63 only as a whole; per-label rules as RFC 1123.
    if (label.empty() || !IsAlnum(label.front()) || !IsAlnum(label.back())) return false;
    for (char c : label) {
      if (!IsAlnum(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

void CheckDnsLabel(FieldErrors& errors, std::string_view path, std::string_view name) {
  if (name.empty() || IsDnsLabel(name)) return;
  errors.Add(std::string(path),
             fmt::format("\"{}\" is not a valid name: use at most 63 lower-case letters, digits "
                         "and '-', starting and ending with a letter or digit",
                         name));
}

void CheckDnsSubdomain(FieldErrors& errors, std::string_view path, std::string_view name) {
  if (name.empty() || IsDnsSubdomain(name)) return;
  errors.Add(std::string(path),
             fmt::format("\"{}\" is not a valid name: use at most 253 lower-case letters, "
                         "digits, '-' and '.', starting and ending with a letter or digit",
                         name));
}

void CheckRange(FieldErrors& errors, std::string_view path, int64_t value, int64_t lo, int64_t hi) {
  if (value < lo || value > hi) {
    errors.Add(std::string(path), fmt::format("must be an integer {}..{}, got {}", lo, hi, value));
  }
}

void CheckMin(FieldErrors& errors, std::string_view path, int64_t value, int64_t lo) {
  if (value < lo) {
    errors.Add(std::string(path), fmt::format("must be >= {}, got {}", lo, value));
  }
}

}  // namespace gantry::api::internal
