#include "operator/controller/reconcile_request.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operator/kube/fake_kube_client.h"

namespace gantry::controller {
namespace {

const kube::ResourceRef kRepo{{"gantry.io", "v1alpha1", "GitRepository"}, "apps", "config"};

class ReconcileRequestTest : public ::testing::Test {
 protected:
  ReconcileRequestTest() {
    EXPECT_TRUE(fake_
                    .Create({{"apiVersion", "gantry.io/v1alpha1"},
                             {"kind", "GitRepository"},
                             {"metadata", {{"name", "config"}, {"namespace", "apps"}}},
                             {"spec", {{"url", "https://example.invalid/r.git"}}}})
                    .ok());
  }
  std::string Annotation() {
    kube::Object repo = *fake_.Get(kRepo);
    return repo["metadata"]["annotations"][std::string(kReconcileRequestedAtAnnotation)];
  }
  FakeClock clock_;
  kube::FakeKubeClient fake_{clock_};
};

TEST(ReconcileRequestStampTest, CarriesNanosecondsSoRequestsInOneSecondDiffer) {
  Clock::TimePoint t = Clock::TimePoint(std::chrono::seconds(1'700'000'000));
  EXPECT_EQ(ReconcileRequestStamp(t), "2023-11-14T22:13:20.000000000Z");
  EXPECT_EQ(ReconcileRequestStamp(t + std::chrono::nanoseconds(1'500)),
            "2023-11-14T22:13:20.000001500Z");
  EXPECT_TRUE(ParseRfc3339(ReconcileRequestStamp(t + std::chrono::milliseconds(250))).has_value());
}

TEST_F(ReconcileRequestTest, SetsTheAnnotationAndChangesItOnEveryRequest) {
  ASSERT_TRUE(AnnotateReconcileRequest(fake_, clock_, kRepo).ok());
  std::string first = Annotation();
  EXPECT_EQ(first, ReconcileRequestStamp(clock_.Now()));
  clock_.Advance(std::chrono::milliseconds(1));
  ASSERT_TRUE(AnnotateReconcileRequest(fake_, clock_, kRepo).ok());
  EXPECT_NE(Annotation(), first);
  // The spec is left alone: the patch touches metadata only.
  EXPECT_EQ((*fake_.Get(kRepo))["spec"]["url"], "https://example.invalid/r.git");
}

TEST_F(ReconcileRequestTest, ErrorsNameTheObject) {
  kube::ResourceRef missing = kRepo;
  missing.name = "missing";
  Status s = AnnotateReconcileRequest(fake_, clock_, missing);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("apps/missing"));

  fake_.InjectError(kube::FakeKubeClient::Verb::kPatch, "GitRepository", "config",
                    Status(StatusCode::kForbidden, "patch is not allowed"));
  s = AnnotateReconcileRequest(fake_, clock_, kRepo);
  EXPECT_EQ(s.code(), StatusCode::kForbidden);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("requesting a reconcile of"));
}

}  // namespace
}  // namespace gantry::controller
