#include "operator/rollout/service.h"

#include <fmt/format.h>

#include <string>
#include <utility>
#include <vector>

#include "operator/rollout/pod_template_hash.h"

namespace gantry::rollout {
namespace {

using nlohmann::json;

const kube::GroupVersionKind kService{"", "v1", "Service"};

Result<kube::ObjectPtr> GetService(RolloutContext& ctx, const std::string& name,
                                   std::string_view field) {
  Result<kube::ObjectPtr> svc = ctx.reader.Get({kService, ctx.rollout.metadata.namespace_, name});
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

Status CheckReferencedServices(ObjectReader& reader, const api::Rollout& rollout) {
  std::vector<std::pair<std::string, std::string>> refs;  // (field, name)
  if (const auto& c = rollout.spec.strategy.canary) {
    refs.emplace_back("spec.strategy.canary.stableService", c->stable_service);
    refs.emplace_back("spec.strategy.canary.canaryService", c->canary_service);
  }
  if (const auto& b = rollout.spec.strategy.blue_green) {
    refs.emplace_back("spec.strategy.blueGreen.activeService", b->active_service);
    refs.emplace_back("spec.strategy.blueGreen.previewService", b->preview_service);
  }
  const std::string& ns = rollout.metadata.namespace_;
  for (const auto& [field, name] : refs) {
    if (name.empty()) continue;
    Result<kube::ObjectPtr> svc = reader.Get({kService, ns, name});
    if (svc.ok()) continue;
    if (svc.status().code() == StatusCode::kNotFound) {
      return NotFound(fmt::format("{}: Service {}/{} does not exist; create it", field, ns, name));
    }
    return svc.status().WithContext(
        fmt::format("reading Service {}/{} named by {}", ns, name, field));
  }
  return Status::Ok();
}

std::string SelectedHash(const kube::Object& service) {
  if (!service.is_object() || !service.contains("spec")) return "";
  const json& spec = service["spec"];
  if (!spec.is_object() || !spec.contains("selector") || !spec["selector"].is_object()) return "";
  return spec["selector"].value(std::string(kPodTemplateHashLabel), "");
}

Result<std::string> ServiceSelection(RolloutContext& ctx, const std::string& name,
                                     std::string_view field) {
  Result<kube::ObjectPtr> svc = GetService(ctx, name, field);
  if (!svc.ok()) return svc.status();
  return SelectedHash(**svc);
}

Status PointServiceAt(RolloutContext& ctx, const std::string& name, const std::string& hash,
                      std::string_view field) {
  Result<kube::ObjectPtr> svc = GetService(ctx, name, field);
  if (!svc.ok()) return svc.status();
  const std::string current = SelectedHash(**svc);
  if (current == hash) return Status::Ok();
  json patch = {{"spec", {{"selector", {{std::string(kPodTemplateHashLabel), hash}}}}}};
  const kube::ResourceRef ref{kService, ctx.rollout.metadata.namespace_, name};
  Result<kube::Object> patched =
      ctx.client.Patch(ref, kube::PatchType::kMerge, patch, {false, ctx.deps.field_manager, ""});
  if (!patched.ok()) {
    return patched.status().WithContext(fmt::format("switching Service {} to {}", name, hash));
  }
  ctx.reader.Wrote(ref, kube::ResourceVersionOf(**svc));
  ctx.Normal("SwitchService",
             current.empty()
                 ? fmt::format("Service {} now selects pods of {}", name, hash)
                 : fmt::format("Switched Service {} from {} to {}", name, current, hash));
  return Status::Ok();
}

}  // namespace gantry::rollout
