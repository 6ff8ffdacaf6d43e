#include "operator/reconcilers/application_parallel.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace gantry::reconcilers {

void ForEachParallel(size_t n, int parallelism, const std::function<void(size_t)>& fn) {
  const size_t threads = std::min(n, static_cast<size_t>(std::max(1, parallelism)));
  if (threads <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) fn(i);
  };
  std::vector<std::jthread> helpers;
  helpers.reserve(threads - 1);
  for (size_t t = 1; t < threads; ++t) helpers.emplace_back(work);
  work();
  // The jthreads join as `helpers` goes out of scope.
}

}  // namespace gantry::reconcilers
