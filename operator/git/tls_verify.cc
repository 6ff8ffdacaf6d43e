#include "operator/git/tls_verify.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

namespace gantry::git {
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};

std::string NameOf(X509_NAME* name) {
  if (name == nullptr) return "?";
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : "?";
}

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

Status VerifyServerCertificate(std::string_view leaf_der, std::string_view ca_pem,
                               std::string_view host, Clock::TimePoint now) {
  const std::string host_str(host);
  const auto* der = reinterpret_cast<const unsigned char*>(leaf_der.data());
  std::unique_ptr<X509, X509Free> leaf(d2i_X509(nullptr, &der, static_cast<long>(leaf_der.size())));
  if (!leaf) {
    ERR_clear_error();
    return InvalidArgument(fmt::format("the TLS certificate of {} does not parse", host_str));
  }

  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  std::unique_ptr<STACK_OF(X509), StackFree> bundle(sk_X509_new_null());
  std::unique_ptr<BIO, BioFree> bio(
      BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())));
  if (!store || !bundle || !bio) return Internal("out of memory verifying a TLS certificate");
  int count = 0;
  while (true) {
    std::unique_ptr<X509, X509Free> ca(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!ca) break;
    X509_STORE_add_cert(store.get(), ca.get());
    sk_X509_push(bundle.get(), ca.release());
    ++count;
  }
  ERR_clear_error();  // the loop ends on "no start line"
  if (count == 0) {
    return InvalidArgument(
        "ca.crt holds no PEM certificate (want \"-----BEGIN CERTIFICATE-----\")");
  }

  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), bundle.get()) != 1) {
    ERR_clear_error();
    return Internal("cannot set up TLS certificate verification");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  // Any certificate in ca.crt may end the chain, as with `curl --cacert` on an intermediate.
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(now));
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
  if (IsIpLiteral(host_str)) {
    X509_VERIFY_PARAM_set1_ip_asc(param, host_str.c_str());
  } else {
    X509_VERIFY_PARAM_set1_host(param, host_str.c_str(), host_str.size());
  }
  if (X509_verify_cert(ctx.get()) == 1) return Status::Ok();
  const int err = X509_STORE_CTX_get_error(ctx.get());
  ERR_clear_error();
  return Status(
      StatusCode::kForbidden,
      fmt::format("TLS certificate of {} (subject \"{}\", issuer \"{}\") is not trusted "
                  "by the given ca.crt: {}",
                  host_str, NameOf(X509_get_subject_name(leaf.get())),
                  NameOf(X509_get_issuer_name(leaf.get())), X509_verify_cert_error_string(err)));
}

}  // namespace gantry::git
