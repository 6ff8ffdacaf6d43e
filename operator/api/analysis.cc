#include "operator/api/analysis.h"

#include <fmt/format.h>

#include <set>

#include "operator/api/analysis_codec.h"
#include "operator/api/codec.h"
#include "operator/api/validation.h"

namespace gantry::api {
namespace internal {

template <typename C, typename V>
requires Is<V, AnalysisTemplate> || Is<V, ClusterAnalysisTemplate>
void Fields(C& c, V& v) {
  c.Skip("apiVersion");
  c.Skip("kind");
  c.Field("metadata", v.metadata);
  c.Field("spec", v.spec);
  c.Field("status", v.status);
  c.Extra(v.extra);
}

template <typename C, Is<AnalysisRunSpec> V>
void Fields(C& c, V& v) {
  c.Field("metrics", v.metrics);
  c.Field("args", v.args);
  c.Field("dryRun", v.dry_run);
  c.Field("terminate", v.terminate);
  c.Extra(v.extra);
}

template <typename C, Is<Measurement> V>
void Fields(C& c, V& v) {
  c.Field("phase", v.phase);
  c.Field("value", v.value);
  c.Field("startedAt", v.started_at);
  c.Field("finishedAt", v.finished_at);
  c.Field("resumeAt", v.resume_at);
  c.Field("message", v.message);
  c.Field("metadata", v.metadata);
  c.Extra(v.extra);
}

template <typename C, Is<MetricResult> V>
void Fields(C& c, V& v) {
  c.Field("name", v.name);
  c.Field("phase", v.phase);
  c.Field("measurements", v.measurements);
  c.Field("message", v.message);
  c.Field("count", v.count);
  c.Field("successful", v.successful);
  c.Field("failed", v.failed);
  c.Field("inconclusive", v.inconclusive);
  c.Field("error", v.error);
  c.Field("consecutiveError", v.consecutive_error);
  c.Field("dryRun", v.dry_run);
  c.Extra(v.extra);
}

template <typename C, Is<AnalysisRunStatus> V>
void Fields(C& c, V& v) {
  c.Field("phase", v.phase);
  c.Field("message", v.message);
  c.Field("startedAt", v.started_at);
  c.Field("metricResults", v.metric_results);
  c.Field("conditions", v.conditions);
  c.Field("observedGeneration", v.observed_generation);
  c.Extra(v.extra);
}

template <typename C, Is<AnalysisRun> V>
void Fields(C& c, V& v) {
  c.Skip("apiVersion");
  c.Skip("kind");
  c.Field("metadata", v.metadata);
  c.Field("spec", v.spec);
  c.Field("status", v.status);
  c.Extra(v.extra);
}

}  // namespace internal

bool IsTerminal(AnalysisPhase phase) {
  return phase == AnalysisPhase::kSuccessful || phase == AnalysisPhase::kFailed ||
         phase == AnalysisPhase::kError || phase == AnalysisPhase::kInconclusive;
}

const MetricResult* AnalysisRunStatus::FindMetricResult(std::string_view name) const {
  for (const MetricResult& r : metric_results) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

namespace {

constexpr std::string_view kOpen = "{{";
constexpr std::string_view kClose = "}}";
constexpr std::string_view kArgsPrefix = "args.";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Calls `on_ref(begin, end, name)` for every "{{args.NAME}}" in `text`, where [begin, end) is
// the whole reference including braces.
template <typename F>
void ForEachArgReference(std::string_view text, F on_ref) {
  size_t pos = 0;
  while ((pos = text.find(kOpen, pos)) != std::string_view::npos) {
    size_t close = text.find(kClose, pos + kOpen.size());
    if (close == std::string_view::npos) return;
    std::string_view tag = Trim(text.substr(pos + kOpen.size(), close - pos - kOpen.size()));
    if (tag.substr(0, kArgsPrefix.size()) == kArgsPrefix && tag.size() > kArgsPrefix.size()) {
      on_ref(pos, close + kClose.size(), tag.substr(kArgsPrefix.size()));
    }
    pos = close + kClose.size();
  }
}

// True if `text` is exactly one "{{args.NAME}}" reference.
bool IsSingleArgReference(std::string_view text) {
  bool whole = false;
  ForEachArgReference(text, [&](size_t begin, size_t end, std::string_view) {
    whole = begin == 0 && end == text.size();
  });
  return whole;
}

void CheckMetricInt(internal::FieldErrors& errors, const std::string& path,
                    const IntOrString& value) {
  if (value.is_string() && IsSingleArgReference(value.string_value())) return;
  Result<int64_t> n = value.AsInt();
  if (!n.ok() || *n < 0) {
    errors.Add(path, fmt::format("must be a non-negative integer or \"{{{{args.NAME}}}}\", got "
                                 "\"{}\"",
                                 value.ToString()));
  }
}

// The integer value if known before argument substitution.
std::optional<int64_t> KnownInt(const IntOrString& value) {
  Result<int64_t> n = value.AsInt();
  if (!n.ok()) return std::nullopt;
  return *n;
}

bool IsHttpUrlOrTemplated(std::string_view url) {
  if (url.find(kOpen) != std::string_view::npos) return true;  // checked after substitution
  return url.substr(0, 7) == "http://" || url.substr(0, 8) == "https://";
}

// Every "{{args.NAME}}" anywhere in `json` must name a declared argument.
void CheckArgReferences(internal::FieldErrors& errors, const std::string& path,
                        const nlohmann::json& json, const std::set<std::string>& declared) {
  if (json.is_string()) {
    std::set<std::string> reported;
    for (const std::string& name : FindArgReferences(json.get_ref<const std::string&>())) {
      if (declared.count(name) == 0 && reported.insert(name).second) {
        errors.Add(
            path, fmt::format("refers to {{{{args.{}}}}}, which spec.args does not declare", name));
      }
    }
  } else if (json.is_object()) {
    for (const auto& [key, value] : json.items()) {
      CheckArgReferences(errors, internal::ChildPath(path, key), value, declared);
    }
  } else if (json.is_array()) {
    for (size_t i = 0; i < json.size(); ++i) {
      CheckArgReferences(errors, internal::IndexPath(path, i), json[i], declared);
    }
  }
}

void CheckHeaders(internal::FieldErrors& errors, const std::string& path,
                  const std::vector<HttpHeader>& headers) {
  for (size_t i = 0; i < headers.size(); ++i) {
    internal::CheckRequired(errors, internal::ChildPath(internal::IndexPath(path, i), "key"),
                            headers[i].key);
  }
}

void ValidateMetric(internal::FieldErrors& errors, const std::string& path, const Metric& m,
                    const std::set<std::string>& declared_args) {
  using namespace internal;  // NOLINT: the check helpers
  CheckRequired(errors, ChildPath(path, "name"), m.name);
  CheckDuration(errors, ChildPath(path, "interval"), m.interval, DurationRule::kPositive);
  CheckDuration(errors, ChildPath(path, "initialDelay"), m.initial_delay,
                DurationRule::kNonNegative);
  if (m.count.has_value()) CheckMetricInt(errors, ChildPath(path, "count"), *m.count);
  CheckMetricInt(errors, ChildPath(path, "failureLimit"), m.failure_limit);
  CheckMetricInt(errors, ChildPath(path, "inconclusiveLimit"), m.inconclusive_limit);
  CheckMetricInt(errors, ChildPath(path, "consecutiveErrorLimit"), m.consecutive_error_limit);
  std::optional<int64_t> count = m.count ? KnownInt(*m.count) : std::nullopt;
  if (count.has_value() && *count > 0) {
    // As Argo: a metric that can never reach its limits is a mistake.
    if (std::optional<int64_t> limit = KnownInt(m.failure_limit); limit && *count < *limit) {
      errors.Add(ChildPath(path, "count"),
                 fmt::format("must be >= failureLimit ({}), got {}", *limit, *count));
    }
    if (std::optional<int64_t> limit = KnownInt(m.inconclusive_limit); limit && *count < *limit) {
      errors.Add(ChildPath(path, "count"),
                 fmt::format("must be >= inconclusiveLimit ({}), got {}", *limit, *count));
    }
  }
  if (count.has_value() && *count > 1 && m.interval.empty()) {
    errors.Add(ChildPath(path, "interval"), "is required when count is greater than 1");
  }

  std::string provider = ChildPath(path, "provider");
  int providers =
      m.provider.prometheus.has_value() + m.provider.web.has_value() + m.provider.job.has_value();
  if (providers != 1) {
    errors.Add(provider,
               fmt::format("must set exactly one of prometheus, web, job; {} set", providers));
  }
  if (const auto& p = m.provider.prometheus) {
    std::string ppath = ChildPath(provider, "prometheus");
    CheckRequired(errors, ChildPath(ppath, "address"), p->address);
    if (!p->address.empty() && !IsHttpUrlOrTemplated(p->address)) {
      errors.Add(ChildPath(ppath, "address"),
                 fmt::format("must be an http:// or https:// URL, got \"{}\"", p->address));
    }
    CheckRequired(errors, ChildPath(ppath, "query"), p->query);
    if (p->timeout.has_value()) {
      const IntOrString& t = *p->timeout;
      if (t.is_int()) {
        CheckMin(errors, ChildPath(ppath, "timeout"), t.int_value(), 0);
      } else {
        CheckDuration(errors, ChildPath(ppath, "timeout"), t.string_value(),
                      DurationRule::kPositive);
      }
    }
    CheckHeaders(errors, ChildPath(ppath, "headers"), p->headers);
  }
  if (const auto& w = m.provider.web) {
    std::string wpath = ChildPath(provider, "web");
    CheckRequired(errors, ChildPath(wpath, "url"), w->url);
    if (!w->url.empty() && !IsHttpUrlOrTemplated(w->url)) {
      errors.Add(ChildPath(wpath, "url"),
                 fmt::format("must be an http:// or https:// URL, got \"{}\"", w->url));
    }
    if (w->method != "GET" && w->method != "POST" && w->method != "PUT") {
      errors.Add(ChildPath(wpath, "method"),
                 fmt::format("must be one of GET, POST, PUT, got \"{}\"", w->method));
    } else if (w->method == "GET" && !w->body.empty()) {
      errors.Add(ChildPath(wpath, "body"), "is only allowed with method POST or PUT");
    }
    CheckMin(errors, ChildPath(wpath, "timeoutSeconds"), w->timeout_seconds, 0);
    CheckHeaders(errors, ChildPath(wpath, "headers"), w->headers);
  }
  if (const auto& j = m.provider.job) {
    std::string jpath = ChildPath(ChildPath(provider, "job"), "spec");
    if (!j->spec.is_object()) {
      errors.Add(jpath, "is required: a batch/v1 JobSpec");
    } else if (!j->spec.contains("template") || !j->spec["template"].is_object()) {
      errors.Add(ChildPath(jpath, "template"), "is required: the Job's pod template");
    }
  }
  CheckArgReferences(errors, path, internal::Encode(m), declared_args);
}

// Checks shared by templates and runs. `run` also requires every argument to have a value.
void ValidateAnalysis(internal::FieldErrors& errors, const std::vector<Metric>& metrics,
                      const std::vector<Argument>& args, const std::vector<DryRun>& dry_run,
                      bool run) {
  using namespace internal;  // NOLINT: the check helpers
  std::set<std::string> declared;
  for (size_t i = 0; i < args.size(); ++i) {
    const Argument& arg = args[i];
    std::string path = IndexPath("spec.args", i);
    CheckRequired(errors, ChildPath(path, "name"), arg.name);
    if (!arg.name.empty() && !declared.insert(arg.name).second) {
      errors.Add(ChildPath(path, "name"), fmt::format("duplicate argument \"{}\"", arg.name));
    }
    if (arg.value.has_value() && arg.value_from.has_value()) {
      errors.Add(path, "must set at most one of value, valueFrom");
    }
    if (run && !arg.value.has_value() && !arg.value_from.has_value()) {
      errors.Add(path, fmt::format("argument \"{}\" has no value", arg.name));
    }
    if (arg.value_from.has_value()) {
      std::string vpath = ChildPath(path, "valueFrom");
      const ArgumentValueFrom& from = *arg.value_from;
      if (from.secret_key_ref.has_value() == from.field_ref.has_value()) {
        errors.Add(vpath, "must set exactly one of secretKeyRef, fieldRef");
      }
      if (from.secret_key_ref.has_value()) {
        CheckRequired(errors, ChildPath(vpath, "secretKeyRef.name"), from.secret_key_ref->name);
        CheckDnsSubdomain(errors, ChildPath(vpath, "secretKeyRef.name"), from.secret_key_ref->name);
        CheckRequired(errors, ChildPath(vpath, "secretKeyRef.key"), from.secret_key_ref->key);
      }
      if (from.field_ref.has_value()) {
        CheckRequired(errors, ChildPath(vpath, "fieldRef.fieldPath"), from.field_ref->field_path);
      }
    }
  }
  if (metrics.empty()) errors.Add("spec.metrics", "must list at least one metric");
  std::set<std::string> names;
  for (size_t i = 0; i < metrics.size(); ++i) {
    std::string path = IndexPath("spec.metrics", i);
    ValidateMetric(errors, path, metrics[i], declared);
    if (!metrics[i].name.empty() && !names.insert(metrics[i].name).second) {
      errors.Add(ChildPath(path, "name"), fmt::format("duplicate metric \"{}\"", metrics[i].name));
    }
  }
  for (size_t i = 0; i < dry_run.size(); ++i) {
    std::string path = ChildPath(IndexPath("spec.dryRun", i), "metricName");
    const std::string& name = dry_run[i].metric_name;
    CheckRequired(errors, path, name);
    if (!name.empty() && name != "*" && names.count(name) == 0) {
      errors.Add(path, fmt::format("\"{}\" is not the name of a metric (or \"*\")", name));
    }
  }
}

}  // namespace

std::vector<std::string> FindArgReferences(std::string_view text) {
  std::vector<std::string> names;
  ForEachArgReference(text,
                      [&](size_t, size_t, std::string_view name) { names.emplace_back(name); });
  return names;
}

Result<std::string> SubstituteArgs(std::string_view text,
                                   const std::map<std::string, std::string>& values) {
  std::string out;
  size_t copied = 0;
  std::optional<std::string> missing;
  ForEachArgReference(text, [&](size_t begin, size_t end, std::string_view name) {
    auto it = values.find(std::string(name));
    if (it == values.end()) {
      if (!missing) missing = std::string(name);
      return;
    }
    out.append(text.substr(copied, begin - copied));
    out.append(it->second);
    copied = end;
  });
  if (missing.has_value()) {
    return InvalidArgument(
        fmt::format("{{{{args.{}}}}} has no value: declare it in args with a value", *missing));
  }
  out.append(text.substr(copied));
  return out;
}

Result<AnalysisTemplate> AnalysisTemplate::FromJson(const nlohmann::json& json) {
  return internal::DecodeObject<AnalysisTemplate>(json, kKind);
}

nlohmann::json AnalysisTemplate::ToJson() const { return internal::EncodeObject(*this, kKind); }

Status AnalysisTemplate::Validate() const {
  internal::FieldErrors errors;
  ValidateAnalysis(errors, spec.metrics, spec.args, spec.dry_run, /*run=*/false);
  return errors.ToStatus(internal::ObjectName(kKind, metadata));
}

Result<ClusterAnalysisTemplate> ClusterAnalysisTemplate::FromJson(const nlohmann::json& json) {
  return internal::DecodeObject<ClusterAnalysisTemplate>(json, kKind);
}

nlohmann::json ClusterAnalysisTemplate::ToJson() const {
  return internal::EncodeObject(*this, kKind);
}

Status ClusterAnalysisTemplate::Validate() const {
  internal::FieldErrors errors;
  ValidateAnalysis(errors, spec.metrics, spec.args, spec.dry_run, /*run=*/false);
  return errors.ToStatus(internal::ObjectName(kKind, metadata));
}

Result<AnalysisRun> AnalysisRun::FromJson(const nlohmann::json& json) {
  return internal::DecodeObject<AnalysisRun>(json, kKind);
}

nlohmann::json AnalysisRun::ToJson() const { return internal::EncodeObject(*this, kKind); }

Status AnalysisRun::Validate() const {
  internal::FieldErrors errors;
  ValidateAnalysis(errors, spec.metrics, spec.args, spec.dry_run, /*run=*/true);
  return errors.ToStatus(internal::ObjectName(kKind, metadata));
}

}  // namespace gantry::api
