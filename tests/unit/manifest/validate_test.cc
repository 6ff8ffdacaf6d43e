#include "operator/manifest/validate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gantry::manifest {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

json Obj(std::string api_version, std::string kind, json metadata) {
  return json{{"apiVersion", api_version}, {"kind", kind}, {"metadata", metadata}};
}

TEST(ValidateObjectTest, AcceptsAGoodObject) {
  EXPECT_THAT(ValidateObject(Obj("apps/v1", "Deployment",
                                 {{"name", "web"},
                                  {"namespace", "shop"},
                                  {"labels", {{"app", "web"}}},
                                  {"annotations", {{"gantry.io/sync-wave", "-2"}}}})),
              IsEmpty());
}

TEST(ValidateObjectTest, RequiredFields) {
  EXPECT_THAT(ValidateObject(json{{"metadata", {{"name", "x"}}}}),
              ElementsAre("apiVersion is missing", "kind is missing"));
  EXPECT_THAT(
      ValidateObject(json{{"apiVersion", 1}, {"kind", true}, {"metadata", {{"name", "x"}}}}),
      ElementsAre("apiVersion must be a string", "kind must be a string"));
  EXPECT_THAT(ValidateObject(json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}}),
              ElementsAre(HasSubstr("metadata is missing")));
  EXPECT_THAT(ValidateObject(Obj("v1", "ConfigMap", json::object())),
              ElementsAre("metadata.name is missing"));
  EXPECT_THAT(ValidateObject(Obj("v1", "ConfigMap", {{"name", 5}})),
              ElementsAre("metadata.name must be a string"));
  EXPECT_THAT(ValidateObject(Obj("apps/v1/x", "Deployment", {{"name", "a"}})),
              ElementsAre(HasSubstr("not \"version\" or \"group/version\"")));
  EXPECT_THAT(ValidateObject(Obj("v1", "Config Map", {{"name", "a"}})),
              ElementsAre(HasSubstr("is not a kind name")));
  EXPECT_THAT(ValidateObject(json::array()), ElementsAre(HasSubstr("not a mapping")));
}

TEST(ValidateObjectTest, GenerateNameIsRefused) {
  EXPECT_THAT(ValidateObject(Obj("batch/v1", "Job", {{"generateName", "migrate-"}})),
              ElementsAre(HasSubstr("metadata.generateName is not supported")));
}

TEST(ValidateObjectTest, NamespaceMustBeALabel) {
  EXPECT_THAT(ValidateObject(Obj("v1", "ConfigMap", {{"name", "a"}, {"namespace", "Shop.EU"}})),
              ElementsAre(HasSubstr("metadata.namespace \"Shop.EU\"")));
}

TEST(ValidateObjectTest, LabelsAndAnnotationsAreStrings) {
  EXPECT_THAT(
      ValidateObject(Obj("v1", "ConfigMap",
                         {{"name", "a"},
                          {"labels", {{"enabled", true}}},
                          {"annotations", {{"gantry.io/sync-wave", 1}}}})),
      ElementsAre(HasSubstr("metadata.labels[\"enabled\"] must be a string, not a boolean "
                            "(quote the value: \"true\")"),
                  HasSubstr("metadata.annotations[\"gantry.io/sync-wave\"] must be a string"),
                  HasSubstr("gantry.io/sync-wave must be a string holding an integer")));
}

TEST(ValidateObjectTest, SyncWaveMustBeAnInteger) {
  EXPECT_THAT(
      ValidateObject(Obj("v1", "ConfigMap",
                         {{"name", "a"}, {"annotations", {{"gantry.io/sync-wave", "1.5"}}}})),
      ElementsAre(HasSubstr("annotation gantry.io/sync-wave is \"1.5\", which is not an "
                            "integer")));
}

struct NameCase {
  std::string group;
  std::string kind;
  std::string name;
  bool valid;
};

class NameForKindTest : public ::testing::TestWithParam<NameCase> {};

TEST_P(NameForKindTest, FollowsTheApiServer) {
  const NameCase& c = GetParam();
  std::string problem = CheckNameForKind(c.group, c.kind, c.name);
  EXPECT_EQ(problem.empty(), c.valid) << c.kind << " " << c.name << ": " << problem;
  if (!c.valid) {
    EXPECT_THAT(problem, HasSubstr(c.name));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, NameForKindTest,
    ::testing::Values(
        NameCase{"apps", "Deployment", "web", true}, NameCase{"apps", "Deployment", "web.v2", true},
        NameCase{"apps", "Deployment", "Web", false},
        NameCase{"apps", "Deployment", "web_1", false},
        NameCase{"apps", "Deployment", "-web", false},
        NameCase{"apps", "Deployment", "web.", false},
        NameCase{"apps", "Deployment", std::string(253, 'a'), true},
        NameCase{"apps", "Deployment", std::string(254, 'a'), false},
        NameCase{"", "Namespace", "shop", true}, NameCase{"", "Namespace", "shop.eu", false},
        NameCase{"", "Namespace", std::string(64, 'a'), false},
        NameCase{"", "Service", "web", true}, NameCase{"", "Service", "1web", false},
        NameCase{"", "Service", "web.v2", false}, NameCase{"", "ConfigMap", "1config.v2", true},
        NameCase{"rbac.authorization.k8s.io", "ClusterRole", "system:controller:job", true},
        NameCase{"rbac.authorization.k8s.io", "Role", "a/b", false},
        NameCase{"rbac.authorization.k8s.io", "Role", "..", false},
        NameCase{"gantry.io", "Rollout", "web", true},
        NameCase{"gantry.io", "Rollout", "Web", false}));

TEST(DnsTest, Labels) {
  EXPECT_TRUE(IsDns1123Label("a"));
  EXPECT_TRUE(IsDns1123Label("0-a"));
  EXPECT_FALSE(IsDns1123Label(""));
  EXPECT_FALSE(IsDns1123Label("a-"));
  EXPECT_TRUE(IsDns1123Label(std::string(63, 'a')));
  EXPECT_FALSE(IsDns1123Label(std::string(64, 'a')));
  EXPECT_TRUE(IsDns1035Label("a0"));
  EXPECT_FALSE(IsDns1035Label("0a"));
  EXPECT_TRUE(IsDns1123Subdomain("a.b-c.d"));
  EXPECT_FALSE(IsDns1123Subdomain("a..b"));
}

}  // namespace
}  // namespace gantry::manifest
