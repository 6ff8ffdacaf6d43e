#include "operator/api/conditions.h"

#include <gtest/gtest.h>

#include "operator/common/clock.h"

namespace gantry::api {
namespace {

using std::chrono::seconds;

Condition Cond(std::string type, std::string status, std::string reason, int64_t generation = 1,
               std::string message = "") {
  Condition c;
  c.type = std::move(type);
  c.status = std::move(status);
  c.reason = std::move(reason);
  c.observed_generation = generation;
  c.message = std::move(message);
  return c;
}

class ApiConditionsTest : public ::testing::Test {
 protected:
  FakeClock clock_;
};

TEST_F(ApiConditionsTest, SetAppendsANewTypeWithNowAsTransitionTime) {
  std::vector<Condition> conditions;
  EXPECT_TRUE(SetCondition(conditions, Cond("Ready", "False", "Failed"), clock_.Now()));
  ASSERT_EQ(conditions.size(), 1u);
  EXPECT_EQ(conditions[0].last_transition_time, clock_.Now());
  EXPECT_TRUE(SetCondition(conditions, Cond("Stalled", "True", "Invalid"), clock_.Now()));
  ASSERT_EQ(conditions.size(), 2u);
  EXPECT_EQ(conditions[1].type, "Stalled");
}

TEST_F(ApiConditionsTest, KeepsTransitionTimeWhileStatusStaysTheSame) {
  std::vector<Condition> conditions;
  SetCondition(conditions, Cond("Ready", "False", "FetchFailed", 1, "timeout"), clock_.Now());
  Time first = clock_.Now();
  clock_.Advance(seconds(30));
  // Same status, new reason, message and generation: updated, but the transition time stays.
  EXPECT_TRUE(
      SetCondition(conditions, Cond("Ready", "False", "AuthFailed", 2, "denied"), clock_.Now()));
  ASSERT_EQ(conditions.size(), 1u);
  EXPECT_EQ(conditions[0].reason, "AuthFailed");
  EXPECT_EQ(conditions[0].message, "denied");
  EXPECT_EQ(conditions[0].observed_generation, 2);
  EXPECT_EQ(conditions[0].last_transition_time, first);
  // Status flips: the transition time moves.
  clock_.Advance(seconds(30));
  EXPECT_TRUE(SetCondition(conditions, Cond("Ready", "True", "Succeeded", 2), clock_.Now()));
  EXPECT_EQ(conditions[0].last_transition_time, clock_.Now());
}

TEST_F(ApiConditionsTest, SettingTheSameConditionAgainChangesNothing) {
  std::vector<Condition> conditions;
  SetCondition(conditions, Cond("Ready", "True", "Succeeded", 3, "ok"), clock_.Now());
  std::vector<Condition> before = conditions;
  clock_.Advance(seconds(60));
  EXPECT_FALSE(SetCondition(conditions, Cond("Ready", "True", "Succeeded", 3, "ok"), clock_.Now()));
  EXPECT_EQ(conditions, before);
}

TEST_F(ApiConditionsTest, KeepsOrderAndUnknownFieldsOfTheStoredCondition) {
  std::vector<Condition> conditions = {Cond("Ready", "True", "A"), Cond("Available", "True", "B")};
  conditions[0].extra = {{"severity", "Info"}};
  SetCondition(conditions, Cond("Ready", "False", "C"), clock_.Now());
  ASSERT_EQ(conditions.size(), 2u);
  EXPECT_EQ(conditions[0].type, "Ready");
  EXPECT_EQ(conditions[0].extra, nlohmann::json({{"severity", "Info"}}));
  EXPECT_EQ(conditions[1].type, "Available");
}

TEST_F(ApiConditionsTest, FindIsTrueAndRemove) {
  std::vector<Condition> conditions = {Cond("Ready", "True", "A"), Cond("Stalled", "False", "B")};
  ASSERT_NE(FindCondition(conditions, "Stalled"), nullptr);
  EXPECT_EQ(FindCondition(conditions, "Stalled")->reason, "B");
  EXPECT_EQ(FindCondition(conditions, "Missing"), nullptr);
  EXPECT_TRUE(IsConditionTrue(conditions, "Ready"));
  EXPECT_FALSE(IsConditionTrue(conditions, "Stalled"));
  EXPECT_FALSE(IsConditionTrue(conditions, "Missing"));
  EXPECT_TRUE(RemoveCondition(conditions, "Stalled"));
  EXPECT_FALSE(RemoveCondition(conditions, "Stalled"));
  EXPECT_EQ(conditions.size(), 1u);
}

TEST_F(ApiConditionsTest, MarkReconcilingSetsReconcilingAndReadyUnknown) {
  std::vector<Condition> conditions;
  MarkStalled(conditions, 1, "InvalidSpec", "bad url", clock_.Now());
  EXPECT_TRUE(MarkReconciling(conditions, 2, "Progressing", "fetching", clock_.Now()));
  const Condition* reconciling = FindCondition(conditions, kConditionReconciling);
  ASSERT_NE(reconciling, nullptr);
  EXPECT_EQ(reconciling->status, "True");
  EXPECT_EQ(reconciling->observed_generation, 2);
  const Condition* ready = FindCondition(conditions, kConditionReady);
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->status, "Unknown");
  EXPECT_EQ(ready->reason, "Progressing");
  EXPECT_EQ(ready->message, "fetching");
  EXPECT_EQ(FindCondition(conditions, kConditionStalled), nullptr);
}

TEST_F(ApiConditionsTest, MarkReadyClearsReconcilingAndStalled) {
  std::vector<Condition> conditions;
  MarkReconciling(conditions, 4, "Progressing", "fetching", clock_.Now());
  EXPECT_TRUE(MarkReady(conditions, 4, "Succeeded", "stored revision main@sha1:abc", clock_.Now()));
  ASSERT_EQ(conditions.size(), 1u);
  EXPECT_EQ(conditions[0].type, "Ready");
  EXPECT_EQ(conditions[0].status, "True");
  EXPECT_EQ(conditions[0].observed_generation, 4);
  EXPECT_FALSE(
      MarkReady(conditions, 4, "Succeeded", "stored revision main@sha1:abc", clock_.Now()));
}

TEST_F(ApiConditionsTest, MarkFailedRetriesAndMarkStalledStops) {
  std::vector<Condition> conditions;
  MarkFailed(conditions, 1, "FetchFailed", "connection refused", clock_.Now());
  EXPECT_EQ(FindCondition(conditions, kConditionReady)->status, "False");
  EXPECT_EQ(FindCondition(conditions, kConditionReady)->reason, "FetchFailed");
  EXPECT_EQ(FindCondition(conditions, kConditionReconciling)->reason, kReasonProgressingWithRetry);
  EXPECT_EQ(FindCondition(conditions, kConditionStalled), nullptr);

  MarkStalled(conditions, 1, "InvalidURL", "unsupported scheme", clock_.Now());
  EXPECT_EQ(FindCondition(conditions, kConditionStalled)->status, "True");
  EXPECT_EQ(FindCondition(conditions, kConditionReady)->reason, "InvalidURL");
  EXPECT_EQ(FindCondition(conditions, kConditionReconciling), nullptr);
}

TEST_F(ApiConditionsTest, ReadyTransitionTimeSurvivesRepeatedFailures) {
  std::vector<Condition> conditions;
  MarkFailed(conditions, 1, "FetchFailed", "attempt 1", clock_.Now());
  Time failed_at = clock_.Now();
  for (int i = 2; i <= 5; ++i) {
    clock_.Advance(seconds(10));
    MarkFailed(conditions, 1, "FetchFailed", "attempt " + std::to_string(i), clock_.Now());
  }
  EXPECT_EQ(FindCondition(conditions, kConditionReady)->last_transition_time, failed_at);
  EXPECT_EQ(FindCondition(conditions, kConditionReady)->message, "attempt 5");
}

}  // namespace
}  // namespace gantry::api
