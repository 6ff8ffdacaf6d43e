#include "operator/manifest/order.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace gantry::manifest {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Object Make(std::string api_version, std::string kind, std::string name, std::string ns = "",
            const char* wave = nullptr) {
  json metadata = {{"name", name}};
  if (!ns.empty()) metadata["namespace"] = ns;
  if (wave != nullptr) metadata["annotations"] = {{"gantry.io/sync-wave", wave}};
  return Object{json{{"apiVersion", api_version}, {"kind", kind}, {"metadata", metadata}}, "f.yaml",
                1, 0};
}

std::vector<std::string> Names(const std::vector<Object>& objects) {
  std::vector<std::string> out;
  for (const Object& o : objects) {
    out.push_back(o.json["kind"].get<std::string>() + "/" +
                  o.json["metadata"]["name"].get<std::string>());
  }
  return out;
}

TEST(SyncWaveTest, Parses) {
  EXPECT_EQ(*ParseSyncWave(Make("v1", "ConfigMap", "a").json), 0);
  EXPECT_EQ(*ParseSyncWave(Make("v1", "ConfigMap", "a", "", "5").json), 5);
  EXPECT_EQ(*ParseSyncWave(Make("v1", "ConfigMap", "a", "", "-3").json), -3);
  EXPECT_EQ(*ParseSyncWave(Make("v1", "ConfigMap", "a", "", "+2").json), 2);
  for (const char* bad : {"", "x", "1.5", "1e2", " 1", "+-1", "99999999999", "--1"}) {
    Result<int> wave = ParseSyncWave(Make("v1", "ConfigMap", "a", "", bad).json);
    EXPECT_FALSE(wave.ok()) << bad;
    if (!wave.ok()) {
      EXPECT_THAT(wave.status().message(), HasSubstr("not an integer")) << bad;
    }
  }
  EXPECT_EQ(SyncWaveOrDefault(Make("v1", "ConfigMap", "a", "", "x").json), 0);
}

TEST(KindOrderTest, FollowsHelmInstallOrder) {
  EXPECT_LT(KindOrder("Namespace"), KindOrder("ServiceAccount"));
  EXPECT_LT(KindOrder("Secret"), KindOrder("ConfigMap"));
  EXPECT_LT(KindOrder("ConfigMap"), KindOrder("Service"));
  EXPECT_LT(KindOrder("Service"), KindOrder("Deployment"));
  EXPECT_LT(KindOrder("Deployment"), KindOrder("HorizontalPodAutoscaler"));
  EXPECT_LT(KindOrder("Ingress"), KindOrder("APIService"));
  EXPECT_LT(KindOrder("APIService"), KindOrder("Rollout"));
  EXPECT_EQ(KindOrder("Rollout"), KindOrder("Certificate"));
}

TEST(SortTest, DefinitionsThenWavesThenKindsThenNames) {
  std::vector<Object> objects = {
      Make("gantry.io/v1alpha1", "Rollout", "web", "shop"),
      Make("apps/v1", "Deployment", "b", "shop"),
      Make("apps/v1", "Deployment", "a", "shop"),
      Make("v1", "Service", "web", "shop"),
      Make("batch/v1", "Job", "migrate", "shop", "-1"),
      Make("v1", "ConfigMap", "late", "shop", "2"),
      Make("apiextensions.k8s.io/v1", "CustomResourceDefinition", "rollouts.gantry.io", "", "5"),
      Make("v1", "Namespace", "shop", "", "3"),
      Make("v1", "ConfigMap", "cfg", "other"),
      Make("v1", "ConfigMap", "cfg", "alpha"),
  };
  SortForApply(objects);
  EXPECT_THAT(Names(objects),
              ElementsAre("Namespace/shop", "CustomResourceDefinition/rollouts.gantry.io",
                          "Job/migrate", "ConfigMap/cfg", "ConfigMap/cfg", "Service/web",
                          "Deployment/a", "Deployment/b", "Rollout/web", "ConfigMap/late"));
  EXPECT_EQ(objects[3].json["metadata"]["namespace"], "alpha");

  std::vector<std::string> apply = Names(objects);
  SortForPrune(objects);
  std::vector<std::string> prune = Names(objects);
  std::reverse(prune.begin(), prune.end());
  EXPECT_EQ(prune, apply);
}

TEST(SortTest, OrderDoesNotDependOnInput) {
  std::vector<Object> a = {Make("v1", "ConfigMap", "x", "n"), Make("v1", "Secret", "y", "n"),
                           Make("example.com/v1", "Widget", "z", "n"),
                           Make("other.io/v1", "Gadget", "z", "n")};
  std::vector<Object> b(a.rbegin(), a.rend());
  SortForApply(a);
  SortForApply(b);
  EXPECT_EQ(Names(a), Names(b));
  EXPECT_THAT(Names(a), ElementsAre("Secret/y", "ConfigMap/x", "Gadget/z", "Widget/z"));
}

TEST(SortTest, CustomNamespaceKindIsNotADefinition) {
  EXPECT_TRUE(IsDefinition(Make("v1", "Namespace", "a").json));
  EXPECT_FALSE(IsDefinition(Make("example.com/v1", "Namespace", "a").json));
  EXPECT_TRUE(
      IsDefinition(Make("apiextensions.k8s.io/v1", "CustomResourceDefinition", "a.b").json));
}

TEST(WavesTest, GroupsSortedObjects) {
  std::vector<Wave> waves = GroupIntoWaves({
      Make("apps/v1", "Deployment", "web", "shop", "1"),
      Make("v1", "ConfigMap", "cfg", "shop"),
      Make("v1", "Namespace", "shop"),
      Make("batch/v1", "Job", "migrate", "shop", "-1"),
      Make("v1", "Service", "web", "shop", "1"),
      Make("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com"),
  });
  ASSERT_EQ(waves.size(), 4u);
  EXPECT_TRUE(waves[0].definitions);
  EXPECT_THAT(Names(waves[0].objects),
              ElementsAre("Namespace/shop", "CustomResourceDefinition/widgets.example.com"));
  EXPECT_FALSE(waves[1].definitions);
  EXPECT_EQ(waves[1].number, -1);
  EXPECT_THAT(Names(waves[1].objects), ElementsAre("Job/migrate"));
  EXPECT_EQ(waves[2].number, 0);
  EXPECT_THAT(Names(waves[2].objects), ElementsAre("ConfigMap/cfg"));
  EXPECT_EQ(waves[3].number, 1);
  EXPECT_THAT(Names(waves[3].objects), ElementsAre("Service/web", "Deployment/web"));

  std::vector<Wave> prune = GroupIntoPruneWaves({
      Make("v1", "Namespace", "shop"),
      Make("v1", "Service", "web", "shop", "1"),
      Make("apps/v1", "Deployment", "web", "shop", "1"),
      Make("v1", "ConfigMap", "cfg", "shop"),
  });
  ASSERT_EQ(prune.size(), 3u);
  EXPECT_EQ(prune[0].number, 1);
  EXPECT_THAT(Names(prune[0].objects), ElementsAre("Deployment/web", "Service/web"));
  EXPECT_THAT(Names(prune[1].objects), ElementsAre("ConfigMap/cfg"));
  EXPECT_TRUE(prune[2].definitions);
}

TEST(WavesTest, EmptyInputHasNoWaves) { EXPECT_TRUE(GroupIntoWaves({}).empty()); }

}  // namespace
}  // namespace gantry::manifest
