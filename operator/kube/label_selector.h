// Label and field selectors, as the API server understands them, evaluated client-side by the
// informer cache and the fake client.
//
// LabelSelector::Parse reads the string form used in `?labelSelector=` ("app=web,tier!=db,
// env in (prod,staging),!canary,release"); FromJson reads a metav1.LabelSelector
// (matchLabels + matchExpressions) as found in a Deployment's spec.selector. Matching is pure;
// a parsed selector is immutable and safe to share between threads.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "operator/common/status.h"
#include "operator/kube/object.h"

namespace gantry::kube {

class LabelSelector {
 public:
  enum class Op {
    kEquals,
    kNotEquals,
    kIn,
    kNotIn,
    kExists,
    kDoesNotExist,
    kGreaterThan,
    kLessThan
  };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;  // sorted; one value for =, !=, >, <
  };

  // The empty selector: matches everything.
  LabelSelector() = default;

  // InvalidArgument naming the selector and the offending position on a syntax error, an
  // invalid label key or value, or "in ()" with no values.
  static Result<LabelSelector> Parse(std::string_view text);
  // matchLabels and matchExpressions (operators In, NotIn, Exists, DoesNotExist). A null or
  // empty selector matches everything, as in the API.
  static Result<LabelSelector> FromJson(const Object& selector);

  // `labels` is a JSON object of string values (metadata.labels); anything else counts as no
  // labels.
  bool Matches(const Object& labels) const;
  bool Empty() const { return requirements_.empty(); }
  const std::vector<Requirement>& requirements() const { return requirements_; }
  // The canonical string form, accepted by Parse and by the API server.
  std::string ToString() const;

 private:
  std::vector<Requirement> requirements_;
};

// A field selector of the form the API server accepts ("metadata.name=foo,status.phase!=Done"):
// only = (or ==) and != on dotted paths. Matches compares against the string, number or bool
// at that path of the object (a missing field is "").
class FieldSelector {
 public:
  FieldSelector() = default;
  static Result<FieldSelector> Parse(std::string_view text);
  bool Matches(const Object& object) const;
  bool Empty() const { return terms_.empty(); }

 private:
  struct Term {
    std::vector<std::string> path;
    bool equals;
    std::string value;
  };
  std::vector<Term> terms_;
};

// True when `key` is a valid label key ([prefix/]name, name <= 63 chars of [A-Za-z0-9._-]
// starting and ending alphanumeric, prefix a DNS subdomain).
bool IsValidLabelKey(std::string_view key);
// True when `value` is a valid label value (empty, or <= 63 chars like a name).
bool IsValidLabelValue(std::string_view value);

}  // namespace gantry::kube
