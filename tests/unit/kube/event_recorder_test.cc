#include "operator/kube/event_recorder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operator/kube/fake_kube_client.h"

namespace gantry::kube {
namespace {

const GroupVersionKind kEvent{"", "v1", "Event"};

Object Rollout() {
  return {{"apiVersion", "gantry.io/v1alpha1"},
          {"kind", "Rollout"},
          {"metadata", {{"name", "web"}, {"namespace", "shop"}, {"uid", "u-1"}}}};
}

TEST(EventRecorderTest, WritesACoreV1Event) {
  FakeClock clock;
  FakeKubeClient fake(clock);
  auto recorder = NewApiEventRecorder(fake, clock, {.component = "gantry", .host = "node-1"});
  recorder->Event(Rollout(), EventType::kWarning, "AnalysisFailed", "error rate 7% > 5%");
  ASSERT_TRUE(recorder->Flush(std::chrono::seconds(10)));
  Result<ObjectList> events = fake.List(kEvent, "shop");
  ASSERT_EQ(events->items.size(), 1u);
  const Object& e = events->items[0];
  EXPECT_EQ(e["type"], "Warning");
  EXPECT_EQ(e["reason"], "AnalysisFailed");
  EXPECT_EQ(e["message"], "error rate 7% > 5%");
  EXPECT_EQ(e["count"], 1);
  EXPECT_EQ(e["involvedObject"]["kind"], "Rollout");
  EXPECT_EQ(e["involvedObject"]["uid"], "u-1");
  EXPECT_EQ(e["involvedObject"]["namespace"], "shop");
  EXPECT_EQ(e["source"]["component"], "gantry");
  EXPECT_EQ(e["reportingInstance"], "node-1");
  EXPECT_EQ(e["firstTimestamp"], FormatRfc3339(clock.Now()));
  EXPECT_THAT(NameOf(e), ::testing::StartsWith("web."));
}

TEST(EventRecorderTest, RepeatsBumpCountInsteadOfAddingEvents) {
  FakeClock clock;
  FakeKubeClient fake(clock);
  auto recorder = NewApiEventRecorder(fake, clock);
  for (int i = 0; i < 3; ++i) {
    recorder->Event(Rollout(), EventType::kNormal, "Paused", "waiting for promotion");
    clock.Advance(std::chrono::seconds(10));
  }
  recorder->Event(Rollout(), EventType::kNormal, "Paused", "a different message");
  ASSERT_TRUE(recorder->Flush(std::chrono::seconds(10)));
  Result<ObjectList> events = fake.List(kEvent, "shop");
  ASSERT_EQ(events->items.size(), 2u);
  const Object* repeated = nullptr;
  for (const Object& e : events->items) {
    if (e["message"] == "waiting for promotion") repeated = &e;
  }
  ASSERT_NE(repeated, nullptr);
  EXPECT_EQ((*repeated)["count"], 3);
  EXPECT_EQ((*repeated)["lastTimestamp"], FormatRfc3339(clock.Now() - std::chrono::seconds(10)));
  EXPECT_NE((*repeated)["firstTimestamp"], (*repeated)["lastTimestamp"]);
}

TEST(EventRecorderTest, AnExpiredEventIsWrittenAgain) {
  FakeClock clock;
  FakeKubeClient fake(clock);
  auto recorder = NewApiEventRecorder(fake, clock);
  recorder->Event(Rollout(), EventType::kNormal, "Synced", "ok");
  ASSERT_TRUE(recorder->Flush(std::chrono::seconds(10)));
  Result<ObjectList> first = fake.List(kEvent, "shop");
  ASSERT_EQ(first->items.size(), 1u);
  ASSERT_TRUE(fake.Delete({kEvent, "shop", NameOf(first->items[0])}).ok());  // TTL ran out
  clock.Advance(std::chrono::seconds(1));
  recorder->Event(Rollout(), EventType::kNormal, "Synced", "ok");
  ASSERT_TRUE(recorder->Flush(std::chrono::seconds(10)));
  Result<ObjectList> second = fake.List(kEvent, "shop");
  ASSERT_EQ(second->items.size(), 1u);
  EXPECT_EQ(second->items[0]["count"], 1);
}

TEST(EventRecorderTest, ClusterScopedObjectsGetEventsInDefault) {
  FakeClock clock;
  FakeKubeClient fake(clock);
  auto recorder = NewApiEventRecorder(fake, clock);
  recorder->Event({{"apiVersion", "gantry.io/v1alpha1"},
                   {"kind", "ClusterAnalysisTemplate"},
                   {"metadata", {{"name", "error-rate"}}}},
                  EventType::kWarning, "Invalid", "bad query");
  ASSERT_TRUE(recorder->Flush(std::chrono::seconds(10)));
  EXPECT_EQ(fake.List(kEvent, "default")->items.size(), 1u);
}

TEST(EventRecorderTest, WriteFailuresAreDroppedNotFatal) {
  FakeClock clock;
  FakeKubeClient fake(clock);
  fake.InjectError(FakeKubeClient::Verb::kCreate, "Event", "",
                   Status(StatusCode::kForbidden, "cannot create events"));
  auto recorder = NewApiEventRecorder(fake, clock);
  recorder->Event(Rollout(), EventType::kNormal, "A", "first");
  recorder->Event(Rollout(), EventType::kNormal, "B", "second");
  ASSERT_TRUE(recorder->Flush(std::chrono::seconds(10)));
  EXPECT_EQ(fake.List(kEvent, "shop")->items.size(), 1u);
}

}  // namespace
}  // namespace gantry::kube
