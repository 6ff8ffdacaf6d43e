// `gantry rollout get --watch` (cli::WatchRollout) against the fake API server's watches, while
// the controller passes move the Rollout through a canary: a tree per visible change, and a
// clean end on stop, on a closed output and when the Rollout is deleted.
#include "operator/cli/rollout_watch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "operator/cli/rollout_actions.h"
#include "operator/rollout/analysis_run_builder.h"
#include "rollout_world.h"

namespace gantry::rollout::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Collects frames from the watch thread.
class Frames {
 public:
  bool Add(const std::string& frame) {
    std::lock_guard lock(mu_);
    frames_.push_back(frame);
    cv_.notify_all();
    return accept_;
  }
  // Waits (real time, the informers run on threads) for a frame containing every one of
  // `needles`; true when one arrives.
  bool WaitFor(const std::vector<std::string>& needles, milliseconds timeout = seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] {
      for (const std::string& f : frames_) {
        bool all = true;
        for (const std::string& n : needles) all = all && f.find(n) != std::string::npos;
        if (all) return true;
      }
      return false;
    });
  }
  std::vector<std::string> Snapshot() {
    std::lock_guard lock(mu_);
    return frames_;
  }
  void RefuseMore() {
    std::lock_guard lock(mu_);
    accept_ = false;
  }

 private:
  std::mutex mu_;  // guards frames_, accept_
  std::condition_variable cv_;
  std::vector<std::string> frames_;
  bool accept_ = true;
};

class RolloutWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    w.CreateService("web-stable");
    w.CreateService("web-canary");
    json strategy = {
        {"canary",
         {{"stableService", "web-stable"},
          {"canaryService", "web-canary"},
          {"maxSurge", 1},
          {"maxUnavailable", 0},
          {"steps", json::array({{{"setWeight", 25}}, {{"pause", json::object()}}})}}}};
    w.Create(RolloutWorld::RolloutJson(4, "web:1", strategy));
    w.Converge();
    options.settle = milliseconds(5);
    options.tick = milliseconds(50);
  }

  // Runs the watch on a thread until `stop` is requested; its result lands in `result`.
  void Start() {
    watcher = std::jthread([this](std::stop_token stop) {
      result = cli::WatchRollout(
          w.client, "shop", "web", options,
          [this](const std::string& frame) { return frames.Add(frame); }, stop, w.clock);
    });
  }

  RolloutWorld w;
  cli::WatchRolloutOptions options;
  Frames frames;
  Status result = Internal("not finished");
  std::jthread watcher;
};

TEST_F(RolloutWatchTest, DrawsEveryChangeOfACanaryUntilStopped) {
  Start();
  ASSERT_TRUE(frames.WaitFor({"Healthy", "# revision:1", "web:1"}));

  ASSERT_TRUE(cli::SetRolloutImage(w.client, {"shop", "web"}, {{"web", "web:2"}}).ok());
  w.Converge();
  ASSERT_EQ(w.Phase(), "Paused");
  EXPECT_TRUE(frames.WaitFor(
      {"Paused", "# revision:2", "web:2 (canary)", "Step:         1/2", "ActualWeight: 25"}));

  ASSERT_TRUE(cli::PromoteRollout(w.client, {"shop", "web"}, false).ok());
  w.Converge();
  ASSERT_EQ(w.Phase(), "Healthy");
  EXPECT_TRUE(frames.WaitFor({"Healthy", "Step:         2/2", "web:2 (stable)"}));

  // Once the last events of the release are drawn, nothing changes: no new tree (the
  // terminal's redraw for ages is off), although the watch ticks every 50ms.
  size_t before = frames.Snapshot().size();
  for (int i = 0; i < 50; ++i) {
    std::this_thread::sleep_for(milliseconds(200));
    const size_t now = frames.Snapshot().size();
    if (now == before) break;
    before = now;
  }
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_EQ(frames.Snapshot().size(), before);

  watcher.request_stop();
  watcher.join();
  EXPECT_TRUE(result.ok()) << result.ToString();
  // Consecutive frames always differ.
  const std::vector<std::string> all = frames.Snapshot();
  for (size_t i = 1; i < all.size(); ++i) EXPECT_NE(all[i], all[i - 1]);
  EXPECT_GE(all.size(), 3u);
}

TEST_F(RolloutWatchTest, ShowsAnalysisRunsWithTheirLastMeasurement) {
  Start();
  ASSERT_TRUE(frames.WaitFor({"Healthy"}));
  json run = {{"apiVersion", "gantry.io/v1alpha1"},
              {"kind", "AnalysisRun"},
              {"metadata",
               {{"name", "web-check"},
                {"namespace", "shop"},
                {"labels", {{std::string(kRolloutNameLabel), "web"}}}}},
              {"spec", {{"metrics", json::array({{{"name", "errors"}}})}}}};
  w.Create(run);
  EXPECT_TRUE(frames.WaitFor({"web-check", "AnalysisRun"}));
  auto r = w.client.Patch(
      {kRunKind, "shop", "web-check"}, kube::PatchType::kMerge,
      {{"status",
        {{"phase", "Running"},
         {"metricResults",
          json::array({{{"name", "errors"},
                        {"phase", "Running"},
                        {"successful", 2},
                        {"measurements",
                         json::array({{{"phase", "Successful"}, {"value", "[0.01]"}},
                                      {{"phase", "Successful"}, {"value", "[0.02]"}}})}}})}}}},
      {false, "", "status"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(frames.WaitFor({"✔ 2,✖ 0 last: errors=[0.02](Successful)"}));
}

TEST_F(RolloutWatchTest, EndsWithNotFoundWhenTheRolloutIsDeleted) {
  Start();
  ASSERT_TRUE(frames.WaitFor({"Healthy"}));
  ASSERT_TRUE(w.client.Delete({kRolloutKind, "shop", "web"}).ok());
  watcher.join();
  EXPECT_EQ(result.code(), StatusCode::kNotFound) << result.ToString();
  EXPECT_NE(result.message().find("shop/web"), std::string::npos);
  EXPECT_TRUE(frames.WaitFor({"Rollout shop/web was deleted"}, milliseconds(0)));
}

TEST_F(RolloutWatchTest, EndsCleanlyWhenTheOutputIsGone) {
  frames.RefuseMore();  // the first write fails, as on a closed pipe
  Start();
  watcher.join();
  EXPECT_TRUE(result.ok()) << result.ToString();
  EXPECT_EQ(frames.Snapshot().size(), 1u);
}

TEST_F(RolloutWatchTest, EndsCleanlyWhenTheReaderLeavesWithoutAChange) {
  std::atomic<bool> gone{false};
  options.output_gone = [&] { return gone.load(); };
  Start();
  ASSERT_TRUE(frames.WaitFor({"Healthy"}));
  gone = true;
  watcher.join();
  EXPECT_TRUE(result.ok()) << result.ToString();
}

TEST_F(RolloutWatchTest, DeadlineEndsTheWatch) {
  options.deadline = std::chrono::steady_clock::now() + milliseconds(200);
  Start();
  watcher.join();
  EXPECT_TRUE(result.ok()) << result.ToString();
  EXPECT_EQ(frames.Snapshot().size(), 1u);
}

TEST_F(RolloutWatchTest, MissingRolloutIsNotFoundNamingIt) {
  Status s = cli::WatchRollout(
      w.client, "shop", "nope", options, [](const std::string&) { return true; }, std::stop_token(),
      w.clock);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("shop/nope"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace gantry::rollout::testing
