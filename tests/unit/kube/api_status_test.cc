#include "operator/kube/api_status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gantry::kube {
namespace {

using ::testing::HasSubstr;

std::string ApiStatus(int code, const std::string& reason, const std::string& message,
                      Object details = nullptr) {
  Object s = {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
              {"reason", reason}, {"message", message}, {"code", code}};
  if (!details.is_null()) s["details"] = details;
  return s.dump();
}

TEST(ApiStatusTest, MapsEveryReason) {
  struct Case {
    int http;
    const char* reason;
    StatusCode want;
  } cases[] = {
      {404, "NotFound", StatusCode::kNotFound},
      {409, "AlreadyExists", StatusCode::kAlreadyExists},
      {409, "Conflict", StatusCode::kConflict},
      {410, "Gone", StatusCode::kGone},
      {410, "Expired", StatusCode::kGone},
      {422, "Invalid", StatusCode::kInvalid},
      {400, "BadRequest", StatusCode::kBadRequest},
      {401, "Unauthorized", StatusCode::kUnauthorized},
      {403, "Forbidden", StatusCode::kForbidden},
      {429, "TooManyRequests", StatusCode::kTooManyRequests},
      {504, "Timeout", StatusCode::kTimeout},
      {500, "ServerTimeout", StatusCode::kTimeout},
      {503, "ServiceUnavailable", StatusCode::kUnavailable},
      {500, "InternalError", StatusCode::kInternal},
      {415, "UnsupportedMediaType", StatusCode::kBadRequest},
  };
  for (const Case& c : cases) {
    Status s = StatusFromHttp(c.http, ApiStatus(c.http, c.reason, "server says no"), std::nullopt,
                              "get ConfigMap a/b");
    EXPECT_EQ(s.code(), c.want) << c.reason;
    EXPECT_EQ(s.message(), "get ConfigMap a/b: server says no") << c.reason;
  }
}

TEST(ApiStatusTest, HttpCodeDecidesWithoutAReason) {
  EXPECT_EQ(StatusFromHttp(409, ApiStatus(409, "", "x"), std::nullopt, "").code(),
            StatusCode::kConflict);
  EXPECT_EQ(StatusFromHttp(403, "<html>denied</html>", std::nullopt, "").code(),
            StatusCode::kForbidden);
  EXPECT_EQ(StatusFromHttp(502, "", std::nullopt, "").code(), StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromHttp(599, "", std::nullopt, "").code(), StatusCode::kInternal);
  Status proxy = StatusFromHttp(503, "upstream connect error\n", std::nullopt, "list Pod");
  EXPECT_EQ(proxy.code(), StatusCode::kUnavailable);
  EXPECT_EQ(proxy.message(), "list Pod: HTTP 503: upstream connect error");
  EXPECT_EQ(StatusFromHttp(500, ApiStatus(500, "", ""), std::nullopt, "").message(), "HTTP 500");
}

TEST(ApiStatusTest, InvalidCarriesFieldCauses) {
  Object details = {{"name", "web"},
                    {"kind", "ConfigMap"},
                    {"causes", Object::array({{{"reason", "FieldValueInvalid"},
                                               {"message", "Invalid value: \"Web\""},
                                               {"field", "metadata.name"}},
                                              {{"reason", "FieldValueRequired"},
                                               {"message", "Required value"},
                                               {"field", "data.x"}}})}};
  Status s = StatusFromHttp(422, ApiStatus(422, "Invalid", "ConfigMap \"Web\" is invalid", details),
                            std::nullopt, "create ConfigMap ns/Web");
  EXPECT_EQ(s.code(), StatusCode::kInvalid);
  ASSERT_EQ(s.causes().size(), 2u);
  EXPECT_EQ(s.causes()[0].field, "metadata.name");
  EXPECT_EQ(s.causes()[0].reason, "FieldValueInvalid");
  EXPECT_EQ(s.causes()[1].message, "Required value");
}

TEST(ApiStatusTest, RetryAfterFromHeaderOrDetails) {
  Status header = StatusFromHttp(429, ApiStatus(429, "TooManyRequests", "slow down"),
                                 std::string_view(" 7 "), "");
  EXPECT_EQ(header.code(), StatusCode::kTooManyRequests);
  ASSERT_TRUE(header.retry_after().has_value());
  EXPECT_EQ(*header.retry_after(), std::chrono::seconds(7));

  Status details = StatusFromHttp(
      429, ApiStatus(429, "TooManyRequests", "slow down", {{"retryAfterSeconds", 3}}), std::nullopt,
      "");
  EXPECT_EQ(*details.retry_after(), std::chrono::seconds(3));

  Status bad = StatusFromHttp(503, "", std::string_view("Wed, 21 Oct 2015 07:28:00 GMT"), "");
  EXPECT_FALSE(bad.retry_after().has_value());
}

TEST(ApiStatusTest, WatchErrorEventObject) {
  Object gone = Object::parse(ApiStatus(410, "Expired", "too old resource version: 5 (10)"));
  Status s = StatusFromApiStatus(gone, "watch v1, Kind=ConfigMap");
  EXPECT_EQ(s.code(), StatusCode::kGone);
  EXPECT_THAT(s.message(), HasSubstr("too old resource version"));
  EXPECT_TRUE(StatusFromApiStatus({{"kind", "Status"}, {"status", "Success"}}, "").ok());
  EXPECT_EQ(StatusFromApiStatus("junk", "").code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace gantry::kube
