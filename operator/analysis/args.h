// An AnalysisRun's arguments: resolving spec.args to values and substituting `{{args.NAME}}`
// into a metric before it is measured.
//
// The Rollout that creates a run copies every argument into the run's spec (see
// operator/rollout/analysis_run_builder.h): plain values, and secretKeyRef references that are
// read here, when the run measures, so that secret values never land in a spec or a status.
// The AnalysisRun reconciler resolves the arguments on every pass (a rotated Secret is picked
// up) and substitutes them into a copy of each metric: the Prometheus address, query and
// headers; the web URL, headers, body and jsonPath; every string in a Job's metadata and spec;
// and count and the limits, which may be written as "{{args.NAME}}".
//
// Safe from any thread; ResolveArgs blocks on the API server.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "operator/api/analysis.h"
#include "operator/common/status.h"
#include "operator/kube/kube_client.h"

namespace gantry::analysis {

// Argument name -> value.
using ArgValues = std::map<std::string, std::string>;

// The value of every argument of a run in namespace `ns`: `value` as written,
// `valueFrom.secretKeyRef` read from that Secret's data (base64-decoded) or stringData.
// Errors name the argument: InvalidArgument for an argument without a value, a fieldRef (a
// Rollout resolves those when it creates the run), a missing key or bad base64; the API's code
// (NotFound, Forbidden, Unavailable...) when the Secret cannot be read, e.g.
//   argument "token": Secret default/prom-auth: NotFound: ...
Result<ArgValues> ResolveArgs(const std::vector<api::Argument>& args, const std::string& ns,
                              kube::KubeClient& client);

// `metric` with every `{{args.NAME}}` replaced by its value. InvalidArgument naming the metric,
// the field and the argument, e.g.
//   metric "errors": provider.prometheus.query: {{args.service}} has no value: ...
Result<api::Metric> SubstituteMetricArgs(const api::Metric& metric, const ArgValues& values);

}  // namespace gantry::analysis
