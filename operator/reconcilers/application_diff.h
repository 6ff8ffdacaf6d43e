// `gantry app diff`, computed by the operator: what a sync of an Application would change, from
// the artifact the operator already fetched, so the CLI needs neither the Git URL nor its
// credentials, only the Kubernetes API (like `argocd app diff`, which asks the Argo CD server,
// and `flux reconcile`, which asks through an annotation and reads the answer back).
//
//   1. the CLI sets annotation gantry.io/diff-requested-at=<stamp> on the Application;
//   2. that change enqueues the Application; the reconciler's pass loads the current artifact,
//      dry-runs every object with the operator's identity (server-side apply, dry run: what the
//      next sync would send), and server-side applies ConfigMap gantry-diff-<application> in
//      the Application's namespace, owned by the Application: data.diff (the text, Secret
//      values masked), data.revision, data.changes ("true"|"false"), data.error (when no diff
//      could be made), annotation gantry.io/diff-requested-at=<stamp>;
//   3. the CLI waits until that annotation equals its stamp and prints data.diff.
//
// A pass that only answered a diff request of an Application that is already synced at the
// current revision and generation writes nothing else (a diff must not sync). Functions only;
// safe from any thread as long as the KubeClient is.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "operator/api/application.h"
#include "operator/common/status.h"
#include "operator/git/git_source.h"
#include "operator/kube/kube_client.h"

namespace gantry::reconcilers {

inline constexpr std::string_view kDiffRequestedAtAnnotation = "gantry.io/diff-requested-at";
inline constexpr std::string_view kDiffOfLabel = "gantry.io/diff-of";
// Past this, the text is cut (a ConfigMap holds at most 1 MiB).
inline constexpr size_t kMaxDiffText = 512 * 1024;

struct AppDiff {
  std::string revision;
  std::string text;      // per object: a header line and one line per changed field
  bool changes = false;  // anything would be written or pruned
};

// "gantry-diff-<application>".
std::string DiffConfigMapName(std::string_view application);

// What a sync of `app` at `artifact` would change: the manifests under spec.path, with
// targetNamespace, ownership labels and ignoreDifferences as a sync prepares them; for each, a
// server-side dry run compared with the live object (DescribeChanges: Secret values masked);
// objects the dry run refuses ("! <object>: <server's message>"); with spec.prune, the
// inventory entries no longer in Git. Errors: a manifest that does not load (file and line).
// Writes nothing.
Result<AppDiff> DiffDesiredState(kube::KubeClient& client, const api::Application& app,
                                 const git::Artifact& artifact);

// The ConfigMap that answers the request `stamp` of Application `app` (`uid`: its
// metadata.uid, for the owner reference): `diff`, or `error` when there is none.
kube::Object DiffConfigMap(const api::Application& app, std::string_view uid,
                           std::string_view stamp, const Result<AppDiff>& diff);

// The answer to `stamp` in a ConfigMap read back by the CLI: nullopt while the ConfigMap does
// not answer that stamp yet; the diff, or the operator's error naming the Application.
std::optional<Result<AppDiff>> ReadDiffAnswer(const kube::Object& config_map,
                                              std::string_view stamp);

}  // namespace gantry::reconcilers
