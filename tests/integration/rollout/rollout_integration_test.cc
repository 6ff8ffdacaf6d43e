// Rollouts against the real control plane: ReplicaSets become pods (kube-controller-manager)
// that become Ready (kwok); the passes run in this process with the real clock, as the operator
// runs them. Replica counts are checked at every step.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "operator/cli/rollout_actions.h"
#include "operator/rollout/trafficrouting/nginx_ingress.h"
#include "rollout_cluster.h"

namespace gantry::rollout::testing {
namespace {

using std::chrono::seconds;

class RolloutIntegrationTest : public RolloutClusterTest {};

TEST_F(RolloutIntegrationTest, CanaryThroughWeightsAndPausesToCompletion) {
  CreateService("web-stable", "web");
  CreateService("web-canary", "web");
  Create(RolloutJson("web", 4, "registry.local/web:1",
                     json{{"canary",
                           {{"stableService", "web-stable"},
                            {"canaryService", "web-canary"},
                            {"maxSurge", 1},
                            {"maxUnavailable", 0},
                            {"steps", json::array({{{"setWeight", 25}},
                                                   {{"pause", json::object()}},
                                                   {{"setWeight", 50}},
                                                   {{"pause", {{"duration", "3s"}}}}})}}}}));
  ASSERT_TRUE(Drive("web", [&] { return Phase("web") == "Healthy"; })) << last_error_;
  const std::string stable = Status("web")["stableRS"];
  EXPECT_EQ(CountsOf(stable).available, 4);

  SetImage("web", "registry.local/web:2");
  ASSERT_TRUE(Drive("web", [&] { return Phase("web") == "Paused"; })) << last_error_;
  const std::string canary = Status("web")["currentPodHash"];
  ASSERT_NE(canary, stable);
  EXPECT_EQ(Status("web")["currentStepIndex"], 1);
  EXPECT_EQ(CountsOf(canary).desired, 1);
  EXPECT_EQ(CountsOf(canary).available, 1);
  EXPECT_EQ(CountsOf(stable).desired, 3);
  EXPECT_EQ(CountsOf(stable).available, 3);
  EXPECT_EQ(Status("web")["canary"]["weights"]["canary"]["weight"], 25);
  EXPECT_EQ(Get(kServiceGvk, "web-canary")["spec"]["selector"][std::string(kPodTemplateHashLabel)],
            canary);
  EXPECT_EQ(Get(kServiceGvk, "web-stable")["spec"]["selector"][std::string(kPodTemplateHashLabel)],
            stable);

  ASSERT_TRUE(cli::PromoteRollout(*client_, {ns_, "web"}, false).ok());
  // setWeight 50 reached, now in the 3s pause.
  ASSERT_TRUE(Drive("web", [&] {
    return Status("web").value("currentStepIndex", 0) == 3 && Phase("web") == "Paused";
  })) << last_error_;
  EXPECT_EQ(CountsOf(canary).desired, 2);
  EXPECT_EQ(CountsOf(stable).desired, 2);
  EXPECT_EQ(CountsOf(canary).available, 2);
  EXPECT_EQ(CountsOf(stable).available, 2);

  ASSERT_TRUE(Drive("web", [&] { return Phase("web") == "Healthy"; })) << last_error_;
  EXPECT_EQ(Status("web")["stableRS"], canary);
  EXPECT_EQ(CountsOf(canary).available, 4);
  EXPECT_EQ(CountsOf(stable).desired, 0);
  EXPECT_EQ(Get(kServiceGvk, "web-stable")["spec"]["selector"][std::string(kPodTemplateHashLabel)],
            canary);
}

TEST_F(RolloutIntegrationTest, NginxCanaryAbortReturnsTrafficThenScalesDown) {
  CreateService("shop-stable", "shop");
  CreateService("shop-canary", "shop");
  Create(json::parse(R"({"apiVersion":"networking.k8s.io/v1","kind":"Ingress",
      "metadata":{"name":"shop","annotations":{"kubernetes.io/ingress.class":"nginx"}},
      "spec":{"rules":[{"host":"shop.local","http":{"paths":[
        {"path":"/","pathType":"Prefix","backend":{"service":{"name":"shop-stable","port":{"number":80}}}}]}}]}})"));
  Create(RolloutJson(
      "shop", 3, "registry.local/shop:1",
      json{{"canary",
            {{"stableService", "shop-stable"},
             {"canaryService", "shop-canary"},
             {"trafficRouting", {{"nginx", {{"stableIngress", "shop"}}}}},
             {"abortScaleDownDelaySeconds", 4},
             {"steps", json::array({{{"setWeight", 40}}, {{"pause", json::object()}}})}}}}));
  ASSERT_TRUE(Drive("shop", [&] { return Phase("shop") == "Healthy"; })) << last_error_;
  const std::string stable = Status("shop")["stableRS"];
  const auto weight = [&] {
    return nginx::CanaryIngressWeight(Get(kIngressGvk, "shop-shop-canary")).value_or(-1);
  };
  EXPECT_EQ(weight(), 0);

  SetImage("shop", "registry.local/shop:2");
  ASSERT_TRUE(Drive("shop", [&] { return Phase("shop") == "Paused"; })) << last_error_;
  const std::string canary = Status("shop")["currentPodHash"];
  EXPECT_EQ(weight(), 40);
  EXPECT_EQ(CountsOf(canary).available, 2);  // ceil(3 * 40%)
  EXPECT_EQ(CountsOf(stable).available, 3);  // stable stays whole under a router
  const json ingress = Get(kIngressGvk, "shop-shop-canary");
  EXPECT_EQ(ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary"], "true");
  EXPECT_EQ(ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"],
            "shop-canary");

  ASSERT_TRUE(cli::AbortRollout(*client_, {ns_, "shop"}).ok());
  // Traffic first...
  ASSERT_TRUE(Drive("shop", [&] { return weight() == 0; })) << last_error_;
  EXPECT_EQ(CountsOf(canary).desired, 2) << "the canary must outlive its traffic";
  EXPECT_EQ(Phase("shop"), "Degraded");
  // ...then pods, after abortScaleDownDelaySeconds.
  ASSERT_TRUE(Drive("shop", [&] { return CountsOf(canary).desired == 0; })) << last_error_;
  EXPECT_EQ(CountsOf(stable).available, 3);
  EXPECT_NE(Status("shop")["message"].get<std::string>().find("RolloutAborted"), std::string::npos);
}

TEST_F(RolloutIntegrationTest, BlueGreenWithManualPromotion) {
  CreateService("api-active", "api");
  CreateService("api-preview", "api");
  Create(RolloutJson("api", 2, "registry.local/api:1",
                     json{{"blueGreen",
                           {{"activeService", "api-active"},
                            {"previewService", "api-preview"},
                            {"autoPromotionEnabled", false},
                            {"scaleDownDelaySeconds", 3}}}}));
  ASSERT_TRUE(Drive("api", [&] { return Phase("api") == "Healthy"; })) << last_error_;
  const std::string blue = Status("api")["stableRS"];
  const auto selects = [&](const std::string& svc) {
    return Get(kServiceGvk, svc)["spec"]["selector"].value(std::string(kPodTemplateHashLabel), "");
  };
  EXPECT_EQ(selects("api-active"), blue);

  SetImage("api", "registry.local/api:2");
  ASSERT_TRUE(Drive("api", [&] { return Phase("api") == "Paused"; })) << last_error_;
  const std::string green = Status("api")["currentPodHash"];
  EXPECT_EQ(selects("api-preview"), green);
  EXPECT_EQ(selects("api-active"), blue);
  EXPECT_EQ(CountsOf(green).available, 2);
  EXPECT_EQ(CountsOf(blue).available, 2);

  ASSERT_TRUE(cli::PromoteRollout(*client_, {ns_, "api"}, false).ok());
  ASSERT_TRUE(Drive("api", [&] { return selects("api-active") == green; })) << last_error_;
  EXPECT_EQ(CountsOf(blue).desired, 2) << "blue stays for scaleDownDelaySeconds";
  ASSERT_TRUE(Drive("api", [&] {
    return CountsOf(blue).desired == 0 && Phase("api") == "Healthy";
  })) << last_error_;
  EXPECT_EQ(Status("api")["stableRS"], green);
}

TEST_F(RolloutIntegrationTest, HttpRouteWeights) {
  // From the Gateway API Go module, or tests/testdata/gateway-api when it cannot be had.
  ASSERT_TRUE(InstallCrds("httproute")) << "the Gateway API HTTPRoute CRD could not be installed";
  ASSERT_TRUE(Eventually([&] { return client_->Mapping(kRouteGvk).ok(); }, seconds(30)));
  CreateService("pay-stable", "pay");
  CreateService("pay-canary", "pay");
  Create(json::parse(R"({"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute",
      "metadata":{"name":"pay"},
      "spec":{"parentRefs":[{"name":"gw"}],"rules":[{"backendRefs":[
        {"name":"pay-stable","port":80,"weight":100},{"name":"pay-canary","port":80,"weight":0}]}]}})"));
  Create(RolloutJson(
      "pay", 2, "registry.local/pay:1",
      json{{"canary",
            {{"stableService", "pay-stable"},
             {"canaryService", "pay-canary"},
             {"trafficRouting", {{"gatewayAPI", {{"httpRoute", "pay"}}}}},
             {"steps", json::array({{{"setWeight", 30}}, {{"pause", json::object()}}})}}}}));
  ASSERT_TRUE(Drive("pay", [&] { return Phase("pay") == "Healthy"; })) << last_error_;
  SetImage("pay", "registry.local/pay:2");
  ASSERT_TRUE(Drive("pay", [&] { return Phase("pay") == "Paused"; })) << last_error_;
  json refs = Get(kRouteGvk, "pay")["spec"]["rules"][0]["backendRefs"];
  EXPECT_EQ(refs[0]["weight"], 70);
  EXPECT_EQ(refs[1]["weight"], 30);
  ASSERT_TRUE(cli::PromoteRollout(*client_, {ns_, "pay"}, false).ok());
  ASSERT_TRUE(Drive("pay", [&] { return Phase("pay") == "Healthy"; })) << last_error_;
  refs = Get(kRouteGvk, "pay")["spec"]["rules"][0]["backendRefs"];
  EXPECT_EQ(refs[0]["weight"], 100);
  EXPECT_EQ(refs[1]["weight"], 0);
}

TEST_F(RolloutIntegrationTest, ScaleSubresourceLikeAnHpa) {
  Create(RolloutJson("hpa", 2, "registry.local/hpa:1", json{{"canary", json::object()}}));
  ASSERT_TRUE(Drive("hpa", [&] { return Phase("hpa") == "Healthy"; })) << last_error_;
  auto scaled = client_->UpdateScale({kRolloutGvk, ns_, "hpa"}, 5);
  ASSERT_TRUE(scaled.ok()) << scaled.status().ToString();
  ASSERT_TRUE(Drive("hpa", [&] {
    return Phase("hpa") == "Healthy" && Status("hpa").value("availableReplicas", 0) == 5;
  })) << last_error_;
  auto scale = client_->GetScale({kRolloutGvk, ns_, "hpa"});
  ASSERT_TRUE(scale.ok()) << scale.status().ToString();
  EXPECT_EQ((*scale)["spec"]["replicas"], 5);
  EXPECT_EQ((*scale)["status"]["replicas"], 5);
  EXPECT_EQ((*scale)["status"]["selector"], "app=hpa");
}

// A real HorizontalPodAutoscaler (kube-controller-manager's) scales the Rollout through its
// scale subresource: below minReplicas it sets the target's replicas without needing metrics.
TEST_F(RolloutIntegrationTest, RealHpaScalesTheRollout) {
  Create(RolloutJson("auto", 1, "registry.local/auto:1", json{{"canary", json::object()}}));
  ASSERT_TRUE(Drive("auto", [&] { return Phase("auto") == "Healthy"; })) << last_error_;
  Create(json::parse(R"({"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler",
      "metadata":{"name":"auto"},
      "spec":{"scaleTargetRef":{"apiVersion":"gantry.io/v1alpha1","kind":"Rollout","name":"auto"},
        "minReplicas":3,"maxReplicas":5,
        "metrics":[{"type":"Resource","resource":{"name":"cpu",
          "target":{"type":"Utilization","averageUtilization":50}}}]}})"));
  ASSERT_TRUE(Drive(
      "auto",
      [&] {
        return Phase("auto") == "Healthy" && Status("auto").value("availableReplicas", 0) == 3;
      },
      seconds(90)))
      << last_error_
      << " spec.replicas=" << Get(kRolloutGvk, "auto")["spec"].value("replicas", json()).dump();
  EXPECT_EQ(Get(kRolloutGvk, "auto")["spec"]["replicas"], 3);
  const json hpa = Get({"autoscaling", "v2", "HorizontalPodAutoscaler"}, "auto");
  EXPECT_EQ(hpa["status"]["desiredReplicas"], 3) << hpa.dump();
}

// progressDeadlineSeconds with progressDeadlineAbort: a canary whose pods can never be
// scheduled (no node has the label) aborts by itself once the deadline passes.
TEST_F(RolloutIntegrationTest, ProgressDeadlineAborts) {
  CreateService("late-stable", "late");
  CreateService("late-canary", "late");
  json rollout = RolloutJson(
      "late", 2, "registry.local/late:1",
      json{{"canary",
            {{"stableService", "late-stable"},
             {"canaryService", "late-canary"},
             {"abortScaleDownDelaySeconds", 1},
             {"steps", json::array({{{"setWeight", 50}}, {{"pause", json::object()}}})}}}});
  rollout["spec"]["progressDeadlineSeconds"] = 5;
  rollout["spec"]["progressDeadlineAbort"] = true;
  Create(rollout);
  ASSERT_TRUE(Drive("late", [&] { return Phase("late") == "Healthy"; })) << last_error_;
  const std::string stable = Status("late")["stableRS"];
  auto r = client_->Patch(
      {kRolloutGvk, ns_, "late"}, kube::PatchType::kMerge,
      json{{"spec",
            {{"template", {{"spec", {{"nodeSelector", {{"gantry.io/no-such-node", "true"}}}}}}}}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(Drive(
      "late", [&] { return Phase("late") == "Degraded"; }, seconds(60)))
      << last_error_ << " " << Status("late").dump();
  const json st = Status("late");
  EXPECT_EQ(st["abort"], true);
  EXPECT_NE(st["message"].get<std::string>().find("ProgressDeadlineExceeded"), std::string::npos)
      << st.dump();
  const std::string canary = st["currentPodHash"];
  ASSERT_TRUE(Drive(
      "late", [&] { return CountsOf(canary).desired == 0; }, seconds(30)))
      << last_error_;
  EXPECT_EQ(CountsOf(stable).available, 2);
  EXPECT_EQ(Get(kServiceGvk, "late-stable")["spec"]["selector"][std::string(kPodTemplateHashLabel)],
            stable);
}

// A Service the strategy names does not exist: InvalidSpec naming the field, no ReplicaSet; once
// the Service exists the Rollout proceeds.
TEST_F(RolloutIntegrationTest, MissingServiceIsInvalidSpecUntilCreated) {
  CreateService("cart-canary", "cart");
  Create(RolloutJson(
      "cart", 1, "registry.local/cart:1",
      json{{"canary", {{"stableService", "cart-stable"}, {"canaryService", "cart-canary"}}}}));
  ASSERT_TRUE(Drive("cart", [&] { return Phase("cart") == "Degraded"; })) << last_error_;
  const std::string message = Status("cart")["message"];
  EXPECT_NE(message.find("InvalidSpec"), std::string::npos) << message;
  EXPECT_NE(message.find("spec.strategy.canary.stableService"), std::string::npos) << message;
  auto sets = client_->List(kRsGvk, ns_);
  ASSERT_TRUE(sets.ok());
  EXPECT_TRUE(sets->items.empty());
  CreateService("cart-stable", "cart");
  ASSERT_TRUE(Drive("cart", [&] { return Phase("cart") == "Healthy"; })) << last_error_;
}

// Each retry of a failed analysis step leaves a Failed AnalysisRun; the Rollout deletes all but
// the newest 5 (the AnalysisRun reconciler does not run here: the test plays it, setting the
// runs' phase).
TEST_F(RolloutIntegrationTest, KeepsTheNewestFiveFailedAnalysisRuns) {
  const kube::GroupVersionKind run_gvk{"gantry.io", "v1alpha1", "AnalysisRun"};
  Create(json::parse(R"({"apiVersion":"gantry.io/v1alpha1","kind":"AnalysisTemplate",
      "metadata":{"name":"check"},
      "spec":{"metrics":[{"name":"ok","provider":{"web":{"url":"http://127.0.0.1:9/"}}}]}})"));
  CreateService("gc-stable", "gc");
  CreateService("gc-canary", "gc");
  Create(RolloutJson(
      "gc", 2, "registry.local/gc:1",
      json{{"canary",
            {{"stableService", "gc-stable"},
             {"canaryService", "gc-canary"},
             {"abortScaleDownDelaySeconds", 0},
             {"steps",
              json::array({{{"setWeight", 50}},
                           {{"analysis",
                             {{"templates", json::array({{{"templateName", "check"}}})}}}}})}}}}));
  ASSERT_TRUE(Drive("gc", [&] { return Phase("gc") == "Healthy"; })) << last_error_;
  SetImage("gc", "registry.local/gc:2");
  const auto current_run = [&] {
    return Status("gc")
        .value("canary", json::object())
        .value("currentStepAnalysisRunStatus", json::object())
        .value("name", "");
  };
  std::vector<std::string> failed_uids;
  for (int i = 0; i < 7; ++i) {
    std::string run;
    ASSERT_TRUE(Drive("gc", [&] {
      run = current_run();
      return !run.empty() && Phase("gc") == "Progressing" && !Get(run_gvk, run).is_null();
    })) << last_error_;
    failed_uids.push_back(Get(run_gvk, run)["metadata"]["uid"]);
    auto failed = client_->Patch({run_gvk, ns_, run}, kube::PatchType::kMerge,
                                 json{{"status", {{"phase", "Failed"}, {"message", "by test"}}}},
                                 {false, "", "status"});
    ASSERT_TRUE(failed.ok()) << failed.status().ToString();
    ASSERT_TRUE(Drive("gc", [&] { return Phase("gc") == "Degraded"; })) << last_error_;
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // creationTimestamp is in s
    auto retry = client_->Patch({kRolloutGvk, ns_, "gc"}, kube::PatchType::kMerge,
                                json{{"status", {{"abort", false}}}}, {false, "", "status"});
    ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  }
  ASSERT_TRUE(Drive("gc", [&] { return !current_run().empty() && Phase("gc") == "Progressing"; }))
      << last_error_;
  auto runs = client_->List(run_gvk, ns_);
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  std::set<std::string> left;
  int failed = 0;
  for (const json& run : runs->items) {
    left.insert(run["metadata"]["uid"]);
    if (run.value("status", json::object()).value("phase", "") == "Failed") ++failed;
  }
  EXPECT_EQ(failed, 5);
  EXPECT_EQ(left.size(), 6u);
  EXPECT_FALSE(left.contains(failed_uids[0]));
  EXPECT_FALSE(left.contains(failed_uids[1]));
  for (size_t i = 2; i < failed_uids.size(); ++i) EXPECT_TRUE(left.contains(failed_uids[i])) << i;
}

}  // namespace
}  // namespace gantry::rollout::testing
