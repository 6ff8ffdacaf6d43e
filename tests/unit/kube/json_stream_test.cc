#include "operator/kube/json_stream.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gantry::kube {
namespace {

std::vector<std::string> SplitInPieces(const std::string& stream, size_t piece) {
  JsonObjectSplitter splitter;
  std::vector<std::string> out;
  for (size_t i = 0; i < stream.size(); i += piece) {
    Status s = splitter.Feed(std::string_view(stream).substr(i, piece), [&](std::string_view o) {
      out.emplace_back(o);
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  EXPECT_EQ(splitter.pending(), 0u);
  return out;
}

TEST(JsonObjectSplitterTest, SplitsAtAnyChunkBoundary) {
  const std::string a = R"({"type":"ADDED","object":{"data":{"k":"}{\"]["}}})";
  const std::string b = R"({"type":"BOOKMARK","object":{"list":[1,{"x":[]}]}})";
  const std::string stream = a + "\n" + b + "\r\n  " + a;
  for (size_t piece : {1, 2, 3, 7, 16, 1000}) {
    std::vector<std::string> objects = SplitInPieces(stream, piece);
    ASSERT_EQ(objects.size(), 3u) << piece;
    EXPECT_EQ(objects[0], a);
    EXPECT_EQ(objects[1], b);
    EXPECT_EQ(objects[2], a);
  }
}

TEST(JsonObjectSplitterTest, RejectsGarbageAndStopsOnCallbackError) {
  JsonObjectSplitter splitter;
  auto ok = [](std::string_view) { return Status::Ok(); };
  EXPECT_EQ(splitter.Feed("[1]", ok).code(), StatusCode::kInvalidArgument);

  JsonObjectSplitter second;
  int calls = 0;
  Status s = second.Feed("{}{}{}", [&](std::string_view) {
    ++calls;
    return Status(StatusCode::kGone, "stop");
  });
  EXPECT_EQ(s.code(), StatusCode::kGone);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace gantry::kube
