// ForEachParallel: runs one function over the indices 0..n-1 on up to `parallelism` threads,
// the caller's included, and returns when every call has returned.
//
// Why: a sync is a series of independent API round trips (a dry run per object, then a write
// per changed object), each mostly waiting on the network and the API server. Run one at a
// time, a sync of 1,000 objects is bound by latency, not by the server or the client's rate
// limit; with a few requests in flight it is bound by the rate limit (--kube-qps,
// --kube-burst), which is what that limit is for.
//
// `fn` is called from several threads at once (for different indices), so whatever it writes
// must be per index or guarded. Calls start in index order but may finish in any order.
#pragma once

#include <cstddef>
#include <functional>

namespace gantry::reconcilers {

void ForEachParallel(size_t n, int parallelism, const std::function<void(size_t)>& fn);

}  // namespace gantry::reconcilers
