// AnalysisRunReconciler with the real providers against the local control plane: Job metrics
// (kwok completes the Jobs' pods), a web metric against a local endpoint, args from a Secret.
// KUBECONFIG comes from the environment (hack/cluster env); each test has its own namespace.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "operator/analysis/providers/http_client.h"
#include "operator/analysis/providers/job_provider.h"
#include "operator/analysis/providers/providers.h"
#include "operator/kube/encoding.h"
#include "operator/reconcilers/analysis_run_reconciler.h"
#include "tests/integration/analysisrun/test_http_server.h"
#include "tests/integration/kube/cluster_fixture.h"

namespace gantry::reconcilers {
namespace {

using controller::ReconcileResult;
using nlohmann::json;
using ::testing::HasSubstr;

const kube::GroupVersionKind kRunGvk{"gantry.io", "v1alpha1", "AnalysisRun"};
const kube::GroupVersionKind kJobGvk{"batch", "v1", "Job"};

class AnalysisRunClusterTest : public kube::testing::ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // Apply the CRDs (idempotent) and wait until the API serves AnalysisRuns.
    const std::string apply = "kubectl apply --server-side --force-conflicts -f " +
                              kube::testing::RepoRoot() + "/crds/ > /dev/null";
    ASSERT_EQ(std::system(apply.c_str()), 0) << apply;
    ASSERT_TRUE(kube::testing::Eventually([&] { return client_->Mapping(kRunGvk).ok(); }));
    http_ = analysis::NewBeastHttpClient();
    providers_ = analysis::NewMetricProviderFactory(*http_, *client_, RealClock());
  }

  json Run(const std::string& name, json metrics, json args = json::array()) {
    json run = {{"apiVersion", "gantry.io/v1alpha1"},
                {"kind", "AnalysisRun"},
                {"metadata", {{"name", name}, {"namespace", ns_}}},
                {"spec", {{"metrics", std::move(metrics)}}}};
    if (!args.empty()) run["spec"]["args"] = std::move(args);
    Result<kube::Object> created = client_->Create(run);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? *created : json();
  }

  // Reconciles until the run is decided or `timeout` passes; returns the stored run.
  api::AnalysisRun Drive(const std::string& name,
                         std::chrono::seconds timeout = std::chrono::seconds(90)) {
    AnalysisRunReconciler reconciler(AnalysisRunReconcilerDeps{*client_, *providers_, RealClock()});
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      ReconcileResult r = reconciler.Reconcile({ns_, name});
      if (r.kind() == ReconcileResult::Kind::kDone || r.kind() == ReconcileResult::Kind::kStalled) {
        break;
      }
      // Poll at most every 500ms: Jobs finish in about a second here.
      auto wait = std::chrono::milliseconds(500);
      if (r.kind() == ReconcileResult::Kind::kWaiting) {
        wait = std::min(wait,
                        std::chrono::duration_cast<std::chrono::milliseconds>(*r.requeue_after()));
      }
      std::this_thread::sleep_for(wait);
    }
    Result<kube::Object> got = client_->Get({kRunGvk, ns_, name});
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    Result<api::AnalysisRun> run = api::AnalysisRun::FromJson(got.ok() ? *got : json());
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? *run : api::AnalysisRun{};
  }

  static json JobMetric(const std::string& name, json pod_spec_extra = json::object()) {
    json pod = {{"restartPolicy", "Never"},
                {"containers",
                 {{{"name", "check"}, {"image", "busybox"}, {"command", {"sh", "-c", "exit 0"}}}}}};
    pod.update(pod_spec_extra);
    return {
        {"name", name},
        {"provider", {{"job", {{"spec", {{"backoffLimit", 0}, {"template", {{"spec", pod}}}}}}}}}};
  }

  std::unique_ptr<analysis::HttpClient> http_;
  std::unique_ptr<analysis::MetricProviderFactory> providers_;
};

TEST_F(AnalysisRunClusterTest, JobMetricSucceedsWithAnOwnedJob) {
  json created = Run("smoke", json::array({JobMetric("smoke")}));
  api::AnalysisRun run = Drive("smoke");
  EXPECT_EQ(run.status.phase, api::AnalysisPhase::kSuccessful) << run.status.message;
  ASSERT_EQ(run.status.metric_results.size(), 1u);
  const api::Measurement& m = run.status.metric_results[0].measurements.back();
  const std::string job_name = m.metadata.at(std::string(analysis::kJobNameMetadataKey));
  EXPECT_EQ(job_name, "smoke-smoke-1");
  Result<kube::Object> job = client_->Get({kJobGvk, ns_, job_name});
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ((*job)["metadata"]["ownerReferences"][0]["uid"], created["metadata"]["uid"]);
  EXPECT_TRUE(api::IsConditionTrue(run.status.conditions, api::kConditionReady));
}

TEST_F(AnalysisRunClusterTest, JobThatFailsFailsTheRun) {
  // No node matches, so the pod never runs and the Job hits its deadline: Failed.
  json metric = JobMetric("never-scheduled", {{"nodeSelector", {{"gantry.io/no-such-node", "x"}}}});
  metric["provider"]["job"]["spec"]["activeDeadlineSeconds"] = 1;
  Run("deadline", json::array({metric}));
  api::AnalysisRun run = Drive("deadline");
  EXPECT_EQ(run.status.phase, api::AnalysisPhase::kFailed) << run.status.message;
  EXPECT_THAT(run.status.message, HasSubstr("metric \"never-scheduled\": failed (1)"));
  EXPECT_THAT(run.status.metric_results[0].measurements.back().message, HasSubstr("failed"));
}

TEST_F(AnalysisRunClusterTest, TerminatedRunDeletesItsRunningJob) {
  json metric = JobMetric("slow", {{"nodeSelector", {{"gantry.io/no-such-node", "x"}}}});
  Run("stopped", json::array({metric}));
  AnalysisRunReconciler reconciler(AnalysisRunReconcilerDeps{*client_, *providers_, RealClock()});
  ASSERT_EQ(reconciler.Reconcile({ns_, "stopped"}).kind(), ReconcileResult::Kind::kWaiting);
  ASSERT_TRUE(client_->Get({kJobGvk, ns_, "stopped-slow-1"}).ok());
  ASSERT_TRUE(client_
                  ->Patch({kRunGvk, ns_, "stopped"}, kube::PatchType::kMerge,
                          {{"spec", {{"terminate", true}}}})
                  .ok());
  api::AnalysisRun run = Drive("stopped");
  EXPECT_EQ(run.status.phase, api::AnalysisPhase::kSuccessful) << run.status.message;
  EXPECT_EQ(run.status.message, "Run Terminated");
  EXPECT_TRUE(kube::testing::Eventually([&] {
    Result<kube::Object> job = client_->Get({kJobGvk, ns_, "stopped-slow-1"});
    return !job.ok() || job->value("metadata", json::object()).contains("deletionTimestamp");
  }));
}

TEST_F(AnalysisRunClusterTest, WebMetricWithSecretArgAgainstALocalEndpoint) {
  analysis::testing::TestHttpServer web([](const analysis::testing::TestRequest& r) {
    auto auth = r.headers.find("authorization");
    bool ok = auth != r.headers.end() && auth->second == "Bearer s3cret";
    return analysis::testing::TestResponse{ok ? 200 : 401, "application/json",
                                           ok ? R"({"ok":true})" : R"({"ok":false})"};
  });
  ASSERT_TRUE(web.ok());
  ASSERT_TRUE(client_
                  ->Create({{"apiVersion", "v1"},
                            {"kind", "Secret"},
                            {"metadata", {{"name", "auth"}, {"namespace", ns_}}},
                            {"data", {{"token", kube::Base64Encode("s3cret")}}}})
                  .ok());
  json metric = {{"name", "health"},
                 {"successCondition", "result.ok == true"},
                 {"provider",
                  {{"web",
                    {{"url", web.url() + "/ok"},
                     {"headers", {{{"key", "Authorization"}, {"value", "Bearer {{args.token}}"}}}},
                     {"jsonPath", "{$}"}}}}}};
  json args = {
      {{"name", "token"}, {"valueFrom", {{"secretKeyRef", {{"name", "auth"}, {"key", "token"}}}}}}};
  Run("web", json::array({metric}), args);
  api::AnalysisRun run = Drive("web");
  EXPECT_EQ(run.status.phase, api::AnalysisPhase::kSuccessful) << run.status.message;

  // Without the Secret the run is an Error that names the argument.
  Run("web-missing", json::array({metric}),
      {{{"name", "token"},
        {"valueFrom", {{"secretKeyRef", {{"name", "nope"}, {"key", "token"}}}}}}});
  run = Drive("web-missing");
  EXPECT_EQ(run.status.phase, api::AnalysisPhase::kError);
  EXPECT_THAT(run.status.message, HasSubstr("argument \"token\": Secret " + ns_ + "/nope"));
}

}  // namespace
}  // namespace gantry::reconcilers
