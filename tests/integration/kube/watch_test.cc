// Watches and informers against the real API server, without disturbing it: event order,
// resuming from the last resourceVersion without duplicates, prompt cancellation, and an
// informer that follows a namespace.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "operator/kube/informer.h"
#include "tests/integration/kube/cluster_fixture.h"

namespace gantry::kube {
namespace {

using testing::ClusterTest;
using testing::Eventually;
using testing::kConfigMap;

class WatchTest : public ClusterTest {};

struct Seen {
  WatchEvent::Type type;
  std::string name;
  std::string rv;
};

TEST_F(WatchTest, StreamsChangesInOrderAndResumesWithoutDuplicates) {
  Result<ObjectList> start = client_->List(kConfigMap, ns_);
  ASSERT_TRUE(start.ok());
  std::mutex mu;
  std::vector<Seen> seen;
  std::stop_source stop;
  Status ended;
  auto watch_from = [&](std::string rv, std::stop_token token) {
    WatchOptions options;
    options.resource_version = std::move(rv);
    return client_->Watch(
        kConfigMap, ns_, options,
        [&](const WatchEvent& e) {
          std::lock_guard lock(mu);
          // Only this test's objects: the controller manager adds kube-root-ca.crt to every new
          // namespace at a moment of its choosing.
          if (e.type != WatchEvent::Type::kBookmark && NameOf(e.object).rfind("w", 0) == 0) {
            seen.push_back({e.type, NameOf(e.object), ResourceVersionOf(e.object)});
          }
          return Status::Ok();
        },
        token);
  };
  std::thread watcher([&] { ended = watch_from(start->resource_version, stop.get_token()); });
  auto count = [&] {
    std::lock_guard lock(mu);
    return seen.size();
  };

  ASSERT_TRUE(client_->Create(ConfigMap("w1")).ok());
  ASSERT_TRUE(
      client_->Patch({kConfigMap, ns_, "w1"}, PatchType::kMerge, {{"data", {{"a", "1"}}}}).ok());
  ASSERT_TRUE(client_->Delete({kConfigMap, ns_, "w1"}).ok());
  ASSERT_TRUE(Eventually([&] { return count() >= 3; }));

  auto stop_started = std::chrono::steady_clock::now();
  stop.request_stop();
  watcher.join();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_started, std::chrono::seconds(1));
  EXPECT_EQ(ended.code(), StatusCode::kCancelled) << ended.ToString();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].type, WatchEvent::Type::kAdded);
  EXPECT_EQ(seen[1].type, WatchEvent::Type::kModified);
  EXPECT_EQ(seen[2].type, WatchEvent::Type::kDeleted);
  std::string last_rv = seen.back().rv;

  // A change while nobody watches, then resume from the last version: exactly that change.
  ASSERT_TRUE(client_->Create(ConfigMap("w2")).ok());
  std::stop_source stop2;
  std::thread resumed([&] { ended = watch_from(last_rv, stop2.get_token()); });
  ASSERT_TRUE(Eventually([&] { return count() >= 4; }));
  stop2.request_stop();
  resumed.join();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[3].type, WatchEvent::Type::kAdded);
  EXPECT_EQ(seen[3].name, "w2");
}

TEST_F(WatchTest, ServerTimeoutEndsTheWatchNormally) {
  WatchOptions options;
  options.timeout = std::chrono::seconds(1);
  Result<ObjectList> start = client_->List(kConfigMap, ns_);
  options.resource_version = start->resource_version;
  auto begun = std::chrono::steady_clock::now();
  Status s = client_->Watch(
      kConfigMap, ns_, options, [](const WatchEvent&) { return Status::Ok(); }, std::stop_token());
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - begun, std::chrono::seconds(10));
}

TEST_F(WatchTest, InformerFollowsANamespace) {
  InformerOptions options;
  options.ns = ns_;
  SharedInformer informer(*client_, kConfigMap, options);
  std::mutex mu;
  std::vector<std::string> events;
  informer.AddEventHandler({[&](const ObjectPtr& o) {
                              std::lock_guard lock(mu);
                              events.push_back("add " + NameOf(*o));
                            },
                            [&](const ObjectPtr&, const ObjectPtr& o) {
                              std::lock_guard lock(mu);
                              events.push_back("update " + NameOf(*o));
                            },
                            [&](const ObjectPtr& o) {
                              std::lock_guard lock(mu);
                              events.push_back("delete " + NameOf(*o));
                            }});
  ASSERT_TRUE(client_->Create(ConfigMap("before")).ok());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(std::chrono::seconds(30)));
  EXPECT_NE(informer.Get({ns_, "before"}), nullptr);
  ApplyOptions apply;
  apply.field_manager = "gantry-test";
  Object cm = ConfigMap("applied", {{"k", "v"}});
  ASSERT_TRUE(client_->Apply(cm, apply).ok());
  ASSERT_TRUE(client_->Delete({kConfigMap, ns_, "before"}).ok());
  ASSERT_TRUE(Eventually([&] {
    return informer.Get({ns_, "before"}) == nullptr && informer.Get({ns_, "applied"}) != nullptr;
  }));
  ObjectPtr applied = informer.Get({ns_, "applied"});
  EXPECT_FALSE((*applied)["metadata"].contains("managedFields"));
  EXPECT_EQ((*applied)["data"]["k"], "v");
  std::lock_guard lock(mu);
  EXPECT_THAT(events, ::testing::IsSupersetOf({"add before", "add applied", "delete before"}));
}

}  // namespace
}  // namespace gantry::kube
