// Informer event handlers that feed a controller's WorkQueue, the two ways controllers are
// told about changes (controller-runtime's EnqueueRequestForObject and
// EnqueueRequestForOwner):
//   EnqueueObject(queue)              the changed object's own key ("rollouts" watch Rollouts)
//   EnqueueOwner(queue, kind, group)  the key of the changed object's owner of that kind,
//                                     from metadata.ownerReferences ("rollouts" watch the
//                                     ReplicaSets they own)
// Handlers only enqueue; they are safe on the informer thread.
#pragma once

#include <string>

#include "operator/controller/work_queue.h"
#include "operator/kube/informer.h"

namespace gantry::controller {

// Adds, updates and deletes all enqueue the object's key. Updates that change neither
// metadata.generation nor anything else but resourceVersion still enqueue: status changes
// matter to level-based reconcilers.
kube::EventHandler EnqueueObject(WorkQueue& queue);

// Enqueues (namespace of the object, name of the owner) for each ownerReference whose kind is
// `owner_kind` and whose apiVersion's group is `owner_group` ("" for the core group). With
// `controller_only`, only the reference marked controller: true counts.
kube::EventHandler EnqueueOwner(WorkQueue& queue, std::string owner_kind, std::string owner_group,
                                bool controller_only = true);

}  // namespace gantry::controller
