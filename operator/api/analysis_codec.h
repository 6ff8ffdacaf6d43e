// Internal to operator/api: Fields() of the analysis types, shared by analysis.cc and rollout.cc
// (a Rollout's analysis uses DryRun and FieldSelector). See codec.h.
#pragma once

#include "operator/api/analysis.h"
#include "operator/api/codec.h"

namespace gantry::api::internal {

template <typename C, Is<SecretKeySelector> V>
void Fields(C& c, V& v) {
  c.Field("name", v.name);
  c.Field("key", v.key);
  c.Extra(v.extra);
}

template <typename C, Is<FieldSelector> V>
void Fields(C& c, V& v) {
  c.Field("fieldPath", v.field_path);
  c.Extra(v.extra);
}

template <typename C, Is<ArgumentValueFrom> V>
void Fields(C& c, V& v) {
  c.Field("secretKeyRef", v.secret_key_ref);
  c.Field("fieldRef", v.field_ref);
  c.Extra(v.extra);
}

template <typename C, Is<Argument> V>
void Fields(C& c, V& v) {
  c.Field("name", v.name);
  c.Field("value", v.value);
  c.Field("valueFrom", v.value_from);
  c.Extra(v.extra);
}

template <typename C, Is<DryRun> V>
void Fields(C& c, V& v) {
  c.Field("metricName", v.metric_name);
  c.Extra(v.extra);
}

template <typename C, Is<HttpHeader> V>
void Fields(C& c, V& v) {
  c.Field("key", v.key);
  c.Field("value", v.value, Emit::kAlways);
  c.Extra(v.extra);
}

template <typename C, Is<PrometheusMetric> V>
void Fields(C& c, V& v) {
  c.Field("address", v.address);
  c.Field("query", v.query);
  c.Field("timeout", v.timeout);
  c.Field("headers", v.headers);
  c.Field("insecure", v.insecure);
  c.Extra(v.extra);
}

template <typename C, Is<WebMetric> V>
void Fields(C& c, V& v) {
  c.Field("url", v.url);
  c.Field("method", v.method);
  c.Field("headers", v.headers);
  c.Field("body", v.body);
  c.Field("jsonPath", v.json_path);
  c.Field("timeoutSeconds", v.timeout_seconds);
  c.Field("insecure", v.insecure);
  c.Extra(v.extra);
}

template <typename C, Is<JobMetric> V>
void Fields(C& c, V& v) {
  c.Field("metadata", v.metadata);
  c.Field("spec", v.spec);
  c.Extra(v.extra);
}

template <typename C, Is<MetricProvider> V>
void Fields(C& c, V& v) {
  c.Field("prometheus", v.prometheus);
  c.Field("web", v.web);
  c.Field("job", v.job);
  c.Extra(v.extra);
}

template <typename C, Is<Metric> V>
void Fields(C& c, V& v) {
  c.Field("name", v.name);
  c.Field("interval", v.interval);
  c.Field("initialDelay", v.initial_delay);
  c.Field("count", v.count);
  c.Field("successCondition", v.success_condition);
  c.Field("failureCondition", v.failure_condition);
  c.Field("failureLimit", v.failure_limit);
  c.Field("inconclusiveLimit", v.inconclusive_limit);
  c.Field("consecutiveErrorLimit", v.consecutive_error_limit);
  c.Field("provider", v.provider);
  c.Extra(v.extra);
}

template <typename C, Is<AnalysisTemplateSpec> V>
void Fields(C& c, V& v) {
  c.Field("args", v.args);
  c.Field("dryRun", v.dry_run);
  c.Field("metrics", v.metrics);
  c.Extra(v.extra);
}

template <typename C, Is<AnalysisTemplateStatus> V>
void Fields(C& c, V& v) {
  c.Field("conditions", v.conditions);
  c.Field("observedGeneration", v.observed_generation);
  c.Extra(v.extra);
}

}  // namespace gantry::api::internal
