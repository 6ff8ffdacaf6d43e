#include "operator/git/tls_verify.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace gantry::git {
namespace {

// Certificates from tests/testdata/git/tls (see make-certs.sh there): valid 2026-11-29 to
// 2046-11-24, for IP 127.0.0.1 and DNS git.example.test.
std::string Read(const std::string& name) {
  std::ifstream in(std::string(GANTRY_TESTDATA_DIR) + "/git/tls/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Clock::TimePoint At(int year) {
  // Jan 1st of `year`, close enough with 365.2425-day years.
  return Clock::TimePoint(
      std::chrono::seconds(static_cast<int64_t>((year - 1970) * 365.2425 * 86400)));
}

TEST(TlsVerifyTest, AcceptsALeafSignedByTheGivenCa) {
  const std::string leaf = Read("server.der");
  EXPECT_TRUE(VerifyServerCertificate(leaf, Read("ca.crt"), "127.0.0.1", At(2030)).ok());
  EXPECT_TRUE(VerifyServerCertificate(leaf, Read("ca.crt"), "git.example.test", At(2030)).ok());
  // Extra unrelated certificates in the bundle do not hurt.
  EXPECT_TRUE(
      VerifyServerCertificate(leaf, Read("other-ca.crt") + Read("ca.crt"), "127.0.0.1", At(2030))
          .ok());
}

TEST(TlsVerifyTest, AnIntermediateMayBeTheAnchor) {
  const std::string leaf = Read("chained-server.der");
  EXPECT_TRUE(VerifyServerCertificate(leaf, Read("intermediate.crt"), "127.0.0.1", At(2030)).ok());
  EXPECT_TRUE(VerifyServerCertificate(leaf, Read("ca.crt") + Read("intermediate.crt"), "127.0.0.1",
                                      At(2030))
                  .ok());
  // The root alone cannot vouch: the server's intermediate is not in the bundle.
  EXPECT_EQ(VerifyServerCertificate(leaf, Read("ca.crt"), "127.0.0.1", At(2030)).code(),
            StatusCode::kForbidden);
}

TEST(TlsVerifyTest, RefusesUntrustedCertificatesSayingWhy) {
  const std::string leaf = Read("server.der");
  Status s = VerifyServerCertificate(leaf, Read("other-ca.crt"), "127.0.0.1", At(2030));
  EXPECT_EQ(s.code(), StatusCode::kForbidden);
  EXPECT_NE(s.message().find("127.0.0.1"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("Gantry Test Root CA"), std::string::npos) << s.message();

  s = VerifyServerCertificate(leaf, Read("ca.crt"), "127.0.0.2", At(2030));
  EXPECT_EQ(s.code(), StatusCode::kForbidden);
  EXPECT_NE(s.message().find("IP address mismatch"), std::string::npos) << s.message();

  s = VerifyServerCertificate(leaf, Read("ca.crt"), "evil.example.test", At(2030));
  EXPECT_EQ(s.code(), StatusCode::kForbidden);
  EXPECT_NE(s.message().find("hostname mismatch"), std::string::npos) << s.message();

  s = VerifyServerCertificate(leaf, Read("ca.crt"), "127.0.0.1", At(2050));
  EXPECT_EQ(s.code(), StatusCode::kForbidden);
  EXPECT_NE(s.message().find("expired"), std::string::npos) << s.message();

  s = VerifyServerCertificate(leaf, Read("ca.crt"), "127.0.0.1", At(2020));
  EXPECT_EQ(s.code(), StatusCode::kForbidden);
  EXPECT_NE(s.message().find("not yet valid"), std::string::npos) << s.message();

  // A certificate for TLS clients is no server certificate.
  s = VerifyServerCertificate(Read("client-only.der"), Read("ca.crt"), "127.0.0.1", At(2030));
  EXPECT_EQ(s.code(), StatusCode::kForbidden);
}

TEST(TlsVerifyTest, RejectsGarbage) {
  Status s = VerifyServerCertificate(Read("server.der"), "not a pem", "127.0.0.1", At(2030));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("ca.crt"), std::string::npos) << s.message();
  s = VerifyServerCertificate("\x30\x03garbage", Read("ca.crt"), "127.0.0.1", At(2030));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  s = VerifyServerCertificate("", Read("ca.crt"), "127.0.0.1", At(2030));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace gantry::git
