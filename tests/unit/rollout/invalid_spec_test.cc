// Invalid Rollout specs (the issue's list: two strategies, an unknown step, a weight over 100, a
// missing Service): each is Degraded with an InvalidSpec condition and event naming the field,
// and the pass touches nothing else: no ReplicaSet, no Service selector.
#include <gtest/gtest.h>

#include <string>

#include "rollout_world.h"

namespace gantry::rollout::testing {
namespace {

json Canary(json steps) {
  return json{{"canary",
               {{"stableService", "web-stable"},
                {"canaryService", "web-canary"},
                {"steps", std::move(steps)}}}};
}

// The condition of `type` (null when absent).
json FindCondition(const json& status, const std::string& type) {
  const json conditions = status.value("conditions", json::array());
  for (const json& c : conditions) {
    if (c.value("type", "") == type) return c;
  }
  return json();
}

struct InvalidCase {
  std::string name;
  json strategy;
  std::string field;  // must appear in the message
};

class InvalidSpecTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidSpecTest, IsInvalidSpecNamingTheFieldAndTouchesNothing) {
  const InvalidCase& c = GetParam();
  RolloutWorld w;
  w.CreateService("web-stable");
  w.CreateService("web-canary");
  w.CreateService("web-active");
  w.Create(RolloutWorld::RolloutJson(2, "web:1", c.strategy));
  Result<SyncOutcome> r = w.TryPass();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, SyncOutcome::Kind::kStalled);
  const json status = w.Status();
  EXPECT_EQ(status["phase"], "Degraded");
  const std::string message = status["message"];
  EXPECT_NE(message.find("InvalidSpec"), std::string::npos) << message;
  EXPECT_NE(message.find(c.field), std::string::npos) << message;
  const json invalid = FindCondition(status, "InvalidSpec");
  ASSERT_FALSE(invalid.is_null()) << status.dump(1);
  EXPECT_EQ(invalid["status"], "True");
  EXPECT_NE(invalid["message"].get<std::string>().find(c.field), std::string::npos);
  EXPECT_TRUE(w.HasEvent("InvalidSpec"));
  EXPECT_TRUE(w.Replicas().empty());
  for (const char* svc : {"web-stable", "web-canary", "web-active"}) {
    EXPECT_EQ(w.ServiceSelector(svc), "") << svc;
  }
  // Stalled: a second pass writes nothing new.
  const std::string rv = w.Rollout()["metadata"]["resourceVersion"];
  ASSERT_TRUE(w.TryPass().ok());
  EXPECT_EQ(w.Rollout()["metadata"]["resourceVersion"], rv);
}

INSTANTIATE_TEST_SUITE_P(
    IssueList, InvalidSpecTest,
    ::testing::Values(InvalidCase{"TwoStrategies",
                                  json{{"canary", {{"stableService", "web-stable"}}},
                                       {"blueGreen", {{"activeService", "web-active"}}}},
                                  "spec.strategy"},
                      InvalidCase{"UnknownStep",
                                  Canary(json::array({{{"experiment", json::object()}}})),
                                  "spec.strategy.canary.steps[0]"},
                      InvalidCase{"WeightOver100", Canary(json::array({{{"setWeight", 120}}})),
                                  "spec.strategy.canary.steps[0].setWeight"}),
    [](const ::testing::TestParamInfo<InvalidCase>& param) { return param.param.name; });

class MissingServiceTest : public ::testing::TestWithParam<std::string> {};

// A missing Service is also InvalidSpec and touches nothing; unlike the others it is looked at
// again after a while (Services are not watched), and the Rollout goes on once it exists.
TEST_P(MissingServiceTest, IsInvalidSpecUntilTheServiceExists) {
  const std::string strategy_kind = GetParam();
  RolloutWorld w;
  json strategy;
  std::string field;
  std::string missing;
  if (strategy_kind == "canary") {
    w.CreateService("web-canary");
    strategy = Canary(json::array({{{"setWeight", 50}}}));
    field = "spec.strategy.canary.stableService";
    missing = "web-stable";
  } else {
    w.CreateService("web-active");
    strategy =
        json{{"blueGreen", {{"activeService", "web-active"}, {"previewService", "web-preview"}}}};
    field = "spec.strategy.blueGreen.previewService";
    missing = "web-preview";
  }
  w.Create(RolloutWorld::RolloutJson(2, "web:1", strategy));
  Result<SyncOutcome> r = w.TryPass();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->requeue_after.has_value());
  const json status = w.Status();
  EXPECT_EQ(status["phase"], "Degraded");
  const std::string message = status["message"];
  EXPECT_NE(message.find("InvalidSpec"), std::string::npos) << message;
  EXPECT_NE(message.find(field), std::string::npos) << message;
  EXPECT_NE(message.find("Service shop/" + missing), std::string::npos) << message;
  ASSERT_FALSE(FindCondition(status, "InvalidSpec").is_null());
  EXPECT_TRUE(w.HasEvent("InvalidSpec"));
  EXPECT_TRUE(w.Replicas().empty());

  w.CreateService(missing);
  w.Converge();
  EXPECT_EQ(w.Phase(), "Healthy");
  EXPECT_TRUE(FindCondition(w.Status(), "InvalidSpec").is_null());
  EXPECT_FALSE(w.Replicas().empty());
}

INSTANTIATE_TEST_SUITE_P(BothStrategies, MissingServiceTest,
                         ::testing::Values("canary", "blueGreen"));

}  // namespace
}  // namespace gantry::rollout::testing
