// Pruning: deleting the objects an Application applied before that have left Git.
//
// The previous inventory (status.inventory) minus the ids of the current desired objects are the
// candidates. A candidate is deleted only when the live object still carries this Application's
// ownership labels (someone else may have adopted it) and is not protected by the annotation
// gantry.io/prune: disabled. Deletion follows the prune order (order.h: the reverse of the apply
// order, Namespaces and CRDs last), with background propagation, as kubectl and Flux do.
//
// The caller decides whether to prune at all: never after a failed fetch, load or apply, and
// only with spec.prune. Safe from any thread as long as the KubeClient is.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "operator/api/application.h"
#include "operator/common/status.h"
#include "operator/kube/kube_client.h"

namespace gantry::reconcilers {

struct PruneResult {
  std::vector<std::string> deleted;  // "ConfigMap ns/name"
  std::vector<std::string> kept;     // protected or adopted, with the reason
  // Entries still to remember in the inventory (kept objects, and objects whose delete failed).
  std::vector<api::InventoryEntry> remaining;
};

// Deletes the objects of `previous` whose id is not in `current_ids`. `app` is the
// Application's key (namespace, name) used to check ownership labels. Returns the first error
// after trying every object; `result` is filled as far as it got.
Status PruneStale(kube::KubeClient& client, const kube::ObjectKey& app,
                  const std::vector<api::InventoryEntry>& previous,
                  const std::set<std::string>& current_ids, PruneResult& result);

}  // namespace gantry::reconcilers
