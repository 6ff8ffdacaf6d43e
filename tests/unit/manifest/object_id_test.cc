#include "operator/manifest/object_id.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gantry::manifest {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

TEST(ParseApiVersionTest, SplitsGroupAndVersion) {
  Result<GroupVersion> apps = ParseApiVersion("apps/v1");
  ASSERT_TRUE(apps.ok());
  EXPECT_EQ(apps->group, "apps");
  EXPECT_EQ(apps->version, "v1");
  EXPECT_EQ(apps->ToString(), "apps/v1");

  Result<GroupVersion> core = ParseApiVersion("v1");
  ASSERT_TRUE(core.ok());
  EXPECT_EQ(core->group, "");
  EXPECT_EQ(core->version, "v1");
  EXPECT_EQ(core->ToString(), "v1");
}

TEST(ParseApiVersionTest, RejectsMalformed) {
  for (const char* bad : {"", "apps/", "/v1", "a/b/c"}) {
    EXPECT_FALSE(ParseApiVersion(bad).ok()) << bad;
  }
}

TEST(ObjectIdTest, FormatsLikeFluxInventory) {
  EXPECT_EQ((ObjectId{"shop", "web", "apps", "Deployment"}.ToString()), "shop_web_apps_Deployment");
  EXPECT_EQ((ObjectId{"shop", "cfg", "", "ConfigMap"}.ToString()), "shop_cfg__ConfigMap");
  EXPECT_EQ((ObjectId{"", "shop", "", "Namespace"}.ToString()), "_shop__Namespace");
  EXPECT_EQ((ObjectId{"", "system:auth", "rbac.authorization.k8s.io", "ClusterRole"}.ToString()),
            "_system__auth_rbac.authorization.k8s.io_ClusterRole");
}

TEST(ObjectIdTest, ParseInvertsFormat) {
  for (const ObjectId& id :
       {ObjectId{"shop", "web", "apps", "Deployment"}, ObjectId{"shop", "cfg", "", "ConfigMap"},
        ObjectId{"", "shop", "", "Namespace"},
        ObjectId{"", "system:controller:job", "rbac.authorization.k8s.io", "ClusterRole"},
        ObjectId{"", "rollouts.gantry.io", "apiextensions.k8s.io", "CustomResourceDefinition"}}) {
    Result<ObjectId> parsed = ObjectId::Parse(id.ToString());
    ASSERT_TRUE(parsed.ok()) << id.ToString() << ": " << parsed.status().message();
    EXPECT_EQ(*parsed, id) << id.ToString();
  }
}

TEST(ObjectIdTest, ParseRejectsMalformed) {
  for (const char* bad : {"", "a_b_c", "nounderscores", "ns__apps_Deployment", "ns_web_apps_"}) {
    Result<ObjectId> parsed = ObjectId::Parse(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_THAT(parsed.status().message(), HasSubstr("inventory id")) << bad;
    }
  }
}

TEST(ObjectIdTest, OfJsonObject) {
  json deployment = {{"apiVersion", "apps/v1"},
                     {"kind", "Deployment"},
                     {"metadata", {{"name", "web"}, {"namespace", "shop"}}}};
  Result<ObjectId> id = ObjectIdOf(deployment);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->ToString(), "shop_web_apps_Deployment");
  EXPECT_EQ(id->group_kind().ToString(), "Deployment.apps");

  json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "shop"}}}};
  EXPECT_EQ(ObjectIdOf(ns)->ToString(), "_shop__Namespace");
  EXPECT_EQ(GroupKindOf(ns)->ToString(), "Namespace");
}

TEST(ObjectIdTest, OfJsonObjectErrors) {
  EXPECT_THAT(ObjectIdOf(json{{"kind", "X"}}).status().message(), HasSubstr("apiVersion"));
  EXPECT_THAT(ObjectIdOf(json{{"apiVersion", "v1"}, {"kind", 3}}).status().message(),
              HasSubstr("kind must be a string"));
  EXPECT_THAT(ObjectIdOf(json{{"apiVersion", "v1"}, {"kind", "X"}}).status().message(),
              HasSubstr("metadata"));
  EXPECT_THAT(ObjectIdOf(json{{"apiVersion", "v1"}, {"kind", "X"}, {"metadata", json::object()}})
                  .status()
                  .message(),
              HasSubstr("metadata.name is missing"));
  EXPECT_FALSE(ObjectIdOf(json::array()).ok());
}

}  // namespace
}  // namespace gantry::manifest
