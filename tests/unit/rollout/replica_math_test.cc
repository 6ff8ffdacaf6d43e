#include "operator/rollout/replica_math.h"

#include <gtest/gtest.h>

#include <tuple>

namespace gantry::rollout {
namespace {

TEST(FencepostsTest, ResolvesLikeKubernetes) {
  EXPECT_EQ(ResolveFenceposts(1, 1, 4).max_surge, 1);
  EXPECT_EQ(ResolveFenceposts(1, 1, 4).max_unavailable, 1);
  // Both zero would freeze the update: one pod may go.
  EXPECT_EQ(ResolveFenceposts(0, 0, 4).max_unavailable, 1);
  EXPECT_EQ(ResolveFenceposts(0, 0, 4).max_surge, 0);
  // Capped at replicas, negatives read as zero.
  EXPECT_EQ(ResolveFenceposts(2, 9, 3).max_unavailable, 3);
  EXPECT_EQ(ResolveFenceposts(-1, 2, 3).max_surge, 0);
}

struct Row {
  const char* name;
  int32_t replicas, weight, surge, unavailable;
  int32_t canary_spec, canary_avail, stable_spec, stable_avail;
  int32_t want_canary, want_stable;
};

CanaryScaleInput InputOf(const Row& r) {
  CanaryScaleInput in;
  in.replicas = r.replicas;
  in.weight = r.weight;
  in.fenceposts = ResolveFenceposts(r.surge, r.unavailable, r.replicas);
  in.canary = ReplicaCounts{r.canary_spec, r.canary_avail};
  in.stable = ReplicaCounts{r.stable_spec, r.stable_avail};
  return in;
}

TEST(NextCanaryReplicasTest, Table) {
  const Row rows[] = {
      {"first 10% step shifts one pod", 10, 10, 1, 1, 0, 0, 10, 10, 1, 9},
      {"surge only: canary grows, stable stays", 10, 30, 3, 0, 0, 0, 10, 10, 3, 10},
      {"unavailable only: stable shrinks first", 10, 30, 0, 5, 0, 0, 10, 10, 0, 7},
      {"uneven weight rounds both sides up", 10, 5, 1, 1, 0, 0, 10, 10, 1, 10},
      {"one replica keeps both sides", 1, 5, 1, 0, 0, 0, 1, 1, 1, 1},
      {"one replica at 95%", 1, 95, 1, 0, 0, 0, 1, 1, 1, 1},
      {"waits for canary readiness before shrinking stable", 4, 50, 1, 0, 1, 0, 4, 4, 1, 4},
      {"canary ready, stable may shrink", 4, 50, 1, 0, 1, 1, 4, 4, 1, 3},
      {"at desired: nothing moves", 4, 50, 1, 1, 2, 2, 2, 2, 2, 2},
      {"abort: stable regrows, canary goes", 4, 0, 1, 1, 1, 1, 3, 3, 0, 4},
      {"abort without surge: canary shrinks first", 4, 0, 0, 1, 2, 2, 2, 2, 1, 2},
      {"full weight with unready canary keeps stable", 4, 100, 1, 1, 4, 0, 1, 1, 4, 1},
      {"full weight finishes", 4, 100, 1, 1, 4, 4, 1, 1, 4, 0},
  };
  for (const Row& r : rows) {
    const CanaryReplicas got = NextCanaryReplicas(InputOf(r));
    EXPECT_EQ(got.canary, r.want_canary) << r.name;
    EXPECT_EQ(got.stable, r.want_stable) << r.name;
  }
}

TEST(NextCanaryReplicasTest, WithoutStableIsARollingUpdateToAllReplicas) {
  CanaryScaleInput in;
  in.replicas = 5;
  in.weight = 20;  // ignored: there is nothing to split against
  in.fenceposts = ResolveFenceposts(2, 1, 5);
  in.canary = ReplicaCounts{0, 0};
  EXPECT_EQ(DesiredCanaryReplicas(in), (CanaryReplicas{5, 0}));
  EXPECT_EQ(NextCanaryReplicas(in), (CanaryReplicas{5, 0}));
}

TEST(NextCanaryReplicasTest, OlderReplicaSetsShrinkFirst) {
  CanaryScaleInput in;
  in.replicas = 4;
  in.weight = 0;
  in.fenceposts = ResolveFenceposts(1, 1, 4);
  in.canary = ReplicaCounts{2, 2};
  in.stable = ReplicaCounts{2, 2};
  in.others = ReplicaCounts{1, 1};
  // The canary should go to 0 and stable to 4, but the old set still holds a replica: no
  // scale-down of canary or stable yet, and no room to surge.
  EXPECT_EQ(NextCanaryReplicas(in), (CanaryReplicas{2, 2}));
}

TEST(NextCanaryReplicasTest, TrafficRoutedKeepsStableFull) {
  CanaryScaleInput in;
  in.replicas = 10;
  in.weight = 20;
  in.traffic_routed = true;
  in.fenceposts = ResolveFenceposts(1, 0, 10);
  in.canary = ReplicaCounts{0, 0};
  in.stable = ReplicaCounts{10, 10};
  EXPECT_EQ(DesiredCanaryReplicas(in), (CanaryReplicas{2, 10}));
  EXPECT_EQ(NextCanaryReplicas(in), (CanaryReplicas{2, 10}));
  in.canary_replicas = 3;  // setCanaryScale.replicas
  EXPECT_EQ(NextCanaryReplicas(in), (CanaryReplicas{3, 10}));
}

// Plays a rollout pass by pass with pods that become available at once, and checks the two
// budget invariants at every pass and that the desired state is reached.
TEST(NextCanaryReplicasTest, SimulatedRolloutsKeepTheBudget) {
  for (int32_t replicas : {1, 2, 3, 4, 5, 7, 10, 13}) {
    for (int32_t surge : {0, 1, 2, 5}) {
      for (int32_t unavailable : {0, 1, 3}) {
        for (int32_t weight : {0, 5, 20, 33, 50, 80, 100}) {
          CanaryScaleInput in;
          in.replicas = replicas;
          in.weight = weight;
          in.fenceposts = ResolveFenceposts(surge, unavailable, replicas);
          in.canary = ReplicaCounts{0, 0};
          in.stable = ReplicaCounts{replicas, replicas};
          const CanaryReplicas want = DesiredCanaryReplicas(in);
          const int32_t extra = (replicas * weight) % 100 != 0 ? 1 : 0;
          const int32_t max_total = replicas + in.fenceposts.max_surge + extra;
          const int32_t min_available = replicas - in.fenceposts.max_unavailable;
          int pass = 0;
          for (; pass < 50; ++pass) {
            const CanaryReplicas next = NextCanaryReplicas(in);
            const auto ctx = ::testing::Message() << "replicas=" << replicas << " surge=" << surge
                                                  << " unavailable=" << unavailable
                                                  << " weight=" << weight << " pass=" << pass;
            ASSERT_LE(next.canary + next.stable,
                      std::max(max_total, in.canary->desired + in.stable->desired))
                << ctx;
            // A scale-down can only remove available pods down to the floor.
            const int32_t available_after = std::min(next.canary, in.canary->available) +
                                            std::min(next.stable, in.stable->available);
            ASSERT_GE(available_after,
                      std::min(min_available, in.canary->available + in.stable->available))
                << ctx;
            if (next == CanaryReplicas{in.canary->desired, in.stable->desired}) break;
            in.canary = ReplicaCounts{next.canary, next.canary};
            in.stable = ReplicaCounts{next.stable, next.stable};
          }
          EXPECT_EQ((CanaryReplicas{in.canary->desired, in.stable->desired}), want)
              << "replicas=" << replicas << " surge=" << surge << " unavailable=" << unavailable
              << " weight=" << weight;
        }
      }
    }
  }
}

TEST(ReplicaMathTest, OldReplicaSetBudgetAndRatio) {
  const Fenceposts f = ResolveFenceposts(1, 1, 4);
  EXPECT_EQ(OldReplicaSetScaleDownBudget(4, f, 5), 2);
  EXPECT_EQ(OldReplicaSetScaleDownBudget(4, f, 3), 0);
  EXPECT_EQ(OldReplicaSetScaleDownBudget(4, f, 1), 0);
  EXPECT_EQ(ReplicaRatioWeight(1, 4), 25);
  EXPECT_EQ(ReplicaRatioWeight(1, 3), 33);
  EXPECT_EQ(ReplicaRatioWeight(2, 3), 67);
  EXPECT_EQ(ReplicaRatioWeight(0, 0), 0);
  EXPECT_EQ(ReplicaRatioWeight(4, 4), 100);
}

}  // namespace
}  // namespace gantry::rollout
