#include "operator/rollout/trafficrouting/nginx_ingress.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace gantry::rollout::nginx {
namespace {

using nlohmann::json;

json StableIngress() {
  return json::parse(R"({
    "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
    "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "7",
                 "annotations": {"kubernetes.io/ingress.class": "nginx",
                                 "nginx.ingress.kubernetes.io/rewrite-target": "/"}},
    "spec": {"ingressClassName": "nginx",
             "tls": [{"hosts": ["web.local"]}],
             "rules": [
               {"host": "web.local", "http": {"paths": [
                 {"path": "/", "pathType": "Prefix",
                  "backend": {"service": {"name": "web-stable", "port": {"number": 80}}}},
                 {"path": "/admin", "pathType": "Prefix",
                  "backend": {"service": {"name": "admin", "port": {"number": 80}}}}]}},
               {"host": "other.local", "http": {"paths": [
                 {"path": "/", "pathType": "Prefix",
                  "backend": {"service": {"name": "other", "port": {"number": 80}}}}]}}]}})");
}

CanaryIngressParams Params(int32_t weight) {
  CanaryIngressParams p;
  p.rollout = "web-rollout";
  p.stable_service = "web-stable";
  p.canary_service = "web-canary";
  p.weight = weight;
  return p;
}

TEST(NginxIngressTest, CanaryIngressCopiesStablePathsOnly) {
  const json owner = {{"kind", "Rollout"}, {"name", "web-rollout"}, {"uid", "u1"}};
  CanaryIngressParams p = Params(20);
  p.owner_reference = &owner;
  auto got = DesiredCanaryIngress(StableIngress(), p);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  const json& c = *got;
  EXPECT_EQ(c["metadata"]["name"], "web-web-rollout-canary");
  EXPECT_EQ(c["metadata"]["namespace"], "shop");
  EXPECT_EQ(c["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary"], "true");
  EXPECT_EQ(c["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary-weight"], "20");
  EXPECT_EQ(c["metadata"]["annotations"]["kubernetes.io/ingress.class"], "nginx");
  EXPECT_FALSE(c["metadata"]["annotations"].contains("nginx.ingress.kubernetes.io/rewrite-target"));
  EXPECT_FALSE(c["metadata"].contains("resourceVersion"));
  EXPECT_EQ(c["metadata"]["ownerReferences"][0]["uid"], "u1");
  EXPECT_EQ(c["spec"]["ingressClassName"], "nginx");
  ASSERT_EQ(c["spec"]["rules"].size(), 1u);
  ASSERT_EQ(c["spec"]["rules"][0]["http"]["paths"].size(), 1u);
  EXPECT_EQ(c["spec"]["rules"][0]["host"], "web.local");
  EXPECT_EQ(c["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"], "web-canary");
  EXPECT_EQ(c["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"]["number"], 80);
  EXPECT_EQ(CanaryIngressWeight(c), 20);
}

TEST(NginxIngressTest, WeightIsClampedAndReadBack) {
  auto high = DesiredCanaryIngress(StableIngress(), Params(140));
  ASSERT_TRUE(high.ok());
  EXPECT_EQ(CanaryIngressWeight(*high), 100);
  json bad = *high;
  bad["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary-weight"] = "ten";
  EXPECT_EQ(CanaryIngressWeight(bad), std::nullopt);
  EXPECT_EQ(CanaryIngressWeight(json::object()), 0);
}

TEST(NginxIngressTest, NoStableBackendIsAnErrorNamingTheIngress) {
  CanaryIngressParams p = Params(10);
  p.stable_service = "missing";
  auto got = DesiredCanaryIngress(StableIngress(), p);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(got.status().message().find("Ingress shop/web"), std::string::npos);
  EXPECT_NE(got.status().message().find("missing"), std::string::npos);
}

TEST(NginxIngressTest, UpToDateIgnoresServerFields) {
  auto desired = DesiredCanaryIngress(StableIngress(), Params(30));
  ASSERT_TRUE(desired.ok());
  json live = *desired;
  live["metadata"]["resourceVersion"] = "12";
  live["metadata"]["uid"] = "x";
  live["status"] = {{"loadBalancer", json::object()}};
  EXPECT_TRUE(CanaryIngressUpToDate(live, *desired));
  live["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary-weight"] = "0";
  EXPECT_FALSE(CanaryIngressUpToDate(live, *desired));
  EXPECT_FALSE(CanaryIngressUpToDate(json(), *desired));
}

TEST(NginxIngressTest, LongNamesKeepTheSuffix) {
  const std::string name = CanaryIngressName(std::string(250, 'a'), "web");
  EXPECT_EQ(name.size(), 253u);
  EXPECT_EQ(name.substr(name.size() - 11), "-web-canary");
}

}  // namespace
}  // namespace gantry::rollout::nginx

namespace gantry::rollout::nginx {
namespace {

TEST(NginxIngressTest, PrefixAndAdditionalAnnotations) {
  CanaryIngressParams p = Params(15);
  p.annotation_prefix = "custom.io";
  p.additional_annotations = {{"canary-by-header", "X-Canary"}};
  auto got = DesiredCanaryIngress(StableIngress(), p);
  ASSERT_TRUE(got.ok());
  const auto& a = (*got)["metadata"]["annotations"];
  EXPECT_EQ(a["custom.io/canary"], "true");
  EXPECT_EQ(a["custom.io/canary-weight"], "15");
  EXPECT_EQ(a["custom.io/canary-by-header"], "X-Canary");
  EXPECT_FALSE(a.contains("nginx.ingress.kubernetes.io/canary"));
  EXPECT_EQ(CanaryIngressWeight(*got, "custom.io"), 15);
  EXPECT_EQ(CanaryIngressWeight(*got), 0);
}

}  // namespace
}  // namespace gantry::rollout::nginx
