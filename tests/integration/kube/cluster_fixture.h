// Shared set-up for the kube integration tests: a RestKubeClient for $KUBECONFIG (the local
// control plane of hack/cluster) and a fresh namespace per test, deleted afterwards. Tests
// skip, saying why, when KUBECONFIG is unset.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "operator/kube/kube_client.h"
#include "operator/kube/rest_config.h"
#include "operator/kube/rest_kube_client.h"

namespace gantry::kube::testing {

inline const GroupVersionKind kNamespace{"", "v1", "Namespace"};
inline const GroupVersionKind kConfigMap{"", "v1", "ConfigMap"};
inline const GroupVersionKind kServiceAccount{"", "v1", "ServiceAccount"};
inline const GroupVersionKind kCrd{"apiextensions.k8s.io", "v1", "CustomResourceDefinition"};

// Polls `done` every 50ms until it is true or `timeout` passes.
inline bool Eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

inline std::string RandomSuffix() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s;
  for (int i = 0; i < 6; ++i) s += kChars[rng() % 36];
  return s;
}

// The repository root, for hack/cluster: $GANTRY_REPO, else the source tree this test was
// built from.
inline std::string RepoRoot() {
  const char* repo = std::getenv("GANTRY_REPO");
  if (repo != nullptr && *repo != '\0') return repo;
  return GANTRY_SOURCE_DIR;
}

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* kubeconfig = std::getenv("KUBECONFIG");
    if (kubeconfig == nullptr || *kubeconfig == '\0') {
      GTEST_SKIP() << "KUBECONFIG is not set: start the control plane with `hack/cluster up` "
                      "and `eval \"$(hack/cluster env)\"` (make test does both)";
    }
    Result<RestConfig> config = LoadKubeconfig({kubeconfig});
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config_ = *config;
    config_.qps = 0;  // tests measure behaviour, not throttling
    Result<std::unique_ptr<KubeClient>> client = NewRestKubeClient(config_);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
    ns_ = "kube-it-" + RandomSuffix();
    Result<Object> created = client_->Create(
        Object{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns_}}}});
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }

  void TearDown() override {
    if (client_ && !ns_.empty()) {
      Status s = client_->Delete(ResourceRef{kNamespace, "", ns_});
      EXPECT_TRUE(s.ok() || s.code() == StatusCode::kNotFound) << s.ToString();
    }
  }

  Object ConfigMap(const std::string& name, Object data = Object::object()) const {
    return Object{{"apiVersion", "v1"},
                  {"kind", "ConfigMap"},
                  {"metadata", {{"name", name}, {"namespace", ns_}}},
                  {"data", std::move(data)}};
  }

  RestConfig config_;
  std::unique_ptr<KubeClient> client_;
  std::string ns_;
};

}  // namespace gantry::kube::testing
