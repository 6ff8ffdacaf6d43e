#include "operator/controller/leader_election.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operator/kube/fake_kube_client.h"

namespace gantry::controller {
namespace {

using std::chrono::seconds;

LeaderElectionOptions Options(const std::string& identity) {
  LeaderElectionOptions o;
  o.ns = "gantry-system";
  o.identity = identity;
  o.lease_duration = seconds(15);
  return o;
}

class LeaderElectionTest : public ::testing::Test {
 protected:
  kube::Object Lease() {
    return *fake_.Get({{"coordination.k8s.io", "v1", "Lease"}, "gantry-system", "gantry-leader"});
  }
  FakeClock clock_;
  kube::FakeKubeClient fake_{clock_};
  LeaderElector a_{fake_, clock_, Options("a")};
  LeaderElector b_{fake_, clock_, Options("b")};
};

TEST_F(LeaderElectionTest, FirstCandidateCreatesTheLease) {
  ASSERT_TRUE(*a_.TryAcquireOrRenew());
  kube::Object lease = Lease();
  EXPECT_EQ(lease["spec"]["holderIdentity"], "a");
  EXPECT_EQ(lease["spec"]["leaseDurationSeconds"], 15);
  EXPECT_EQ(lease["spec"]["leaseTransitions"], 0);
  EXPECT_EQ(lease["spec"]["renewTime"], FormatMicroTime(clock_.Now()));
  EXPECT_FALSE(*b_.TryAcquireOrRenew());
  EXPECT_EQ(b_.observed_holder(), "a");
}

TEST_F(LeaderElectionTest, RenewalsKeepOthersOut) {
  ASSERT_TRUE(*a_.TryAcquireOrRenew());
  ASSERT_FALSE(*b_.TryAcquireOrRenew());
  for (int i = 0; i < 10; ++i) {
    clock_.Advance(seconds(10));
    ASSERT_TRUE(*a_.TryAcquireOrRenew());
    ASSERT_FALSE(*b_.TryAcquireOrRenew()) << "round " << i;
  }
}

TEST_F(LeaderElectionTest, AnUnrenewedLeaseIsTakenOverAfterItsDuration) {
  ASSERT_TRUE(*a_.TryAcquireOrRenew());
  ASSERT_FALSE(*b_.TryAcquireOrRenew());
  clock_.Advance(seconds(14));
  EXPECT_FALSE(*b_.TryAcquireOrRenew());
  clock_.Advance(seconds(1));
  EXPECT_TRUE(*b_.TryAcquireOrRenew());
  kube::Object lease = Lease();
  EXPECT_EQ(lease["spec"]["holderIdentity"], "b");
  EXPECT_EQ(lease["spec"]["leaseTransitions"], 1);
  EXPECT_EQ(lease["spec"]["acquireTime"], FormatMicroTime(clock_.Now()));
  // The old holder notices on its next renewal.
  EXPECT_FALSE(*a_.TryAcquireOrRenew());
  EXPECT_EQ(a_.observed_holder(), "b");
}

TEST_F(LeaderElectionTest, ReleaseHandsOverAtOnce) {
  ASSERT_TRUE(*a_.TryAcquireOrRenew());
  ASSERT_FALSE(*b_.TryAcquireOrRenew());
  ASSERT_TRUE(a_.Release().ok());
  EXPECT_EQ(Lease()["spec"]["holderIdentity"], "");
  EXPECT_TRUE(*b_.TryAcquireOrRenew());
  EXPECT_EQ(Lease()["spec"]["leaseTransitions"], 1);
  // Releasing a lease someone else holds changes nothing.
  ASSERT_TRUE(a_.Release().ok());
  EXPECT_EQ(Lease()["spec"]["holderIdentity"], "b");
}

TEST_F(LeaderElectionTest, LosingARaceIsFalseNotAnError) {
  ASSERT_TRUE(*a_.TryAcquireOrRenew());
  ASSERT_FALSE(*b_.TryAcquireOrRenew());
  clock_.Advance(seconds(20));
  // b reads, then a renews before b writes: b's write carries a stale resourceVersion.
  fake_.InjectError(kube::FakeKubeClient::Verb::kUpdate, "Lease", "",
                    Status(StatusCode::kConflict, "the object has been modified"));
  Result<bool> b = b_.TryAcquireOrRenew();
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(*b);
  fake_.InjectError(kube::FakeKubeClient::Verb::kGet, "Lease", "",
                    Status(StatusCode::kForbidden, "no RBAC"));
  EXPECT_EQ(b_.TryAcquireOrRenew().status().code(), StatusCode::kForbidden);
}

TEST(MicroTimeTest, SixFractionalDigits) {
  Clock::TimePoint t = Clock::TimePoint(seconds(1'700'000'000)) + std::chrono::microseconds(42);
  EXPECT_EQ(FormatMicroTime(t), "2023-11-14T22:13:20.000042Z");
}

}  // namespace
}  // namespace gantry::controller
