#include "operator/rollout/service.h"

#include <fmt/format.h>

#include "operator/rollout/pod_template_hash.h"

namespace gantry::rollout {
namespace {

using nlohmann::json;

const kube::GroupVersionKind kService{"", "v1", "Service"};

Result<kube::Object> GetService(RolloutContext& ctx, const std::string& name,
                                std::string_view field) {
  Result<kube::Object> svc = ctx.client.Get({kService, ctx.rollout.metadata.namespace_, name});
  if (!svc.ok()) {
    if (svc.status().code() == StatusCode::kNotFound) {
      return Status(StatusCode::kNotFound,
                    fmt::format("Service {}/{} named by {} of Rollout {} does not exist; create it",
                                ctx.rollout.metadata.namespace_, name, field, ctx.Key()));
    }
    return svc.status().WithContext(fmt::format("reading Service {}", name));
  }
  return svc;
}

}  // namespace

std::string SelectedHash(const kube::Object& service) {
  if (!service.is_object() || !service.contains("spec")) return "";
  const json& spec = service["spec"];
  if (!spec.is_object() || !spec.contains("selector") || !spec["selector"].is_object()) return "";
  return spec["selector"].value(std::string(kPodTemplateHashLabel), "");
}

Result<std::string> ServiceSelection(RolloutContext& ctx, const std::string& name,
                                     std::string_view field) {
  Result<kube::Object> svc = GetService(ctx, name, field);
  if (!svc.ok()) return svc.status();
  return SelectedHash(*svc);
}

Status PointServiceAt(RolloutContext& ctx, const std::string& name, const std::string& hash,
                      std::string_view field) {
  Result<kube::Object> svc = GetService(ctx, name, field);
  if (!svc.ok()) return svc.status();
  const std::string current = SelectedHash(*svc);
  if (current == hash) return Status::Ok();
  json patch = {{"spec", {{"selector", {{std::string(kPodTemplateHashLabel), hash}}}}}};
  Result<kube::Object> patched =
      ctx.client.Patch({kService, ctx.rollout.metadata.namespace_, name}, kube::PatchType::kMerge,
                       patch, {false, ctx.deps.field_manager, ""});
  if (!patched.ok()) {
    return patched.status().WithContext(fmt::format("switching Service {} to {}", name, hash));
  }
  ctx.Normal("SwitchService",
             current.empty()
                 ? fmt::format("Service {} now selects pods of {}", name, hash)
                 : fmt::format("Switched Service {} from {} to {}", name, current, hash));
  return Status::Ok();
}

}  // namespace gantry::rollout
