// The Prometheus metric provider: one instant query per measurement.
//
// POST <address>/api/v1/query with the form field `query` (as Prometheus' own Go client does,
// so long queries fit), falling back to GET with the query in the URL when the server refuses
// POST (405, e.g. behind a read-only proxy). `headers` are sent as given (Authorization:
// Bearer ...); `timeout` (integer seconds or a Go duration, default 30s) bounds the request.
// The answer becomes `result` through ParsePrometheusResponse (a vector is a list of numbers,
// NaN kept), and the metric's conditions decide the phase; an empty vector is the empty list,
// for conditions to test with len(result) or default(). Errors from Prometheus or the network
// are Error measurements that quote what came back.
#pragma once

#include <chrono>
#include <memory>

#include "operator/analysis/providers/http_client.h"
#include "operator/analysis/providers/metric_provider.h"
#include "operator/common/clock.h"

namespace gantry::analysis {

inline constexpr std::chrono::seconds kDefaultPrometheusTimeout{30};

// `http` and `clock` must outlive the provider.
std::unique_ptr<MetricProvider> NewPrometheusProvider(HttpClient& http, Clock& clock);

}  // namespace gantry::analysis
