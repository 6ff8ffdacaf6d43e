// Splits a byte stream of concatenated JSON objects (a Kubernetes watch answer) into whole
// objects, whatever the chunking of the stream and whether or not newlines separate them. Not
// thread-safe: one splitter per stream.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "operator/common/status.h"

namespace gantry::kube {

class JsonObjectSplitter {
 public:
  // Consumes `bytes`; calls `on_object` with the text of each top-level object completed by
  // them, in order. Stops and returns the first error `on_object` returns. InvalidArgument
  // when something other than an object or whitespace appears at the top level.
  Status Feed(std::string_view bytes, const std::function<Status(std::string_view)>& on_object);

  // Bytes of an object not yet completed.
  size_t pending() const { return current_.size(); }

 private:
  std::string current_;
  int depth_ = 0;
  bool in_string_ = false;
  bool escaped_ = false;
};

}  // namespace gantry::kube
