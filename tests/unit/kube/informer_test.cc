#include "operator/kube/informer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "operator/kube/fake_kube_client.h"

namespace gantry::kube {
namespace {

using ::testing::ElementsAre;

const GroupVersionKind kConfigMap{"", "v1", "ConfigMap"};
constexpr auto kWait = std::chrono::seconds(10);

Object ConfigMap(const std::string& name, Object data = Object::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", "ns"}}},
          {"data", std::move(data)}};
}

// Collects handler calls as "add ns/name", "update ns/name", "delete ns/name" and lets the
// test wait for a condition on them without sleeping.
class Events {
 public:
  EventHandler Handler() {
    return EventHandler{
        [this](const ObjectPtr& o) { Push("add " + KeyOf(*o).ToString()); },
        [this](const ObjectPtr&, const ObjectPtr& o) { Push("update " + KeyOf(*o).ToString()); },
        [this](const ObjectPtr& o) { Push("delete " + KeyOf(*o).ToString()); }};
  }
  bool WaitForCount(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return events_.size() >= n; });
  }
  std::vector<std::string> Get() {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  void Push(std::string e) {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(e));
    cv_.notify_all();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> events_;
};

// Waits, without sleeping, until the fake has `n` watches open.
void WaitForWatches(FakeKubeClient& fake, int n) {
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (fake.ActiveWatches() < n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_GE(fake.ActiveWatches(), n);
}

InformerOptions FastOptions() {
  InformerOptions o;
  o.initial_backoff = std::chrono::milliseconds(1);
  o.max_backoff = std::chrono::milliseconds(5);
  return o;
}

TEST(InformerTest, SyncsThenFollowsChanges) {
  FakeKubeClient fake;
  ASSERT_TRUE(fake.Create(ConfigMap("a")).ok());
  ASSERT_TRUE(fake.Create(ConfigMap("b")).ok());
  SharedInformer informer(fake, kConfigMap, FastOptions());
  Events events;
  informer.AddEventHandler(events.Handler());
  EXPECT_FALSE(informer.HasSynced());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(kWait));
  EXPECT_EQ(informer.Size(), 2u);
  EXPECT_THAT(events.Get(), ElementsAre("add ns/a", "add ns/b"));
  WaitForWatches(fake, 1);

  ASSERT_TRUE(
      fake.Patch({kConfigMap, "ns", "a"}, PatchType::kMerge, {{"data", {{"k", "v"}}}}).ok());
  ASSERT_TRUE(fake.Delete({kConfigMap, "ns", "b"}).ok());
  ASSERT_TRUE(fake.Create(ConfigMap("c")).ok());
  ASSERT_TRUE(events.WaitForCount(5));
  EXPECT_THAT(events.Get(),
              ElementsAre("add ns/a", "add ns/b", "update ns/a", "delete ns/b", "add ns/c"));
  ObjectPtr a = informer.Get({"ns", "a"});
  ASSERT_NE(a, nullptr);
  EXPECT_EQ((*a)["data"]["k"], "v");
  EXPECT_EQ(informer.Get({"ns", "b"}), nullptr);
  EXPECT_EQ(informer.LastResourceVersion(), std::to_string(fake.CurrentResourceVersion()));
  informer.Stop();
  EXPECT_EQ(informer.Stats().lists, 1);
}

TEST(InformerTest, StoresStrippedAndTransformedObjects) {
  FakeKubeClient fake;
  Object cm = ConfigMap("big", {{"payload", std::string(4096, 'x')}, {"keep", "1"}});
  cm["metadata"]["annotations"] = {{"kubectl.kubernetes.io/last-applied-configuration", "{...}"}};
  ApplyOptions apply;
  apply.field_manager = "someone";
  ASSERT_TRUE((*fake.Apply(cm, apply))["metadata"].contains("managedFields"));
  InformerOptions options = FastOptions();
  options.transform = [](Object& o) { o["data"].erase("payload"); };
  SharedInformer informer(fake, kConfigMap, options);
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(kWait));
  ObjectPtr cached = informer.Get({"ns", "big"});
  ASSERT_NE(cached, nullptr);
  EXPECT_FALSE((*cached)["metadata"].contains("managedFields"));
  EXPECT_FALSE((*cached)["metadata"].contains("annotations"));
  EXPECT_EQ((*cached)["data"], Object({{"keep", "1"}}));
}

// A packed cache is read through the same calls, and handlers hear the same objects: the
// update handler gets the version it replaced, decoded, beside the new one.
TEST(InformerTest, PackedCacheFollowsChangesLikeATreeCache) {
  FakeKubeClient fake;
  ASSERT_TRUE(fake.Create(ConfigMap("a", {{"k", "1"}})).ok());
  InformerOptions options = FastOptions();
  options.storage = CacheStorage::kPacked;
  SharedInformer informer(fake, kConfigMap, options);
  Events events;
  informer.AddEventHandler(events.Handler());
  std::mutex mu;
  std::vector<std::string> updates;  // "old -> new" values of data.k
  auto on_update = [&](const ObjectPtr& before, const ObjectPtr& after) {
    std::lock_guard lock(mu);
    updates.push_back((*before)["data"].value("k", "") + " -> " + (*after)["data"].value("k", ""));
  };
  informer.AddEventHandler(EventHandler{nullptr, on_update, nullptr});
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(kWait));
  WaitForWatches(fake, 1);

  ASSERT_TRUE(
      fake.Patch({kConfigMap, "ns", "a"}, PatchType::kMerge, {{"data", {{"k", "2"}}}}).ok());
  ASSERT_TRUE(fake.Create(ConfigMap("b", {{"k", "b"}})).ok());
  ASSERT_TRUE(fake.Delete({kConfigMap, "ns", "a"}).ok());
  ASSERT_TRUE(events.WaitForCount(4));
  EXPECT_THAT(events.Get(), ElementsAre("add ns/a", "update ns/a", "add ns/b", "delete ns/a"));
  {
    std::lock_guard lock(mu);
    EXPECT_THAT(updates, ElementsAre("1 -> 2"));
  }
  ObjectPtr b = informer.Get({"ns", "b"});
  ASSERT_NE(b, nullptr);
  Result<Object> live = fake.Get({kConfigMap, "ns", "b"});
  ASSERT_TRUE(live.ok());
  StripForCache(*live);
  EXPECT_EQ(*b, *live);
  EXPECT_EQ(informer.Get({"ns", "a"}), nullptr);
  EXPECT_EQ(informer.List().size(), 1u);
}

TEST(InformerTest, ResumesABrokenWatchWithoutRelisting) {
  FakeKubeClient fake;
  SharedInformer informer(fake, kConfigMap, FastOptions());
  Events events;
  informer.AddEventHandler(events.Handler());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(kWait));
  WaitForWatches(fake, 1);
  fake.BreakWatches();
  ASSERT_TRUE(fake.Create(ConfigMap("while-away")).ok());
  ASSERT_TRUE(events.WaitForCount(1));
  EXPECT_THAT(events.Get(), ElementsAre("add ns/while-away"));
  EXPECT_EQ(informer.Stats().lists, 1);
  EXPECT_GE(informer.Stats().watches, 2);
  EXPECT_THAT(informer.Stats().last_error, ::testing::HasSubstr("Unavailable"));
}

TEST(InformerTest, RelistsWhenTheVersionIsGoneAndReportsWhatChanged) {
  FakeKubeClient fake;
  ASSERT_TRUE(fake.Create(ConfigMap("stays")).ok());
  ASSERT_TRUE(fake.Create(ConfigMap("changes")).ok());
  ASSERT_TRUE(fake.Create(ConfigMap("goes")).ok());
  InformerOptions options = FastOptions();
  // Long enough that the changes below happen while the informer waits to reconnect.
  options.initial_backoff = std::chrono::milliseconds(300);
  SharedInformer informer(fake, kConfigMap, options);
  Events events;
  informer.AddEventHandler(events.Handler());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(kWait));
  WaitForWatches(fake, 1);
  ASSERT_TRUE(events.WaitForCount(3));

  fake.BreakWatches();
  ASSERT_TRUE(fake.Delete({kConfigMap, "ns", "goes"}).ok());
  ASSERT_TRUE(
      fake.Patch({kConfigMap, "ns", "changes"}, PatchType::kMerge, {{"data", {{"v", "2"}}}}).ok());
  ASSERT_TRUE(fake.Create(ConfigMap("new")).ok());
  fake.Compact();

  ASSERT_TRUE(events.WaitForCount(6));
  std::vector<std::string> all = events.Get();
  std::vector<std::string> after(all.begin() + 3, all.end());
  EXPECT_THAT(after,
              ::testing::UnorderedElementsAre("add ns/new", "update ns/changes", "delete ns/goes"));
  EXPECT_EQ(informer.Stats().lists, 2);
  EXPECT_EQ(informer.Size(), 3u);
  EXPECT_EQ((*informer.Get({"ns", "changes"}))["data"]["v"], "2");
}

TEST(InformerTest, RetriesAFailedList) {
  FakeKubeClient fake;
  fake.InjectError(FakeKubeClient::Verb::kList, "ConfigMap", "",
                   Status(StatusCode::kForbidden, "not yet"), 2);
  ASSERT_TRUE(fake.Create(ConfigMap("a")).ok());
  SharedInformer informer(fake, kConfigMap, FastOptions());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(kWait));
  EXPECT_EQ(informer.Size(), 1u);
  EXPECT_THAT(informer.Stats().last_error, ::testing::HasSubstr("not yet"));
}

TEST(InformerTest, LateHandlerHearsTheCacheFirst) {
  FakeKubeClient fake;
  ASSERT_TRUE(fake.Create(ConfigMap("a")).ok());
  SharedInformer informer(fake, kConfigMap, FastOptions());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(kWait));
  WaitForWatches(fake, 1);
  Events events;
  informer.AddEventHandler(events.Handler());
  EXPECT_THAT(events.Get(), ElementsAre("add ns/a"));
  ASSERT_TRUE(fake.Create(ConfigMap("b")).ok());
  ASSERT_TRUE(events.WaitForCount(2));
  EXPECT_THAT(events.Get(), ElementsAre("add ns/a", "add ns/b"));
}

TEST(InformerTest, NamespaceAndSelectorsScopeTheCache) {
  FakeKubeClient fake;
  Object other = ConfigMap("o");
  other["metadata"]["namespace"] = "other";
  ASSERT_TRUE(fake.Create(other).ok());
  Object labelled = ConfigMap("l");
  labelled["metadata"]["labels"] = {{"app", "web"}};
  ASSERT_TRUE(fake.Create(labelled).ok());
  ASSERT_TRUE(fake.Create(ConfigMap("plain")).ok());
  InformerOptions options = FastOptions();
  options.ns = "ns";
  options.label_selector = "app=web";
  SharedInformer informer(fake, kConfigMap, options);
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(kWait));
  ASSERT_EQ(informer.Size(), 1u);
  EXPECT_NE(informer.Get({"ns", "l"}), nullptr);
  EXPECT_EQ(informer.List("ns", *LabelSelector::Parse("app=web")).size(), 1u);
}

TEST(InformerTest, StopIsPromptWhileWatching) {
  FakeKubeClient fake;
  SharedInformer informer(fake, kConfigMap, FastOptions());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(kWait));
  WaitForWatches(fake, 1);
  auto start = std::chrono::steady_clock::now();
  informer.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(fake.ActiveWatches(), 0);
}

}  // namespace
}  // namespace gantry::kube
