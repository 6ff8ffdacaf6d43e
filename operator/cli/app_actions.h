// What `gantry app list|get|sync|diff` do, as functions of a KubeClient so that they can be
// tested against FakeKubeClient; app_cli.h only parses flags and prints. Each returns the text
// to print, or an error naming the Application.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "operator/common/clock.h"
#include "operator/common/status.h"
#include "operator/kube/kube_client.h"
#include "operator/reconcilers/application_diff.h"

namespace gantry::cli {

// A table of the Applications in `ns` ("" for all namespaces): namespace, name, sync status,
// health, Ready, the last applied revision and the Ready message.
Result<std::string> ListApplications(kube::KubeClient& client, const std::string& ns);

// One Application: source, revisions, sync, health, conditions and each resource.
Result<std::string> DescribeApplication(kube::KubeClient& client, const std::string& ns,
                                        const std::string& name);

// Asks for a sync now: sets annotation gantry.io/reconcile-requested-at to the current time on
// the Application and on its GitRepository (so the source is fetched again too).
Result<std::string> RequestSync(kube::KubeClient& client, Clock& clock, const std::string& ns,
                                const std::string& name);

using AppDiff = reconcilers::AppDiff;

// What a sync would change, as the operator sees it (operator/reconcilers/application_diff.h):
// sets annotation gantry.io/diff-requested-at on the Application, then reads ConfigMap
// gantry-diff-<name> until the operator has answered that request, calling `sleep` between
// reads. The operator diffs its own artifact of the GitRepository's current revision (the CLI
// needs no access to Git) with a server-side dry run per object (Secret values masked) and
// lists what a sync would prune. The text starts with "Application <ns>/<name> at <revision>".
// Errors: NotFound for the Application; Timeout when no answer came within `timeout` (the
// operator is not running or does not watch the namespace); the operator's error (a manifest
// that does not load, no artifact yet) as InvalidArgument.
Result<AppDiff> DiffApplication(kube::KubeClient& client, Clock& clock,
                                const std::function<void(std::chrono::milliseconds)>& sleep,
                                const std::string& ns, const std::string& name,
                                std::chrono::milliseconds timeout);

}  // namespace gantry::cli
