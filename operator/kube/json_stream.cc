#include "operator/kube/json_stream.h"

#include <fmt/format.h>

namespace gantry::kube {

Status JsonObjectSplitter::Feed(std::string_view bytes,
                                const std::function<Status(std::string_view)>& on_object) {
  size_t start = 0;  // first byte of `bytes` that belongs to the current object
  for (size_t i = 0; i < bytes.size(); ++i) {
    char c = bytes[i];
    if (depth_ == 0) {
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
        start = i + 1;
        continue;
      }
      if (c != '{') {
        return InvalidArgument(
            fmt::format("watch stream: expected a JSON object, found byte '{}'", c));
      }
      start = i;
      depth_ = 1;
      continue;
    }
    if (in_string_) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        in_string_ = false;
      }
      continue;
    }
    if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if (c == '}' || c == ']') {
      if (--depth_ == 0) {
        Status s;
        if (current_.empty()) {
          s = on_object(bytes.substr(start, i + 1 - start));
        } else {
          current_.append(bytes.substr(start, i + 1 - start));
          s = on_object(current_);
          current_.clear();
        }
        GANTRY_RETURN_IF_ERROR(s);
        start = i + 1;
      }
    }
  }
  if (depth_ > 0) current_.append(bytes.substr(start));
  return Status::Ok();
}

}  // namespace gantry::kube
