#include "operator/common/status.h"

#include <gtest/gtest.h>

#include <string>

namespace gantry {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, CarriesCodeMessageAndContext) {
  Status s = NotFound("configmaps \"a\" not found").WithContext("get ConfigMap default/a");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "NotFound: get ConfigMap default/a: configmaps \"a\" not found");
}

TEST(StatusTest, TransientCodes) {
  EXPECT_TRUE(Status(StatusCode::kUnavailable, "").IsTransient());
  EXPECT_TRUE(Status(StatusCode::kConflict, "").IsTransient());
  EXPECT_FALSE(Status(StatusCode::kInvalid, "").IsTransient());
  EXPECT_FALSE(Status(StatusCode::kForbidden, "").IsTransient());
}

TEST(ResultTest, HoldsValueOrStatus) {
  Result<std::string> good = std::string("x");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, "x");
  Result<std::string> bad = InvalidArgument("nope");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(ResultTest, OkStatusIsNotAValue) {
  Result<int> r = Status::Ok();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

Status FailsSecond(int* calls) {
  ++*calls;
  GANTRY_RETURN_IF_ERROR(Status::Ok());
  ++*calls;
  GANTRY_RETURN_IF_ERROR(Unavailable("down"));
  ++*calls;
  return Status::Ok();
}

TEST(StatusTest, ReturnIfErrorStopsAtFirstFailure) {
  int calls = 0;
  EXPECT_EQ(FailsSecond(&calls).code(), StatusCode::kUnavailable);
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace gantry
