#include "operator/analysis/providers/metric_provider.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace gantry::analysis {

void FinishWithValue(api::Measurement& measurement, const MetricConditions& conditions,
                     const Value& result, Clock::TimePoint now) {
  if (NestsDeeperThan(result, kMaxValueDepth)) {
    FinishWithError(measurement,
                    fmt::format("the result nests deeper than {} levels", kMaxValueDepth), now);
    return;
  }
  measurement.value = FormatValue(result, kMaxMeasurementValueLength);
  MeasurementDecision decision = DecideMeasurement(conditions, result);
  switch (decision.phase) {
    case MeasurementPhase::kSuccessful:
      measurement.phase = api::AnalysisPhase::kSuccessful;
      break;
    case MeasurementPhase::kFailed:
      measurement.phase = api::AnalysisPhase::kFailed;
      break;
    case MeasurementPhase::kInconclusive:
      measurement.phase = api::AnalysisPhase::kInconclusive;
      break;
    case MeasurementPhase::kError:
      measurement.phase = api::AnalysisPhase::kError;
      break;
  }
  measurement.message = PrintableText(decision.message, kMaxMeasurementMessageLength);
  measurement.finished_at = now;
  measurement.resume_at.reset();
}

void FinishWithError(api::Measurement& measurement, std::string_view message,
                     Clock::TimePoint now) {
  measurement.phase = api::AnalysisPhase::kError;
  measurement.message = PrintableText(message, kMaxMeasurementMessageLength);
  measurement.finished_at = now;
  measurement.resume_at.reset();
}

}  // namespace gantry::analysis
