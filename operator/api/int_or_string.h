// IntOrString: a field that is either an integer or a string, as Kubernetes' intstr.IntOrString
// (maxSurge: 1 or "25%"; an analysis count: 5 or "{{args.count}}"). A plain value; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "operator/common/status.h"

namespace gantry::api {

class IntOrString {
 public:
  IntOrString() : value_(int64_t{0}) {}
  IntOrString(int64_t v) : value_(v) {}                   // NOLINT: implicit, as in YAML
  IntOrString(int v) : value_(int64_t{v}) {}              // NOLINT
  IntOrString(std::string v) : value_(std::move(v)) {}    // NOLINT
  IntOrString(const char* v) : value_(std::string(v)) {}  // NOLINT

  bool is_int() const { return std::holds_alternative<int64_t>(value_); }
  bool is_string() const { return !is_int(); }
  // Precondition: is_int() / is_string() respectively.
  int64_t int_value() const { return std::get<int64_t>(value_); }
  const std::string& string_value() const { return std::get<std::string>(value_); }

  // A string ending in '%'.
  bool IsPercent() const;

  // The value scaled against `total`, exactly as Kubernetes' GetScaledValueFromIntOrPercent:
  // an int is itself; "N%" is N*total/100 rounded up (round_up, as for maxSurge) or down (as
  // for maxUnavailable); a string of digits is that number. Anything else is InvalidArgument
  // naming the value.
  Result<int64_t> Resolve(int64_t total, bool round_up) const;

  // The integer for fields that accept a string only so that it can hold "{{args.x}}" before
  // substitution (count, failureLimit, ...): an int, or a string of decimal digits with an
  // optional sign. Anything else (including a percentage or an unsubstituted template) is
  // InvalidArgument.
  Result<int64_t> AsInt() const;

  // "25%", "3": how it is written in YAML, for messages.
  std::string ToString() const;

  bool operator==(const IntOrString&) const = default;

 private:
  std::variant<int64_t, std::string> value_;
};

}  // namespace gantry::api
