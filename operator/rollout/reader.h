// ObjectReader: where a Rollout pass reads the Rollout and the objects around it (ReplicaSets,
// AnalysisRuns, Services). Writes never go through it: they go to the API server through the
// pass's KubeClient.
//
// Two implementations:
//   - NewApiObjectReader: every read is a request to the API server (tests, tools).
//   - NewInformerObjectReader: reads are answered from shared informer caches (the operator),
//     so a pass over a Rollout at rest costs the API server nothing, as in Argo Rollouts and
//     controller-runtime. Kinds (or namespaces) no informer holds, and informers that have not
//     listed once, are read from the API server.
//
// A cache lags the server by the watch's latency, and a pass must not decide from an object
// older than its own last write (a status write from a stale Rollout is refused with Conflict;
// a ReplicaSet or AnalysisRun created a moment ago and not yet cached would be created twice).
// So writers call Wrote() after each successful write, and until the cache has caught up with
// that write, reads of that object (and lists of its kind in its namespace) go to the API server.
// Such notes expire after a while (kWriteNoteTtl), so an object deleted meanwhile does not pin
// reads to the server forever.
//
// Thread-safe: passes of different Rollouts read and note writes at once.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "operator/common/clock.h"
#include "operator/common/status.h"
#include "operator/kube/informer.h"
#include "operator/kube/kube_client.h"
#include "operator/kube/label_selector.h"

namespace gantry::rollout {

class ObjectReader {
 public:
  virtual ~ObjectReader() = default;

  // The object `ref` names. NotFound when it does not exist; other errors are the API's.
  // The object is shared and immutable: copy it to change it.
  virtual Result<kube::ObjectPtr> Get(const kube::ResourceRef& ref) = 0;

  // The objects of `gvk` in namespace `ns` whose labels match `selector`, sorted by name.
  virtual Result<std::vector<kube::ObjectPtr>> List(const kube::GroupVersionKind& gvk,
                                                    const std::string& ns,
                                                    const kube::LabelSelector& selector) = 0;

  // The caller has just written `ref`: `replaced` is the resourceVersion of the object it read
  // before the write ("" for a create). Until the cache shows another version (or, for a
  // create, the object), reads of `ref` and lists of its kind in its namespace bypass it.
  virtual void Wrote(const kube::ResourceRef& ref, const std::string& replaced) = 0;
};

// How long a write note holds reads to the API server at most. A watch delivers a write in
// milliseconds; a note outliving this is for an object deleted or changed again meanwhile.
inline constexpr std::chrono::seconds kWriteNoteTtl{30};

// Reads everything from the API server through `client`, which must outlive the reader.
std::unique_ptr<ObjectReader> NewApiObjectReader(kube::KubeClient& client);

// Reads each kind that one of `informers` holds from that informer's cache, everything else
// through `client`. `ns` is the namespace the informers are limited to ("" for all): reads
// elsewhere go to the server. An informer with a label selector must hold every object its
// kind's reads are for. The informers, `client` and `clock` must outlive the reader.
std::unique_ptr<ObjectReader> NewInformerObjectReader(
    kube::KubeClient& client, Clock& clock, std::vector<const kube::SharedInformer*> informers,
    std::string ns);

}  // namespace gantry::rollout
