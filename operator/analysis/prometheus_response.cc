#include "operator/analysis/prometheus_response.h"

#include <fmt/format.h>

#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace gantry::analysis {
namespace {

// How much of a body, message or label set an error quotes.
constexpr size_t kBodyPrefixLength = 100;
constexpr size_t kMessageLength = 1000;
constexpr size_t kLabelsLength = 120;

Status Malformed(std::string_view message) {
  return Internal(fmt::format("unexpected Prometheus response: {}", message));
}

StatusCode CodeForErrorType(std::string_view error_type) {
  if (error_type == "bad_data") return StatusCode::kInvalidArgument;
  if (error_type == "timeout") return StatusCode::kTimeout;
  if (error_type == "canceled") return StatusCode::kCancelled;
  if (error_type == "unavailable") return StatusCode::kUnavailable;
  if (error_type == "not_found") return StatusCode::kNotFound;
  return StatusCode::kInternal;
}

// `{job="api",instance="a:9090"}` from a series' "metric" object, cut to kLabelsLength.
std::string FormatLabels(const Value* metric) {
  if (metric == nullptr || !metric->is_object()) return "{}";
  std::string labels = "{";
  for (const auto& [name, value] : metric->items()) {
    if (labels.size() > kLabelsLength) {
      labels += ",...";
      break;
    }
    if (labels.size() > 1) labels += ',';
    labels += fmt::format("{}={}", name,
                          value.is_string() ? QuoteText(value.get_ref<const std::string&>(), 40)
                                            : FormatValue(value, 40));
  }
  return labels + "}";
}

const Value* Field(const Value& object, std::string_view name) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

// The text of a [<timestamp>, "<text>"] pair, as scalars, strings and vector samples carry.
std::optional<std::string> SampleText(const Value* sample) {
  if (sample == nullptr || !sample->is_array() || sample->size() != 2 ||
      !(*sample)[0].is_number() || !(*sample)[1].is_string()) {
    return std::nullopt;
  }
  return (*sample)[1].get<std::string>();
}

Result<Value> ParseError(const Value& response) {
  const Value* error_type = Field(response, "errorType");
  const Value* error = Field(response, "error");
  const std::string type = error_type != nullptr && error_type->is_string()
                               ? error_type->get<std::string>()
                               : std::string("unknown");
  const std::string message = error != nullptr && error->is_string() ? error->get<std::string>()
                                                                     : std::string("(no message)");
  return Status(CodeForErrorType(type),
                fmt::format("Prometheus answered with an error ({}): {}", PrintableText(type, 40),
                            PrintableText(message, kMessageLength)));
}

Result<Value> ParseVector(const Value& result) {
  if (!result.is_array()) return Malformed("data.result of a vector is not a list");
  Value numbers = Value::array();
  for (size_t i = 0; i < result.size(); ++i) {
    const Value& series = result[i];
    const Value* metric = Field(series, "metric");
    if (Field(series, "histogram") != nullptr) {
      return Malformed(fmt::format(
          "series {} {} is a native histogram, which conditions cannot compare; query a number "
          "from it, e.g. with histogram_quantile()",
          i, FormatLabels(metric)));
    }
    std::optional<std::string> text = SampleText(Field(series, "value"));
    if (!text) {
      return Malformed(fmt::format("series {} {} has no value of the form [<time>, \"<number>\"]",
                                   i, FormatLabels(metric)));
    }
    std::optional<double> number = ParseFloat(*text);
    if (!number) {
      return Malformed(fmt::format("series {} {} has the value {}, which is not a number", i,
                                   FormatLabels(metric), QuoteText(*text, 40)));
    }
    numbers.push_back(*number);
  }
  return numbers;
}

Result<Value> ParseSuccess(const Value& response) {
  const Value* data = Field(response, "data");
  if (data == nullptr || !data->is_object()) return Malformed("it has no \"data\" object");
  const Value* type = Field(*data, "resultType");
  if (type == nullptr || !type->is_string()) {
    return Malformed("it has no data.resultType string");
  }
  const Value* result = Field(*data, "result");
  if (result == nullptr) return Malformed("it has no data.result");
  const std::string& result_type = type->get_ref<const std::string&>();
  if (result_type == "vector") return ParseVector(*result);
  if (result_type == "scalar") {
    std::optional<std::string> text = SampleText(result);
    if (!text) return Malformed("a scalar's data.result is not [<time>, \"<number>\"]");
    std::optional<double> number = ParseFloat(*text);
    if (!number) {
      return Malformed(fmt::format("the scalar {} is not a number", QuoteText(*text, 40)));
    }
    return Value(*number);
  }
  if (result_type == "string") {
    std::optional<std::string> text = SampleText(result);
    if (!text) return Malformed("a string's data.result is not [<time>, \"<string>\"]");
    return Value(std::move(*text));
  }
  if (result_type == "matrix") {
    return Malformed(
        "the query returned a matrix (a range vector); conditions need a scalar, a vector or a "
        "string, so wrap a range selector such as [5m] in a function like rate() or "
        "avg_over_time()");
  }
  return Malformed(fmt::format("unknown data.resultType {}", QuoteText(result_type, 40)));
}

}  // namespace

Result<Value> ParsePrometheusResponse(std::string_view body) {
  if (body.empty()) return Malformed("the body is empty");
  try {
    Value response;
    try {
      response = Value::parse(body);
    } catch (const Value::parse_error& e) {
      // e.what() reads "[json.exception.parse_error.101] parse error at line 1, column 1: ...";
      // the part after the first ": " is what went wrong.
      std::string_view what = e.what();
      const size_t colon = what.find(": ");
      if (colon != std::string_view::npos) what.remove_prefix(colon + 2);
      return Malformed(fmt::format("the body is not JSON (at byte {}: {}); it begins {}", e.byte,
                                   what, QuoteText(body, kBodyPrefixLength)));
    } catch (const Value::exception& e) {
      // Well-formed text nlohmann cannot hold, such as a number beyond the range of a double
      // (out_of_range.406). Found by fuzz_prometheus_response.
      std::string_view what = e.what();
      const size_t bracket = what.find("] ");
      if (bracket != std::string_view::npos) what.remove_prefix(bracket + 2);
      return Malformed(fmt::format("the body is not JSON ({}); it begins {}", what,
                                   QuoteText(body, kBodyPrefixLength)));
    }
    if (!response.is_object()) {
      return Malformed(fmt::format("the body is a JSON {}, not an object with a \"status\"",
                                   ValueTypeName(response)));
    }
    const Value* status = Field(response, "status");
    if (status != nullptr && *status == "success") return ParseSuccess(response);
    if (status != nullptr && *status == "error") return ParseError(response);
    return Malformed(fmt::format("its \"status\" is {}, not \"success\" or \"error\"",
                                 status == nullptr ? "absent" : FormatValue(*status, 40)));
  } catch (const std::exception& e) {
    return Internal(fmt::format("reading a Prometheus response: {}", e.what()));
  }
}

}  // namespace gantry::analysis
