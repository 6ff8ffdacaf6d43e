// Which finished AnalysisRuns a Rollout deletes, and that it deletes exactly those.
#include "operator/analysis/run_history.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operator/kube/fake_kube_client.h"

namespace gantry::analysis {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

api::AnalysisRun MakeRun(const std::string& name, int age_minutes, api::AnalysisPhase phase) {
  api::AnalysisRun run;
  run.metadata.name = name;
  run.metadata.namespace_ = "team";
  run.metadata.creation_timestamp =
      api::Time(std::chrono::hours(1000)) - std::chrono::minutes(age_minutes);
  run.status.phase = phase;
  api::Metric m;
  m.name = "rate";
  m.provider.web = api::WebMetric{};
  m.provider.web->url = "http://x";
  run.spec.metrics = {m};
  return run;
}

TEST(RunHistoryTest, KeepsNewestOfEachOutcome) {
  using P = api::AnalysisPhase;
  std::vector<api::AnalysisRun> runs = {
      MakeRun("s1", 1, P::kSuccessful), MakeRun("s2", 2, P::kSuccessful),
      MakeRun("s3", 3, P::kSuccessful), MakeRun("f1", 4, P::kFailed),
      MakeRun("e1", 5, P::kError),      MakeRun("i1", 6, P::kInconclusive),
      MakeRun("r1", 100, P::kRunning),  MakeRun("s4", 200, P::kSuccessful)};
  EXPECT_THAT(AnalysisRunsToDelete(runs, {}, 2, 2), UnorderedElementsAre("s3", "s4", "i1"));
  // A run the Rollout still tracks is kept and does not use a slot.
  EXPECT_THAT(AnalysisRunsToDelete(runs, {"s1"}, 2, 2), UnorderedElementsAre("s4", "i1"));
  EXPECT_TRUE(AnalysisRunsToDelete(runs, {}).empty());
}

TEST(RunHistoryTest, DeletesThroughTheClient) {
  FakeClock clock;
  kube::FakeKubeClient client(clock);
  std::vector<api::AnalysisRun> runs;
  for (int i = 0; i < 7; ++i) {
    api::AnalysisRun run = MakeRun("run-" + std::to_string(i), i, api::AnalysisPhase::kSuccessful);
    ASSERT_TRUE(client.Create(run.ToJson()).ok());
    runs.push_back(run);
  }
  ASSERT_TRUE(DeleteOldAnalysisRuns(client, runs, {}).ok());
  std::vector<std::string> deleted;
  for (const auto& a : client.Actions()) {
    if (a.verb == kube::FakeKubeClient::Verb::kDelete) deleted.push_back(a.name);
  }
  EXPECT_THAT(deleted, ElementsAre("run-5", "run-6"));
  // Again: they are gone already, which is fine.
  EXPECT_TRUE(DeleteOldAnalysisRuns(client, runs, {}).ok());
}

}  // namespace
}  // namespace gantry::analysis
