// Verification of an HTTPS Git server's certificate against the CA a GitRepository's Secret
// gives in `ca.crt`, for servers whose certificate the system trust store does not cover
// (self-signed or private CAs). Pure apart from OpenSSL; safe from any thread.
#pragma once

#include <string_view>

#include "operator/common/clock.h"
#include "operator/common/status.h"

namespace gantry::git {

// Checks that `leaf_der` (the server's certificate, DER) chains to a certificate in `ca_pem`
// (one or more PEM certificates; any of them may be the trust anchor, so an intermediate CA
// works too), is valid at `now`, is meant for TLS servers, and names `host` (a DNS name or an
// IP literal, matched against the subject alternative names).
//
// OK on success. Forbidden when the certificate is not trusted, naming the host, the
// certificate's subject and issuer and OpenSSL's reason. InvalidArgument when `ca_pem` holds
// no certificate or `leaf_der` does not parse.
Status VerifyServerCertificate(std::string_view leaf_der, std::string_view ca_pem,
                               std::string_view host, Clock::TimePoint now);

}  // namespace gantry::git
