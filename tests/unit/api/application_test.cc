#include "operator/api/application.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "yaml_testdata.h"

namespace gantry::api {
namespace {

using testing::BadCase;
using testing::ExpectRejected;
using ::testing::HasSubstr;

const nlohmann::json kValid = R"({
  "apiVersion": "gantry.io/v1alpha1", "kind": "Application",
  "metadata": {"name": "shop", "namespace": "apps"},
  "spec": {"sourceRef": {"name": "config"}}
})"_json;

TEST(ApiApplicationTest, AppliesDefaults) {
  Result<Application> app = Application::FromJson(kValid);
  ASSERT_TRUE(app.ok()) << app.status().ToString();
  const ApplicationSpec& spec = app->spec;
  EXPECT_EQ(spec.source_ref.kind, "GitRepository");
  EXPECT_EQ(spec.source_ref.name, "config");
  EXPECT_EQ(spec.source_ref.namespace_, "");
  EXPECT_EQ(spec.path, "./");
  EXPECT_EQ(spec.interval, "5m");
  EXPECT_EQ(spec.timeout, "5m");
  EXPECT_EQ(spec.retry_interval, "");
  EXPECT_FALSE(spec.prune);
  EXPECT_TRUE(spec.self_heal);
  EXPECT_FALSE(spec.wait);
  EXPECT_FALSE(spec.suspend);
  EXPECT_EQ(spec.Interval(), std::chrono::minutes(5));
  EXPECT_EQ(spec.RetryInterval(), std::chrono::minutes(5));
  EXPECT_EQ(spec.Timeout(), std::chrono::minutes(5));
  EXPECT_EQ(app->status.sync.status, SyncStatusCode::kUnknown);
  EXPECT_EQ(app->status.health.status, HealthStatusCode::kUnknown);
}

TEST(ApiApplicationTest, RetryIntervalWhenSet) {
  ApplicationSpec spec;
  spec.retry_interval = "45s";
  EXPECT_EQ(spec.RetryInterval(), std::chrono::seconds(45));
}

TEST(ApiApplicationTest, SelfHealFalseIsKept) {
  nlohmann::json json = kValid;
  json["spec"]["selfHeal"] = false;
  Result<Application> app = Application::FromJson(json);
  ASSERT_TRUE(app.ok());
  EXPECT_FALSE(app->spec.self_heal);
  EXPECT_EQ(app->ToJson()["spec"]["selfHeal"], false);
}

TEST(ApiApplicationTest, InventoryIdsFollowFlux) {
  InventoryEntry deploy = InventoryEntry::Make({"prod", "api", "apps", "Deployment"}, "v1");
  EXPECT_EQ(deploy.id, "prod_api_apps_Deployment");
  EXPECT_EQ(deploy.v, "v1");
  InventoryEntry ns = InventoryEntry::Make({"", "prod", "", "Namespace"}, "v1");
  EXPECT_EQ(ns.id, "_prod__Namespace");
  InventoryEntry role = InventoryEntry::Make(
      {"", "system:aggregate-to-edit", "rbac.authorization.k8s.io", "ClusterRole"}, "v1");
  EXPECT_EQ(role.id, "_system__aggregate-to-edit_rbac.authorization.k8s.io_ClusterRole");
  InventoryEntry core_colon = InventoryEntry::Make({"ns", "a:b", "", "ConfigMap"}, "v1");

  for (const InventoryEntry& e : {deploy, ns, role, core_colon}) {
    Result<ResourceId> parsed = e.Parse();
    ASSERT_TRUE(parsed.ok()) << e.id << ": " << parsed.status().ToString();
  }
  EXPECT_EQ(*deploy.Parse(), (ResourceId{"prod", "api", "apps", "Deployment"}));
  EXPECT_EQ(*ns.Parse(), (ResourceId{"", "prod", "", "Namespace"}));
  EXPECT_EQ(*role.Parse(), (ResourceId{"", "system:aggregate-to-edit", "rbac.authorization.k8s.io",
                                       "ClusterRole"}));
  EXPECT_EQ(*core_colon.Parse(), (ResourceId{"ns", "a:b", "", "ConfigMap"}));

  for (const char* bad : {"", "nounderscores", "a_b", "ns__Kind", "ns_name_group_"}) {
    InventoryEntry e;
    e.id = bad;
    Result<ResourceId> parsed = e.Parse();
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_THAT(parsed.status().message(),
                HasSubstr("is not \"<namespace>_<name>_<group>_<kind>\""));
  }
}

TEST(ApiApplicationTest, DecodesStatusEnums) {
  nlohmann::json json = kValid;
  json["status"] = R"({"sync": {"status": "OutOfSync", "revision": "main@sha1:abc"},
                       "health": {"status": "Degraded", "message": "pod crash"},
                       "resources": [{"kind": "Deployment", "name": "api", "status": "Synced",
                                      "health": {"status": "Missing"}}]})"_json;
  Result<Application> app = Application::FromJson(json);
  ASSERT_TRUE(app.ok()) << app.status().ToString();
  EXPECT_EQ(app->status.sync.status, SyncStatusCode::kOutOfSync);
  EXPECT_EQ(app->status.health.status, HealthStatusCode::kDegraded);
  ASSERT_EQ(app->status.resources.size(), 1u);
  EXPECT_EQ(app->status.resources[0].health->status, HealthStatusCode::kMissing);

  json["status"]["health"]["status"] = "Sick";
  Result<Application> bad = Application::FromJson(json);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("Application apps/shop: status.health.status: must be one of Healthy, "
                        "Progressing, Degraded, Suspended, Missing, Unknown"));
}

TEST(ApiApplicationTest, ValidationErrorsNameTheField) {
  ExpectRejected<Application>(
      kValid,
      {
          {"bad kind",
           {{"spec", {{"sourceRef", {{"kind", "Bucket"}}}}}},
           "Application apps/shop: spec.sourceRef.kind: must be GitRepository, got \"Bucket\""},
          {"no source name",
           {{"spec", {{"sourceRef", {{"name", nullptr}}}}}},
           "spec.sourceRef.name: is required"},
          {"bad source name",
           {{"spec", {{"sourceRef", {{"name", "Config"}}}}}},
           "spec.sourceRef.name: \"Config\" is not a valid name"},
          {"bad source namespace",
           {{"spec", {{"sourceRef", {{"namespace", "a.b"}}}}}},
           "spec.sourceRef.namespace: \"a.b\" is not a valid name"},
          {"absolute path",
           {{"spec", {{"path", "/etc"}}}},
           "spec.path: must be a relative path inside the repository without \"..\", got "
           "\"/etc\""},
          {"escaping path",
           {{"spec", {{"path", "apps/../../x"}}}},
           "spec.path: must be a relative path"},
          {"parent path", {{"spec", {{"path", ".."}}}}, "spec.path: must be a relative path"},
          {"empty path", {{"spec", {{"path", ""}}}}, "spec.path: must be a relative path"},
          {"bad target namespace",
           {{"spec", {{"targetNamespace", "Prod"}}}},
           "spec.targetNamespace: \"Prod\" is not a valid name"},
          {"zero interval",
           {{"spec", {{"interval", "0"}}}},
           "spec.interval: must be a positive duration, got \"0\""},
          {"bad retry interval",
           {{"spec", {{"retryInterval", "often"}}}},
           "spec.retryInterval: invalid duration \"often\""},
          {"empty timeout", {{"spec", {{"timeout", ""}}}}, "spec.timeout: is required"},
          {"dependency without name",
           {{"spec", {{"dependsOn", {{{"namespace", "x"}}}}}}},
           "spec.dependsOn[0].name: is required"},
          {"bad dependency namespace",
           {{"spec", {{"dependsOn", {{{"name", "a"}, {"namespace", "X"}}}}}}},
           "spec.dependsOn[0].namespace: \"X\" is not a valid name"},
          {"depends on itself",
           {{"spec", {{"dependsOn", {{{"name", "base"}}, {{"name", "shop"}}}}}}},
           "spec.dependsOn[1]: an Application cannot depend on itself"},
          {"depends on itself by namespace",
           {{"spec", {{"dependsOn", {{{"name", "shop"}, {"namespace", "apps"}}}}}}},
           "spec.dependsOn[0]: an Application cannot depend on itself"},
          {"ignore without kind",
           {{"spec", {{"ignoreDifferences", {{{"jsonPointers", {"/spec/replicas"}}}}}}}},
           "spec.ignoreDifferences[0].kind: is required"},
          {"ignore without pointers",
           {{"spec", {{"ignoreDifferences", {{{"kind", "Deployment"}}}}}}},
           "spec.ignoreDifferences[0].jsonPointers: must list at least one JSON pointer"},
          {"bad pointer",
           {{"spec",
             {{"ignoreDifferences",
               {{{"kind", "Deployment"}, {"jsonPointers", {"/ok", "spec.replicas"}}}}}}}},
           "spec.ignoreDifferences[0].jsonPointers[1]: must be a JSON pointer starting with '/', "
           "got \"spec.replicas\""},
      });
}

TEST(ApiApplicationTest, DependingOnTheSameNameElsewhereIsFine) {
  nlohmann::json json = kValid;
  json["spec"]["dependsOn"] = {{{"name", "shop"}, {"namespace", "other"}}};
  EXPECT_TRUE(testing::DecodeAndValidate<Application>(json).ok());
}

}  // namespace
}  // namespace gantry::api
