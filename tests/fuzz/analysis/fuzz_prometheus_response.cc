// Fuzzes the Prometheus answer parser with arbitrary bodies; what parses is formatted and fed
// to a typical pair of conditions. Aborts on a crash, on an exception turned into a status,
// and on a parsed value of a shape a Prometheus answer cannot have.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>

#include "operator/analysis/measurement.h"
#include "operator/analysis/prometheus_response.h"
#include "operator/analysis/value.h"

namespace {

using gantry::analysis::Value;

void Check(bool condition) {
  if (!condition) std::abort();
}

const gantry::analysis::MetricConditions& Conditions() {
  static const auto* conditions = [] {
    auto parsed = gantry::analysis::ParseMetricConditions(
        "len(result) == 0 || default(result[0], 0) >= 0.95", "isNaN(result[0])");
    Check(parsed.ok());
    return new gantry::analysis::MetricConditions(std::move(parsed).value());
  }();
  return *conditions;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto value = gantry::analysis::ParsePrometheusResponse(body);
  if (!value.ok()) {
    Check(!value.status().message().empty());
    Check(value.status().message().rfind("reading a Prometheus response:", 0) != 0);
    return 0;
  }
  // A scalar, a string, or a list of numbers; nothing else.
  if (value->is_array()) {
    for (const Value& element : *value) Check(element.is_number());
  } else {
    Check(value->is_number() || value->is_string());
  }
  gantry::analysis::FormatValue(*value, 1000);
  gantry::analysis::DecideMeasurement(Conditions(), *value);
  return 0;
}
