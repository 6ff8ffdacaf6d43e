// Deciding a measurement's phase from a metric's conditions, the way Argo Rollouts does.
//
// The AnalysisRun reconciler parses a metric's successCondition and failureCondition once
// (ParseMetricConditions), and for every value a provider returns asks DecideMeasurement for
// the measurement's phase:
//
//   conditions given        phase
//   neither                 Successful (a value came back at all)
//   success only            Successful if it holds, else Failed
//   failure only            Failed if it holds, else Successful
//   both                    Failed if failure holds, else Successful if success holds,
//                           else Inconclusive
//
// Both given conditions are always evaluated; if either cannot be (wrong types, a missing
// field), the measurement is an Error whose message says which condition and why. A provider
// that returned no value at all is the caller's Error, not decided here.
//
// Pure functions; MetricConditions is immutable once parsed and may be shared across threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "operator/analysis/expression.h"
#include "operator/analysis/value.h"
#include "operator/common/status.h"

namespace gantry::analysis {

// AnalysisRun status.metricResults[].measurements[].phase for a decided measurement.
enum class MeasurementPhase { kSuccessful, kFailed, kInconclusive, kError };

// "Successful", "Failed", "Inconclusive", "Error": the spelling in AnalysisRun status.
std::string_view MeasurementPhaseName(MeasurementPhase phase);

struct MeasurementDecision {
  MeasurementPhase phase = MeasurementPhase::kError;
  // Empty unless phase is kError: then which condition failed to evaluate and why, e.g.
  // "successCondition: in `result[0]`: index 0 is out of range for a list of 0 elements; ...".
  std::string message;
};

// A metric's parsed conditions; a null pointer means the condition is absent.
struct MetricConditions {
  std::unique_ptr<Expression> success;
  std::unique_ptr<Expression> failure;
};

// Parses both conditions. An empty string means the condition is absent (as in Argo, a string
// of spaces is not empty and fails to parse). Errors: InvalidArgument prefixed with the
// condition's field name, e.g. "failureCondition: at column 7: expected a value but found end
// of input"; callers prefix the metric and record an Error measurement with this message.
Result<MetricConditions> ParseMetricConditions(std::string_view success_condition,
                                               std::string_view failure_condition);

// The phase of one measurement whose provider returned `result` (see the table above).
MeasurementDecision DecideMeasurement(const MetricConditions& conditions, const Value& result);

}  // namespace gantry::analysis
