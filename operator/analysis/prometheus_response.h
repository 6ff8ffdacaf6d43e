// Turning a Prometheus HTTP API answer into the value an analysis condition sees as `result`.
//
// The Prometheus provider sends an instant query (GET /api/v1/query) and hands the body,
// whatever the HTTP status, to ParsePrometheusResponse. Result types map as in Argo Rollouts:
//
//   resultType   result
//   scalar       a number                              result > 0.95
//   vector       a list of numbers, one per series,    result[0] >= 0.95, len(result) == 0,
//                in the order Prometheus sent them     default(result[0], 0) < 5
//                (a single series is still a list)
//   string       a string                              result == "ok"
//
// Sample values "NaN", "+Inf" and "-Inf" become the corresponding doubles (isNaN, isInf test
// them). Matrix results (range selectors such as up[5m]) and native histograms are refused.
//
// A pure function, safe from any thread.
#pragma once

#include <string_view>

#include "operator/analysis/value.h"
#include "operator/common/status.h"

namespace gantry::analysis {

// Parses the body of an answer to /api/v1/query. Errors:
// - {"status":"error"} answers keep Prometheus' errorType in the code (bad_data:
//   InvalidArgument, timeout: Timeout, canceled: Cancelled, unavailable: Unavailable,
//   not_found: NotFound, anything else: Internal) and read
//   "Prometheus answered with an error (bad_data): <its message>";
// - a body that is not JSON is Internal, quoting where it broke and its first bytes, e.g.
//   `the response is not JSON (at byte 1: ...); it begins "<html>..."`;
// - JSON of the wrong shape, a matrix, a histogram or a sample that is not a number is
//   Internal, naming the field or the series.
Result<Value> ParsePrometheusResponse(std::string_view body);

}  // namespace gantry::analysis
