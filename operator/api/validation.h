// Internal to operator/api: small checks shared by the kinds' Validate(), each adding a field
// error with its path to a FieldErrors.
#pragma once

#include <string>
#include <string_view>

#include "operator/api/codec.h"
#include "operator/common/duration.h"

namespace gantry::api::internal {

// Adds "is required" when `value` is empty.
void CheckRequired(FieldErrors& errors, std::string_view path, std::string_view value);

enum class DurationRule { kPositive, kNonNegative };

// Checks that `text` is a Go duration (ParseDuration) obeying `rule`. Empty text is not checked:
// callers decide whether the field is required.
void CheckDuration(FieldErrors& errors, std::string_view path, std::string_view text,
                   DurationRule rule);

// The duration, or `fallback` when `text` is empty or does not parse (Validate reports that).
Millis DurationOr(std::string_view text, Millis fallback);

// RFC 1123 label (namespaces, Service names): lower-case alphanumerics and '-', at most 63.
bool IsDnsLabel(std::string_view name);
// RFC 1123 subdomain (most object names): labels joined by '.', at most 253.
bool IsDnsSubdomain(std::string_view name);

// Adds an error when a non-empty `name` is not a DNS label / subdomain.
void CheckDnsLabel(FieldErrors& errors, std::string_view path, std::string_view name);
void CheckDnsSubdomain(FieldErrors& errors, std::string_view path, std::string_view name);

// Adds "must be an integer lo..hi" / "must be >= lo" when out of range.
void CheckRange(FieldErrors& errors, std::string_view path, int64_t value, int64_t lo, int64_t hi);
void CheckMin(FieldErrors& errors, std::string_view path, int64_t value, int64_t lo);

}  // namespace gantry::api::internal
