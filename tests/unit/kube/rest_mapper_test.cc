#include "operator/kube/rest_mapper.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gantry::kube {
namespace {

using ::testing::HasSubstr;

// An APIResourceList as /apis/apps/v1 answers it (trimmed).
Object AppsV1() {
  return Object::parse(R"({
    "kind": "APIResourceList", "groupVersion": "apps/v1",
    "resources": [
      {"name": "deployments", "namespaced": true, "kind": "Deployment",
       "verbs": ["create","delete","get","list","patch","update","watch"]},
      {"name": "deployments/scale", "namespaced": true, "kind": "Scale", "group": "autoscaling",
       "version": "v1"},
      {"name": "deployments/status", "namespaced": true, "kind": "Deployment"},
      {"name": "replicasets", "namespaced": true, "kind": "ReplicaSet"}
    ]})");
}

TEST(RestMapperTest, ParsesResourcesAndSubresources) {
  auto parsed = RestMapper::ParseResourceList(AppsV1(), "apps", "v1");
  ASSERT_TRUE(parsed.ok());
  const RestMapping& d = parsed->at("Deployment");
  EXPECT_EQ(d.resource, "deployments");
  EXPECT_TRUE(d.namespaced);
  EXPECT_EQ(d.gvk.ApiVersion(), "apps/v1");
  EXPECT_THAT(d.subresources, ::testing::UnorderedElementsAre("scale", "status"));
  EXPECT_THAT(d.verbs, ::testing::Contains("watch"));
  EXPECT_EQ(parsed->count("Scale"), 0u);  // a subresource's kind is not a top-level kind
}

TEST(RestMapperTest, CachesAndLooksAgainOnlyOnMiss) {
  int fetches = 0;
  bool crd_installed = false;
  RestMapper mapper([&](const std::string& path) -> Result<Object> {
    ++fetches;
    if (path == "/apis/apps/v1") return AppsV1();
    if (path == "/api/v1") {
      return Object::parse(
          R"({"resources":[{"name":"namespaces","namespaced":false,"kind":"Namespace"}]})");
    }
    if (path == "/apis/example.com/v1" && crd_installed) {
      return Object::parse(
          R"({"resources":[{"name":"widgets","namespaced":true,"kind":"Widget"}]})");
    }
    return NotFound("404 page not found");
  });
  EXPECT_EQ(mapper.Mapping({"apps", "v1", "Deployment"})->resource, "deployments");
  EXPECT_EQ(mapper.Mapping({"apps", "v1", "ReplicaSet"})->resource, "replicasets");
  EXPECT_EQ(fetches, 1);
  EXPECT_FALSE(mapper.Mapping({"", "v1", "Namespace"})->namespaced);
  EXPECT_EQ(fetches, 2);

  Result<RestMapping> missing = mapper.Mapping({"apps", "v1", "StatefulSet"});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(),
              HasSubstr("no kind \"StatefulSet\" is served in apps/v1"));
  EXPECT_EQ(fetches, 3);  // a miss looks again

  Result<RestMapping> no_group = mapper.Mapping({"example.com", "v1", "Widget"});
  EXPECT_EQ(no_group.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(no_group.status().message(),
              HasSubstr("does not serve API group/version example.com/v1"));
  crd_installed = true;
  EXPECT_EQ(mapper.Mapping({"example.com", "v1", "Widget"})->resource, "widgets");

  EXPECT_EQ(mapper.Mapping({"apps", "", "Deployment"}).status().code(),
            StatusCode::kInvalidArgument);

  // From the resource name back to the kind, through the same cache.
  int before = fetches;
  Result<RestMapping> by_resource = mapper.MappingForResource("apps", "v1", "replicasets");
  ASSERT_TRUE(by_resource.ok());
  EXPECT_EQ(by_resource->gvk.kind, "ReplicaSet");
  EXPECT_EQ(fetches, before);
  Result<RestMapping> unknown = mapper.MappingForResource("apps", "v1", "widgets");
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(unknown.status().message(),
              HasSubstr("no resource \"widgets\" is served in apps/v1"));
}

TEST(RestMapperTest, OtherErrorsPassThroughWithContext) {
  RestMapper mapper(
      [](const std::string&) -> Result<Object> { return Status(StatusCode::kForbidden, "nope"); });
  Result<RestMapping> m = mapper.Mapping({"apps", "v1", "Deployment"});
  EXPECT_EQ(m.status().code(), StatusCode::kForbidden);
  EXPECT_THAT(m.status().message(), HasSubstr("discovery of apps/v1"));
}

}  // namespace
}  // namespace gantry::kube
