#include "operator/api/int_or_string.h"

#include <fmt/format.h>

#include <charconv>

namespace gantry::api {
namespace {

// A whole string of decimal digits with an optional sign, as strconv.Atoi accepts.
std::optional<int64_t> ParseInteger(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

bool IntOrString::IsPercent() const {
  return is_string() && !string_value().empty() && string_value().back() == '%';
}

Result<int64_t> IntOrString::Resolve(int64_t total, bool round_up) const {
  if (is_int()) return int_value();
  std::string_view text = string_value();
  bool percent = IsPercent();
  if (percent) text.remove_suffix(1);
  std::optional<int64_t> value = ParseInteger(text);
  if (!value.has_value()) {
    return InvalidArgument(fmt::format(
        "invalid value \"{}\": must be an integer or a percentage like \"25%\"", string_value()));
  }
  if (!percent) return *value;
  // Integer arithmetic: ceil/floor of value*total/100 without floating-point surprises.
  int64_t product = 0;
  if (__builtin_mul_overflow(*value, total, &product)) {
    return InvalidArgument(fmt::format("invalid value \"{}\": out of range", string_value()));
  }
  int64_t quotient = product / 100;
  int64_t remainder = product % 100;
  if (remainder != 0) {
    bool positive = product > 0;
    if (round_up && positive) ++quotient;
    if (!round_up && !positive) --quotient;
  }
  return quotient;
}

Result<int64_t> IntOrString::AsInt() const {
  if (is_int()) return int_value();
  std::optional<int64_t> value = ParseInteger(string_value());
  if (!value.has_value()) {
    return InvalidArgument(fmt::format("invalid value \"{}\": must be an integer", string_value()));
  }
  return *value;
}

std::string IntOrString::ToString() const {
  return is_int() ? std::to_string(int_value()) : string_value();
}

}  // namespace gantry::api
