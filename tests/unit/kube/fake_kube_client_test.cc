#include "operator/kube/fake_kube_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

namespace gantry::kube {
namespace {

using ::testing::HasSubstr;

const GroupVersionKind kConfigMap{"", "v1", "ConfigMap"};
const GroupVersionKind kRollout{"gantry.io", "v1alpha1", "Rollout"};

Object ConfigMap(const std::string& name, Object data = Object::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", "ns"}}},
          {"data", std::move(data)}};
}

Object Rollout(const std::string& name, int replicas) {
  return {{"apiVersion", "gantry.io/v1alpha1"},
          {"kind", "Rollout"},
          {"metadata", {{"name", name}, {"namespace", "ns"}}},
          {"spec", {{"replicas", replicas}}}};
}

class FakeKubeClientTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  FakeKubeClient fake_{clock_};
};

TEST_F(FakeKubeClientTest, CreateGetUpdateWithResourceVersions) {
  Result<Object> created = fake_.Create(ConfigMap("a", {{"k", "1"}}));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_FALSE(UidOf(*created).empty());
  EXPECT_EQ(GenerationOf(*created), 1);
  EXPECT_EQ((*created)["metadata"]["creationTimestamp"], FormatRfc3339(clock_.Now()));
  EXPECT_EQ(fake_.Create(ConfigMap("a")).status().code(), StatusCode::kAlreadyExists);

  Object changed = *created;
  changed["data"]["k"] = "2";
  Result<Object> updated = fake_.Update(changed);
  ASSERT_TRUE(updated.ok());
  EXPECT_GT(std::stoll(ResourceVersionOf(*updated)), std::stoll(ResourceVersionOf(*created)));
  EXPECT_EQ(GenerationOf(*updated), 2);
  EXPECT_EQ(UidOf(*updated), UidOf(*created));

  // Stale resourceVersion: Conflict, nothing written.
  changed["data"]["k"] = "3";
  EXPECT_EQ(fake_.Update(changed).status().code(), StatusCode::kConflict);
  EXPECT_EQ((*fake_.Get({kConfigMap, "ns", "a"}))["data"]["k"], "2");

  // A no-op update stores nothing.
  int64_t rv = fake_.CurrentResourceVersion();
  ASSERT_TRUE(fake_.Update(*updated).ok());
  EXPECT_EQ(fake_.CurrentResourceVersion(), rv);

  EXPECT_EQ(fake_.Get({kConfigMap, "ns", "missing"}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fake_.Get({{"x.io", "v1", "Thing"}, "ns", "a"}).status().code(), StatusCode::kNotFound);
}

TEST_F(FakeKubeClientTest, MapsKindsAndResourcesBothWays) {
  EXPECT_EQ(fake_.Mapping(kRollout)->resource, "rollouts");
  EXPECT_EQ(fake_.MappingForResource("gantry.io", "v1alpha1", "rollouts")->gvk.kind, "Rollout");
  EXPECT_EQ(fake_.MappingForResource("", "v1", "namespaces")->namespaced, false);
  EXPECT_EQ(fake_.MappingForResource("apps", "v1", "widgets").status().code(),
            StatusCode::kNotFound);
  fake_.RegisterKind({{"example.com", "v1", "Widget"}, "widgets", true, {}, {}});
  EXPECT_EQ(fake_.MappingForResource("example.com", "v1", "widgets")->gvk.kind, "Widget");
}

TEST_F(FakeKubeClientTest, ValidatesNamesAndGeneratesThem) {
  Result<Object> bad = fake_.Create(ConfigMap("Bad_Name"));
  ASSERT_EQ(bad.status().code(), StatusCode::kInvalid);
  EXPECT_EQ(bad.status().causes()[0].field, "metadata.name");
  Object gen = ConfigMap("");
  gen["metadata"].erase("name");
  gen["metadata"]["generateName"] = "web-";
  Result<Object> made = fake_.Create(gen);
  ASSERT_TRUE(made.ok());
  EXPECT_THAT(NameOf(*made), ::testing::MatchesRegex("web-[a-z0-9]{5}"));
}

TEST_F(FakeKubeClientTest, StatusSubresourceSeparatesSpecAndStatus) {
  Object r = Rollout("r", 1);
  r["status"] = {{"phase", "ignored on create?"}};
  Result<Object> created = fake_.Create(r);
  ASSERT_TRUE(created.ok());
  Object s = *created;
  s["status"] = {{"phase", "Healthy"}};
  s["spec"]["replicas"] = 9;  // ignored through the status subresource
  Result<Object> with_status = fake_.UpdateStatus(s);
  ASSERT_TRUE(with_status.ok()) << with_status.status().ToString();
  EXPECT_EQ((*with_status)["status"]["phase"], "Healthy");
  EXPECT_EQ((*with_status)["spec"]["replicas"], 1);
  EXPECT_EQ(GenerationOf(*with_status), 1);

  Object u = *with_status;
  u["status"]["phase"] = "Degraded";  // ignored through the main resource
  u["spec"]["replicas"] = 3;
  Result<Object> updated = fake_.Update(u);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ((*updated)["status"]["phase"], "Healthy");
  EXPECT_EQ(GenerationOf(*updated), 2);

  PatchOptions status_patch;
  status_patch.subresource = "status";
  Result<Object> patched = fake_.Patch({kRollout, "ns", "r"}, PatchType::kMerge,
                                       {{"status", {{"phase", "Paused"}}}}, status_patch);
  ASSERT_TRUE(patched.ok());
  EXPECT_EQ((*patched)["status"]["phase"], "Paused");
  EXPECT_EQ(GenerationOf(*patched), 2);

  // ConfigMaps have no status subresource.
  EXPECT_EQ(fake_.UpdateStatus(*fake_.Create(ConfigMap("c"))).status().code(),
            StatusCode::kNotFound);
}

TEST_F(FakeKubeClientTest, ScaleSubresource) {
  ASSERT_TRUE(fake_.Create(Rollout("r", 2)).ok());
  Result<Object> scale = fake_.GetScale({kRollout, "ns", "r"});
  ASSERT_TRUE(scale.ok());
  EXPECT_EQ((*scale)["spec"]["replicas"], 2);
  ASSERT_TRUE(fake_.UpdateScale({kRollout, "ns", "r"}, 5).ok());
  Result<Object> r = fake_.Get({kRollout, "ns", "r"});
  EXPECT_EQ((*r)["spec"]["replicas"], 5);
  EXPECT_EQ(GenerationOf(*r), 2);
  ASSERT_TRUE(fake_.Create(ConfigMap("c")).ok());
  EXPECT_EQ(fake_.GetScale({kConfigMap, "ns", "c"}).status().code(), StatusCode::kNotFound);
}

TEST_F(FakeKubeClientTest, PatchTypes) {
  ASSERT_TRUE(fake_.Create(ConfigMap("p", {{"a", "1"}, {"b", "2"}})).ok());
  ResourceRef ref{kConfigMap, "ns", "p"};
  EXPECT_EQ(
      (*fake_.Patch(ref, PatchType::kMerge, {{"data", {{"a", nullptr}, {"c", "3"}}}}))["data"],
      Object({{"b", "2"}, {"c", "3"}}));
  Result<Object> json =
      fake_.Patch(ref, PatchType::kJson,
                  Object::array({{{"op", "replace"}, {"path", "/data/b"}, {"value", "x"}}}));
  ASSERT_TRUE(json.ok());
  EXPECT_EQ((*json)["data"]["b"], "x");
  Result<Object> bad = fake_.Patch(ref, PatchType::kJson,
                                   Object::array({{{"op", "remove"}, {"path", "/data/nope"}}}));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalid);
  Result<Object> stale =
      fake_.Patch(ref, PatchType::kMerge, {{"metadata", {{"resourceVersion", "1"}}}});
  EXPECT_EQ(stale.status().code(), StatusCode::kConflict);
  EXPECT_EQ(
      fake_.Patch({kConfigMap, "ns", "none"}, PatchType::kMerge, Object::object()).status().code(),
      StatusCode::kNotFound);
}

TEST_F(FakeKubeClientTest, ServerSideApplyOwnershipAndConflicts) {
  ApplyOptions a;
  a.field_manager = "a";
  ApplyOptions b;
  b.field_manager = "b";
  ResourceRef ref{kConfigMap, "ns", "s"};
  ASSERT_TRUE(fake_.Apply(ConfigMap("s", {{"x", "1"}, {"y", "1"}}), a).ok());

  // b sets x to another value: conflict naming a and the field.
  Result<Object> conflict = fake_.Apply(ConfigMap("s", {{"x", "2"}}), b);
  ASSERT_EQ(conflict.status().code(), StatusCode::kConflict);
  EXPECT_THAT(conflict.status().message(), HasSubstr("conflict with \"a\": .data.x"));
  ASSERT_EQ(conflict.status().causes().size(), 1u);
  EXPECT_EQ(conflict.status().causes()[0].field, ".data.x");

  // b setting the same value shares ownership; a then dropping y removes it, x stays (b).
  ASSERT_TRUE(fake_.Apply(ConfigMap("s", {{"x", "1"}, {"z", "b"}}), b).ok());
  Result<Object> after = fake_.Apply(ConfigMap("s"), a);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)["data"], Object({{"x", "1"}, {"z", "b"}}));

  // force takes a field over.
  ASSERT_TRUE(fake_.Apply(ConfigMap("s", {{"z", "a"}}), a).status().code() ==
              StatusCode::kConflict);
  a.force = true;
  Result<Object> forced = fake_.Apply(ConfigMap("s", {{"z", "a"}}), a);
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ((*forced)["data"]["z"], "a");
  bool a_owns_z = false;
  for (const Object& m : (*forced)["metadata"]["managedFields"]) {
    if (m["manager"] == "a") {
      EXPECT_EQ(m["operation"], "Apply");
      a_owns_z = m["fieldsV1"]["f:data"].contains("f:z");
    }
    if (m["manager"] == "b") {
      EXPECT_FALSE(m["fieldsV1"]["f:data"].contains("f:z"));
    }
  }
  EXPECT_TRUE(a_owns_z);

  // An Update takes ownership of what it changes, without conflicts.
  Object edited = *forced;
  edited["data"]["z"] = "edited";
  WriteOptions kubectl;
  kubectl.field_manager = "kubectl-edit";
  ASSERT_TRUE(fake_.Update(edited, kubectl).ok());
  a.force = false;
  Result<Object> reapply = fake_.Apply(ConfigMap("s", {{"z", "a"}}), a);
  EXPECT_EQ(reapply.status().code(), StatusCode::kConflict);
  EXPECT_THAT(reapply.status().message(), HasSubstr("kubectl-edit"));

  // Re-applying the same configuration is a no-op.
  ASSERT_TRUE(fake_.Apply(ConfigMap("t", {{"k", "v"}}), b).ok());
  int64_t rv = fake_.CurrentResourceVersion();
  ASSERT_TRUE(fake_.Apply(ConfigMap("t", {{"k", "v"}}), b).ok());
  EXPECT_EQ(fake_.CurrentResourceVersion(), rv);
}

TEST_F(FakeKubeClientTest, ApplyBumpsGenerationOnlyForSpec) {
  ApplyOptions a;
  a.field_manager = "gantry";
  ASSERT_TRUE(fake_.Apply(Rollout("r", 1), a).ok());
  Object labelled = Rollout("r", 1);
  labelled["metadata"]["labels"] = {{"l", "1"}};
  EXPECT_EQ(GenerationOf(*fake_.Apply(labelled, a)), 1);
  labelled["spec"]["replicas"] = 2;
  EXPECT_EQ(GenerationOf(*fake_.Apply(labelled, a)), 2);
}

TEST_F(FakeKubeClientTest, DryRunStoresNothing) {
  WriteOptions dry;
  dry.dry_run = true;
  int64_t rv = fake_.CurrentResourceVersion();
  ASSERT_TRUE(fake_.Create(ConfigMap("d"), dry).ok());
  ApplyOptions apply;
  apply.field_manager = "m";
  apply.dry_run = true;
  ASSERT_TRUE(fake_.Apply(ConfigMap("d"), apply).ok());
  EXPECT_EQ(fake_.CurrentResourceVersion(), rv);
  EXPECT_EQ(fake_.Get({kConfigMap, "ns", "d"}).status().code(), StatusCode::kNotFound);
}

TEST_F(FakeKubeClientTest, DeleteWithPreconditionsAndFinalizers) {
  Object cm = ConfigMap("f");
  cm["metadata"]["finalizers"] = {"example.com/hold"};
  Result<Object> created = fake_.Create(cm);
  ResourceRef ref{kConfigMap, "ns", "f"};
  DeleteOptions wrong;
  wrong.precondition_uid = "other";
  EXPECT_EQ(fake_.Delete(ref, wrong).code(), StatusCode::kConflict);
  ASSERT_TRUE(fake_.Delete(ref).ok());
  Result<Object> terminating = fake_.Get(ref);
  ASSERT_TRUE(terminating.ok());
  EXPECT_TRUE((*terminating)["metadata"].contains("deletionTimestamp"));
  (*terminating)["metadata"]["finalizers"] = Object::array();
  ASSERT_TRUE(fake_.Update(*terminating).ok());
  EXPECT_EQ(fake_.Get(ref).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fake_.Delete(ref).code(), StatusCode::kNotFound);
}

TEST_F(FakeKubeClientTest, ListWithSelectorsAndPages) {
  for (int i = 0; i < 7; ++i) {
    Object cm = ConfigMap("cm" + std::to_string(i));
    cm["metadata"]["labels"] = {{"odd", i % 2 ? "yes" : "no"}};
    ASSERT_TRUE(fake_.Create(cm).ok());
  }
  Object other = ConfigMap("elsewhere");
  other["metadata"]["namespace"] = "other";
  ASSERT_TRUE(fake_.Create(other).ok());

  EXPECT_EQ(fake_.List(kConfigMap, "")->items.size(), 8u);
  EXPECT_EQ(fake_.List(kConfigMap, "ns")->items.size(), 7u);
  ListOptions odd;
  odd.label_selector = "odd=yes";
  EXPECT_EQ(fake_.List(kConfigMap, "ns", odd)->items.size(), 3u);
  ListOptions named;
  named.field_selector = "metadata.name=cm3";
  EXPECT_EQ(fake_.List(kConfigMap, "ns", named)->items.size(), 1u);

  ListOptions page;
  page.limit = 3;
  Result<ObjectList> first = fake_.List(kConfigMap, "ns", page);
  ASSERT_EQ(first->items.size(), 3u);
  ASSERT_FALSE(first->continue_token.empty());
  Result<ObjectList> all = fake_.ListAll(kConfigMap, "ns", page);
  ASSERT_EQ(all->items.size(), 7u);
  EXPECT_EQ(NameOf(all->items.back()), "cm6");
}

TEST_F(FakeKubeClientTest, ListCanStripManagedFields) {
  ApplyOptions apply;
  apply.field_manager = "m";
  Object cm = ConfigMap("s", {{"managedFields", "user data"}});
  cm["metadata"]["annotations"] = {{"kubectl.kubernetes.io/last-applied-configuration", "{}"},
                                   {"keep", "me"}};
  ASSERT_TRUE(fake_.Apply(cm, apply).ok());
  EXPECT_TRUE(fake_.List(kConfigMap, "ns")->items[0]["metadata"].contains("managedFields"));
  ListOptions strip;
  strip.strip_managed_fields = true;
  Object listed = fake_.List(kConfigMap, "ns", strip)->items[0];
  EXPECT_FALSE(listed["metadata"].contains("managedFields"));
  EXPECT_EQ(listed["metadata"]["annotations"], Object({{"keep", "me"}}));
  EXPECT_EQ(listed["data"]["managedFields"], "user data");
}

TEST_F(FakeKubeClientTest, InjectedErrorsAndActions) {
  fake_.InjectError(FakeKubeClient::Verb::kCreate, "ConfigMap", "boom",
                    Status(StatusCode::kForbidden, "denied"), 1);
  EXPECT_EQ(fake_.Create(ConfigMap("boom")).status().code(), StatusCode::kForbidden);
  EXPECT_TRUE(fake_.Create(ConfigMap("boom")).ok());
  std::vector<FakeKubeClient::Action> actions = fake_.Actions();
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0].verb, FakeKubeClient::Verb::kCreate);
  EXPECT_EQ(actions[0].name, "boom");
}

TEST_F(FakeKubeClientTest, WatchDeliversChangesAndEndsAsTold) {
  ASSERT_TRUE(fake_.Create(ConfigMap("before")).ok());
  std::string from = std::to_string(fake_.CurrentResourceVersion());
  std::vector<std::pair<WatchEvent::Type, std::string>> seen;
  std::mutex mu;
  std::stop_source stop;
  Status result;
  std::thread watcher([&] {
    WatchOptions options;
    options.resource_version = from;
    result = fake_.Watch(
        kConfigMap, "ns", options,
        [&](const WatchEvent& e) {
          std::lock_guard lock(mu);
          seen.emplace_back(e.type, NameOf(e.object));
          return Status::Ok();
        },
        stop.get_token());
  });
  while (fake_.ActiveWatches() == 0) std::this_thread::yield();
  ASSERT_TRUE(fake_.Create(ConfigMap("x")).ok());
  ASSERT_TRUE(
      fake_.Patch({kConfigMap, "ns", "x"}, PatchType::kMerge, {{"data", {{"a", "b"}}}}).ok());
  ASSERT_TRUE(fake_.Delete({kConfigMap, "ns", "x"}).ok());
  auto count = [&] {
    std::lock_guard lock(mu);
    return seen.size();
  };
  while (count() < 3) std::this_thread::yield();
  fake_.BreakWatches();
  watcher.join();
  EXPECT_EQ(result.code(), StatusCode::kUnavailable);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0], std::make_pair(WatchEvent::Type::kAdded, std::string("x")));
  EXPECT_EQ(seen[1].first, WatchEvent::Type::kModified);
  EXPECT_EQ(seen[2].first, WatchEvent::Type::kDeleted);

  fake_.Compact();
  WatchOptions old;
  old.resource_version = from;
  EXPECT_EQ(fake_
                .Watch(
                    kConfigMap, "ns", old, [](const WatchEvent&) { return Status::Ok(); },
                    stop.get_token())
                .code(),
            StatusCode::kGone);
  stop.request_stop();
  WatchOptions now;
  EXPECT_EQ(fake_
                .Watch(
                    kConfigMap, "ns", now, [](const WatchEvent&) { return Status::Ok(); },
                    stop.get_token())
                .code(),
            StatusCode::kCancelled);
}

TEST_F(FakeKubeClientTest, ServiceAccountToken) {
  Object sa = {{"apiVersion", "v1"},
               {"kind", "ServiceAccount"},
               {"metadata", {{"name", "robot"}, {"namespace", "ns"}}}};
  ASSERT_TRUE(fake_.Create(sa).ok());
  Result<Object> token = fake_.CreateSubresource({{"", "v1", "ServiceAccount"}, "ns", "robot"},
                                                 "token", {{"spec", Object::object()}});
  ASSERT_TRUE(token.ok());
  EXPECT_FALSE((*token)["status"]["token"].get<std::string>().empty());
}

}  // namespace
}  // namespace gantry::kube
