#include "operator/analysis/args.h"

#include <fmt/format.h>

#include <string_view>
#include <utility>

#include "operator/kube/encoding.h"

namespace gantry::analysis {
namespace {

Result<std::string> ReadSecretKey(const api::Argument& arg, const api::SecretKeySelector& ref,
                                  const std::string& ns, kube::KubeClient& client) {
  const std::string where = fmt::format("argument \"{}\": Secret {}/{}", arg.name, ns, ref.name);
  Result<kube::Object> secret = client.Get(kube::ResourceRef{{"", "v1", "Secret"}, ns, ref.name});
  if (!secret.ok()) return secret.status().WithContext(where);
  if (auto data = secret->find("data"); data != secret->end() && data->is_object()) {
    if (auto it = data->find(ref.key); it != data->end() && it->is_string()) {
      Result<std::string> decoded = kube::Base64Decode(it->get<std::string>());
      if (!decoded.ok()) {
        return InvalidArgument(fmt::format("{}: key \"{}\" is not valid base64", where, ref.key));
      }
      return std::move(decoded).value();
    }
  }
  // stringData is write-only on a real API server, but objects from fakes and files carry it.
  if (auto data = secret->find("stringData"); data != secret->end() && data->is_object()) {
    if (auto it = data->find(ref.key); it != data->end() && it->is_string()) {
      return it->get<std::string>();
    }
  }
  return InvalidArgument(fmt::format("{} has no key \"{}\"", where, ref.key));
}

// Substitutes into one string field, prefixing errors with the metric and the field's path.
Status Substitute(std::string& text, const ArgValues& values, const std::string& metric,
                  std::string_view path) {
  Result<std::string> out = api::SubstituteArgs(text, values);
  if (!out.ok()) {
    return InvalidArgument(
        fmt::format("metric \"{}\": {}: {}", metric, path, out.status().message()));
  }
  text = std::move(out).value();
  return Status::Ok();
}

Status SubstituteIntOrString(api::IntOrString& field, const ArgValues& values,
                             const std::string& metric, std::string_view path) {
  if (!field.is_string()) return Status::Ok();
  std::string text = field.string_value();
  GANTRY_RETURN_IF_ERROR(Substitute(text, values, metric, path));
  field = api::IntOrString(std::move(text));
  return Status::Ok();
}

Status SubstituteHeaders(std::vector<api::HttpHeader>& headers, const ArgValues& values,
                         const std::string& metric, std::string_view path) {
  for (size_t i = 0; i < headers.size(); ++i) {
    GANTRY_RETURN_IF_ERROR(
        Substitute(headers[i].key, values, metric, fmt::format("{}[{}].key", path, i)));
    GANTRY_RETURN_IF_ERROR(
        Substitute(headers[i].value, values, metric, fmt::format("{}[{}].value", path, i)));
  }
  return Status::Ok();
}

// Every string inside a JSON document (a Job's metadata or spec). Object keys are left alone:
// they are field names, never values.
Status SubstituteJson(nlohmann::json& json, const ArgValues& values, const std::string& metric,
                      const std::string& path) {
  if (json.is_string()) {
    return Substitute(json.get_ref<std::string&>(), values, metric, path);
  }
  if (json.is_object()) {
    for (auto& [key, value] : json.items()) {
      GANTRY_RETURN_IF_ERROR(SubstituteJson(value, values, metric, path + "." + key));
    }
  } else if (json.is_array()) {
    for (size_t i = 0; i < json.size(); ++i) {
      GANTRY_RETURN_IF_ERROR(
          SubstituteJson(json[i], values, metric, fmt::format("{}[{}]", path, i)));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<ArgValues> ResolveArgs(const std::vector<api::Argument>& args, const std::string& ns,
                              kube::KubeClient& client) {
  ArgValues values;
  for (const api::Argument& arg : args) {
    if (arg.value.has_value()) {
      values[arg.name] = *arg.value;
      continue;
    }
    if (arg.value_from.has_value() && arg.value_from->secret_key_ref.has_value()) {
      Result<std::string> value = ReadSecretKey(arg, *arg.value_from->secret_key_ref, ns, client);
      if (!value.ok()) return value.status();
      values[arg.name] = std::move(value).value();
      continue;
    }
    if (arg.value_from.has_value() && arg.value_from->field_ref.has_value()) {
      return InvalidArgument(fmt::format(
          "argument \"{}\": valueFrom.fieldRef \"{}\" is resolved by the Rollout that creates "
          "the run; an AnalysisRun needs a value or a secretKeyRef",
          arg.name, arg.value_from->field_ref->field_path));
    }
    return InvalidArgument(fmt::format("argument \"{}\" has no value", arg.name));
  }
  return values;
}

Result<api::Metric> SubstituteMetricArgs(const api::Metric& metric, const ArgValues& values) {
  api::Metric out = metric;
  const std::string& name = metric.name;
  if (out.count.has_value()) {
    GANTRY_RETURN_IF_ERROR(SubstituteIntOrString(*out.count, values, name, "count"));
  }
  GANTRY_RETURN_IF_ERROR(SubstituteIntOrString(out.failure_limit, values, name, "failureLimit"));
  GANTRY_RETURN_IF_ERROR(
      SubstituteIntOrString(out.inconclusive_limit, values, name, "inconclusiveLimit"));
  GANTRY_RETURN_IF_ERROR(
      SubstituteIntOrString(out.consecutive_error_limit, values, name, "consecutiveErrorLimit"));
  if (out.provider.prometheus.has_value()) {
    api::PrometheusMetric& p = *out.provider.prometheus;
    GANTRY_RETURN_IF_ERROR(Substitute(p.address, values, name, "provider.prometheus.address"));
    GANTRY_RETURN_IF_ERROR(Substitute(p.query, values, name, "provider.prometheus.query"));
    GANTRY_RETURN_IF_ERROR(
        SubstituteHeaders(p.headers, values, name, "provider.prometheus.headers"));
  }
  if (out.provider.web.has_value()) {
    api::WebMetric& w = *out.provider.web;
    GANTRY_RETURN_IF_ERROR(Substitute(w.url, values, name, "provider.web.url"));
    GANTRY_RETURN_IF_ERROR(SubstituteHeaders(w.headers, values, name, "provider.web.headers"));
    GANTRY_RETURN_IF_ERROR(Substitute(w.body, values, name, "provider.web.body"));
    GANTRY_RETURN_IF_ERROR(Substitute(w.json_path, values, name, "provider.web.jsonPath"));
  }
  if (out.provider.job.has_value()) {
    api::JobMetric& j = *out.provider.job;
    GANTRY_RETURN_IF_ERROR(SubstituteJson(j.metadata, values, name, "provider.job.metadata"));
    GANTRY_RETURN_IF_ERROR(SubstituteJson(j.spec, values, name, "provider.job.spec"));
  }
  return out;
}

}  // namespace gantry::analysis
