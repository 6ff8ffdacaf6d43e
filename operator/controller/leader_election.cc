#include "operator/controller/leader_election.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <mutex>

namespace gantry::controller {
namespace {

const kube::GroupVersionKind kLease{"coordination.k8s.io", "v1", "Lease"};

bool SleepFor(std::stop_token stop, Clock::Duration d) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait_for(lock, stop, d, [] { return false; });
  return !stop.stop_requested();
}

}  // namespace

std::string FormatMicroTime(Clock::TimePoint t) {
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(micros / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:06d}Z", buf, micros % 1'000'000);
}

LeaderElector::LeaderElector(kube::KubeClient& client, Clock& clock, LeaderElectionOptions options)
    : client_(client), clock_(clock), options_(std::move(options)) {}

kube::ResourceRef LeaderElector::LeaseRef() const {
  return kube::ResourceRef{kLease, options_.ns, options_.name};
}

Result<bool> LeaderElector::TryAcquireOrRenew() {
  Clock::TimePoint now = clock_.Now();
  std::string now_text = FormatMicroTime(now);
  Result<kube::Object> lease = client_.Get(LeaseRef());
  if (!lease.ok()) {
    if (lease.status().code() != StatusCode::kNotFound) return lease.status();
    kube::Object fresh = {{"apiVersion", "coordination.k8s.io/v1"},
                          {"kind", "Lease"},
                          {"metadata", {{"name", options_.name}, {"namespace", options_.ns}}},
                          {"spec",
                           {{"holderIdentity", options_.identity},
                            {"leaseDurationSeconds", options_.lease_duration.count()},
                            {"acquireTime", now_text},
                            {"renewTime", now_text},
                            {"leaseTransitions", 0}}}};
    if (gave_up_) return false;
    Result<kube::Object> created = client_.Create(fresh);
    if (!created.ok()) {
      if (created.status().code() == StatusCode::kAlreadyExists) return false;
      return created.status();
    }
    observed_spec_ = (*created)["spec"];
    observed_at_ = now;
    observed_holder_ = options_.identity;
    return true;
  }

  kube::Object spec = lease->value("spec", kube::Object::object());
  if (spec != observed_spec_) {
    observed_spec_ = spec;
    observed_at_ = now;
  }
  std::string holder = spec.value("holderIdentity", "");
  observed_holder_ = holder;
  int64_t duration = spec.value("leaseDurationSeconds", options_.lease_duration.count());
  bool ours = holder == options_.identity;
  bool expired = now >= observed_at_ + std::chrono::seconds(duration);
  if (!ours && !holder.empty() && !expired) return false;

  kube::Object updated = *lease;
  kube::Object& s = updated["spec"];
  if (!ours) {
    s["acquireTime"] = now_text;
    // Every change of holder counts, also after a release, as in client-go.
    s["leaseTransitions"] = spec.value("leaseTransitions", 0) + 1;
  }
  s["holderIdentity"] = options_.identity;
  s["leaseDurationSeconds"] = options_.lease_duration.count();
  s["renewTime"] = now_text;
  if (gave_up_) return false;
  Result<kube::Object> written = client_.Update(updated);
  if (!written.ok()) {
    if (written.status().code() == StatusCode::kConflict) return false;
    return written.status();
  }
  observed_spec_ = (*written)["spec"];
  observed_at_ = now;
  observed_holder_ = options_.identity;
  if (!ours) {
    spdlog::info("leader election: {} took lease {}/{} from \"{}\"", options_.identity, options_.ns,
                 options_.name, holder);
  }
  return true;
}

bool LeaderElector::Acquire(std::stop_token stop) {
  std::string last_holder;
  while (!stop.stop_requested()) {
    Result<bool> led = TryAcquireOrRenew();
    if (led.ok() && *led) {
      spdlog::info("leader election: {} leads (lease {}/{})", options_.identity, options_.ns,
                   options_.name);
      return true;
    }
    if (!led.ok()) {
      spdlog::warn("leader election: {}", led.status().ToString());
    } else if (observed_holder_ != last_holder) {
      spdlog::info("leader election: waiting, lease {}/{} is held by \"{}\"", options_.ns,
                   options_.name, observed_holder_);
      last_holder = observed_holder_;
    }
    if (!SleepFor(stop, options_.retry_period)) break;
  }
  return false;
}

Status LeaderElector::Renew(std::stop_token stop) {
  Clock::TimePoint last_renewed = clock_.Now();
  Status last_error = Status::Ok();
  while (SleepFor(stop, options_.retry_period)) {
    attempt_ = std::async(std::launch::async, [this] { return TryAcquireOrRenew(); });
    Clock::Duration left = last_renewed + options_.renew_deadline - clock_.Now();
    if (attempt_.wait_for(std::max(left, Clock::Duration::zero())) != std::future_status::ready) {
      // Leave attempt_ pending (the destructor waits for it) and stop it from writing: the
      // caller stops reconciling now rather than when the request times out.
      gave_up_ = true;
      return Status(StatusCode::kTimeout,
                    fmt::format("renewing lease {}/{} did not finish within the renew deadline "
                                "({}s) after the last renewal",
                                options_.ns, options_.name, options_.renew_deadline.count()))
          .WithContext("leader election lost");
    }
    Result<bool> led = attempt_.get();
    if (led.ok() && *led) {
      last_renewed = clock_.Now();
      continue;
    }
    last_error = led.ok() ? Status(StatusCode::kConflict,
                                   fmt::format("lease {}/{} is now held by \"{}\"", options_.ns,
                                               options_.name, observed_holder_))
                          : led.status();
    if (led.ok() || clock_.Now() - last_renewed >= options_.renew_deadline) {
      return last_error.WithContext("leader election lost");
    }
    spdlog::warn("leader election: renewing failed, will retry: {}", last_error.ToString());
  }
  return Release();
}

Status LeaderElector::Release() {
  Result<kube::Object> lease = client_.Get(LeaseRef());
  if (!lease.ok())
    return lease.status().code() == StatusCode::kNotFound ? Status::Ok() : lease.status();
  if ((*lease)["spec"].value("holderIdentity", "") != options_.identity) return Status::Ok();
  kube::Object released = *lease;
  released["spec"]["holderIdentity"] = "";
  released["spec"]["leaseDurationSeconds"] = 1;
  released["spec"]["renewTime"] = FormatMicroTime(clock_.Now());
  Result<kube::Object> written = client_.Update(released);
  if (!written.ok()) return written.status().WithContext("releasing the leader lease");
  spdlog::info("leader election: {} released lease {}/{}", options_.identity, options_.ns,
               options_.name);
  return Status::Ok();
}

}  // namespace gantry::controller
