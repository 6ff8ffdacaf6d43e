// Ties crds/*.yaml to operator/api: names and scopes, the defaults the API server applies versus
// the C++ defaults, enums versus EnumTraits, printer columns, and the analysis schemas that are
// repeated across three CRDs staying identical.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "operator/api/types.h"
#include "yaml_testdata.h"

namespace gantry::api {
namespace {

using testing::At;
using ::testing::ElementsAreArray;
using testing::LoadYamlDocuments;
using testing::SourcePath;

nlohmann::json LoadCrd(std::string_view plural) {
  std::string path = SourcePath("crds/" + std::string(plural) + ".gantry.io.yaml");
  std::vector<nlohmann::json> docs = LoadYamlDocuments(path);
  EXPECT_EQ(docs.size(), 1u) << path;
  return docs.empty() ? nlohmann::json() : docs[0];
}

const nlohmann::json& Version(const nlohmann::json& crd) { return crd["spec"]["versions"][0]; }

nlohmann::json Schema(const nlohmann::json& crd) {
  return Version(crd)["schema"]["openAPIV3Schema"];
}

// The schema node at a dotted path of property names ("spec.strategy.canary"); "[]" steps into
// list items ("spec.metrics.[].provider").
nlohmann::json SchemaAt(const nlohmann::json& crd, const std::string& dotted) {
  nlohmann::json node = Schema(crd);
  std::stringstream parts(dotted);
  std::string part;
  while (std::getline(parts, part, '.')) {
    node = part == "[]" ? node["items"] : node["properties"][part];
  }
  return node;
}

template <typename T>
void ExpectNames(const nlohmann::json& crd) {
  SCOPED_TRACE(std::string(T::kKind));
  EXPECT_EQ(crd["metadata"]["name"], std::string(T::kPlural) + ".gantry.io");
  EXPECT_EQ(crd["spec"]["group"], std::string(kGroup));
  EXPECT_EQ(crd["spec"]["names"]["kind"], std::string(T::kKind));
  EXPECT_EQ(crd["spec"]["names"]["plural"], std::string(T::kPlural));
  EXPECT_EQ(crd["spec"]["names"]["listKind"], std::string(T::kKind) + "List");
  EXPECT_EQ(crd["spec"]["scope"], T::kNamespaced ? "Namespaced" : "Cluster");
  EXPECT_EQ(crd["spec"]["names"]["categories"], nlohmann::json({"gantry"}));
  EXPECT_TRUE(crd["spec"]["names"].contains("shortNames"));
  ASSERT_EQ(crd["spec"]["versions"].size(), 1u);
  EXPECT_EQ(Version(crd)["name"], std::string(kVersion));
  EXPECT_EQ(Version(crd)["served"], true);
  EXPECT_EQ(Version(crd)["storage"], true);
  EXPECT_TRUE(Version(crd)["subresources"].contains("status"));
}

TEST(ApiCrdSchemaTest, NamesScopesAndSubresourcesMatchTheTypes) {
  ExpectNames<GitRepository>(LoadCrd(GitRepository::kPlural));
  ExpectNames<Application>(LoadCrd(Application::kPlural));
  ExpectNames<Rollout>(LoadCrd(Rollout::kPlural));
  ExpectNames<AnalysisTemplate>(LoadCrd(AnalysisTemplate::kPlural));
  ExpectNames<ClusterAnalysisTemplate>(LoadCrd(ClusterAnalysisTemplate::kPlural));
  ExpectNames<AnalysisRun>(LoadCrd(AnalysisRun::kPlural));

  nlohmann::json scale = Version(LoadCrd(Rollout::kPlural))["subresources"]["scale"];
  EXPECT_EQ(scale["specReplicasPath"], ".spec.replicas");
  EXPECT_EQ(scale["statusReplicasPath"], ".status.replicas");
  EXPECT_EQ(scale["labelSelectorPath"], ".status.selector");
}

TEST(ApiCrdSchemaTest, ShortNamesAreUniqueAndNotBuiltIn) {
  // Built-in short names and resource names kubectl already resolves.
  const std::set<std::string> built_in = {
      "po",  "svc",    "deploy", "rs",  "ds",  "sts", "cm",  "ns",     "no",  "pv",
      "pvc", "sa",     "ing",    "ep",  "hpa", "cj",  "pdb", "netpol", "crd", "crds",
      "ev",  "limits", "quota",  "csr", "rc",  "pc",  "sc",  "all"};
  std::set<std::string> seen;
  for (std::string_view plural :
       {GitRepository::kPlural, Application::kPlural, Rollout::kPlural, AnalysisTemplate::kPlural,
        ClusterAnalysisTemplate::kPlural, AnalysisRun::kPlural}) {
    // Named: a range-for over a member of a temporary reads it after it was destroyed.
    const nlohmann::json crd = LoadCrd(plural);
    for (const auto& name : crd["spec"]["names"]["shortNames"]) {
      EXPECT_EQ(built_in.count(name), 0u) << name;
      EXPECT_TRUE(seen.insert(name.get<std::string>()).second) << name;
    }
  }
}

std::vector<std::string> ColumnNames(const nlohmann::json& crd) {
  std::vector<std::string> names;
  for (const auto& c : Version(crd)["additionalPrinterColumns"]) names.push_back(c["name"]);
  return names;
}

TEST(ApiCrdSchemaTest, PrinterColumns) {
  EXPECT_THAT(ColumnNames(LoadCrd(Rollout::kPlural)),
              ElementsAreArray({"Desired", "Current", "Up-to-date", "Available", "Phase", "Step",
                                "Weight", "Age"}));
  EXPECT_THAT(ColumnNames(LoadCrd(Application::kPlural)),
              ElementsAreArray({"Source", "Revision", "Sync", "Health", "Ready", "Age"}));
  EXPECT_THAT(ColumnNames(LoadCrd(GitRepository::kPlural)),
              ElementsAreArray({"URL", "Revision", "Ready", "Status", "Age"}));
  EXPECT_THAT(ColumnNames(LoadCrd(AnalysisRun::kPlural)), ElementsAreArray({"Phase", "Age"}));
  nlohmann::json rollout_columns = Version(LoadCrd(Rollout::kPlural))["additionalPrinterColumns"];
  EXPECT_EQ(rollout_columns[5]["jsonPath"], ".status.currentStepIndex");
  EXPECT_EQ(rollout_columns[6]["jsonPath"], ".status.canary.weights.canary.weight");
}

template <typename E>
nlohmann::json EnumNames() {
  nlohmann::json names = nlohmann::json::array();
  for (const auto& [value, name] : EnumTraits<E>::kNames) names.push_back(std::string(name));
  return names;
}

TEST(ApiCrdSchemaTest, EnumsMatchTheTypes) {
  nlohmann::json rollouts = LoadCrd(Rollout::kPlural);
  EXPECT_EQ(SchemaAt(rollouts, "status.phase")["enum"], EnumNames<RolloutPhase>());
  EXPECT_EQ(SchemaAt(rollouts, "status.pauseConditions.[].reason")["enum"],
            EnumNames<PauseReason>());
  EXPECT_EQ(SchemaAt(rollouts, "status.canary.currentStepAnalysisRunStatus.status")["enum"],
            EnumNames<AnalysisPhase>());
  nlohmann::json apps = LoadCrd(Application::kPlural);
  EXPECT_EQ(SchemaAt(apps, "status.sync.status")["enum"], EnumNames<SyncStatusCode>());
  EXPECT_EQ(SchemaAt(apps, "status.health.status")["enum"], EnumNames<HealthStatusCode>());
  EXPECT_EQ(SchemaAt(apps, "status.resources.[].status")["enum"], EnumNames<SyncStatusCode>());
  nlohmann::json runs = LoadCrd(AnalysisRun::kPlural);
  EXPECT_EQ(SchemaAt(runs, "status.phase")["enum"], EnumNames<AnalysisPhase>());
  EXPECT_EQ(SchemaAt(runs, "status.metricResults.[].measurements.[].phase")["enum"],
            EnumNames<AnalysisPhase>());
}

TEST(ApiCrdSchemaTest, AnalysisSchemasAreTheSameInEveryCrd) {
  nlohmann::json templates = LoadCrd(AnalysisTemplate::kPlural);
  nlohmann::json cluster = LoadCrd(ClusterAnalysisTemplate::kPlural);
  nlohmann::json runs = LoadCrd(AnalysisRun::kPlural);
  EXPECT_EQ(SchemaAt(templates, "spec"), SchemaAt(cluster, "spec"));
  EXPECT_EQ(SchemaAt(templates, "status"), SchemaAt(cluster, "status"));
  for (const char* field : {"spec.metrics", "spec.args", "spec.dryRun"}) {
    EXPECT_EQ(SchemaAt(templates, field), SchemaAt(runs, field)) << field;
  }
  // A Rollout's analysis has the same dryRun shape and the same conditions everywhere.
  nlohmann::json rollouts = LoadCrd(Rollout::kPlural);
  EXPECT_EQ(SchemaAt(rollouts, "spec.strategy.canary.analysis.dryRun"),
            SchemaAt(templates, "spec.dryRun"));
  for (std::string_view plural : {GitRepository::kPlural, Application::kPlural}) {
    EXPECT_EQ(SchemaAt(LoadCrd(plural), "status.conditions"),
              SchemaAt(rollouts, "status.conditions"));
  }
}

// Every `default` in `schema` whose parent object is present in `value` must equal what the
// C++ type wrote there.
void ExpectDefaults(const nlohmann::json& schema, const nlohmann::json& value,
                    const std::string& path, int& checked) {
  if (schema.contains("properties") && value.is_object()) {
    for (const auto& [name, sub] : schema["properties"].items()) {
      std::string child = path.empty() ? name : path + "." + name;
      if (sub.contains("default")) {
        ++checked;
        EXPECT_TRUE(value.contains(name)) << child << ": C++ did not default it";
        if (value.contains(name)) {
          EXPECT_EQ(value[name], sub["default"]) << child;
        }
      }
      if (value.contains(name)) ExpectDefaults(sub, value[name], child, checked);
    }
  }
  if (schema.contains("items") && value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) {
      ExpectDefaults(schema["items"], value[i], path + "[" + std::to_string(i) + "]", checked);
    }
  }
}

template <typename T>
void ExpectDefaultsOf(const nlohmann::json& minimal, int& checked) {
  Result<T> object = T::FromJson(minimal);
  ASSERT_TRUE(object.ok()) << object.status().ToString();
  ExpectDefaults(Schema(LoadCrd(T::kPlural)), object->ToJson(), "", checked);
}

TEST(ApiCrdSchemaTest, SchemaDefaultsAreTheCppDefaults) {
  int checked = 0;
  ExpectDefaultsOf<GitRepository>({{"spec", {{"url", "https://example.com/r.git"}}}}, checked);
  ExpectDefaultsOf<Application>({{"spec", {{"sourceRef", {{"name", "r"}}}}}}, checked);
  nlohmann::json analysis = {{"templates", {{{"templateName", "t"}}}}};
  nlohmann::json canary = R"({"spec": {"strategy": {"canary": {
      "trafficRouting": {"nginx": {"stableIngress": "web"}},
      "steps": [{"setWeight": 10}]}}}})"_json;
  canary["spec"]["strategy"]["canary"]["analysis"] = analysis;
  ExpectDefaultsOf<Rollout>(canary, checked);
  nlohmann::json blue_green = {
      {"spec",
       {{"strategy",
         {{"blueGreen", {{"activeService", "a"}, {"prePromotionAnalysis", analysis}}}}}}}};
  ExpectDefaultsOf<Rollout>(blue_green, checked);
  nlohmann::json metrics = R"({"spec": {"metrics": [
      {"name": "p", "provider": {"prometheus": {"address": "http://p", "query": "up"}}},
      {"name": "w", "provider": {"web": {"url": "http://w"}}},
      {"name": "j", "provider": {"job": {"spec": {"template": {}}}}}]}})"_json;
  ExpectDefaultsOf<AnalysisTemplate>(metrics, checked);
  ExpectDefaultsOf<ClusterAnalysisTemplate>(metrics, checked);
  ExpectDefaultsOf<AnalysisRun>(metrics, checked);
  // GitRepository 2; Application 7; Rollout spec 4 twice, canary 4, blueGreen 3; per analysis
  // kind 3 limits x 3 metrics + web method and timeoutSeconds.
  EXPECT_EQ(checked, 2 + 7 + (4 + 4) + (4 + 3) + 3 * (3 * 3 + 2));
}

}  // namespace
}  // namespace gantry::api
