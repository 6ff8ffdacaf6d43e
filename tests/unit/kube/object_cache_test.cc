#include "operator/kube/object_cache.h"

#include <gtest/gtest.h>

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

TEST(ObjectCacheTest, IndexesFollowUpdatesAndRemovals) {
  ObjectCache cache;
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

TEST(ObjectCacheTest, ReplaceReportsTheDelta) {
  ObjectCache cache;
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

TEST(ObjectCacheTest, CustomIndexOnlyWhileEmpty) {
  ObjectCache cache;
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

}  // namespace
}  // namespace gantry::kube
