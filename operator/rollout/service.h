// Services pinned to one revision: the canary's stableService/canaryService and blue/green's
// activeService/previewService select `rollouts-pod-template-hash: <hash>` on top of their own
// selector. Switching a Service is one merge patch of that one key, so traffic moves in a single
// write and nothing else of the Service is touched.
#pragma once

#include <string>
#include <string_view>

#include "operator/api/rollout.h"
#include "operator/common/status.h"
#include "operator/kube/kube_client.h"
#include "operator/rollout/context.h"

namespace gantry::rollout {

// Checks, before a pass touches anything, that every Service the strategy names exists
// (canary stableService/canaryService, blue/green activeService/previewService). NotFound
// naming the first missing Service and the spec field that names it. Reads through `reader`.
Status CheckReferencedServices(ObjectReader& reader, const api::Rollout& rollout);

// The hash `service` selects today ("" when it selects no hash).
std::string SelectedHash(const kube::Object& service);

// Points Service `name` at `hash`. `field` names the spec field that references the Service,
// for messages ("spec.strategy.canary.stableService"). NotFound naming the Service and the field
// when it does not exist. Records a SwitchService event when the selector changes.
Status PointServiceAt(RolloutContext& ctx, const std::string& name, const std::string& hash,
                      std::string_view field);

// The hash Service `name` selects, read through ctx.reader ("" when none). NotFound as above.
Result<std::string> ServiceSelection(RolloutContext& ctx, const std::string& name,
                                     std::string_view field);

}  // namespace gantry::rollout
