// ResolveArgs and SubstituteMetricArgs against a FakeKubeClient holding Secrets.
#include "operator/analysis/args.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operator/kube/encoding.h"
#include "operator/kube/fake_kube_client.h"

namespace gantry::analysis {
namespace {

using ::testing::HasSubstr;

api::Argument Value(std::string name, std::string value) {
  api::Argument a;
  a.name = std::move(name);
  a.value = std::move(value);
  return a;
}

api::Argument FromSecret(std::string name, std::string secret, std::string key) {
  api::Argument a;
  a.name = std::move(name);
  a.value_from = api::ArgumentValueFrom{};
  a.value_from->secret_key_ref = api::SecretKeySelector{std::move(secret), std::move(key)};
  return a;
}

class ArgsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(
        client_
            .Create({{"apiVersion", "v1"},
                     {"kind", "Secret"},
                     {"metadata", {{"name", "prom-auth"}, {"namespace", "team"}}},
                     {"data",
                      {{"token", kube::Base64Encode("s3cret")}, {"broken", "***not base64***"}}}})
            .ok());
  }
  FakeClock clock_;
  kube::FakeKubeClient client_{clock_};
};

TEST_F(ArgsTest, ValuesAndSecretKeyRefs) {
  Result<ArgValues> values = ResolveArgs(
      {Value("service", "web"), Value("empty", ""), FromSecret("token", "prom-auth", "token")},
      "team", client_);
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  EXPECT_EQ(values->at("service"), "web");
  EXPECT_EQ(values->at("empty"), "");
  EXPECT_EQ(values->at("token"), "s3cret");
}

TEST_F(ArgsTest, SecretIsReadInTheRunsNamespace) {
  Result<ArgValues> values =
      ResolveArgs({FromSecret("token", "prom-auth", "token")}, "other", client_);
  ASSERT_FALSE(values.ok());
  EXPECT_EQ(values.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(values.status().message(), HasSubstr("argument \"token\": Secret other/prom-auth"));
}

TEST_F(ArgsTest, MissingKeyAndBadBase64NameTheArgument) {
  Result<ArgValues> missing =
      ResolveArgs({FromSecret("token", "prom-auth", "password")}, "team", client_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(),
              HasSubstr("argument \"token\": Secret team/prom-auth has no key \"password\""));
  Result<ArgValues> broken =
      ResolveArgs({FromSecret("token", "prom-auth", "broken")}, "team", client_);
  ASSERT_FALSE(broken.ok());
  EXPECT_THAT(broken.status().message(), HasSubstr("key \"broken\" is not valid base64"));
}

TEST_F(ArgsTest, ArgumentWithoutValueIsAnError) {
  api::Argument bare;
  bare.name = "service";
  Result<ArgValues> values = ResolveArgs({bare}, "team", client_);
  ASSERT_FALSE(values.ok());
  EXPECT_THAT(values.status().message(), HasSubstr("argument \"service\" has no value"));

  api::Argument field;
  field.name = "app";
  field.value_from = api::ArgumentValueFrom{};
  field.value_from->field_ref = api::FieldSelector{"metadata.labels['app']"};
  values = ResolveArgs({field}, "team", client_);
  ASSERT_FALSE(values.ok());
  EXPECT_THAT(values.status().message(), HasSubstr("argument \"app\": valueFrom.fieldRef"));
}

TEST(SubstituteMetricArgsTest, EveryProviderField) {
  ArgValues values = {{"svc", "web"}, {"token", "s3cret"}, {"n", "3"}};
  api::Metric prom;
  prom.name = "rate";
  prom.count = api::IntOrString("{{args.n}}");
  prom.failure_limit = api::IntOrString("{{ args.n }}");
  prom.provider.prometheus = api::PrometheusMetric{};
  prom.provider.prometheus->address = "http://prom-{{args.svc}}:9090";
  prom.provider.prometheus->query = "sum(rate(x{service=\"{{args.svc}}\"}[1m]))";
  prom.provider.prometheus->headers = {{"Authorization", "Bearer {{args.token}}"}};
  Result<api::Metric> out = SubstituteMetricArgs(prom, values);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->provider.prometheus->address, "http://prom-web:9090");
  EXPECT_EQ(out->provider.prometheus->query, "sum(rate(x{service=\"web\"}[1m]))");
  EXPECT_EQ(out->provider.prometheus->headers[0].value, "Bearer s3cret");
  EXPECT_EQ(out->count->AsInt().value(), 3);
  EXPECT_EQ(out->failure_limit.AsInt().value(), 3);

  api::Metric web;
  web.name = "health";
  web.provider.web = api::WebMetric{};
  web.provider.web->url = "https://{{args.svc}}/status";
  web.provider.web->body = "{\"service\":\"{{args.svc}}\"}";
  web.provider.web->json_path = "{$.{{args.svc}}}";
  out = SubstituteMetricArgs(web, values);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->provider.web->url, "https://web/status");
  EXPECT_EQ(out->provider.web->body, "{\"service\":\"web\"}");
  EXPECT_EQ(out->provider.web->json_path, "{$.web}");

  api::Metric job;
  job.name = "smoke";
  job.provider.job = api::JobMetric{};
  job.provider.job->metadata = {{"labels", {{"svc", "{{args.svc}}"}}}};
  job.provider.job->spec = nlohmann::json::parse(
      R"({"template":{"spec":{"containers":[{"name":"t","args":["--target={{args.svc}}"]}]}}})");
  out = SubstituteMetricArgs(job, values);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->provider.job->metadata["labels"]["svc"], "web");
  EXPECT_EQ(out->provider.job->spec["template"]["spec"]["containers"][0]["args"][0],
            "--target=web");
}

TEST(SubstituteMetricArgsTest, UnresolvedArgNamesMetricFieldAndArgument) {
  api::Metric prom;
  prom.name = "rate";
  prom.provider.prometheus = api::PrometheusMetric{};
  prom.provider.prometheus->query = "up{job=\"{{args.job}}\"}";
  Result<api::Metric> out = SubstituteMetricArgs(prom, {});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(out.status().message(),
              HasSubstr("metric \"rate\": provider.prometheus.query: {{args.job}} has no value"));

  api::Metric job;
  job.name = "smoke";
  job.provider.job = api::JobMetric{};
  job.provider.job->spec = {
      {"template", {{"spec", {{"containers", {{{"image", "{{args.img}}"}}}}}}}}};
  out = SubstituteMetricArgs(job, {});
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(),
              HasSubstr("metric \"smoke\": provider.job.spec.template.spec.containers[0].image: "
                        "{{args.img}}"));
}

}  // namespace
}  // namespace gantry::analysis
