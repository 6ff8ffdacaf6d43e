#include "operator/git/known_hosts.h"

#include <gtest/gtest.h>

#include <string>

namespace gantry::git {
namespace {

// Public keys made with ssh-keygen for these tests; fingerprints as `ssh-keygen -l` prints.
constexpr std::string_view kEd25519 =
    "AAAAC3NzaC1lZDI1NTE5AAAAIDw7hlpVucWn+IQrCutgTMg5hKinZzRuW7G2xNTKO482";
constexpr std::string_view kEd25519Fingerprint =
    "SHA256:WCWfvdWb8nAI0qzSWvoEvl+3FrkOQleeXntyK7afiKI";
constexpr std::string_view kEcdsa =
    "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPVgwMVLQEhYDRKLqdFrnxiK08Aab1QC0T4en+"
    "U4Z2lhFmzEn9g1/QmDBoSROyKLbsfuUqp60AaIPUFeGuOubwg=";
constexpr std::string_view kEcdsaFingerprint = "SHA256:kUUj1G+Wq7LjWOdSs3++/r1O29C3ZVA05TjMXOpDgy8";
// `ssh-keygen -H` of "[git.example.com]:2222 ssh-ed25519 <kEd25519>".
constexpr std::string_view kHashedLine =
    "|1|dg+Ko31Xa8odYTfgq1EBN1D5nrg=|SCBeWNBPPWrsMVoyKpgXJdJV8x8= ssh-ed25519 "
    "AAAAC3NzaC1lZDI1NTE5AAAAIDw7hlpVucWn+IQrCutgTMg5hKinZzRuW7G2xNTKO482";

std::string Blob(std::string_view b64) { return *Base64Decode(b64); }

std::string Line(std::string_view hosts, std::string_view type, std::string_view key) {
  return std::string(hosts) + " " + std::string(type) + " " + std::string(key) + "\n";
}

TEST(KnownHostsTest, Base64RoundTrips) {
  for (std::string_view s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    EXPECT_EQ(Base64Decode(Base64Encode(s)), std::string(s));
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Decode("Zm8"), "fo");  // padding optional
  EXPECT_FALSE(Base64Decode("Zm9v!").has_value());
  EXPECT_FALSE(Base64Decode("Z").has_value());
}

TEST(KnownHostsTest, KeyTypeAndFingerprint) {
  EXPECT_EQ(SshKeyType(Blob(kEd25519)), "ssh-ed25519");
  EXPECT_EQ(SshKeyType(Blob(kEcdsa)), "ecdsa-sha2-nistp256");
  EXPECT_EQ(SshKeyFingerprint(Blob(kEd25519)), kEd25519Fingerprint);
  EXPECT_EQ(SshKeyFingerprint(Blob(kEcdsa)), kEcdsaFingerprint);
  EXPECT_EQ(SshKeyType("\xff\xff\xff\xff"), "");
  EXPECT_EQ(SshKeyType(""), "");
}

TEST(KnownHostsTest, AcceptsTheListedKey) {
  const std::string kh = "# comment\n\n" + Line("github.com", "ssh-ed25519", kEd25519);
  EXPECT_TRUE(CheckKnownHost(kh, "github.com", 22, Blob(kEd25519)).ok());
  EXPECT_TRUE(CheckKnownHost(kh, "GitHub.COM", 22, Blob(kEd25519)).ok());
  // Several hosts, patterns, and a non-default port.
  const std::string many = Line("a.example,b.example", "ecdsa-sha2-nistp256", kEcdsa) +
                           Line("*.corp.example,!evil.corp.example", "ssh-ed25519", kEd25519) +
                           Line("[127.0.0.1]:2222", "ssh-ed25519", kEd25519);
  EXPECT_TRUE(CheckKnownHost(many, "b.example", 22, Blob(kEcdsa)).ok());
  EXPECT_TRUE(CheckKnownHost(many, "git.corp.example", 22, Blob(kEd25519)).ok());
  EXPECT_TRUE(CheckKnownHost(many, "127.0.0.1", 2222, Blob(kEd25519)).ok());
  EXPECT_TRUE(CheckKnownHost(kHashedLine, "git.example.com", 2222, Blob(kEd25519)).ok());
  // Windows line endings.
  EXPECT_TRUE(
      CheckKnownHost("h ssh-ed25519 " + std::string(kEd25519) + " c\r\n", "h", 22, Blob(kEd25519))
          .ok());
}

TEST(KnownHostsTest, RefusesUnknownHostNamingItsFingerprint) {
  const std::string kh = Line("github.com", "ssh-ed25519", kEd25519);
  Status s = CheckKnownHost(kh, "gitlab.com", 22, Blob(kEd25519));
  EXPECT_EQ(s.code(), StatusCode::kForbidden);
  EXPECT_NE(s.message().find("gitlab.com"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(kEd25519Fingerprint), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("unknown"), std::string::npos) << s.message();

  // The port matters: a plain entry is for port 22 only.
  s = CheckKnownHost(kh, "github.com", 2222, Blob(kEd25519));
  EXPECT_EQ(s.code(), StatusCode::kForbidden);
  EXPECT_NE(s.message().find("[github.com]:2222"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("ssh-keyscan -p 2222 github.com"), std::string::npos) << s.message();

  // Negated pattern.
  s = CheckKnownHost(Line("*.corp.example,!evil.corp.example", "ssh-ed25519", kEd25519),
                     "evil.corp.example", 22, Blob(kEd25519));
  EXPECT_EQ(s.code(), StatusCode::kForbidden);

  // Hashed entry for another host.
  EXPECT_EQ(CheckKnownHost(kHashedLine, "other.example.com", 2222, Blob(kEd25519)).code(),
            StatusCode::kForbidden);
}

TEST(KnownHostsTest, RefusesChangedKeyNamingBoth) {
  const std::string kh = Line("[127.0.0.1]:2222", "ssh-ed25519", kEd25519);
  Status s = CheckKnownHost(kh, "127.0.0.1", 2222, Blob(kEcdsa));
  EXPECT_EQ(s.code(), StatusCode::kForbidden);
  EXPECT_NE(s.message().find("does not match"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(kEcdsaFingerprint), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(kEd25519Fingerprint), std::string::npos) << s.message();
}

TEST(KnownHostsTest, HonoursMarkers) {
  std::string kh = "@revoked * ssh-ed25519 " + std::string(kEd25519) + "\n" +
                   Line("host", "ssh-ed25519", kEd25519);
  Status s = CheckKnownHost(kh, "host", 22, Blob(kEd25519));
  EXPECT_EQ(s.code(), StatusCode::kForbidden);
  EXPECT_NE(s.message().find("@revoked"), std::string::npos) << s.message();
  // Revocation wins wherever it appears.
  kh = Line("host", "ssh-ed25519", kEd25519) + "@revoked host ssh-ed25519 " +
       std::string(kEd25519) + "\n";
  EXPECT_EQ(CheckKnownHost(kh, "host", 22, Blob(kEd25519)).code(), StatusCode::kForbidden);
  // A CA line is not a host key.
  kh = "@cert-authority host ssh-ed25519 " + std::string(kEd25519) + "\n";
  EXPECT_EQ(CheckKnownHost(kh, "host", 22, Blob(kEd25519)).code(), StatusCode::kForbidden);
}

TEST(KnownHostsTest, MalformedInputNamesTheLine) {
  Status s = CheckKnownHost("", "h", 22, Blob(kEd25519));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("empty"), std::string::npos);
  s = CheckKnownHost("# only a comment\n", "h", 22, Blob(kEd25519));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);

  s = CheckKnownHost("# c\nh ssh-ed25519\n", "h", 22, Blob(kEd25519));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("line 2"), std::string::npos) << s.message();

  s = CheckKnownHost("h ssh-ed25519 !!!notbase64\n", "h", 22, Blob(kEd25519));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("line 1"), std::string::npos) << s.message();

  s = CheckKnownHost(Line("h", "ssh-rsa", kEd25519), "h", 22, Blob(kEd25519));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("does not match the key's own type"), std::string::npos);

  s = CheckKnownHost("@bogus h ssh-ed25519 " + std::string(kEd25519), "h", 22, Blob(kEd25519));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace gantry::git
