#include "operator/controller/handlers.h"

#include <gtest/gtest.h>

namespace gantry::controller {
namespace {

kube::ObjectPtr ReplicaSet(const std::string& name, kube::Object owners) {
  return std::make_shared<const kube::Object>(kube::Object{
      {"apiVersion", "apps/v1"},
      {"kind", "ReplicaSet"},
      {"metadata", {{"name", name}, {"namespace", "shop"}, {"ownerReferences", owners}}}});
}

kube::Object Owner(const std::string& api_version, const std::string& kind, const std::string& name,
                   bool controller) {
  return {{"apiVersion", api_version}, {"kind", kind}, {"name", name}, {"controller", controller}};
}

std::vector<ObjectKey> Drain(WorkQueue& q) {
  std::vector<ObjectKey> out;
  while (std::optional<ObjectKey> k = q.TryGet()) {
    out.push_back(*k);
    q.Done(*k);
  }
  return out;
}

TEST(HandlersTest, EnqueueObjectOnEveryChange) {
  FakeClock clock;
  WorkQueue q(clock);
  kube::EventHandler h = EnqueueObject(q);
  kube::ObjectPtr rs = ReplicaSet("web-1", kube::Object::array());
  h.on_add(rs);
  EXPECT_EQ(Drain(q), (std::vector<ObjectKey>{{"shop", "web-1"}}));
  h.on_update(rs, rs);
  h.on_delete(rs);
  EXPECT_EQ(Drain(q), (std::vector<ObjectKey>{{"shop", "web-1"}}));
}

TEST(HandlersTest, EnqueueOwnerFollowsControllerReferencesOfTheKind) {
  FakeClock clock;
  WorkQueue q(clock);
  kube::EventHandler h = EnqueueOwner(q, "Rollout", "gantry.io");
  h.on_add(ReplicaSet(
      "a", kube::Object::array({Owner("gantry.io/v1alpha1", "Rollout", "web", true),
                                Owner("gantry.io/v1alpha1", "Rollout", "not-controller", false),
                                Owner("apps/v1", "Rollout", "other-group", true),
                                Owner("apps/v1", "Deployment", "dep", true)})));
  EXPECT_EQ(Drain(q), (std::vector<ObjectKey>{{"shop", "web"}}));
  h.on_add(ReplicaSet("orphan", kube::Object::array()));
  EXPECT_TRUE(Drain(q).empty());
  // Adopted by another owner: both hear about it.
  h.on_update(
      ReplicaSet("b", kube::Object::array({Owner("gantry.io/v1alpha1", "Rollout", "old", true)})),
      ReplicaSet("b", kube::Object::array({Owner("gantry.io/v1alpha1", "Rollout", "new", true)})));
  EXPECT_EQ(Drain(q), (std::vector<ObjectKey>{{"shop", "old"}, {"shop", "new"}}));

  WorkQueue all(clock);
  kube::EventHandler any = EnqueueOwner(all, "Rollout", "gantry.io", /*controller_only=*/false);
  any.on_add(
      ReplicaSet("c", kube::Object::array({Owner("gantry.io/v1alpha1", "Rollout", "x", false)})));
  EXPECT_EQ(Drain(all), (std::vector<ObjectKey>{{"shop", "x"}}));
}

}  // namespace
}  // namespace gantry::controller
