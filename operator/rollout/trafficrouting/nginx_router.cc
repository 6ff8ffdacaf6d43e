// NginxIngressRouter: the TrafficRouter over ingress-nginx canary annotations. The pure half
// (what the canary Ingress looks like) is in nginx_ingress.h.
#include <fmt/format.h>

#include <memory>

#include "operator/rollout/traffic_router.h"
#include "operator/rollout/trafficrouting/nginx_ingress.h"
#include "operator/rollout/trafficrouting/routers.h"

namespace gantry::rollout {
namespace {

using nlohmann::json;

const kube::GroupVersionKind kIngress{"networking.k8s.io", "v1", "Ingress"};

class NginxIngressRouter final : public TrafficRouter {
 public:
  NginxIngressRouter(const api::Rollout& rollout, const OwnerInfo& owner, kube::KubeClient& client,
                     std::string field_manager)
      : client_(client),
        field_manager_(std::move(field_manager)),
        ns_(rollout.metadata.namespace_),
        stable_ingress_(rollout.spec.strategy.canary->traffic_routing->nginx->stable_ingress),
        owner_ref_(ControllerReference(owner)) {
    params_.rollout = rollout.metadata.name;
    params_.stable_service = rollout.spec.strategy.canary->stable_service;
    params_.canary_service = rollout.spec.strategy.canary->canary_service;
    params_.owner_reference = &owner_ref_;
    const auto& nginx = *rollout.spec.strategy.canary->traffic_routing->nginx;
    params_.annotation_prefix = nginx.annotation_prefix;
    params_.additional_annotations = nginx.additional_ingress_annotations;
  }

  std::string_view Name() const override { return "nginx"; }

  Result<bool> SetWeight(int32_t weight) override {
    Result<kube::Object> stable = client_.Get({kIngress, ns_, stable_ingress_});
    if (!stable.ok()) {
      return stable.status().WithContext(fmt::format(
          "stable Ingress {}/{} (spec.strategy.canary.trafficRouting.nginx.stableIngress)", ns_,
          stable_ingress_));
    }
    params_.weight = weight;
    Result<json> desired = nginx::DesiredCanaryIngress(*stable, params_);
    if (!desired.ok()) return desired.status();
    const std::string name = (*desired)["metadata"]["name"];
    Result<kube::Object> live = client_.Get({kIngress, ns_, name});
    if (!live.ok() && live.status().code() != StatusCode::kNotFound) {
      return live.status().WithContext(fmt::format("canary Ingress {}/{}", ns_, name));
    }
    if (!live.ok()) {
      Result<kube::Object> created = client_.Create(*desired, {false, field_manager_});
      if (!created.ok()) {
        return created.status().WithContext(
            fmt::format("creating canary Ingress {}/{}", ns_, name));
      }
      return true;
    }
    const json labels = (*live)["metadata"].value("labels", json::object());
    if (labels.value("gantry.io/rollout", std::string()) != params_.rollout) {
      return InvalidArgument(fmt::format(
          "Ingress {}/{} exists but is not managed by Rollout {}: Gantry will not take it over; "
          "delete or rename it",
          ns_, name, params_.rollout));
    }
    if (nginx::CanaryIngressUpToDate(*live, *desired)) return false;
    json updated = *live;
    for (const char* key : {"labels", "annotations"}) {
      if (!updated["metadata"][key].is_object()) updated["metadata"][key] = json::object();
      for (const auto& [k, v] : (*desired)["metadata"][key].items())
        updated["metadata"][key][k] = v;
    }
    updated["metadata"]["ownerReferences"] = (*desired)["metadata"]["ownerReferences"];
    updated["spec"] = (*desired)["spec"];
    Result<kube::Object> written = client_.Update(updated, {false, field_manager_});
    if (!written.ok()) {
      return written.status().WithContext(fmt::format("updating canary Ingress {}/{}", ns_, name));
    }
    return true;
  }

  Result<bool> VerifyWeight(int32_t weight) override {
    const std::string name = nginx::CanaryIngressName(stable_ingress_, params_.rollout);
    Result<kube::Object> live = client_.Get({kIngress, ns_, name});
    if (!live.ok())
      return live.status().WithContext(fmt::format("canary Ingress {}/{}", ns_, name));
    return nginx::CanaryIngressWeight(*live, params_.annotation_prefix) == weight;
  }

 private:
  kube::KubeClient& client_;
  const std::string field_manager_;
  const std::string ns_;
  const std::string stable_ingress_;
  const json owner_ref_;
  nginx::CanaryIngressParams params_;
};

}  // namespace

std::unique_ptr<TrafficRouter> NewNginxIngressRouter(const api::Rollout& rollout,
                                                     const OwnerInfo& owner,
                                                     kube::KubeClient& client,
                                                     std::string field_manager) {
  return std::make_unique<NginxIngressRouter>(rollout, owner, client, std::move(field_manager));
}

}  // namespace gantry::rollout
