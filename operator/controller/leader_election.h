// LeaderElector: at most one operator replica reconciles, chosen through a
// coordination.k8s.io/v1 Lease, as client-go's leaderelection package does.
//
// The holder renews spec.renewTime every retry_period. Another candidate takes the lease only
// after it has seen the same record unchanged for lease_duration, timed on its own clock (so
// clock skew between replicas does not matter). Writes carry the resourceVersion read, so two
// candidates cannot both win: the loser gets Conflict. A holder that cannot renew for
// renew_deadline must stop reconciling (the manager then exits, and the Deployment restarts
// it as a candidate). On a clean stop the holder releases the lease so a successor need not
// wait out the duration.
//
// A renewal that hangs (a partition that drops packets instead of refusing connections keeps
// a request waiting for the client's whole request timeout, 30s) must not keep us leading past
// renew_deadline: Renew runs each attempt on a helper thread and gives leadership up when the
// deadline passes with the attempt still pending. The abandoned attempt finishes on its own;
// the destructor waits for it.
//
// TryAcquireOrRenew is the single step (unit-tested with FakeKubeClient and FakeClock); Renew
// and Acquire loop it. Not thread-safe: one elector per thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <optional>
#include <stop_token>
#include <string>

#include "operator/common/clock.h"
#include "operator/kube/kube_client.h"

namespace gantry::controller {

struct LeaderElectionOptions {
  std::string ns;  // namespace of the Lease
  std::string name = "gantry-leader";
  std::string identity;  // unique per replica, e.g. hostname + random suffix
  std::chrono::seconds lease_duration{15};
  std::chrono::seconds renew_deadline{10};
  std::chrono::seconds retry_period{2};
};

// "2026-11-29T18:24:12.123456Z": metav1.MicroTime, as Lease times are written.
std::string FormatMicroTime(Clock::TimePoint t);

class LeaderElector {
 public:
  LeaderElector(kube::KubeClient& client, Clock& clock, LeaderElectionOptions options);
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // One attempt: creates the lease, renews it if ours, or takes it over if its record has
  // not changed for lease_duration. True when we hold it afterwards; errors only for failures
  // other than losing a race (Conflict and AlreadyExists are a plain false).
  Result<bool> TryAcquireOrRenew();

  // Blocks until this replica leads (true) or `stop` is requested (false).
  bool Acquire(std::stop_token stop);
  // Renews until `stop` (then releases the lease and returns OK) or until renewal failed for
  // renew_deadline (returns the last error: leadership is lost).
  Status Renew(std::stop_token stop);
  // Gives the lease up if we hold it (holderIdentity cleared).
  Status Release();

  const std::string& identity() const { return options_.identity; }
  // The holder seen last, "" if none.
  const std::string& observed_holder() const { return observed_holder_; }

 private:
  kube::ResourceRef LeaseRef() const;

  kube::KubeClient& client_;
  Clock& clock_;
  const LeaderElectionOptions options_;
  kube::Object observed_spec_;  // the lease spec as last read
  Clock::TimePoint observed_at_;
  std::string observed_holder_;
  // Set when Renew gave leadership up with an attempt still in flight: that attempt must not
  // write the lease any more (it would claim a lease this process no longer acts on).
  std::atomic<bool> gave_up_{false};
  // The renewal attempt in flight on its helper thread. Declared last: destroyed (and so
  // waited for) before the members that attempt writes.
  std::future<Result<bool>> attempt_;
};

}  // namespace gantry::controller
