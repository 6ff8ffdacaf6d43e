// Authentication and TLS against the real API server: service-account tokens from the
// TokenRequest API (RBAC refusals surface as Forbidden), token files re-read on rotation,
// client certificates from kubeconfig files, and certificate verification by CA and name.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "operator/kube/encoding.h"
#include "tests/integration/kube/cluster_fixture.h"

namespace gantry::kube {
namespace {

using testing::ClusterTest;
using testing::Eventually;
using ::testing::HasSubstr;
using testing::kConfigMap;
using testing::kNamespace;
using testing::kServiceAccount;
namespace fs = std::filesystem;

class AuthTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    std::string tmpl = (fs::temp_directory_path() / "gantry-auth-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
    ClusterTest::TearDown();
  }

  std::string Write(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << content;
    return path;
  }

  // A ServiceAccount in the test namespace and a fresh token for it.
  std::string ServiceAccountToken(const std::string& name) {
    Object sa = {{"apiVersion", "v1"},
                 {"kind", "ServiceAccount"},
                 {"metadata", {{"name", name}, {"namespace", ns_}}}};
    Status created = client_->Create(sa).status();
    EXPECT_TRUE(created.ok() || created.code() == StatusCode::kAlreadyExists) << created.ToString();
    Object request = {{"apiVersion", "authentication.k8s.io/v1"},
                      {"kind", "TokenRequest"},
                      {"spec", {{"expirationSeconds", 600}}}};
    Result<Object> token =
        client_->CreateSubresource({kServiceAccount, ns_, name}, "token", request);
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    return token.ok() ? (*token)["status"]["token"].get<std::string>() : "";
  }

  // The test's server and CA with no credentials.
  RestConfig Anonymous() const {
    RestConfig c;
    c.server = config_.server;
    c.ca_pem = config_.ca_pem;
    c.qps = 0;
    c.timeout = std::chrono::seconds(10);
    return c;
  }

  std::unique_ptr<KubeClient> Client(const RestConfig& c) {
    Result<std::unique_ptr<KubeClient>> client = NewRestKubeClient(c);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(client).value() : nullptr;
  }

  void GrantConfigMapReader(const std::string& sa) {
    Object role = {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                   {"kind", "Role"},
                   {"metadata", {{"name", "cm-reader"}, {"namespace", ns_}}},
                   {"rules", Object::array({{{"apiGroups", {""}},
                                             {"resources", {"configmaps"}},
                                             {"verbs", {"get", "list", "watch"}}}})}};
    Object binding = {
        {"apiVersion", "rbac.authorization.k8s.io/v1"},
        {"kind", "RoleBinding"},
        {"metadata", {{"name", "cm-reader"}, {"namespace", ns_}}},
        {"roleRef",
         {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "cm-reader"}}},
        {"subjects",
         Object::array({{{"kind", "ServiceAccount"}, {"name", sa}, {"namespace", ns_}}})}};
    ApplyOptions apply;
    apply.field_manager = "gantry-test";
    ASSERT_TRUE(client_->Apply(role, apply).ok());
    ASSERT_TRUE(client_->Apply(binding, apply).ok());
  }

  std::string dir_;
};

TEST_F(AuthTest, ServiceAccountTokenWithoutGrantsIsForbidden) {
  RestConfig c = Anonymous();
  c.bearer_token = ServiceAccountToken("robot");
  ASSERT_FALSE(c.bearer_token.empty());
  std::unique_ptr<KubeClient> robot = Client(c);
  ASSERT_NE(robot, nullptr);

  Result<ObjectList> list = robot->List(kConfigMap, ns_);
  ASSERT_EQ(list.status().code(), StatusCode::kForbidden) << list.status().ToString();
  EXPECT_THAT(list.status().message(), HasSubstr("system:serviceaccount:" + ns_ + ":robot"));
  EXPECT_THAT(list.status().message(), HasSubstr("configmaps"));
  Result<Object> created = robot->Create(ConfigMap("nope"));
  EXPECT_EQ(created.status().code(), StatusCode::kForbidden);

  // A Role grants what the token may do, and nothing more.
  GrantConfigMapReader("robot");
  ASSERT_TRUE(Eventually([&] { return robot->List(kConfigMap, ns_).ok(); }));
  EXPECT_EQ(robot->Create(ConfigMap("still-nope")).status().code(), StatusCode::kForbidden);
  EXPECT_EQ(robot->List(kNamespace, "").status().code(), StatusCode::kForbidden);
}

TEST_F(AuthTest, TokenFromAKubeconfigFile) {
  std::string token = ServiceAccountToken("reader");
  GrantConfigMapReader("reader");
  std::string path =
      Write("kubeconfig", fmt::format(R"(apiVersion: v1
kind: Config
current-context: robot
clusters:
- name: local
  cluster:
    server: {}
    certificate-authority-data: {}
users:
- name: reader
  user:
    token: {}
contexts:
- name: robot
  context: {{cluster: local, user: reader, namespace: {}}}
)",
                                      config_.server, Base64Encode(config_.ca_pem), token, ns_));
  Result<RestConfig> c = LoadKubeconfig({path});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->ns, ns_);
  std::unique_ptr<KubeClient> reader = Client(*c);
  ASSERT_TRUE(Eventually([&] { return reader->List(kConfigMap, c->ns).ok(); }));
}

TEST_F(AuthTest, TokenFileIsReadAgainWhenTheServerRejectsIt) {
  std::string token = ServiceAccountToken("rotating");
  GrantConfigMapReader("rotating");
  std::string path = Write("token", "not-a-valid-token\n");
  RestConfig c = Anonymous();
  c.bearer_token_file = path;
  std::unique_ptr<KubeClient> client = Client(c);
  Result<ObjectList> rejected = client->List(kConfigMap, ns_);
  EXPECT_EQ(rejected.status().code(), StatusCode::kUnauthorized) << rejected.status().ToString();

  // The kubelet rotates the projected token file; the next request uses the new token.
  Write("token", token + "\n");
  ASSERT_TRUE(Eventually([&] { return client->List(kConfigMap, ns_).ok(); }))
      << client->List(kConfigMap, ns_).status().ToString();
}

TEST_F(AuthTest, GarbageTokenIsUnauthorized) {
  RestConfig c = Anonymous();
  c.bearer_token = "garbage";
  Result<ObjectList> list = Client(c)->List(kConfigMap, ns_);
  EXPECT_EQ(list.status().code(), StatusCode::kUnauthorized) << list.status().ToString();
}

TEST_F(AuthTest, ClientCertificateFromFiles) {
  ASSERT_FALSE(config_.client_cert_pem.empty()) << "the test kubeconfig should use a client cert";
  Write("ca.crt", config_.ca_pem);
  Write("admin.crt", config_.client_cert_pem);
  Write("admin.key", config_.client_key_pem);
  std::string path = Write("kubeconfig", fmt::format(R"(current-context: admin
clusters:
- name: local
  cluster: {{server: "{}", certificate-authority: ca.crt}}
users:
- name: admin
  user: {{client-certificate: admin.crt, client-key: admin.key}}
contexts:
- name: admin
  context: {{cluster: local, user: admin}}
)",
                                                     config_.server));
  Result<RestConfig> c = LoadKubeconfig({path});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::unique_ptr<KubeClient> admin = Client(*c);
  Result<ObjectList> namespaces = admin->List(kNamespace, "");
  ASSERT_TRUE(namespaces.ok()) << namespaces.status().ToString();
  EXPECT_FALSE(namespaces->items.empty());

  // Without any credential the server sees an anonymous user.
  Result<ObjectList> anonymous = Client(Anonymous())->List(kNamespace, "");
  EXPECT_TRUE(anonymous.status().code() == StatusCode::kForbidden ||
              anonymous.status().code() == StatusCode::kUnauthorized)
      << anonymous.status().ToString();
}

TEST_F(AuthTest, ServerCertificateIsVerified) {
  RestConfig c = config_;
  c.ca_pem.clear();  // the system trust store does not know the cluster's CA
  Result<Object> untrusted = Client(c)->ServerVersion();
  ASSERT_EQ(untrusted.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(untrusted.status().message(), HasSubstr("certificate"));

  c.insecure_skip_tls_verify = true;  // explicitly asked for
  EXPECT_TRUE(Client(c)->ServerVersion().ok());

  RestConfig named = config_;
  named.tls_server_name = "kubernetes.default.svc";  // a name in the certificate
  EXPECT_TRUE(Client(named)->ServerVersion().ok());
  named.tls_server_name = "not-the-apiserver.example.com";
  Result<Object> wrong_name = Client(named)->ServerVersion();
  EXPECT_EQ(wrong_name.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(wrong_name.status().message(), HasSubstr("certificate"));

  RestConfig bad_pem = config_;
  bad_pem.ca_pem = "-----BEGIN CERTIFICATE-----\nnonsense\n-----END CERTIFICATE-----\n";
  Result<std::unique_ptr<KubeClient>> rejected = NewRestKubeClient(bad_pem);
  EXPECT_EQ(rejected.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(rejected.status().message(), HasSubstr("certificate authority"));
}

TEST_F(AuthTest, UnreachableServerIsUnavailableWithinTheTimeout) {
  RestConfig c = config_;
  c.server = "https://127.0.0.1:1";  // nothing listens on port 1
  c.timeout = std::chrono::seconds(2);
  auto started = std::chrono::steady_clock::now();
  Result<Object> v = Client(c)->ServerVersion();
  EXPECT_EQ(v.status().code(), StatusCode::kUnavailable) << v.status().ToString();
  EXPECT_THAT(v.status().message(), HasSubstr("127.0.0.1:1"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
}

}  // namespace
}  // namespace gantry::kube
