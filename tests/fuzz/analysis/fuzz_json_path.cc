// Fuzzes the web provider's JSONPath subset. The input's first line is the path; the rest, if
// it is JSON, the document (else a fixed one). Aborts on a crash, on an exception turned into
// an Internal status, and on ValidateJsonPath and EvaluateJsonPath disagreeing about syntax.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "operator/analysis/json_path.h"
#include "operator/analysis/value.h"

namespace {

using gantry::StatusCode;
using gantry::analysis::Value;

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view path = input.substr(0, newline);
  static const Value* fixed = new Value(Value::parse(
      R"({"data":{"ok":true,"rate":0.97,"weird key":"w"},"items":[{"value":1},{"value":2}]})"));
  Value parsed;
  const Value* document = fixed;
  if (newline != std::string_view::npos) {
    parsed = Value::parse(input.substr(newline + 1), nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_discarded()) document = &parsed;
  }
  const gantry::Status valid = gantry::analysis::ValidateJsonPath(path);
  auto value = gantry::analysis::EvaluateJsonPath(path, *document);
  Check(valid.ok() || valid.code() == StatusCode::kInvalidArgument);
  if (!valid.ok()) {
    Check(!value.ok() && value.status().message() == valid.message());
  } else if (value.ok()) {
    gantry::analysis::FormatValue(*value, 1000);
  } else {
    Check(value.status().code() == StatusCode::kInvalidArgument);
  }
  return 0;
}
