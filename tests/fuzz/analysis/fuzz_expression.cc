// Fuzzes the condition language: any text is parsed; what parses is evaluated against results
// of every shape a provider can return. Aborts on a crash, on an exception turned into an
// Internal status, and on the two entry points disagreeing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "operator/analysis/expression.h"
#include "operator/analysis/value.h"

namespace {

using gantry::StatusCode;
using gantry::analysis::Value;

const std::vector<Value>& Results() {
  static const std::vector<Value>* results = [] {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    Value deep = 1;
    for (int i = 0; i < 300; ++i) deep = Value::array({std::move(deep)});
    return new std::vector<Value>{
        Value::array({0.97}),
        Value::array({0.5, nan, inf, -inf}),
        Value::array(),
        Value(0.95),
        Value(nan),
        Value(-inf),
        Value("ok"),
        Value(nullptr),
        Value(true),
        Value::parse(R"({"data":{"ok":true,"rate":"0.97","n":null,"items":[1,"x",null,[2]],
                         "nested":{"a":{"b":{"c":[{"d":4}]}}}},"caf\u00e9":"\u00e9"})"),
        std::move(deep),
    };
  }();
  return *results;
}

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  auto expression = gantry::analysis::ParseExpression(source);
  if (!expression.ok()) {
    // Bad input is an InvalidArgument with a message, never an exception caught as Internal.
    Check(expression.status().code() == StatusCode::kInvalidArgument);
    Check(!expression.status().message().empty());
    return 0;
  }
  Check((*expression)->source() == source);
  for (const Value& result : Results()) {
    auto value = (*expression)->Evaluate(result);
    auto holds = (*expression)->EvaluateCondition(result);
    if (value.ok()) {
      gantry::analysis::FormatValue(*value, 200);
      // EvaluateCondition is Evaluate plus "must be a boolean".
      Check(holds.ok() == value->is_boolean());
      if (holds.ok()) Check(*holds == value->get<bool>());
    } else {
      // Not necessarily the same message: a list too deep to copy out is still not a boolean.
      Check(value.status().code() == StatusCode::kInvalidArgument);
      Check(!holds.ok() && holds.status().code() == StatusCode::kInvalidArgument);
    }
  }
  return 0;
}
