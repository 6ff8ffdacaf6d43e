// Canary traffic through a router: the NGINX canary Ingress and Gateway API HTTPRoute
// weights, abort order (traffic first, then pods), and promotion.
#include <gtest/gtest.h>

#include "operator/rollout/trafficrouting/nginx_ingress.h"
#include "rollout_world.h"

namespace gantry::rollout::testing {
namespace {

using std::chrono::seconds;

json Steps() {
  return json::array({{{"setWeight", 20}},
                      {{"pause", json::object()}},
                      {{"setWeight", 60}},
                      {{"pause", json::object()}}});
}

class NginxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    w.CreateService("web-stable");
    w.CreateService("web-canary");
    w.Create(json::parse(R"({"apiVersion":"networking.k8s.io/v1","kind":"Ingress",
      "metadata":{"name":"web","namespace":"shop"},
      "spec":{"ingressClassName":"nginx","rules":[{"host":"web.local","http":{"paths":[
        {"path":"/","pathType":"Prefix","backend":{"service":{"name":"web-stable","port":{"number":80}}}}]}}]}})"));
    json strategy = {{"canary",
                      {{"stableService", "web-stable"},
                       {"canaryService", "web-canary"},
                       {"trafficRouting", {{"nginx", {{"stableIngress", "web"}}}}},
                       {"abortScaleDownDelaySeconds", 30},
                       {"scaleDownDelaySeconds", 30},
                       {"steps", Steps()}}}};
    w.Create(RolloutWorld::RolloutJson(5, "web:1", strategy));
    w.Converge();
    stable = w.StableHash();
  }
  int Weight() {
    auto ing = w.client.Get({kIngressKind, "shop", "web-web-canary"});
    EXPECT_TRUE(ing.ok());
    return ing.ok() ? nginx::CanaryIngressWeight(*ing).value_or(-1) : -1;
  }
  RolloutWorld w;
  std::string stable;
};

TEST_F(NginxTest, WeightFollowsTheStepsOnceCanaryPodsAreReady) {
  ASSERT_EQ(w.Phase(), "Healthy");
  EXPECT_EQ(Weight(), 0);
  auto ing = w.client.Get({kIngressKind, "shop", "web-web-canary"});
  ASSERT_TRUE(ing.ok());
  EXPECT_EQ((*ing)["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary"], "true");
  EXPECT_EQ((*ing)["metadata"]["ownerReferences"][0]["name"], "web");

  w.SetImage("web:2");
  w.Pass();
  const std::string canary = w.CurrentHash();
  // Stable stays whole; the canary gets its 20% of pods; no traffic before they are ready.
  EXPECT_EQ(w.ReplicasOf(stable), 5);
  EXPECT_EQ(w.ReplicasOf(canary), 1);
  EXPECT_EQ(Weight(), 0);
  w.Settle();
  w.Pass();
  EXPECT_EQ(Weight(), 20);
  w.Converge();
  EXPECT_EQ(w.StepIndex(), 1);
  EXPECT_EQ(w.Status()["canary"]["weights"]["canary"]["weight"], 20);
  EXPECT_EQ(w.Status()["canary"]["weights"]["stable"]["weight"], 80);
  EXPECT_EQ(w.Status()["canary"]["weights"]["verified"], true);
  w.Promote();
  w.Converge();
  EXPECT_EQ(w.StepIndex(), 3);
  EXPECT_EQ(Weight(), 60);
  EXPECT_EQ(w.ReplicasOf(canary), 3);
  EXPECT_EQ(w.ReplicasOf(stable), 5);
  w.Promote();
  w.Converge();
  EXPECT_EQ(w.StableHash(), canary);
  EXPECT_EQ(w.ServiceSelector("web-stable"), canary);
  EXPECT_EQ(Weight(), 0);
  EXPECT_EQ(w.ReplicasOf(canary), 5);
  // The old stable stays for scaleDownDelaySeconds, out of traffic.
  EXPECT_EQ(w.ReplicasOf(stable), 5);
  EXPECT_EQ(w.Phase(), "Healthy");
  w.clock.Advance(seconds(31));
  w.Converge();
  EXPECT_EQ(w.ReplicasOf(stable), 0);
}

TEST_F(NginxTest, AbortSendsTrafficBackFirstThenScalesTheCanaryDown) {
  w.SetImage("web:2");
  w.Converge();
  const std::string canary = w.CurrentHash();
  ASSERT_EQ(Weight(), 20);
  w.PatchStatus({{"abort", true}});
  w.Pass();
  EXPECT_EQ(Weight(), 0);
  EXPECT_EQ(w.ReplicasOf(canary), 1);  // pods stay while traffic drains
  EXPECT_EQ(w.Phase(), "Degraded");
  w.clock.Advance(seconds(31));
  w.Converge();
  EXPECT_EQ(w.ReplicasOf(canary), 0);
  EXPECT_EQ(w.ReplicasOf(stable), 5);
  EXPECT_EQ(Weight(), 0);
}

TEST_F(NginxTest, AForeignIngressWithTheCanaryNameIsNotTakenOver) {
  auto del = w.client.Delete({kIngressKind, "shop", "web-web-canary"});
  ASSERT_TRUE(del.ok());
  w.Create(json::parse(R"({"apiVersion":"networking.k8s.io/v1","kind":"Ingress",
      "metadata":{"name":"web-web-canary","namespace":"shop"},"spec":{}})"));
  auto r = w.TryPass();
  ASSERT_FALSE(r.ok()) << w.client.Get({kIngressKind, "shop", "web-web-canary"})->dump();
  EXPECT_NE(r.status().message().find("not managed by Rollout web"), std::string::npos);
}

TEST(GatewayApiRoutingTest, SetsHttpRouteWeights) {
  RolloutWorld w;
  w.CreateService("web-stable");
  w.CreateService("web-canary");
  w.Create(json::parse(R"({"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute",
    "metadata":{"name":"web","namespace":"shop"},
    "spec":{"parentRefs":[{"name":"gw"}],"rules":[{"backendRefs":[
      {"name":"web-stable","port":80,"weight":100},{"name":"web-canary","port":80,"weight":0}]}]}})"));
  json strategy = {{"canary",
                    {{"stableService", "web-stable"},
                     {"canaryService", "web-canary"},
                     {"trafficRouting", {{"gatewayAPI", {{"httpRoute", "web"}}}}},
                     {"steps", json::array({{{"setWeight", 30}}, {{"pause", json::object()}}})}}}};
  w.Create(RolloutWorld::RolloutJson(4, "web:1", strategy));
  w.Converge();
  w.SetImage("web:2");
  w.Converge();
  auto route = w.client.Get({kRouteKind, "shop", "web"});
  ASSERT_TRUE(route.ok());
  const json& refs = (*route)["spec"]["rules"][0]["backendRefs"];
  EXPECT_EQ(refs[0]["weight"], 70);
  EXPECT_EQ(refs[1]["weight"], 30);
  EXPECT_EQ(w.Status()["canary"]["weights"]["canary"]["weight"], 30);
  w.Promote();
  w.Converge();
  route = w.client.Get({kRouteKind, "shop", "web"});
  EXPECT_EQ((*route)["spec"]["rules"][0]["backendRefs"][1]["weight"], 0);
  EXPECT_EQ(w.Phase(), "Healthy");
}

}  // namespace
}  // namespace gantry::rollout::testing

namespace gantry::rollout::testing {
namespace {

TEST(SetCanaryScaleTest, ScalesTheCanaryApartFromItsWeight) {
  RolloutWorld w;
  w.CreateService("web-stable");
  w.CreateService("web-canary");
  w.Create(json::parse(R"({"apiVersion":"networking.k8s.io/v1","kind":"Ingress",
      "metadata":{"name":"web","namespace":"shop"},
      "spec":{"rules":[{"http":{"paths":[{"path":"/","pathType":"Prefix",
        "backend":{"service":{"name":"web-stable","port":{"number":80}}}}]}}]}})"));
  json strategy = {{"canary",
                    {{"stableService", "web-stable"},
                     {"canaryService", "web-canary"},
                     {"trafficRouting", {{"nginx", {{"stableIngress", "web"}}}}},
                     {"steps", json::array({{{"setCanaryScale", {{"replicas", 3}}}},
                                            {{"setWeight", 10}},
                                            {{"pause", json::object()}},
                                            {{"setCanaryScale", {{"weight", 20}}}},
                                            {{"pause", json::object()}},
                                            {{"setCanaryScale", {{"matchTrafficWeight", true}}}},
                                            {{"setWeight", 50}},
                                            {{"pause", json::object()}}})}}}};
  w.Create(RolloutWorld::RolloutJson(10, "web:1", strategy));
  w.Converge();
  const std::string stable = w.StableHash();
  const auto weight = [&] {
    auto ing = w.client.Get({kIngressKind, "shop", "web-web-canary"});
    return ing.ok() ? nginx::CanaryIngressWeight(*ing).value_or(-1) : -1;
  };
  w.SetImage("web:2");
  w.Converge();
  const std::string canary = w.CurrentHash();
  // Three canary pods (setCanaryScale), 10% of the traffic, stable untouched.
  EXPECT_EQ(w.StepIndex(), 2);
  EXPECT_EQ(w.ReplicasOf(canary), 3);
  EXPECT_EQ(w.ReplicasOf(stable), 10);
  EXPECT_EQ(weight(), 10);
  w.Promote();
  w.Converge();
  EXPECT_EQ(w.StepIndex(), 4);
  EXPECT_EQ(w.ReplicasOf(canary), 2);  // 20% of 10
  EXPECT_EQ(weight(), 10);
  w.Promote();
  w.Converge();
  EXPECT_EQ(w.StepIndex(), 7);
  EXPECT_EQ(w.ReplicasOf(canary), 5);  // follows the weight again
  EXPECT_EQ(weight(), 50);
  w.Promote();
  w.Converge();
  EXPECT_EQ(w.Phase(), "Healthy");
  EXPECT_EQ(w.ReplicasOf(canary), 10);
  EXPECT_EQ(weight(), 0);
}

}  // namespace
}  // namespace gantry::rollout::testing
