#include "operator/manifest/loader.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace gantry::manifest {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const fs::path kTestdata = fs::path(GANTRY_TESTDATA_DIR) / "manifests";

std::vector<std::string> Origins(const LoadResult& result) {
  std::vector<std::string> out;
  for (const Object& o : result.objects) out.push_back(o.Origin());
  return out;
}

std::vector<std::string> Skipped(const LoadResult& result) {
  std::vector<std::string> out;
  for (const SkippedFile& s : result.skipped) out.push_back(s.ToString());
  return out;
}

// A scratch repository root, removed after the test.
class TempRepo : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "gantry-manifest-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    base_ = pattern;
    root_ = base_ / "repo";
    fs::create_directories(root_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }

  void Write(const std::string& relative, std::string_view content) {
    fs::path p = root_ / relative;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
  }

  std::string LoadError(std::string_view path = "./", const LoadOptions& options = {}) {
    Result<LoadResult> result = LoadManifests(root_, path, options);
    EXPECT_FALSE(result.ok());
    return result.ok() ? "" : result.status().message();
  }

  fs::path base_;
  fs::path root_;
};

constexpr std::string_view kConfigMap = R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: {}
  namespace: shop
)";

std::string ConfigMap(std::string_view name) { return fmt::format(kConfigMap, name); }

TEST(LoadManifestsTest, LoadsTheExampleApp) {
  Result<LoadResult> result = LoadManifests(kTestdata / "app");
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_THAT(
      Origins(*result),
      ElementsAre("config/configmap.yaml:2", "namespace.yaml:1", "workloads/deployment.yaml:1",
                  "workloads/extras.yaml:3", "workloads/extras.yaml:10", "workloads/extras.yaml:23",
                  "workloads/extras.yaml:32", "workloads/service.json:1"));
  EXPECT_THAT(
      Skipped(*result),
      ElementsAre(".hidden: hidden file or directory", "README.md: not a .yaml/.yml/.json file",
                  "config/values.yaml: YAML without apiVersion/kind",
                  StartsWith("kustomization.yaml: a Kustomize file, not a Kubernetes object "
                             "(Kustomize is not supported")));

  const json& config = result->objects[0].json;
  EXPECT_EQ(config["data"]["FEATURE_CHECKOUT"], "yes");
  EXPECT_EQ(config["data"]["nginx.conf"], "server {\n  listen 8080;\n}\n");

  const json& deployment = result->objects[2].json;
  EXPECT_EQ(deployment["spec"]["replicas"], 3);
  EXPECT_EQ(deployment["spec"]["selector"]["matchLabels"],
            (json{{"app.kubernetes.io/name", "web"}}));
  EXPECT_EQ(deployment["spec"]["template"]["metadata"]["labels"], deployment["metadata"]["labels"]);

  EXPECT_EQ(result->objects[5].json["kind"], "Role");
  EXPECT_EQ(result->objects[5].index, 2);
  EXPECT_EQ(result->objects[6].json["kind"], "RoleBinding");
  EXPECT_EQ(result->objects[7].json["spec"]["ports"][0]["port"], 80);
}

TEST(LoadManifestsTest, SubPathAndSingleFile) {
  Result<LoadResult> sub = LoadManifests(kTestdata / "app", "workloads/");
  ASSERT_TRUE(sub.ok()) << sub.status().message();
  EXPECT_EQ(sub->objects.size(), 6u);
  EXPECT_EQ(sub->objects[0].file, "workloads/deployment.yaml");

  Result<LoadResult> leading_slash = LoadManifests(kTestdata / "app", "/workloads");
  ASSERT_TRUE(leading_slash.ok());
  EXPECT_EQ(leading_slash->objects.size(), 6u);

  Result<LoadResult> file = LoadManifests(kTestdata / "app", "./config/../namespace.yaml");
  ASSERT_TRUE(file.ok()) << file.status().message();
  EXPECT_THAT(Origins(*file), ElementsAre("namespace.yaml:1"));
}

TEST(LoadManifestsTest, InvalidObjectsFailTheWholeLoadNamingFileAndLine) {
  Result<LoadResult> result = LoadManifests(kTestdata / "broken");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  const std::string& message = result.status().message();
  EXPECT_THAT(message, StartsWith("invalid.yaml:1: metadata.generateName is not supported"));
  EXPECT_THAT(message, HasSubstr("(object Deployment shop/web-*)"));
  EXPECT_THAT(message, HasSubstr("\ninvalid.yaml:7: metadata.name \"Bad_Name\" is not a valid "
                                 "ConfigMap name"));
  EXPECT_THAT(message, HasSubstr("(object ConfigMap shop/Bad_Name)"));
  EXPECT_THAT(message, HasSubstr("\ninvalid.yaml:13: annotation gantry.io/sync-wave is \"soon\", "
                                 "which is not an integer"));
  EXPECT_THAT(message, HasSubstr("(object ConfigMap shop/late)"));
  EXPECT_THAT(message, HasSubstr("\nsyntax.yaml:8:"));
  EXPECT_EQ(result.status().causes().size(), 4u);
}

TEST(LoadManifestsTest, DuplicateObjectsNameBothFiles) {
  Result<LoadResult> result = LoadManifests(kTestdata / "duplicate");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            "b.yaml:2: the same object is already defined at a.yaml:1 (object ConfigMap "
            "shop/settings)");
}

TEST_F(TempRepo, DuplicateAcrossApiVersionsOfOneGroup) {
  Write("a.yaml",
        "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\n"
        "metadata: {name: web, namespace: shop}\n");
  Write("b.yaml",
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n"
        "metadata: {name: web, namespace: shop}\n");
  EXPECT_THAT(LoadError(), HasSubstr("b.yaml:1: the same object is already defined at a.yaml:1"));
}

TEST_F(TempRepo, PathErrors) {
  Write("apps/cm.yaml", ConfigMap("a"));
  EXPECT_THAT(LoadError("../"), HasSubstr("path \"../\" leads outside the repository"));
  EXPECT_THAT(LoadError("apps/../../etc"), HasSubstr("leads outside the repository"));
  Result<LoadResult> missing = LoadManifests(root_, "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("path \"nope\" does not exist"));

  Result<LoadResult> no_root = LoadManifests(base_ / "absent");
  EXPECT_EQ(no_root.status().code(), StatusCode::kNotFound);

  fs::create_directories(base_ / "outside");
  fs::create_directory_symlink(base_ / "outside", root_ / "escape");
  EXPECT_THAT(LoadError("escape"), HasSubstr("leads outside the repository through a symlink"));
}

TEST_F(TempRepo, SymlinkOutOfTheRootIsAnError) {
  Write("cm.yaml", ConfigMap("a"));
  std::ofstream(base_ / "secret.yaml") << ConfigMap("stolen");
  fs::create_symlink(base_ / "secret.yaml", root_ / "link.yaml");
  fs::create_symlink("../../../../../../etc", root_ / "etc");
  std::string message = LoadError();
  EXPECT_THAT(message, HasSubstr("etc: symlink to ../../../../../../etc leads outside the "
                                 "repository"));
  EXPECT_THAT(message, HasSubstr("link.yaml: symlink to "));
  EXPECT_THAT(message, ::testing::Not(HasSubstr("stolen")));
}

// A link out of the root whose target is missing here is still an escape, not a broken link
// to skip: on another machine the target may exist, and the commit must be refused either way.
TEST_F(TempRepo, DanglingSymlinkOutOfTheRootIsAnError) {
  Write("cm.yaml", ConfigMap("a"));
  fs::create_symlink("../../not-here.yaml", root_ / "up.yaml");
  fs::create_symlink("/nonexistent-gantry-test/x.yaml", root_ / "abs.yaml");
  fs::create_symlink("sub/../nowhere.yaml", root_ / "inside.yaml");
  std::string message = LoadError();
  EXPECT_THAT(message, HasSubstr("up.yaml: symlink to ../../not-here.yaml leads outside the "
                                 "repository"));
  EXPECT_THAT(message, HasSubstr("abs.yaml: symlink to /nonexistent-gantry-test/x.yaml leads "
                                 "outside the repository"));
  EXPECT_THAT(message, ::testing::Not(HasSubstr("inside.yaml")));
}

TEST_F(TempRepo, SymlinksInsideTheRootAreFollowedOnce) {
  Write("base/cm.yaml", ConfigMap("a"));
  Write("other.yaml", ConfigMap("b"));
  fs::create_directory_symlink("base", root_ / "overlay");
  fs::create_symlink("other.yaml", root_ / "same.yaml");
  fs::create_symlink("base/cm.yaml", root_ / "z-link.yaml");
  fs::create_symlink("nowhere.yaml", root_ / "dangling.yaml");
  Result<LoadResult> result = LoadManifests(root_);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_THAT(Origins(*result), ElementsAre("base/cm.yaml:1", "other.yaml:1"));
  EXPECT_THAT(Skipped(*result),
              ElementsAre("dangling.yaml: broken symlink to nowhere.yaml",
                          "overlay: the same directory as base, already loaded",
                          "same.yaml: the same file as other.yaml, already loaded",
                          "z-link.yaml: the same file as base/cm.yaml, already loaded"));
}

TEST_F(TempRepo, SymlinkedDirectoryIsLoadedUnderItsOwnPath) {
  Write("real/cm.yaml", ConfigMap("a"));
  fs::create_directory_symlink("real", root_ / "app");
  Result<LoadResult> result = LoadManifests(root_, "app");
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_THAT(Origins(*result), ElementsAre("app/cm.yaml:1"));
}

TEST_F(TempRepo, SymlinkLoopsAreErrors) {
  Write("dir/cm.yaml", ConfigMap("a"));
  fs::create_directory_symlink("..", root_ / "dir" / "up");
  fs::create_symlink("self.yaml", root_ / "self.yaml");
  std::string message = LoadError();
  EXPECT_THAT(message, HasSubstr("dir/up: symlink loop: it leads back to the root"));
  EXPECT_THAT(message, HasSubstr("self.yaml: symlink loop"));
}

TEST_F(TempRepo, FileOverTheSizeLimit) {
  Write("small.yaml", ConfigMap("a"));
  std::string big =
      ConfigMap("big") + "data:\n  blob: \"" + std::string(4 * 1024 * 1024, 'x') + "\"\n";
  Write("big.yaml", big);
  Write("notes.txt", big);  // not a manifest: never read, so no limit applies
  EXPECT_THAT(LoadError(), HasSubstr(fmt::format("big.yaml: the file is {} bytes, over the limit "
                                                 "of 4194304 bytes",
                                                 big.size())));
  LoadOptions roomy;
  roomy.max_file_bytes = 8 * 1024 * 1024;
  Result<LoadResult> result = LoadManifests(root_, "./", roomy);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->objects.size(), 2u);
}

TEST_F(TempRepo, TooManyObjects) {
  std::string many;
  for (int i = 0; i <= 10'000; ++i) many += "---\n" + ConfigMap(fmt::format("cm-{}", i));
  Write("many.yaml", many);
  std::string message = LoadError();
  EXPECT_THAT(message, HasSubstr("more than 10000 objects in this revision"));
  EXPECT_THAT(message, StartsWith("many.yaml:"));

  LoadOptions tight;
  tight.max_objects = 2;
  Write("many.yaml", ConfigMap("a") + "---\n" + ConfigMap("b"));
  Write("more.yaml", ConfigMap("c"));
  EXPECT_THAT(LoadError("./", tight), HasSubstr("more.yaml:1: more than 2 objects"));
}

TEST_F(TempRepo, DocumentsThatAreNotMappings) {
  Write("mixed.yaml", ConfigMap("a") + "---\njust a string\n---\n- a\n- list\n");
  std::string message = LoadError();
  EXPECT_THAT(message, HasSubstr("mixed.yaml:7: the document is a string, not a mapping"));
  EXPECT_THAT(message, HasSubstr("mixed.yaml:9: the document is a list, not a mapping"));
}

TEST_F(TempRepo, NonManifestFilesAreSkippedWithAReason) {
  Write("package.json", R"({"name": "tooling", "version": "1.0.0"})");
  Write("ci.yml", "stages: [build, test]\n");
  Write("list.yaml", "- a\n- b\n");
  Write("comments.yaml", "# nothing here yet\n---\n");
  Write("empty.yaml", "");
  Write("Kustomization", "resources: []\n");
  Write("docs/guide.md", "# Guide\n");
  Write("cm.yaml", ConfigMap("a"));
  Result<LoadResult> result = LoadManifests(root_);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_THAT(Origins(*result), ElementsAre("cm.yaml:1"));
  EXPECT_THAT(Skipped(*result),
              ElementsAre(StartsWith("Kustomization: a Kustomize file"),
                          "ci.yml: YAML without apiVersion/kind",
                          "comments.yaml: no documents (only comments or empty documents)",
                          "docs/guide.md: not a .yaml/.yml/.json file", "empty.yaml: empty file",
                          "list.yaml: YAML without apiVersion/kind",
                          "package.json: JSON without apiVersion/kind"));
}

TEST_F(TempRepo, KustomizeDocumentAmongObjectsIsSkipped) {
  Write("all.yaml",
        ConfigMap("a") + "---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n");
  Result<LoadResult> result = LoadManifests(root_);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->objects.size(), 1u);
  EXPECT_THAT(Skipped(*result),
              ElementsAre(StartsWith("all.yaml:7: a Kustomize Kustomization, not a Kubernetes")));
}

TEST_F(TempRepo, ListsAreFlattened) {
  Write("list.json", R"({"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "shop"}},
  {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "namespace": "shop"}}
]})");
  Write("cms.yaml", R"(apiVersion: v1
kind: ConfigMapList
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: c, namespace: shop}
)");
  Result<LoadResult> result = LoadManifests(root_);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_THAT(Origins(*result), ElementsAre("cms.yaml:4", "list.json:2", "list.json:3"));
  EXPECT_EQ(result->objects[2].json["metadata"]["name"], "b");
  EXPECT_EQ(result->objects[2].index, 1);
}

TEST_F(TempRepo, BadListItems) {
  Write("list.yaml", "apiVersion: v1\nkind: List\nitems:\n- 5\n- kind: ConfigMap\n");
  std::string message = LoadError();
  EXPECT_THAT(message, HasSubstr("list.yaml:4: item 0 of the List is a number, not a mapping"));
  EXPECT_THAT(message, HasSubstr("list.yaml:5: apiVersion is missing (object ConfigMap)"));
}

TEST_F(TempRepo, SyntaxErrorsInJsonAndYaml) {
  Write("a.json", "{\"apiVersion\": \"v1\",\n \"kind\": }");
  Write("b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n   bad: indent\n");
  std::string message = LoadError();
  EXPECT_THAT(message, StartsWith("a.json:2:"));
  EXPECT_THAT(message, HasSubstr("\nb.yaml:"));
}

TEST_F(TempRepo, ManyProblemsAreCountedBeyondTheListed) {
  std::string bad;
  for (int i = 0; i < 30; ++i) bad += fmt::format("---\napiVersion: v1\nkind: ConfigMap\n");
  Write("bad.yaml", bad);
  std::string message = LoadError();
  EXPECT_THAT(message, StartsWith("bad.yaml:2: metadata is missing"));
  EXPECT_THAT(message, HasSubstr("\n(and 10 more problems)"));
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 20);
}

TEST(ParseManifestFileTest, ParsesContentWithoutACheckout) {
  Result<ParsedFile> parsed =
      ParseManifestFile(ConfigMap("a") + "---\n" + ConfigMap("b"), "apps/cms.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ASSERT_EQ(parsed->objects.size(), 2u);
  EXPECT_EQ(parsed->objects[1].Origin(), "apps/cms.yaml:7");
  EXPECT_EQ(parsed->objects[1].index, 1);

  Result<ParsedFile> readme = ParseManifestFile("# hi", "README.md");
  ASSERT_TRUE(readme.ok());
  EXPECT_TRUE(readme->objects.empty());
  EXPECT_THAT(readme->skipped, ::testing::SizeIs(1));

  Result<ParsedFile> bad = ParseManifestFile("apiVersion: v1\nkind: ConfigMap\n", "x.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "x.yaml:1: metadata is missing (every object needs metadata.name) (object ConfigMap)");
}

bool NamespacedExceptNamespaceAndClusterRole(const GroupKind& gk) {
  return !(gk.kind == "Namespace" || gk.kind == "ClusterRole");
}

TEST(ApplyTargetNamespaceTest, DefaultsNamespacedObjects) {
  std::vector<Object> objects = {
      Object{json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "a"}}}},
             "a.yaml", 1, 0},
      Object{json{{"apiVersion", "v1"},
                  {"kind", "ConfigMap"},
                  {"metadata", {{"name", "b"}, {"namespace", "kept"}}}},
             "b.yaml", 1, 0},
      Object{json{{"apiVersion", "v1"},
                  {"kind", "Namespace"},
                  {"metadata", {{"name", "shop"}, {"namespace", "stray"}}}},
             "ns.yaml", 1, 0},
      Object{json{{"apiVersion", "rbac.authorization.k8s.io/v1"},
                  {"kind", "ClusterRole"},
                  {"metadata", {{"name", "reader"}}}},
             "cr.yaml", 1, 0},
  };
  ASSERT_TRUE(ApplyTargetNamespace(objects, "shop", NamespacedExceptNamespaceAndClusterRole).ok());
  EXPECT_EQ(objects[0].json["metadata"]["namespace"], "shop");
  EXPECT_EQ(objects[1].json["metadata"]["namespace"], "kept");
  EXPECT_FALSE(objects[2].json["metadata"].contains("namespace"));
  EXPECT_FALSE(objects[3].json["metadata"].contains("namespace"));
}

TEST(ApplyTargetNamespaceTest, DuplicatesAfterDefaultingAreErrors) {
  std::vector<Object> objects = {
      Object{json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "a"}}}},
             "a.yaml", 3, 0},
      Object{json{{"apiVersion", "v1"},
                  {"kind", "ConfigMap"},
                  {"metadata", {{"name", "a"}, {"namespace", "shop"}}}},
             "b.yaml", 5, 0},
  };
  Status status = ApplyTargetNamespace(objects, "shop", NamespacedExceptNamespaceAndClusterRole);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(),
            "b.yaml:5: the same object is already defined at a.yaml:3 (object ConfigMap shop/a)");
}

TEST(ApplyTargetNamespaceTest, InvalidTargetNamespace) {
  std::vector<Object> objects;
  Status status =
      ApplyTargetNamespace(objects, "Not_Valid", NamespacedExceptNamespaceAndClusterRole);
  EXPECT_THAT(status.message(), HasSubstr("targetNamespace \"Not_Valid\""));
}

}  // namespace
}  // namespace gantry::manifest
