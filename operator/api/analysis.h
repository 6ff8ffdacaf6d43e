// AnalysisTemplate, ClusterAnalysisTemplate (cluster-scoped) and AnalysisRun (gantry.io/v1alpha1),
// with Argo Rollouts' field names so that Argo manifests move over by changing apiVersion.
// Templates are written by users; the Rollout reconciler creates AnalysisRuns from them; the
// AnalysisRun reconciler measures and writes AnalysisRun status.
// See types.h for how FromJson/ToJson/Validate behave for every kind.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/api/conditions.h"
#include "operator/api/int_or_string.h"
#include "operator/api/meta.h"
#include "operator/common/duration.h"
#include "operator/common/status.h"

namespace gantry::api {

// The phase of an AnalysisRun, a metric, or one measurement.
enum class AnalysisPhase { kPending, kRunning, kSuccessful, kFailed, kError, kInconclusive };

template <>
struct EnumTraits<AnalysisPhase> {
  static constexpr std::array<std::pair<AnalysisPhase, std::string_view>, 6> kNames{{
      {AnalysisPhase::kPending, "Pending"},
      {AnalysisPhase::kRunning, "Running"},
      {AnalysisPhase::kSuccessful, "Successful"},
      {AnalysisPhase::kFailed, "Failed"},
      {AnalysisPhase::kError, "Error"},
      {AnalysisPhase::kInconclusive, "Inconclusive"},
  }};
};

// Successful, Failed, Error and Inconclusive are final: nothing moves a run out of them.
bool IsTerminal(AnalysisPhase phase);

struct SecretKeySelector {
  std::string name;
  std::string key;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const SecretKeySelector&) const = default;
};

// A field of the owning object, e.g. "metadata.labels['app']".
struct FieldSelector {
  std::string field_path;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const FieldSelector&) const = default;
};

struct ArgumentValueFrom {
  std::optional<SecretKeySelector> secret_key_ref;
  std::optional<FieldSelector> field_ref;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const ArgumentValueFrom&) const = default;
};

// spec.args[] of a template or run. In a template an argument without value or valueFrom must
// be supplied by the Rollout; in a run every argument has one.
struct Argument {
  std::string name;
  std::optional<std::string> value;  // "" is a value; unset is not
  std::optional<ArgumentValueFrom> value_from;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const Argument&) const = default;
};

// spec.dryRun[]: metrics whose failure does not fail the run. "*" names every metric.
struct DryRun {
  std::string metric_name;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const DryRun&) const = default;
};

struct HttpHeader {
  std::string key;
  std::string value;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const HttpHeader&) const = default;
};

// provider.prometheus: an instant query; `result` is the vector's values.
struct PrometheusMetric {
  std::string address;  // "http://prometheus:9090"
  std::string query;
  // Seconds as an integer (Argo's form) or a Go duration string; unset: the provider's default.
  std::optional<IntOrString> timeout;
  std::vector<HttpHeader> headers;
  bool insecure = false;  // skip TLS verification
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const PrometheusMetric&) const = default;
};

// provider.web: an HTTP request; `result` is the JSON body, or the value at jsonPath.
struct WebMetric {
  std::string url;
  std::string method = "GET";  // GET | POST | PUT
  std::vector<HttpHeader> headers;
  std::string body;
  std::string json_path;  // "{$.data.ok}"
  int64_t timeout_seconds = 10;
  bool insecure = false;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const WebMetric&) const = default;
};

// provider.job: a batch/v1 Job; success or failure of the Job is the measurement.
struct JobMetric {
  nlohmann::json metadata;  // labels/annotations for the Job
  nlohmann::json spec;      // a batch/v1 JobSpec, kept as JSON
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const JobMetric&) const = default;
};

// Exactly one provider is set (Validate checks).
struct MetricProvider {
  std::optional<PrometheusMetric> prometheus;
  std::optional<WebMetric> web;
  std::optional<JobMetric> job;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const MetricProvider&) const = default;
};

struct Metric {
  static constexpr int64_t kDefaultConsecutiveErrorLimit = 4;

  std::string name;
  std::string interval;       // Go duration between measurements
  std::string initial_delay;  // Go duration before the first
  // Integers written as strings may hold "{{args.NAME}}" until the run is created.
  // Unset: measure once without an interval, or until the run is terminated with one (Argo).
  std::optional<IntOrString> count;
  std::string success_condition;
  std::string failure_condition;
  IntOrString failure_limit{int64_t{0}};
  IntOrString inconclusive_limit{int64_t{0}};
  IntOrString consecutive_error_limit{kDefaultConsecutiveErrorLimit};
  MetricProvider provider;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const Metric&) const = default;
};

// The spec shared by AnalysisTemplate and ClusterAnalysisTemplate.
struct AnalysisTemplateSpec {
  std::vector<Argument> args;
  std::vector<DryRun> dry_run;
  std::vector<Metric> metrics;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const AnalysisTemplateSpec&) const = default;
};

// Templates are not reconciled; the status exists so tools that expect one find kstatus fields.
struct AnalysisTemplateStatus {
  std::vector<Condition> conditions;
  int64_t observed_generation = 0;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const AnalysisTemplateStatus&) const = default;
};

struct AnalysisTemplate {
  static constexpr std::string_view kKind = "AnalysisTemplate";
  static constexpr std::string_view kPlural = "analysistemplates";
  static constexpr bool kNamespaced = true;

  ObjectMeta metadata;
  AnalysisTemplateSpec spec;
  AnalysisTemplateStatus status;
  nlohmann::json extra = nlohmann::json::object();

  static Result<AnalysisTemplate> FromJson(const nlohmann::json& json);
  nlohmann::json ToJson() const;
  Status Validate() const;

  bool operator==(const AnalysisTemplate&) const = default;
};

struct ClusterAnalysisTemplate {
  static constexpr std::string_view kKind = "ClusterAnalysisTemplate";
  static constexpr std::string_view kPlural = "clusteranalysistemplates";
  static constexpr bool kNamespaced = false;

  ObjectMeta metadata;
  AnalysisTemplateSpec spec;
  AnalysisTemplateStatus status;
  nlohmann::json extra = nlohmann::json::object();

  static Result<ClusterAnalysisTemplate> FromJson(const nlohmann::json& json);
  nlohmann::json ToJson() const;
  Status Validate() const;

  bool operator==(const ClusterAnalysisTemplate&) const = default;
};

struct AnalysisRunSpec {
  std::vector<Metric> metrics;
  std::vector<Argument> args;
  std::vector<DryRun> dry_run;
  bool terminate = false;  // set by the Rollout reconciler to stop measuring
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const AnalysisRunSpec&) const = default;
};

struct Measurement {
  AnalysisPhase phase = AnalysisPhase::kRunning;
  std::string value;  // the result as text, e.g. "[0.99]"
  std::optional<Time> started_at;
  std::optional<Time> finished_at;
  std::optional<Time> resume_at;  // when a job or a retry should be looked at again
  std::string message;
  std::map<std::string, std::string> metadata;  // provider details, e.g. the Job's name
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const Measurement&) const = default;
};

struct MetricResult {
  std::string name;
  AnalysisPhase phase = AnalysisPhase::kRunning;
  std::vector<Measurement> measurements;  // newest last
  std::string message;
  int64_t count = 0;
  int64_t successful = 0;
  int64_t failed = 0;
  int64_t inconclusive = 0;
  int64_t error = 0;
  int64_t consecutive_error = 0;
  bool dry_run = false;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const MetricResult&) const = default;
};

struct AnalysisRunStatus {
  AnalysisPhase phase = AnalysisPhase::kPending;
  std::string message;
  std::optional<Time> started_at;
  std::vector<MetricResult> metric_results;
  std::vector<Condition> conditions;
  int64_t observed_generation = 0;
  nlohmann::json extra = nlohmann::json::object();

  // The result for metric `name`, or nullptr; valid until metric_results changes.
  const MetricResult* FindMetricResult(std::string_view name) const;

  bool operator==(const AnalysisRunStatus&) const = default;
};

struct AnalysisRun {
  static constexpr std::string_view kKind = "AnalysisRun";
  static constexpr std::string_view kPlural = "analysisruns";
  static constexpr bool kNamespaced = true;

  ObjectMeta metadata;
  AnalysisRunSpec spec;
  AnalysisRunStatus status;
  nlohmann::json extra = nlohmann::json::object();

  static Result<AnalysisRun> FromJson(const nlohmann::json& json);
  nlohmann::json ToJson() const;
  // As for templates, and every argument must have a value or valueFrom.
  Status Validate() const;

  bool operator==(const AnalysisRun&) const = default;
};

// The argument names `text` refers to as "{{args.NAME}}" (spaces inside the braces allowed), in
// order of appearance, duplicates kept.
std::vector<std::string> FindArgReferences(std::string_view text);

// `text` with every "{{args.NAME}}" replaced by values[NAME]. InvalidArgument naming the first
// reference with no value. Other "{{...}}" text is left alone.
Result<std::string> SubstituteArgs(std::string_view text,
                                   const std::map<std::string, std::string>& values);

}  // namespace gantry::api
