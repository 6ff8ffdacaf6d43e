#include "operator/rollout/pod_template_hash.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace gantry::rollout {
namespace {

using nlohmann::json;

TEST(Fnv32aTest, KnownVectors) {
  EXPECT_EQ(Fnv32a(""), 0x811c9dc5u);
  EXPECT_EQ(Fnv32a("a"), 0xe40c292cu);
  EXPECT_EQ(Fnv32a("foobar"), 0xbf9cf968u);
  // Continuing from a state equals hashing the concatenation.
  EXPECT_EQ(Fnv32a("bar", Fnv32a("foo")), Fnv32a("foobar"));
}

TEST(SafeEncodeStringTest, MapsDigitsOntoTheSafeAlphabet) {
  EXPECT_EQ(SafeEncodeString("123"), "567");
  EXPECT_EQ(SafeEncodeString("0"), "4");
  EXPECT_EQ(SafeEncodeString(""), "");
}

json Template(const std::string& image) {
  return json{{"metadata", {{"labels", {{"app", "web"}}}}},
              {"spec", {{"containers", json::array({{{"name", "web"}, {"image", image}}})}}}};
}

TEST(PodTemplateHashTest, StableAndSensitiveToTheTemplate) {
  const std::string h1 = ComputePodTemplateHash(Template("nginx:1"), std::nullopt);
  EXPECT_EQ(h1, ComputePodTemplateHash(Template("nginx:1"), std::nullopt));
  EXPECT_NE(h1, ComputePodTemplateHash(Template("nginx:2"), std::nullopt));
  EXPECT_FALSE(h1.empty());
  EXPECT_LE(h1.size(), 10u);
  EXPECT_EQ(h1.find_first_not_of("bcdfghjklmnpqrstvwxz2456789"), std::string::npos);
}

TEST(PodTemplateHashTest, IgnoresKeyOrderAndTheHashLabel) {
  json reordered = json::parse(
      R"({"spec":{"containers":[{"image":"nginx:1","name":"web"}]},"metadata":{"labels":{"app":"web"}}})");
  EXPECT_EQ(ComputePodTemplateHash(reordered, std::nullopt),
            ComputePodTemplateHash(Template("nginx:1"), std::nullopt));
  json labelled = Template("nginx:1");
  labelled["metadata"]["labels"]["rollouts-pod-template-hash"] = "abc";
  EXPECT_EQ(ComputePodTemplateHash(labelled, std::nullopt),
            ComputePodTemplateHash(Template("nginx:1"), std::nullopt));
}

TEST(PodTemplateHashTest, CollisionCountGivesANewName) {
  const json t = Template("nginx:1");
  const std::string none = ComputePodTemplateHash(t, std::nullopt);
  const std::string zero = ComputePodTemplateHash(t, 0);
  const std::string one = ComputePodTemplateHash(t, 1);
  EXPECT_NE(none, zero);
  EXPECT_NE(zero, one);
  EXPECT_EQ(one, ComputePodTemplateHash(t, 1));
}

}  // namespace
}  // namespace gantry::rollout
