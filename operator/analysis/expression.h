// The condition language of analysis metrics: `successCondition` and `failureCondition`.
//
// A condition is a small, safe expression over `result`, the Value a metric provider measured.
// It follows what Argo Rollouts users write (Argo evaluates them with antonmedv/expr):
//
//   result[0] >= 0.95 && !isNaN(result[0])
//   len(result) == 0 || default(result[0], 0) < 5
//   result.status == "ok" and asInt(result.code) == 200
//
// Syntax, loosest binding first:
//   a || b, a or b          a && b, a and b          a == b, a != b
//   a < b, a <= b, a > b, a >= b                     a + b, a - b          a * b, a / b
//   !a, not a, -a, +a       x.field, x["field"], x[i]                     (a)
//   literals: numbers (1, 2.5, 1e-3), strings ("..." or '...' with \" \' \\ \n \t \r \uXXXX
//   escapes), true, false, null (also spelled nil); the name `result`; and the functions below.
//
// Semantics, pinned down by tests/unit/analysis/expression_test.cc:
// - Numbers are doubles with Go's float rules: division by zero gives +Inf, -Inf or NaN;
//   ==, <, <=, > and >= with a NaN operand are false and != is true.
// - Lists index from 0; a negative index counts from the end (result[-1] is the last element).
// - A field that does not exist, an index out of range, or a field or index of null is
//   *missing*. Missing equals null under == and !=, `default` replaces it, and any other use
//   is an error that names the sub-expression (a measurement Error, not a false condition).
// - == and != compare null, booleans, numbers and strings; two different kinds are an error
//   (a string "0.9" is not the number 0.9: convert with asFloat), except that null (or missing)
//   compares unequal to everything else. Lists and objects cannot be compared.
// - < <= > >= compare two numbers or two strings (byte order); anything else is an error.
// - + adds numbers or joins strings; - * / need numbers.
// - && || and ! need booleans (no truthiness); && and || evaluate their right side only when
//   needed, so `len(result) > 0 && result[0] > 1` is safe on an empty list.
// - len(x): characters (UTF-8 code points) of a string, elements of a list, fields of an
//   object. isNaN(x), isInf(x) (either sign): x must be a number. default(x, v): v when x is
//   missing or null, else x (v is evaluated only then; NaN is a number and is kept: test it with
//   isNaN). asFloat(x): a number, or a string parsed as Go's strconv.ParseFloat does. asInt(x):
//   a number truncated toward zero, or a string of decimal digits; like Argo's asInt/asFloat.
// - A condition must evaluate to true or false.
//
// Limits, so that hostile text cannot exhaust memory or the stack: kMaxExpressionLength bytes
// of source, kMaxExpressionDepth levels of nesting (parentheses, operators and accesses all
// count), strings built by + up to 1 MiB.
//
// Errors are InvalidArgument Statuses (Internal only if memory runs out), never exceptions.
// A parse error reads
//   at column 12: expected ")" but found end of input
// (columns count characters from 1). An evaluation error names the sub-expression:
//   in `result.rate`: no field "rate" (fields: "count", "ok")
// Callers prefix the metric and condition, e.g. `metric "errors": successCondition: ...`.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "operator/analysis/value.h"
#include "operator/common/status.h"

namespace gantry::analysis {

inline constexpr size_t kMaxExpressionLength = 4096;
inline constexpr int kMaxExpressionDepth = 64;

// A parsed condition. Immutable once built: Evaluate and EvaluateCondition may run
// concurrently from any number of threads.
class Expression {
 public:
  virtual ~Expression() = default;

  // The text this expression was parsed from.
  virtual std::string_view source() const = 0;

  // The value of the expression with `result` bound to the given Value, which is only read
  // and need live only for the call. Errors: InvalidArgument naming the sub-expression that
  // could not be evaluated (wrong types, a missing field used outside default(), a list or
  // object nested deeper than kMaxValueDepth as the final value).
  virtual Result<Value> Evaluate(const Value& result) const = 0;

  // As Evaluate, but the value must be true or false; any other value is an InvalidArgument.
  virtual Result<bool> EvaluateCondition(const Value& result) const = 0;
};

// Parses `source` once, for evaluating many times. Errors: InvalidArgument "at column N: ..."
// for bad syntax, unknown names or functions and wrong argument counts; InvalidArgument for
// source longer than kMaxExpressionLength or nested deeper than kMaxExpressionDepth.
Result<std::unique_ptr<Expression>> ParseExpression(std::string_view source);

}  // namespace gantry::analysis
