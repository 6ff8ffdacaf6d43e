// RestKubeClient: the KubeClient that talks to a real API server over HTTPS.
//
// Built on HttpTransport (Boost.Beast, see http_transport.h for why not cpprestsdk). Per
// request it waits for a token of the client-side rate limiter (RestConfig qps/burst), adds
// credentials (re-reading a bearer token file when it may have rotated, and once more after a
// 401), applies the RestConfig timeout, retries a 429 (or 503 with Retry-After) up to three
// times when the server asks for a wait of at most 10s, and turns any other non-2xx answer
// into a typed Status (api_status.h). Discovery goes through a RestMapper.
#pragma once

#include <memory>

#include "operator/common/clock.h"
#include "operator/common/status.h"
#include "operator/kube/kube_client.h"
#include "operator/kube/rest_config.h"

namespace gantry::kube {

// InvalidArgument when the config cannot work (bad URL, unreadable TLS material). Does not
// contact the server: the first request does. `clock` drives token refresh and throttling
// and must outlive the client.
Result<std::unique_ptr<KubeClient>> NewRestKubeClient(const RestConfig& config,
                                                      Clock& clock = RealClock());

class HttpTransport;
// The same client over a given transport: unit tests script the server's answers with it.
// `config.server` is only used in messages.
std::unique_ptr<KubeClient> NewRestKubeClientOverTransport(const RestConfig& config,
                                                           std::unique_ptr<HttpTransport> transport,
                                                           Clock& clock);

}  // namespace gantry::kube
