// The web metric provider: one HTTP(S) request per measurement, its JSON answer the result.
//
// `method` GET (default), POST or PUT to `url` with `headers` and `body`, within
// `timeoutSeconds` (default 10). A 2xx answer is parsed as JSON; `jsonPath` (the subset in
// json_path.h) selects `result`, else the whole document is. Anything else is an Error
// measurement that says what came back: the HTTP status and a printable snippet of the body,
// a body that is not JSON, a path that selects nothing, a document nested too deeply.
#pragma once

#include <memory>

#include "operator/analysis/providers/http_client.h"
#include "operator/analysis/providers/metric_provider.h"
#include "operator/common/clock.h"

namespace gantry::analysis {

// How much of an unexpected body an Error measurement quotes.
inline constexpr size_t kWebBodySnippetLength = 256;

// `http` and `clock` must outlive the provider.
std::unique_ptr<MetricProvider> NewWebProvider(HttpClient& http, Clock& clock);

}  // namespace gantry::analysis
