#include "operator/kube/rest_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include "operator/kube/encoding.h"

namespace gantry::kube {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

// A temporary directory for files a kubeconfig refers to, removed after the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "gantry-kubeconfig-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& content) const {
    std::string p = (fs::path(path_) / name).string();
    std::ofstream(p) << content;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

constexpr char kBasic[] = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority-data: Q0EtUEVN
- name: other
  cluster:
    server: https://other.example.com
    insecure-skip-tls-verify: true
    tls-server-name: api.internal
users:
- name: alice
  user:
    token: alice-token
- name: certs
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
contexts:
- name: dev
  context:
    cluster: local
    user: alice
    namespace: team-a
- name: prod
  context:
    cluster: other
    user: certs
)";

TEST(KubeconfigTest, CurrentContextWithTokenAndInlineCa) {
  Result<RestConfig> c = ParseKubeconfig(kBasic, "/home/u/.kube/config");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://127.0.0.1:6443");  // trailing slash dropped
  EXPECT_EQ(c->ca_pem, "CA-PEM");
  EXPECT_FALSE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->bearer_token, "alice-token");
  EXPECT_EQ(c->ns, "team-a");
  EXPECT_THAT(c->origin, HasSubstr("context dev"));
}

TEST(KubeconfigTest, ContextOverrideWithClientCertificateAndInsecure) {
  Result<RestConfig> c = ParseKubeconfig(kBasic, "/k", "prod");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://other.example.com");
  EXPECT_TRUE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->tls_server_name, "api.internal");
  EXPECT_EQ(c->client_cert_pem, "CERT");
  EXPECT_EQ(c->client_key_pem, "KEY");
  EXPECT_TRUE(c->bearer_token.empty());
  EXPECT_EQ(c->ns, "default");
}

TEST(KubeconfigTest, UnknownContextListsTheKnownOnes) {
  Result<RestConfig> c = ParseKubeconfig(kBasic, "/k", "staging");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("context \"staging\" not found"));
  EXPECT_THAT(c.status().message(), HasSubstr("dev, prod"));
}

TEST(KubeconfigTest, FilesAreResolvedRelativeToTheKubeconfig) {
  TempDir dir;
  dir.Write("ca.crt", "CA FROM FILE");
  dir.Write("client.crt", "CERT FROM FILE");
  dir.Write("client.key", "KEY FROM FILE");
  dir.Write("token", "file-token\n");
  std::string path = dir.Write("config", R"(
current-context: c
clusters:
- name: k
  cluster: {server: "https://k:443", certificate-authority: ca.crt}
users:
- name: u
  user: {client-certificate: client.crt, client-key: client.key, tokenFile: token}
contexts:
- name: c
  context: {cluster: k, user: u}
)");
  Result<RestConfig> c = LoadKubeconfig({path});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->ca_pem, "CA FROM FILE");
  EXPECT_EQ(c->client_cert_pem, "CERT FROM FILE");
  EXPECT_EQ(c->client_key_pem, "KEY FROM FILE");
  EXPECT_EQ(c->bearer_token_file, dir.path() + "/token");
}

TEST(KubeconfigTest, MissingCertificateFileNamesFileAndLine) {
  std::string yaml = R"(current-context: c
clusters:
- name: k
  cluster:
    server: https://k
users:
- name: u
  user:
    client-certificate: /nonexistent/client.crt
    client-key-data: S0VZ
contexts:
- name: c
  context: {cluster: k, user: u}
)";
  Result<RestConfig> c = ParseKubeconfig(yaml, "/etc/kc");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("/etc/kc line 7"));
  EXPECT_THAT(c.status().message(), HasSubstr("/nonexistent/client.crt"));
  EXPECT_THAT(c.status().message(), HasSubstr("user \"u\""));
}

TEST(KubeconfigTest, BadBase64NamesTheField) {
  std::string yaml = R"(current-context: c
clusters:
- name: k
  cluster:
    server: https://k
    certificate-authority-data: "not base64!"
contexts:
- name: c
  context: {cluster: k}
)";
  Result<RestConfig> c = ParseKubeconfig(yaml, "/kc");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("/kc line 3"));
  EXPECT_THAT(c.status().message(), HasSubstr("certificate-authority-data"));
}

TEST(KubeconfigTest, YamlSyntaxErrorHasALine) {
  Result<RestConfig> c = ParseKubeconfig("clusters:\n- name: [unclosed\n", "/kc");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("/kc line"));
}

TEST(KubeconfigTest, RejectsWhatCannotWork) {
  auto with = [](const std::string& cluster, const std::string& user) {
    return "current-context: c\nclusters:\n- name: k\n  cluster:\n" + cluster +
           "users:\n- name: u\n  user:\n" + user +
           "contexts:\n- name: c\n  context: {cluster: k, user: u}\n";
  };
  // No server.
  EXPECT_THAT(ParseKubeconfig(with("    insecure-skip-tls-verify: true\n", "    token: t\n"), "/kc")
                  .status()
                  .message(),
              HasSubstr("server is not set"));
  // Insecure together with a CA.
  EXPECT_THAT(ParseKubeconfig(with("    server: https://k\n    insecure-skip-tls-verify: true\n"
                                   "    certificate-authority-data: Q0E=\n",
                                   "    token: t\n"),
                              "/kc")
                  .status()
                  .message(),
              HasSubstr("insecure-skip-tls-verify and a certificate authority"));
  // A certificate without its key.
  EXPECT_THAT(ParseKubeconfig(
                  with("    server: https://k\n", "    client-certificate-data: Q0VSVA==\n"), "/kc")
                  .status()
                  .message(),
              HasSubstr("only the certificate is set"));
  // Exec plugins.
  EXPECT_THAT(
      ParseKubeconfig(with("    server: https://k\n", "    exec:\n      command: aws\n"), "/kc")
          .status()
          .message(),
      HasSubstr("exec credential plugins are not supported"));
  // Not a URL.
  EXPECT_THAT(
      ParseKubeconfig(with("    server: k:6443\n", "    token: t\n"), "/kc").status().message(),
      HasSubstr("must start with https://"));
  // No current context.
  EXPECT_THAT(ParseKubeconfig("clusters: []\n", "/kc").status().message(),
              HasSubstr("no current-context"));
}

TEST(KubeconfigTest, MergesFilesFirstWins) {
  TempDir dir;
  std::string a = dir.Write("a", R"(
current-context: from-a
users:
- name: u
  user: {token: token-a}
contexts:
- name: from-a
  context: {cluster: shared, user: u}
)");
  std::string b = dir.Write("b", R"(
current-context: from-b
clusters:
- name: shared
  cluster: {server: "https://b:1"}
users:
- name: u
  user: {token: token-b}
)");
  Result<RestConfig> c = LoadKubeconfig({dir.path() + "/missing", a, b});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://b:1");
  EXPECT_EQ(c->bearer_token, "token-a");

  EXPECT_EQ(LoadKubeconfig({dir.path() + "/missing"}).status().code(), StatusCode::kNotFound);
}

TEST(InClusterConfigTest, ReadsServiceAccountFiles) {
  TempDir dir;
  InClusterEnvironment env;
  env.service_host = "10.0.0.1";
  env.service_port = "443";
  env.token_path = dir.Write("token", "sa-token\n");
  env.ca_path = dir.Write("ca.crt", "SA CA");
  env.namespace_path = dir.Write("namespace", "gantry-system\n");
  ASSERT_TRUE(env.Available());
  Result<RestConfig> c = InClusterConfig(env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://10.0.0.1:443");
  EXPECT_EQ(c->ca_pem, "SA CA");
  EXPECT_EQ(c->bearer_token_file, env.token_path);
  EXPECT_EQ(c->ns, "gantry-system");

  env.service_host = "fd00::1";
  EXPECT_EQ(InClusterConfig(env)->server, "https://[fd00::1]:443");

  env.token_path = dir.path() + "/absent";
  EXPECT_FALSE(env.Available());
  Result<RestConfig> missing = InClusterConfig(env);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("service account token"));
}

TEST(ResolveRestConfigTest, OrderIsFlagThenInClusterThenEnvThenHome) {
  TempDir dir;
  auto kubeconfig = [&](const std::string& name, const std::string& server) {
    return dir.Write(name, "current-context: c\nclusters:\n- name: k\n  cluster: {server: \"" +
                               server + "\"}\ncontexts:\n- name: c\n  context: {cluster: k}\n");
  };
  std::string flag = kubeconfig("flag", "https://flag");
  std::string env_file = kubeconfig("env", "https://env");
  fs::create_directories(dir.path() + "/home/.kube");
  kubeconfig("home/.kube/config", "https://home");

  ConfigSources s;
  s.home = dir.path() + "/home";
  s.in_cluster.token_path = dir.path() + "/no-token";
  EXPECT_EQ(ResolveRestConfig(s)->server, "https://home");
  s.kubeconfig_env = dir.path() + "/absent:" + env_file;
  EXPECT_EQ(ResolveRestConfig(s)->server, "https://env");
  s.in_cluster.service_host = "10.0.0.1";
  s.in_cluster.service_port = "443";
  s.in_cluster.token_path = dir.Write("token", "t");
  s.in_cluster.ca_path = dir.Write("ca", "CA");
  s.in_cluster.namespace_path = dir.path() + "/no-namespace";
  EXPECT_EQ(ResolveRestConfig(s)->server, "https://10.0.0.1:443");
  s.kubeconfig_flag = flag;
  Result<RestConfig> c = ResolveRestConfig(s);
  EXPECT_EQ(c->server, "https://flag");
  EXPECT_THAT(c->user_agent, HasSubstr("gantry/"));
}

TEST(BearerTokenFileTest, RereadsAfterRefreshPeriodOrInvalidate) {
  TempDir dir;
  FakeClock clock;
  std::string path = dir.Write("token", "one\n");
  BearerTokenFile token(path, clock, std::chrono::seconds(60));
  EXPECT_EQ(*token.Token(), "one");
  dir.Write("token", "two");
  EXPECT_EQ(*token.Token(), "one");  // cached
  clock.Advance(std::chrono::seconds(61));
  EXPECT_EQ(*token.Token(), "two");
  dir.Write("token", "three");
  token.Invalidate();
  EXPECT_EQ(*token.Token(), "three");
  // A vanished file keeps the last good token rather than failing every request.
  fs::remove(path);
  token.Invalidate();
  EXPECT_EQ(*token.Token(), "three");

  BearerTokenFile never(dir.path() + "/never", clock);
  EXPECT_EQ(never.Token().status().code(), StatusCode::kNotFound);
}

TEST(EncodingTest, Base64RoundTripAndErrors) {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    Result<std::string> back = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(Base64Encode("hello"), "aGVsbG8=");
  EXPECT_EQ(*Base64Decode("aGVs\nbG8"), "hello");  // wrapped, unpadded
  EXPECT_FALSE(Base64Decode("aGV$").ok());
  EXPECT_FALSE(Base64Decode("a").ok());
  EXPECT_EQ(UrlEscape("app in (a,b)"), "app%20in%20%28a%2Cb%29");
}

}  // namespace
}  // namespace gantry::kube
