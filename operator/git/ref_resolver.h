// Turning a GitRepository's spec.ref into "this commit, through this ref" given the refs a
// remote advertises. Pure functions (no I/O), safe from any thread; the libgit2 source calls
// them between listing the remote's refs and deciding whether to fetch.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "operator/common/status.h"
#include "operator/git/git_source.h"

namespace gantry::git {

// One advertised ref, as `git ls-remote` shows it. Annotated tags appear twice: "refs/tags/v1"
// with the tag object's id and "refs/tags/v1^{}" with the commit it peels to.
struct RemoteRef {
  std::string name;           // "HEAD", "refs/heads/main", "refs/tags/v1^{}"
  std::string oid;            // 40 hex
  std::string symref_target;  // for HEAD: "refs/heads/main" when the server says so
};

// The outcome of resolving a GitRef.
struct ResolvedRef {
  std::string ref;            // "refs/heads/main", "refs/tags/v1.2.3", "" for a bare commit
  std::string commit;         // 40 hex, lower case
  std::string revision_name;  // "main", "v1.2.3" (tag or semver), "" for a bare commit
  // Refspecs that bring `commit` into the clone when it is not there yet. Only the wanted
  // ref; a bare commit needs every branch and tag, since any of them may contain it.
  std::vector<std::string> refspecs;
  // The local ref a fetch of `refspecs` updates (read back after the fetch in case the remote
  // moved between listing and fetching); "" when the commit is fixed.
  std::string local_ref;
};

// Checks a GitRef without talking to any server: `commit` must be 40 hex digits, `semver` a
// valid range, `branch` and `tag` valid ref names (git check-ref-format rules, so they cannot
// smuggle a refspec). InvalidArgument names the field and the value.
Status ValidateRef(const GitRef& ref);

// The answer for a pinned commit, which needs no listing. Precondition: !ref.commit.empty()
// and ValidateRef(ref).ok().
ResolvedRef ResolvePinnedCommit(const GitRef& ref);

// Resolves `ref` against the advertised refs. Precedence commit > semver > tag > branch;
// none set: HEAD, named after the branch it points to. NotFound names the missing branch or
// tag, or the range and how many tags were seen, and `redacted_url`.
Result<ResolvedRef> ResolveRef(const GitRef& ref, const std::vector<RemoteRef>& remote,
                               std::string_view redacted_url);

// Flux's revision string: "<name>@sha1:<commit>", or "sha1:<commit>" when `name` is empty.
std::string FormatRevision(std::string_view name, std::string_view commit);

}  // namespace gantry::git
