#include "operator/analysis/measurement.h"

#include <utility>

namespace gantry::analysis {
namespace {

constexpr std::string_view kSuccessField = "successCondition";
constexpr std::string_view kFailureField = "failureCondition";

Result<std::unique_ptr<Expression>> ParseCondition(std::string_view field,
                                                   std::string_view source) {
  if (source.empty()) return std::unique_ptr<Expression>();
  Result<std::unique_ptr<Expression>> expression = ParseExpression(source);
  if (!expression.ok()) return expression.status().WithContext(field);
  return expression;
}

MeasurementDecision Decided(MeasurementPhase phase) { return MeasurementDecision{phase, ""}; }

}  // namespace

std::string_view MeasurementPhaseName(MeasurementPhase phase) {
  switch (phase) {
    case MeasurementPhase::kSuccessful:
      return "Successful";
    case MeasurementPhase::kFailed:
      return "Failed";
    case MeasurementPhase::kInconclusive:
      return "Inconclusive";
    case MeasurementPhase::kError:
      return "Error";
  }
  return "Error";
}

Result<MetricConditions> ParseMetricConditions(std::string_view success_condition,
                                               std::string_view failure_condition) {
  MetricConditions conditions;
  Result<std::unique_ptr<Expression>> success = ParseCondition(kSuccessField, success_condition);
  if (!success.ok()) return success.status();
  Result<std::unique_ptr<Expression>> failure = ParseCondition(kFailureField, failure_condition);
  if (!failure.ok()) return failure.status();
  conditions.success = std::move(success).value();
  conditions.failure = std::move(failure).value();
  return conditions;
}

MeasurementDecision DecideMeasurement(const MetricConditions& conditions, const Value& result) {
  // Argo evaluates both conditions before deciding, so an error in either one is an Error
  // measurement even when the other alone would have decided.
  bool success = false;
  bool failure = false;
  if (conditions.success != nullptr) {
    Result<bool> holds = conditions.success->EvaluateCondition(result);
    if (!holds.ok()) {
      return {MeasurementPhase::kError, holds.status().WithContext(kSuccessField).message()};
    }
    success = *holds;
  }
  if (conditions.failure != nullptr) {
    Result<bool> holds = conditions.failure->EvaluateCondition(result);
    if (!holds.ok()) {
      return {MeasurementPhase::kError, holds.status().WithContext(kFailureField).message()};
    }
    failure = *holds;
  }

  if (conditions.success == nullptr && conditions.failure == nullptr) {
    return Decided(MeasurementPhase::kSuccessful);
  }
  // With one condition, the other is its negation.
  if (conditions.failure == nullptr) failure = !success;
  if (conditions.success == nullptr) success = !failure;

  if (failure) return Decided(MeasurementPhase::kFailed);
  if (success) return Decided(MeasurementPhase::kSuccessful);
  return Decided(MeasurementPhase::kInconclusive);
}

}  // namespace gantry::analysis
