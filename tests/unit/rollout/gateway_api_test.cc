#include "operator/rollout/trafficrouting/gateway_api.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace gantry::rollout::gatewayapi {
namespace {

using nlohmann::json;

json Route() {
  return json::parse(R"({
    "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {"parentRefs": [{"name": "gw"}], "rules": [
      {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
       "backendRefs": [{"name": "web-stable", "port": 80},
                       {"name": "web-canary", "port": 80, "weight": 0}]},
      {"backendRefs": [{"name": "other", "port": 80, "weight": 7}]}]}})");
}

TEST(GatewayApiTest, SetsWeightsOnRulesNamingBoth) {
  auto got = WithBackendWeights(Route(), {"web-stable", "web-canary", 30});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  const json& rules = (*got)["spec"]["rules"];
  EXPECT_EQ(rules[0]["backendRefs"][0]["weight"], 70);
  EXPECT_EQ(rules[0]["backendRefs"][1]["weight"], 30);
  EXPECT_EQ(rules[1]["backendRefs"][0]["weight"], 7);
  EXPECT_EQ(CanaryWeightOf(*got, "web-stable", "web-canary"), 30);
}

TEST(GatewayApiTest, WeightsDefaultToOne) {
  json route = Route();
  route["spec"]["rules"][0]["backendRefs"][1].erase("weight");
  EXPECT_EQ(CanaryWeightOf(route, "web-stable", "web-canary"), 50);
  route["spec"]["rules"][0]["backendRefs"][1]["weight"] = 0;
  EXPECT_EQ(CanaryWeightOf(route, "web-stable", "web-canary"), 0);
}

TEST(GatewayApiTest, MissingCanaryRefIsAnErrorNamingTheRoute) {
  auto got = WithBackendWeights(Route(), {"web-stable", "nope", 10});
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("HTTPRoute shop/web"), std::string::npos);
  EXPECT_NE(got.status().message().find("nope"), std::string::npos);
  EXPECT_EQ(CanaryWeightOf(Route(), "web-stable", "nope"), std::nullopt);
}

TEST(GatewayApiTest, RefsOfOtherKindsDoNotCount) {
  json route = Route();
  route["spec"]["rules"][0]["backendRefs"][1]["kind"] = "ServiceImport";
  route["spec"]["rules"][0]["backendRefs"][1]["group"] = "multicluster.x-k8s.io";
  EXPECT_FALSE(WithBackendWeights(route, {"web-stable", "web-canary", 10}).ok());
}

}  // namespace
}  // namespace gantry::rollout::gatewayapi
