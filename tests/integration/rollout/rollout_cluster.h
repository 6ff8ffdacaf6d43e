// Set-up for the Rollout integration tests: a RestKubeClient for $KUBECONFIG (the local control
// plane of hack/cluster, where kube-controller-manager turns ReplicaSets into pods and kwok
// makes them Ready), the Gantry CRDs installed, a fresh namespace per test (deleted after), and
// a driver that runs Rollout passes the way the operator would, with the real clock. Tests skip,
// saying why, when KUBECONFIG is unset.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "operator/kube/kube_client.h"
#include "operator/kube/rest_config.h"
#include "operator/kube/rest_kube_client.h"
#include "operator/rollout/pod_template_hash.h"
#include "operator/rollout/rollout_sync.h"

namespace gantry::rollout::testing {

using nlohmann::json;

inline const kube::GroupVersionKind kRolloutGvk{"gantry.io", "v1alpha1", "Rollout"};
inline const kube::GroupVersionKind kRsGvk{"apps", "v1", "ReplicaSet"};
inline const kube::GroupVersionKind kServiceGvk{"", "v1", "Service"};
inline const kube::GroupVersionKind kIngressGvk{"networking.k8s.io", "v1", "Ingress"};
inline const kube::GroupVersionKind kRouteGvk{"gateway.networking.k8s.io", "v1", "HTTPRoute"};

inline std::string RandomSuffix() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s;
  for (int i = 0; i < 6; ++i) s += kChars[rng() % 36];
  return s;
}

// Runs tests/integration/rollout/install_crds.sh with `what`; true on success.
inline bool InstallCrds(const std::string& what) {
  const std::string cmd = std::string("bash ") + GANTRY_SOURCE_DIR +
                          "/tests/integration/rollout/install_crds.sh " + what;
  return std::system(cmd.c_str()) == 0;
}

class RolloutClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* kubeconfig = std::getenv("KUBECONFIG");
    if (kubeconfig == nullptr || *kubeconfig == '\0') {
      GTEST_SKIP() << "KUBECONFIG is not set: start the control plane with `hack/cluster up` "
                      "and `eval \"$(hack/cluster env)\"` (make test does both)";
    }
    Result<kube::RestConfig> config = kube::LoadKubeconfig({kubeconfig});
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config->qps = 0;
    Result<std::unique_ptr<kube::KubeClient>> client = kube::NewRestKubeClient(*config);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
    ASSERT_TRUE(InstallCrds("gantry")) << "installing crds/ failed";
    ASSERT_TRUE(
        Eventually([&] { return client_->Mapping(kRolloutGvk).ok(); }, std::chrono::seconds(30)));
    ns_ = "gantry-rollout-it-" + RandomSuffix();
    auto created = client_->Create(
        json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns_}}}});
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    deps_ = std::make_unique<Collaborators>(Collaborators{
        *client_, RealClock(),
        [this](const kube::Object&, const RolloutEvent& e) { events_.push_back(e.reason); }});
  }

  void TearDown() override {
    if (client_ && !ns_.empty()) {
      ::gantry::Status s = client_->Delete({{"", "v1", "Namespace"}, "", ns_});
      EXPECT_TRUE(s.ok() || s.code() == StatusCode::kNotFound) << s.ToString();
    }
  }

  static bool Eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return done();
  }

  // Runs passes of Rollout `name` (as the operator would) until `done` holds; false on timeout.
  bool Drive(const std::string& name, const std::function<bool()>& done,
             std::chrono::seconds timeout = std::chrono::seconds(60)) {
    return Eventually(
        [&] {
          Result<SyncOutcome> r = SyncRollout(*deps_, {ns_, name});
          if (!r.ok() && r.status().code() != StatusCode::kConflict) {
            last_error_ = r.status().ToString();
          }
          return done();
        },
        timeout);
  }

  void Create(json object) {
    object["metadata"]["namespace"] = ns_;
    auto r = client_->Create(object);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  void CreateService(const std::string& name, const std::string& app) {
    Create(
        json{{"apiVersion", "v1"},
             {"kind", "Service"},
             {"metadata", {{"name", name}}},
             {"spec", {{"selector", {{"app", app}}}, {"ports", json::array({{{"port", 80}}})}}}});
  }

  static json RolloutJson(const std::string& name, int replicas, const std::string& image,
                          json strategy) {
    return json{
        {"apiVersion", "gantry.io/v1alpha1"},
        {"kind", "Rollout"},
        {"metadata", {{"name", name}}},
        {"spec",
         {{"replicas", replicas},
          {"selector", {{"matchLabels", {{"app", name}}}}},
          {"template",
           {{"metadata", {{"labels", {{"app", name}}}}},
            {"spec", {{"containers", json::array({{{"name", "app"}, {"image", image}}})}}}}},
          {"strategy", std::move(strategy)}}}};
  }

  json Get(const kube::GroupVersionKind& gvk, const std::string& name) {
    auto r = client_->Get({gvk, ns_, name});
    return r.ok() ? *r : json();
  }
  json Status(const std::string& rollout) {
    return Get(kRolloutGvk, rollout).value("status", json::object());
  }
  std::string Phase(const std::string& rollout) { return Status(rollout).value("phase", ""); }

  // ReplicaSet counts by pod-template hash: spec.replicas and status.availableReplicas.
  struct Counts {
    int desired = -1;
    int available = -1;
  };
  Counts CountsOf(const std::string& hash) {
    auto list = client_->List(kRsGvk, ns_);
    if (!list.ok()) return {};
    for (const json& rs : list->items) {
      const json labels = rs["metadata"].value("labels", json::object());
      if (labels.value(std::string(kPodTemplateHashLabel), "") != hash) continue;
      return {rs["spec"].value("replicas", 0),
              rs.value("status", json::object()).value("availableReplicas", 0)};
    }
    return {};
  }

  void SetImage(const std::string& rollout, const std::string& image) {
    auto r = client_->Patch({kRolloutGvk, ns_, rollout}, kube::PatchType::kJson,
                            json::array({{{"op", "replace"},
                                          {"path", "/spec/template/spec/containers/0/image"},
                                          {"value", image}}}));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  std::unique_ptr<kube::KubeClient> client_;
  std::string ns_;
  std::unique_ptr<Collaborators> deps_;
  std::vector<std::string> events_;
  std::string last_error_;
};

}  // namespace gantry::rollout::testing
