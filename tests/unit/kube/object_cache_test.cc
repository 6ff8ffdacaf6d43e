#include "operator/kube/object_cache.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdio>

namespace gantry::kube {
namespace {

ObjectPtr Obj(const std::string& ns, const std::string& name, const std::string& rv,
              Object labels = Object::object()) {
  return std::make_shared<const Object>(
      Object{{"metadata",
              {{"namespace", ns}, {"name", name}, {"resourceVersion", rv}, {"labels", labels}}}});
}

std::vector<std::string> Names(const std::vector<ObjectPtr>& objects) {
  std::vector<std::string> out;
  for (const ObjectPtr& o : objects) out.push_back(KeyOf(*o).ToString());
  return out;
}

// Every behaviour holds for both ways of storing objects.
class ObjectCacheTest : public ::testing::TestWithParam<CacheStorage> {};

INSTANTIATE_TEST_SUITE_P(Storage, ObjectCacheTest,
                         ::testing::Values(CacheStorage::kTree, CacheStorage::kPacked),
                         [](const ::testing::TestParamInfo<CacheStorage>& storage) {
                           return storage.param == CacheStorage::kTree ? "Tree" : "Packed";
                         });

TEST_P(ObjectCacheTest, IndexesFollowUpdatesAndRemovals) {
  ObjectCache cache(GetParam());
  cache.Upsert(Obj("a", "web", "1", {{"app", "web"}, {"tier", "front"}}));
  cache.Upsert(Obj("a", "db", "1", {{"app", "db"}}));
  cache.Upsert(Obj("b", "web", "1", {{"app", "web"}}));

  EXPECT_EQ(Names(cache.List()), (std::vector<std::string>{"a/db", "a/web", "b/web"}));
  EXPECT_EQ(Names(cache.List("a")), (std::vector<std::string>{"a/db", "a/web"}));
  EXPECT_EQ(Names(cache.List("", *LabelSelector::Parse("app=web"))),
            (std::vector<std::string>{"a/web", "b/web"}));
  EXPECT_EQ(Names(cache.List("a", *LabelSelector::Parse("app=web,tier"))),
            (std::vector<std::string>{"a/web"}));
  EXPECT_EQ(Names(cache.List("", *LabelSelector::Parse("app!=web"))),
            (std::vector<std::string>{"a/db"}));
  EXPECT_TRUE(cache.List("c").empty());
  EXPECT_TRUE(cache.List("", *LabelSelector::Parse("app=none")).empty());

  // Relabelling moves the object between index entries.
  ObjectPtr old = cache.Upsert(Obj("a", "web", "2", {{"app", "api"}}));
  ASSERT_NE(old, nullptr);
  EXPECT_EQ(ResourceVersionOf(*old), "1");
  EXPECT_EQ(Names(cache.ByIndex(ObjectCache::kLabelIndex, "app=web")),
            (std::vector<std::string>{"b/web"}));
  EXPECT_EQ(Names(cache.ByIndex(ObjectCache::kLabelIndex, "app=api")),
            (std::vector<std::string>{"a/web"}));
  EXPECT_TRUE(cache.ByIndex(ObjectCache::kLabelIndex, "tier=front").empty());

  ASSERT_NE(cache.Remove({"b", "web"}), nullptr);
  EXPECT_EQ(cache.Remove({"b", "web"}), nullptr);
  EXPECT_TRUE(cache.ByIndex(ObjectCache::kNamespaceIndex, "b").empty());
  EXPECT_EQ(cache.Size(), 2u);
}

TEST_P(ObjectCacheTest, ReplaceReportsTheDelta) {
  ObjectCache cache(GetParam());
  cache.Upsert(Obj("n", "same", "1"));
  cache.Upsert(Obj("n", "changed", "1"));
  cache.Upsert(Obj("n", "gone", "1"));
  ObjectCache::ReplaceDelta delta =
      cache.Replace({Obj("n", "same", "1"), Obj("n", "changed", "2"), Obj("n", "new", "1")});
  EXPECT_EQ(Names(delta.added), (std::vector<std::string>{"n/new"}));
  ASSERT_EQ(delta.updated.size(), 1u);
  EXPECT_EQ(ResourceVersionOf(*delta.updated[0].first), "1");
  EXPECT_EQ(ResourceVersionOf(*delta.updated[0].second), "2");
  EXPECT_EQ(Names(delta.deleted), (std::vector<std::string>{"n/gone"}));
  EXPECT_EQ(Names(cache.List()), (std::vector<std::string>{"n/changed", "n/new", "n/same"}));
  EXPECT_TRUE(cache.ByIndex(ObjectCache::kNamespaceIndex, "n").size() == 3);
}

TEST_P(ObjectCacheTest, CustomIndexOnlyWhileEmpty) {
  ObjectCache cache(GetParam());
  auto by_name_length = [](const Object& o) {
    return std::vector<std::string>{std::to_string(NameOf(o).size())};
  };
  ASSERT_TRUE(cache.AddIndex("len", by_name_length).ok());
  EXPECT_FALSE(cache.AddIndex("len", by_name_length).ok());
  cache.Upsert(Obj("n", "abc", "1"));
  cache.Upsert(Obj("n", "xyz", "1"));
  cache.Upsert(Obj("n", "toolong", "1"));
  EXPECT_EQ(cache.ByIndex("len", "3").size(), 2u);
  EXPECT_FALSE(cache.AddIndex("later", by_name_length).ok());
  EXPECT_TRUE(cache.ByIndex("unknown", "x").empty());
}

TEST_P(ObjectCacheTest, ClusterScopedObjectsAndNamespacesThatArePrefixesOfOthers) {
  ObjectCache cache(GetParam());
  cache.Upsert(Obj("", "cluster-wide", "1"));
  cache.Upsert(Obj("ns", "a", "1"));
  cache.Upsert(Obj("ns2", "b", "1"));
  EXPECT_EQ(Names(cache.List("ns")), (std::vector<std::string>{"ns/a"}));
  EXPECT_EQ(Names(cache.List()), (std::vector<std::string>{"cluster-wide", "ns/a", "ns2/b"}));
  ASSERT_NE(cache.Get({"", "cluster-wide"}), nullptr);
  EXPECT_EQ(cache.Get({"ns", "b"}), nullptr);
}

// A packed object comes back whole: every type of JSON value, nesting, odd keys and non-ASCII
// text survive, and each read is a copy of its own.
TEST(ObjectCachePackedTest, ReadsGiveBackEqualCopies) {
  ObjectCache cache(CacheStorage::kPacked);
  auto object = std::make_shared<const Object>(Object::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"namespace": "n", "name": "web", "resourceVersion": "42", "generation": 7,
                 "labels": {"app.kubernetes.io/name": "web"},
                 "annotations": {"note": "grüße, 東京 \u0000 end"}},
    "spec": {"replicas": 3, "paused": false, "ratio": 0.25, "big": 18446744073709551615,
             "negative": -5, "empty": {}, "none": null, "list": [1, "two", [3], {"four": 4}]},
    "status": {"conditions": [{"type": "Available", "status": "True"}]}
  })"));
  ASSERT_EQ(cache.Upsert(object), nullptr);
  ObjectPtr first = cache.Get({"n", "web"});
  ObjectPtr second = cache.Get({"n", "web"});
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(*first, *object);
  EXPECT_EQ(*second, *object);
  EXPECT_NE(first.get(), second.get());
  EXPECT_EQ(cache.List()[0]->dump(), object->dump());
  EXPECT_EQ(Names(cache.ByIndex(ObjectCache::kLabelIndex, "app.kubernetes.io/name=web")),
            (std::vector<std::string>{"n/web"}));
}

// Bytes allocated (and still held) by `fill`, counted by glibc.
template <typename F>
size_t HeldBytes(F&& fill) {
  malloc_trim(0);
  size_t before = mallinfo2().uordblks;
  fill();
  return mallinfo2().uordblks - before;
}

// What packing is for: a cache of many small objects, such as the ConfigMaps an Application
// manages, in a fraction of the memory. The objects are shaped like those the API server sends
// (a short value, server metadata, Gantry's labels).
TEST(ObjectCachePackedTest, TakesAFractionOfTheTreesMemory) {
#if defined(__SANITIZE_ADDRESS__)
  // HeldBytes reads glibc's malloc statistics; under AddressSanitizer its allocator serves every
  // allocation and glibc's counters stay at zero, so there is nothing to measure.
  GTEST_SKIP() << "heap statistics are ASan's, not glibc's, in a sanitizer build";
#endif
  constexpr int kObjects = 2000;
  auto config_map = [](int i) {
    return std::make_shared<const Object>(
        Object{{"apiVersion", "v1"},
               {"kind", "ConfigMap"},
               {"metadata",
                {{"name", "config-" + std::to_string(i)},
                 {"namespace", "team-a"},
                 {"uid", "3f0c2a4e-8d1b-4c55-9b7e-" + std::to_string(100000000000 + i)},
                 {"resourceVersion", std::to_string(1000000 + i)},
                 {"creationTimestamp", "2026-11-29T22:00:00Z"},
                 {"labels",
                  {{"app.kubernetes.io/managed-by", "gantry"},
                   {"gantry.io/application-name", "app-" + std::to_string(i / 100)},
                   {"gantry.io/application-namespace", "team-a"}}}}},
               {"data", {{"value", std::string(200, 'v')}, {"app", "app-" + std::to_string(i)}}}});
  };
  ObjectCache tree(CacheStorage::kTree);
  ObjectCache packed(CacheStorage::kPacked);
  size_t tree_bytes = HeldBytes([&] {
    for (int i = 0; i < kObjects; ++i) tree.Upsert(config_map(i));
  });
  size_t packed_bytes = HeldBytes([&] {
    for (int i = 0; i < kObjects; ++i) packed.Upsert(config_map(i));
  });
  RecordProperty("tree_bytes_per_object", std::to_string(tree_bytes / kObjects));
  RecordProperty("packed_bytes_per_object", std::to_string(packed_bytes / kObjects));
  std::printf("bytes per cached object: tree %zu, packed %zu\n", tree_bytes / kObjects,
              packed_bytes / kObjects);
  EXPECT_LT(packed_bytes * 2, tree_bytes);
  // The packed object itself is not much larger than its JSON text.
  EXPECT_LT(packed_bytes / kObjects, config_map(0)->dump().size() + 700);
}

}  // namespace
}  // namespace gantry::kube
