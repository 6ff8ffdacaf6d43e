// Gantry's custom resources in C++: one include for all six kinds (group gantry.io, version
// v1alpha1; schemas in crds/). Reconcilers, the CLI and tests include this or one kind's header.
//
//   GitRepository            git_repository.h   Flux field names
//   Application              application.h      Flux Kustomization / Argo CD field names
//   Rollout                  rollout.h          Argo Rollouts field names
//   AnalysisTemplate,
//   ClusterAnalysisTemplate,
//   AnalysisRun              analysis.h         Argo Rollouts field names
//
// Every kind has the same three members:
//
//   static Result<Kind> FromJson(const nlohmann::json&)
//       Decodes an object as the API server or a manifest file gives it. Fails only on shape:
//       a field of the wrong JSON type, an enum value not in the schema, a malformed timestamp,
//       a wrong apiVersion/kind. The error is InvalidArgument naming the object and each bad
//       field's path ("Rollout default/web: spec.strategy.canary.steps[2].setWeight: must be an
//       integer, got \"ten\""), with one StatusCause per field. Absent fields take the defaults
//       in DESIGN.md (declared next to each field), the same defaults the CRD schemas apply.
//
//   nlohmann::json ToJson() const
//       The whole object with apiVersion and kind, ready for create/update/apply or for the
//       status subresource.
//
//   Status Validate() const
//       The semantic checks a schema cannot make, and the schema's own checks again for objects
//       that never passed through an API server (unit tests, the CLI, `gantry` dry runs):
//       durations parse, exactly one strategy/provider/step action, references complete, ranges.
//       Reports every problem at once, each with its path, in the same format as FromJson. A
//       reconciler that gets an error here marks the object Stalled with the message.
//
// Round trips. Reconcilers read an object, change its status and write it back (PUT to the
// status subresource), and a restarted operator resumes from what it wrote, so nothing may be
// lost on the way through C++, including fields a newer Gantry, another tool or a user added.
// Two ways were considered: keep the raw JSON and only ever write merge patches, or keep the
// unknown fields inside the typed structs. We keep them in the structs: every struct has an
// `extra` member holding the keys it did not recognise, filled by FromJson and written back by
// ToJson, at every level (including items of lists such as conditions and metric results). A
// merge patch cannot delete a list item or clear a field without writing explicit nulls, which
// reconcilers would then have to get right everywhere; with `extra`, the typed struct is the
// whole truth and a plain PUT of ToJson() is correct. ToJson writes known fields by Go's
// `omitempty` rules (empty strings, lists and maps and unset optionals are omitted; integers
// and booleans are always written), so ToJson(FromJson(x)) contains every field of x except
// empty strings and lists, with defaults filled in and times at second precision, and
// FromJson(ToJson(y)) == y.
//
// All types are plain values: copy them freely; no member function touches shared state.
#pragma once

#include "operator/api/analysis.h"
#include "operator/api/application.h"
#include "operator/api/conditions.h"
#include "operator/api/git_repository.h"
#include "operator/api/int_or_string.h"
#include "operator/api/meta.h"
#include "operator/api/rollout.h"
