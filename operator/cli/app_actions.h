// What `gantry app list|get|sync|diff` do, as functions of a KubeClient so that they can be
// tested against FakeKubeClient; app_cli.h only parses flags and prints. Each returns the text
// to print, or an error naming the Application.
#pragma once

#include <filesystem>
#include <string>

#include "operator/common/clock.h"
#include "operator/common/status.h"
#include "operator/git/git_source.h"
#include "operator/kube/kube_client.h"

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

struct AppDiff {
  std::string text;      // per object: a header line and one line per changed field
  bool changes = false;  // anything would be written or pruned
};

// What a sync would change: fetches the GitRepository's current artifact commit through
// `source`, loads the Application's manifests, and compares a server-side dry run of each
// object with the live one (Secret values masked); objects a sync would prune are listed.
Result<AppDiff> DiffApplication(kube::KubeClient& client, git::GitSource& source,
                                const std::string& ns, const std::string& name);

}  // namespace gantry::cli
