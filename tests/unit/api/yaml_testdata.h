// Test helpers: YAML files from tests/testdata and crds/ as JSON, and a JSON containment check.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "operator/common/status.h"

namespace gantry::api::testing {

// <source dir>/<relative>.
std::string SourcePath(const std::string& relative);

// Every *.yaml file in <source dir>/<relative_dir>, sorted.
std::vector<std::string> YamlFiles(const std::string& relative_dir);

// The documents of a YAML file as JSON, with plain scalars typed as Kubernetes' YAML decoder
// types them (null, booleans, integers, floats; everything quoted stays a string). Empty
// documents are skipped. Fails the calling test on a parse error.
std::vector<nlohmann::json> LoadYamlDocuments(const std::string& path);

// The values of "# <key>: <value>" comment lines at the top of a file.
std::vector<std::string> HeaderValues(const std::string& path, const std::string& key);

// Succeeds if every field of `expected` is in `actual` with an equal value (objects may have
// more keys; lists must have the same length).
::testing::AssertionResult JsonContains(const nlohmann::json& actual,
                                        const nlohmann::json& expected);

// The value at a dotted path like "spec.strategy.canary"; null if absent.
nlohmann::json At(const nlohmann::json& json, const std::string& dotted_path);

}  // namespace gantry::api::testing

namespace gantry::api::testing {

// FromJson, then Validate: the first failure, or OK.
template <typename T>
Status DecodeAndValidate(const nlohmann::json& json) {
  Result<T> object = T::FromJson(json);
  if (!object.ok()) return object.status();
  return object->Validate();
}

// One row of a validation table: `patch` (an RFC 7386 merge patch) applied to a valid object
// must produce an InvalidArgument whose message contains `message`.
struct BadCase {
  std::string name;
  nlohmann::json patch;
  std::string message;
};

template <typename T>
void ExpectRejected(const nlohmann::json& valid, const std::vector<BadCase>& cases) {
  ASSERT_TRUE(DecodeAndValidate<T>(valid).ok()) << DecodeAndValidate<T>(valid).ToString();
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    nlohmann::json object = valid;
    object.merge_patch(c.patch);
    Status s = DecodeAndValidate<T>(object);
    ASSERT_FALSE(s.ok()) << object.dump();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find(c.message), std::string::npos)
        << "message: " << s.message() << "\nwant: " << c.message;
    EXPECT_FALSE(s.causes().empty());
  }
}

}  // namespace gantry::api::testing
