// RestKubeClient against the real API server: CRUD of a built-in kind and of a CRD created
// during the test, server-side apply, dry run, pagination, subresources, typed errors.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "tests/integration/kube/cluster_fixture.h"

namespace gantry::kube {
namespace {

using testing::ClusterTest;
using ::testing::HasSubstr;
using testing::kConfigMap;
using testing::kCrd;

class KubeClientTest : public ClusterTest {};

TEST_F(KubeClientTest, ServerVersionAndMapping) {
  Result<Object> version = client_->ServerVersion();
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_TRUE(version->contains("gitVersion"));

  Result<RestMapping> cm = client_->Mapping(kConfigMap);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  EXPECT_EQ(cm->resource, "configmaps");
  EXPECT_TRUE(cm->namespaced);
  Result<RestMapping> deploy = client_->Mapping({"apps", "v1", "Deployment"});
  ASSERT_TRUE(deploy.ok());
  EXPECT_EQ(deploy->resource, "deployments");
  EXPECT_THAT(deploy->subresources, ::testing::IsSupersetOf({"status", "scale"}));
  Result<RestMapping> ns = client_->Mapping(testing::kNamespace);
  ASSERT_TRUE(ns.ok());
  EXPECT_FALSE(ns->namespaced);

  Result<RestMapping> by_resource = client_->MappingForResource("apps", "v1", "deployments");
  ASSERT_TRUE(by_resource.ok()) << by_resource.status().ToString();
  EXPECT_EQ(by_resource->gvk.kind, "Deployment");
  EXPECT_EQ(client_->MappingForResource("", "v1", "configmaps")->gvk.kind, "ConfigMap");
  EXPECT_EQ(client_->MappingForResource("apps", "v1", "nonsense").status().code(),
            StatusCode::kNotFound);

  Result<RestMapping> missing_kind = client_->Mapping({"apps", "v1", "Nonsense"});
  EXPECT_EQ(missing_kind.status().code(), StatusCode::kNotFound);
  Result<RestMapping> missing_group = client_->Mapping({"nonsense.example.com", "v1", "X"});
  EXPECT_EQ(missing_group.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing_group.status().message(), HasSubstr("nonsense.example.com/v1"));
}

TEST_F(KubeClientTest, ConfigMapCrud) {
  Result<Object> created = client_->Create(ConfigMap("web", {{"a", "1"}}));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_FALSE(ResourceVersionOf(*created).empty());
  EXPECT_FALSE(UidOf(*created).empty());

  Result<Object> again = client_->Create(ConfigMap("web"));
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists) << again.status().ToString();

  ResourceRef ref{kConfigMap, ns_, "web"};
  Result<Object> got = client_->Get(ref);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)["data"]["a"], "1");
  EXPECT_EQ((*got)["kind"], "ConfigMap");

  Object changed = *got;
  changed["data"]["a"] = "2";
  Result<Object> updated = client_->Update(changed);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_NE(ResourceVersionOf(*updated), ResourceVersionOf(*got));

  // The same stale object again: the server refuses it as a conflict.
  changed["data"]["a"] = "3";
  Result<Object> stale = client_->Update(changed);
  EXPECT_EQ(stale.status().code(), StatusCode::kConflict) << stale.status().ToString();
  EXPECT_THAT(stale.status().message(), HasSubstr("web"));

  Result<Object> merged = client_->Patch(ref, PatchType::kMerge, {{"data", {{"b", "x"}}}});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ((*merged)["data"]["a"], "2");
  EXPECT_EQ((*merged)["data"]["b"], "x");

  Result<Object> json_patched =
      client_->Patch(ref, PatchType::kJson,
                     Object::array({{{"op", "replace"}, {"path", "/data/a"}, {"value", "9"}},
                                    {{"op", "remove"}, {"path", "/data/b"}}}));
  ASSERT_TRUE(json_patched.ok()) << json_patched.status().ToString();
  EXPECT_EQ((*json_patched)["data"], Object({{"a", "9"}}));

  Result<Object> strategic =
      client_->Patch(ref, PatchType::kStrategic, {{"metadata", {{"labels", {{"l", "v"}}}}}});
  ASSERT_TRUE(strategic.ok()) << strategic.status().ToString();
  EXPECT_EQ(LabelsOf(*strategic)["l"], "v");

  DeleteOptions wrong_uid;
  wrong_uid.precondition_uid = "00000000-0000-0000-0000-000000000000";
  Status precondition = client_->Delete(ref, wrong_uid);
  EXPECT_EQ(precondition.code(), StatusCode::kConflict) << precondition.ToString();

  DeleteOptions background;
  background.propagation_policy = PropagationPolicy::kBackground;
  background.precondition_uid = UidOf(*created);
  ASSERT_TRUE(client_->Delete(ref, background).ok());
  EXPECT_EQ(client_->Get(ref).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(client_->Delete(ref).code(), StatusCode::kNotFound);
}

TEST_F(KubeClientTest, InvalidObjectCarriesFieldCauses) {
  Object bad = ConfigMap("Not_A_Valid_Name");
  Result<Object> created = client_->Create(bad);
  ASSERT_EQ(created.status().code(), StatusCode::kInvalid) << created.status().ToString();
  ASSERT_FALSE(created.status().causes().empty());
  EXPECT_EQ(created.status().causes()[0].field, "metadata.name");
}

TEST_F(KubeClientTest, DryRunWritesNothing) {
  WriteOptions dry;
  dry.dry_run = true;
  Result<Object> created = client_->Create(ConfigMap("dry", {{"k", "v"}}), dry);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ((*created)["data"]["k"], "v");
  ResourceRef ref{kConfigMap, ns_, "dry"};
  EXPECT_EQ(client_->Get(ref).status().code(), StatusCode::kNotFound);

  ApplyOptions apply;
  apply.field_manager = "gantry-test";
  apply.dry_run = true;
  ASSERT_TRUE(client_->Apply(ConfigMap("dry", {{"k", "v"}}), apply).ok());
  EXPECT_EQ(client_->Get(ref).status().code(), StatusCode::kNotFound);

  // Now for real, then dry-run update, patch and delete leave it as it was.
  Result<Object> real = client_->Create(ConfigMap("dry", {{"k", "v"}}));
  ASSERT_TRUE(real.ok());
  Object changed = *real;
  changed["data"]["k"] = "changed";
  ASSERT_TRUE(client_->Update(changed, dry).ok());
  PatchOptions dry_patch;
  dry_patch.dry_run = true;
  ASSERT_TRUE(client_->Patch(ref, PatchType::kMerge, {{"data", {{"k", "p"}}}}, dry_patch).ok());
  DeleteOptions dry_delete;
  dry_delete.dry_run = true;
  ASSERT_TRUE(client_->Delete(ref, dry_delete).ok());
  Result<Object> after = client_->Get(ref);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ((*after)["data"]["k"], "v");
  EXPECT_EQ(ResourceVersionOf(*after), ResourceVersionOf(*real));
}

TEST_F(KubeClientTest, ServerSideApply) {
  ApplyOptions mine;
  mine.field_manager = "gantry-a";
  ResourceRef ref{kConfigMap, ns_, "ssa"};

  Result<Object> created = client_->Apply(ConfigMap("ssa", {{"owned-by-a", "1"}}), mine);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ((*created)["data"]["owned-by-a"], "1");

  // Same manager, different set of fields: the dropped field goes away, the new one appears.
  Result<Object> updated =
      client_->Apply(ConfigMap("ssa", {{"owned-by-a", "2"}, {"also-a", "x"}}), mine);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ((*updated)["data"], Object({{"owned-by-a", "2"}, {"also-a", "x"}}));

  // Another manager setting a field a owns to a different value conflicts...
  ApplyOptions theirs;
  theirs.field_manager = "gantry-b";
  Result<Object> conflict = client_->Apply(ConfigMap("ssa", {{"owned-by-a", "b-wants"}}), theirs);
  ASSERT_EQ(conflict.status().code(), StatusCode::kConflict) << conflict.status().ToString();
  ASSERT_FALSE(conflict.status().causes().empty());
  EXPECT_THAT(conflict.status().message(), HasSubstr("gantry-a"));
  EXPECT_EQ((*client_->Get(ref))["data"]["owned-by-a"], "2");

  // ...a field nobody owns does not...
  Result<Object> shared = client_->Apply(ConfigMap("ssa", {{"owned-by-b", "y"}}), theirs);
  ASSERT_TRUE(shared.ok()) << shared.status().ToString();
  EXPECT_EQ((*shared)["data"]["owned-by-b"], "y");
  EXPECT_EQ((*shared)["data"]["owned-by-a"], "2");

  // ...and force takes the field over.
  theirs.force = true;
  Result<Object> forced =
      client_->Apply(ConfigMap("ssa", {{"owned-by-a", "b-wants"}, {"owned-by-b", "y"}}), theirs);
  ASSERT_TRUE(forced.ok()) << forced.status().ToString();
  EXPECT_EQ((*forced)["data"]["owned-by-a"], "b-wants");
  bool b_owns = false;
  for (const Object& entry : (*forced)["metadata"]["managedFields"]) {
    if (entry["manager"] == "gantry-b" && entry["fieldsV1"]["f:data"].contains("f:owned-by-a")) {
      b_owns = true;
    }
  }
  EXPECT_TRUE(b_owns);

  ApplyOptions no_manager;
  EXPECT_EQ(client_->Apply(ConfigMap("ssa"), no_manager).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(KubeClientTest, PaginationOverAThousandConfigMaps) {
  constexpr int kCount = 1000;
  ApplyOptions apply;
  apply.field_manager = "gantry-test";
  // Create in parallel: the client is safe from many threads.
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kCount; i += 8) {
        Object cm = ConfigMap(fmt::format("cm-{:04d}", i), {{"i", std::to_string(i)}});
        cm["metadata"]["labels"] = {{"parity", i % 2 == 0 ? "even" : "odd"}};
        if (!client_->Create(cm).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);

  ListOptions page;
  page.limit = 100;
  Result<ObjectList> first = client_->List(kConfigMap, ns_, page);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->items.size(), 100u);
  EXPECT_FALSE(first->continue_token.empty());
  ASSERT_TRUE(first->remaining_item_count.has_value());
  // kube-root-ca.crt is published into every namespace by the controller manager.
  EXPECT_GE(*first->remaining_item_count, kCount - 100);

  ListOptions all;
  all.limit = 128;
  all.label_selector = "parity";
  Result<ObjectList> everything = client_->ListAll(kConfigMap, ns_, all);
  ASSERT_TRUE(everything.ok()) << everything.status().ToString();
  ASSERT_EQ(everything->items.size(), static_cast<size_t>(kCount));
  std::set<std::string> names;
  for (const Object& item : everything->items) {
    names.insert(NameOf(item));
    EXPECT_EQ(item["kind"], "ConfigMap");
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(kCount));
  EXPECT_FALSE(everything->resource_version.empty());

  ListOptions even;
  even.label_selector = "parity=even";
  even.limit = 200;
  Result<ObjectList> evens = client_->ListAll(kConfigMap, ns_, even);
  ASSERT_TRUE(evens.ok());
  EXPECT_EQ(evens->items.size(), static_cast<size_t>(kCount / 2));

  ListOptions by_name;
  by_name.field_selector = "metadata.name=cm-0042";
  Result<ObjectList> one = client_->List(kConfigMap, ns_, by_name);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->items.size(), 1u);
  EXPECT_EQ(one->items[0]["data"]["i"], "42");
}

TEST_F(KubeClientTest, CustomResourceCreatedDuringTheTest) {
  std::string group = "it" + testing::RandomSuffix() + ".gantry.example.com";
  Object crd = {
      {"apiVersion", "apiextensions.k8s.io/v1"},
      {"kind", "CustomResourceDefinition"},
      {"metadata", {{"name", "widgets." + group}}},
      {"spec",
       {{"group", group},
        {"scope", "Namespaced"},
        {"names", {{"plural", "widgets"}, {"singular", "widget"}, {"kind", "Widget"}}},
        {"versions",
         Object::array(
             {{{"name", "v1"},
               {"served", true},
               {"storage", true},
               {"subresources",
                {{"status", Object::object()},
                 {"scale",
                  {{"specReplicasPath", ".spec.replicas"},
                   {"statusReplicasPath", ".status.replicas"}}}}},
               {"schema",
                {{"openAPIV3Schema",
                  {{"type", "object"},
                   {"properties",
                    {{"spec",
                      {{"type", "object"},
                       {"properties",
                        {{"size", {{"type", "integer"}}}, {"replicas", {{"type", "integer"}}}}}}},
                     {"status",
                      {{"type", "object"},
                       {"properties",
                        {{"phase", {{"type", "string"}}},
                         {"replicas", {{"type", "integer"}}}}}}}}}}}}}}})}}}};
  GroupVersionKind widget{group, "v1", "Widget"};
  // Discovery of the group before it exists: NotFound, and not cached as such.
  EXPECT_EQ(client_->Mapping(widget).status().code(), StatusCode::kNotFound);
  ApplyOptions apply;
  apply.field_manager = "gantry-test";
  ASSERT_TRUE(client_->Apply(crd, apply).ok());
  struct Cleanup {
    KubeClient& c;
    std::string name;
    ~Cleanup() { (void)c.Delete(ResourceRef{kCrd, "", name}); }
  } cleanup{*client_, "widgets." + group};

  // The CRD becomes served a moment later; the mapper looks again on each miss.
  ASSERT_TRUE(testing::Eventually([&] { return client_->Mapping(widget).ok(); }))
      << client_->Mapping(widget).status().ToString();

  Object w = {{"apiVersion", group + "/v1"},
              {"kind", "Widget"},
              {"metadata", {{"name", "w1"}, {"namespace", ns_}}},
              {"spec", {{"size", 3}, {"replicas", 1}}}};
  Result<Object> created = client_->Create(w);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(GenerationOf(*created), 1);
  ResourceRef ref{widget, ns_, "w1"};

  Object status_update = *created;
  status_update["status"] = {{"phase", "Ready"}, {"replicas", 1}};
  Result<Object> with_status = client_->UpdateStatus(status_update);
  ASSERT_TRUE(with_status.ok()) << with_status.status().ToString();
  EXPECT_EQ((*with_status)["status"]["phase"], "Ready");
  EXPECT_EQ(GenerationOf(*with_status), 1);  // status writes do not bump generation

  Object spec_update = *with_status;
  spec_update["spec"]["size"] = 5;
  spec_update["status"]["phase"] = "Ignored";  // the main resource ignores status
  Result<Object> updated = client_->Update(spec_update);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(GenerationOf(*updated), 2);
  EXPECT_EQ((*updated)["status"]["phase"], "Ready");

  PatchOptions status_patch;
  status_patch.subresource = "status";
  Result<Object> patched =
      client_->Patch(ref, PatchType::kMerge, {{"status", {{"phase", "Done"}}}}, status_patch);
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  EXPECT_EQ((*patched)["status"]["phase"], "Done");

  Result<Object> scale = client_->GetScale(ref);
  ASSERT_TRUE(scale.ok()) << scale.status().ToString();
  EXPECT_EQ((*scale)["spec"]["replicas"], 1);
  Result<Object> scaled = client_->UpdateScale(ref, 4);
  ASSERT_TRUE(scaled.ok()) << scaled.status().ToString();
  EXPECT_EQ((*client_->Get(ref))["spec"]["replicas"], 4);

  // Schema validation errors come back as Invalid with the field.
  Object bad = w;
  bad["metadata"]["name"] = "w2";
  bad["spec"]["size"] = "big";
  Result<Object> invalid = client_->Create(bad);
  ASSERT_EQ(invalid.status().code(), StatusCode::kInvalid) << invalid.status().ToString();
  ASSERT_FALSE(invalid.status().causes().empty());
  EXPECT_EQ(invalid.status().causes()[0].field, "spec.size");

  Result<ObjectList> list = client_->ListAll(widget, ns_);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->items.size(), 1u);
  EXPECT_EQ(list->items[0]["apiVersion"], group + "/v1");
  ASSERT_TRUE(client_->Delete(ref).ok());
  EXPECT_EQ(client_->Get(ref).status().code(), StatusCode::kNotFound);
}

TEST_F(KubeClientTest, ListAndWatchCanStripManagedFieldsWhileParsing) {
  ApplyOptions apply;
  apply.field_manager = "gantry-test";
  Object cm = ConfigMap("stripped", {{"managedFields", "user data"}});
  cm["metadata"]["annotations"] = {
      {"kubectl.kubernetes.io/last-applied-configuration", "{\"big\":\"json\"}"}, {"keep", "me"}};
  ASSERT_TRUE(client_->Apply(cm, apply).ok());
  ListOptions plain;
  plain.field_selector = "metadata.name=stripped";
  Result<ObjectList> full = client_->List(kConfigMap, ns_, plain);
  ASSERT_TRUE(full.ok());
  ASSERT_TRUE(full->items[0]["metadata"].contains("managedFields"));

  ListOptions strip = plain;
  strip.strip_managed_fields = true;
  Result<ObjectList> lean = client_->List(kConfigMap, ns_, strip);
  ASSERT_TRUE(lean.ok());
  const Object& item = lean->items[0];
  EXPECT_FALSE(item["metadata"].contains("managedFields"));
  EXPECT_EQ(item["metadata"]["annotations"], Object({{"keep", "me"}}));
  EXPECT_EQ(item["data"]["managedFields"], "user data");  // a data key of that name stays
  EXPECT_EQ(item["metadata"]["name"], "stripped");

  WatchOptions watch;
  watch.strip_managed_fields = true;
  watch.field_selector = "metadata.name=stripped";
  Object seen;
  std::stop_source stop;
  Status s = client_->Watch(
      kConfigMap, ns_, watch,
      [&](const WatchEvent& e) {
        if (e.type == WatchEvent::Type::kBookmark) return Status::Ok();
        seen = e.object;
        stop.request_stop();
        return Status::Ok();
      },
      stop.get_token());
  EXPECT_EQ(s.code(), StatusCode::kCancelled) << s.ToString();
  EXPECT_EQ(seen["metadata"]["name"], "stripped");
  EXPECT_FALSE(seen["metadata"].contains("managedFields"));
  EXPECT_EQ(seen["data"]["managedFields"], "user data");
}

TEST_F(KubeClientTest, NamespacedKindWithoutNamespaceIsRejected) {
  Result<Object> got = client_->Get(ResourceRef{kConfigMap, "", "x"});
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(got.status().message(), HasSubstr("namespace"));
}

}  // namespace
}  // namespace gantry::kube
