#include "operator/manifest/loader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <system_error>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "operator/manifest/json_text.h"
#include "operator/manifest/validate.h"

namespace gantry::manifest {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Collects problems; the load fails if there is any. Only the first few are kept in full.
class Problems {
 public:
  explicit Problems(size_t max_reported) : max_reported_(max_reported) {}

  void Add(std::string problem) {
    ++count_;
    if (messages_.size() < max_reported_) messages_.push_back(std::move(problem));
  }
  bool empty() const { return count_ == 0; }

  // The first problem, then the others, one per line; each also a StatusCause.
  Status ToStatus() const {
    std::string message = messages_.empty() ? "" : messages_.front();
    for (size_t i = 1; i < messages_.size(); ++i) message += "\n" + messages_[i];
    if (count_ > messages_.size()) {
      message += fmt::format("\n(and {} more problems)", count_ - messages_.size());
    }
    Status status = InvalidArgument(std::move(message));
    for (const std::string& m : messages_) status.add_cause(StatusCause{"", "Invalid", m});
    return status;
  }

 private:
  size_t max_reported_;
  size_t count_ = 0;
  std::vector<std::string> messages_;
};

// Thrown inside this file only, when a limit makes going on pointless (too many objects).
struct StopLoading {};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view BaseName(std::string_view file) {
  size_t slash = file.rfind('/');
  return slash == std::string_view::npos ? file : file.substr(slash + 1);
}

enum class Format { kYaml, kJson, kNone };

Format FormatOf(std::string_view file) {
  std::string name = Lower(BaseName(file));
  auto ends_with = [&](std::string_view suffix) {
    return name.size() > suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with(".yaml") || ends_with(".yml")) return Format::kYaml;
  if (ends_with(".json")) return Format::kJson;
  return Format::kNone;
}

bool IsKustomizeFileName(std::string_view file) {
  std::string_view name = BaseName(file);
  return name == "kustomization.yaml" || name == "kustomization.yml" || name == "Kustomization";
}

bool IsBlank(std::string_view content) {
  return std::all_of(content.begin(), content.end(),
                     [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; });
}

std::string StringMember(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Parses one file, appending its objects, what was skipped and every problem to the outputs.
// Throws StopLoading once the revision holds too many objects.
void ParseFileInto(std::string_view content, std::string_view file, const LoadOptions& options,
                   size_t& total_objects, ParsedFile& out, Problems& problems) {
  if (IsKustomizeFileName(file)) {
    out.skipped.push_back(SkippedFile{
        std::string(file),
        "a Kustomize file, not a Kubernetes object (Kustomize is not supported; commit the "
        "output of `kustomize build` instead)"});
    return;
  }
  Format format = FormatOf(file);
  if (format == Format::kNone) {
    out.skipped.push_back(SkippedFile{std::string(file), "not a .yaml/.yml/.json file"});
    return;
  }
  if (IsBlank(content)) {
    out.skipped.push_back(SkippedFile{std::string(file), "empty file"});
    return;
  }
  std::vector<YamlDocument> documents;
  if (format == Format::kYaml) {
    Result<std::vector<YamlDocument>> parsed = YamlToJson(content, file, options.yaml);
    if (!parsed.ok()) {
      problems.Add(parsed.status().message());
      return;
    }
    documents = std::move(*parsed);
  } else {
    Result<YamlDocument> parsed = ParseJsonText(content, file, options.yaml);
    if (!parsed.ok()) {
      problems.Add(parsed.status().message());
      return;
    }
    documents.push_back(std::move(*parsed));
  }

  // A file none of whose documents even tries to be a Kubernetes object is some other tool's
  // configuration (Helm values, CI settings): skip it rather than fail the revision.
  bool looks_like_manifest = std::any_of(documents.begin(), documents.end(), [](auto& d) {
    return d.value.is_object() && (d.value.contains("apiVersion") || d.value.contains("kind"));
  });
  if (!looks_like_manifest) {
    bool all_empty =
        std::all_of(documents.begin(), documents.end(), [](auto& d) { return d.value.is_null(); });
    std::string reason = all_empty ? "no documents (only comments or empty documents)"
                         : format == Format::kYaml ? "YAML without apiVersion/kind"
                                                   : "JSON without apiVersion/kind";
    out.skipped.push_back(SkippedFile{std::string(file), std::move(reason)});
    return;
  }

  int index = 0;
  auto add_object = [&](json value, int line) {
    if (++total_objects > options.max_objects) {
      problems.Add(
          fmt::format("{}:{}: more than {} objects in this revision; split it into "
                      "several Applications",
                      file, line, options.max_objects));
      throw StopLoading{};
    }
    Object object{std::move(value), std::string(file), line, index++};
    for (const std::string& problem : ValidateObject(object.json)) {
      problems.Add(ObjectMessage(object, problem));
    }
    out.objects.push_back(std::move(object));
  };

  for (YamlDocument& doc : documents) {
    if (doc.value.is_null()) continue;  // "---" with nothing after it
    if (!doc.value.is_object()) {
      problems.Add(
          fmt::format("{}:{}: the document is {}, not a mapping (each document must "
                      "be one Kubernetes object)",
                      file, doc.line, JsonTypePhrase(doc.value)));
      continue;
    }
    std::string api_version = StringMember(doc.value, "apiVersion");
    std::string kind = StringMember(doc.value, "kind");
    if (api_version.rfind("kustomize.config.k8s.io/", 0) == 0) {
      out.skipped.push_back(SkippedFile{
          fmt::format("{}:{}", file, doc.line),
          fmt::format("a Kustomize {}, not a Kubernetes object (Kustomize is not supported)",
                      kind.empty() ? "document" : kind)});
      continue;
    }
    auto items = doc.value.find("items");
    if (EndsWith(kind, "List") && items != doc.value.end() && items->is_array()) {
      // A List is a way of writing several objects; kubectl applies its items one by one.
      for (size_t i = 0; i < items->size(); ++i) {
        int line = i < doc.item_lines.size() ? doc.item_lines[i] : doc.line;
        json& item = (*items)[i];
        if (!item.is_object()) {
          problems.Add(fmt::format("{}:{}: item {} of the {} is {}, not a mapping", file, line, i,
                                   kind, JsonTypePhrase(item)));
          continue;
        }
        add_object(std::move(item), line);
      }
      continue;
    }
    add_object(std::move(doc.value), doc.line);
  }
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

bool IsWithin(const fs::path& real, const fs::path& root) {
  const std::string& r = root.native();
  const std::string& p = real.native();
  if (p == r) return true;
  if (p.size() <= r.size() || p.compare(0, r.size(), r) != 0) return false;
  return r.back() == '/' || p[r.size()] == '/';
}

// Walks the tree below the start path; the checkout is untrusted, so every step is checked.
class Walker {
 public:
  Walker(const fs::path& root_real, const LoadOptions& options, ParsedFile& out, Problems& problems)
      : root_(root_real), options_(options), out_(out), problems_(problems) {}

  // `display` is the path relative to the root as the user wrote it; `real` where it leads.
  void Walk(const std::string& display, const fs::path& real) {
    std::error_code ec;
    if (fs::is_directory(real, ec)) {
      WalkDirectory(display, real);
    } else {
      VisitFile(display, real);
    }
  }

 private:
  struct DirFrame {
    std::string display;
    fs::path real;
    std::vector<std::string> names;
    size_t next = 0;
  };

  void WalkDirectory(const std::string& display, const fs::path& real) {
    std::vector<DirFrame> stack;
    if (!EnterDirectory(display, real, stack)) return;
    while (!stack.empty()) {
      DirFrame& top = stack.back();
      if (top.next == top.names.size()) {
        stack.pop_back();
        continue;
      }
      std::string name = top.names[top.next++];
      std::string child_display = Join(top.display, name);
      fs::path child = top.real / name;
      if (name.front() == '.') {
        out_.skipped.push_back(SkippedFile{child_display, "hidden file or directory"});
        continue;
      }
      std::error_code ec;
      fs::file_status link_status = fs::symlink_status(child, ec);
      if (ec) {
        problems_.Add(fmt::format("{}: cannot read: {}", child_display, ec.message()));
        continue;
      }
      fs::path target = child;
      if (fs::is_symlink(link_status)) {
        std::optional<fs::path> resolved = ResolveLink(child_display, child);
        if (!resolved) continue;
        target = *resolved;
      }
      fs::file_status status = fs::status(target, ec);
      if (ec) {
        problems_.Add(fmt::format("{}: cannot read: {}", child_display, ec.message()));
        continue;
      }
      if (fs::is_directory(status)) {
        bool loop = std::any_of(stack.begin(), stack.end(),
                                [&](const DirFrame& f) { return f.real == target; });
        if (loop) {
          problems_.Add(fmt::format("{}: symlink loop: it leads back to {}", child_display,
                                    DisplayOf(target)));
          continue;
        }
        EnterDirectory(child_display, target, stack);
      } else if (fs::is_regular_file(status)) {
        VisitFile(child_display, target);
      } else {
        out_.skipped.push_back(SkippedFile{child_display, "not a regular file or directory"});
      }
    }
  }

  // Pushes a frame for a directory not seen before; a directory reached twice (through a
  // symlink) is skipped, so no object is loaded twice by accident.
  bool EnterDirectory(const std::string& display, const fs::path& real,
                      std::vector<DirFrame>& stack) {
    auto [it, inserted] = seen_.emplace(real.native(), display);
    if (!inserted) {
      out_.skipped.push_back(
          SkippedFile{display, fmt::format("the same directory as {}, already loaded",
                                           it->second.empty() ? "the root" : it->second)});
      return false;
    }
    std::error_code ec;
    std::vector<std::string> names;
    for (fs::directory_iterator dir(real, ec), end; !ec && dir != end; dir.increment(ec)) {
      names.push_back(dir->path().filename().native());
    }
    if (ec) {
      problems_.Add(fmt::format("{}: cannot list directory: {}", display.empty() ? "." : display,
                                ec.message()));
      return false;
    }
    std::sort(names.begin(), names.end());
    stack.push_back(DirFrame{display, real, std::move(names), 0});
    return true;
  }

  // Where a symlink leads, if it stays in the root. A link out of the root is an error (the
  // revision may be trying to read the operator's files), even when its target does not exist
  // here: it may exist on another operator's disk, and the user must learn of it either way. A
  // dangling link inside the root is skipped.
  std::optional<fs::path> ResolveLink(const std::string& display, const fs::path& link) {
    std::error_code ec;
    fs::path target = fs::canonical(link, ec);
    if (ec) {
      std::error_code ignored;
      const fs::path written = fs::read_symlink(link, ignored);
      const fs::path lexical = (link.parent_path() / written).lexically_normal();
      if (ec == std::errc::too_many_symbolic_link_levels) {
        problems_.Add(fmt::format("{}: symlink loop ({})", display, ec.message()));
      } else if (!IsWithin(lexical, root_)) {
        problems_.Add(fmt::format("{}: symlink to {} leads outside the repository", display,
                                  written.generic_string()));
      } else {
        out_.skipped.push_back(
            SkippedFile{display, fmt::format("broken symlink to {}", written.generic_string())});
      }
      return std::nullopt;
    }
    if (!IsWithin(target, root_)) {
      std::error_code ignored;
      problems_.Add(fmt::format("{}: symlink to {} leads outside the repository", display,
                                fs::read_symlink(link, ignored).generic_string()));
      return std::nullopt;
    }
    return target;
  }

  std::string DisplayOf(const fs::path& real) const {
    auto it = seen_.find(real.native());
    if (it != seen_.end()) return it->second.empty() ? "the root" : it->second;
    return real.lexically_relative(root_).generic_string();
  }

  void VisitFile(const std::string& display, const fs::path& real) {
    if (FormatOf(display) == Format::kNone && !IsKustomizeFileName(display)) {
      out_.skipped.push_back(SkippedFile{display, "not a .yaml/.yml/.json file"});
      return;
    }
    auto [it, inserted] = seen_.emplace(real.native(), display);
    if (!inserted) {
      out_.skipped.push_back(
          SkippedFile{display, fmt::format("the same file as {}, already loaded", it->second)});
      return;
    }
    std::error_code ec;
    uintmax_t size = fs::file_size(real, ec);
    if (ec) {
      problems_.Add(fmt::format("{}: cannot read: {}", display, ec.message()));
      return;
    }
    if (size > options_.max_file_bytes) {
      problems_.Add(fmt::format("{}: the file is {} bytes, over the limit of {} bytes; split it",
                                display, size, options_.max_file_bytes));
      return;
    }
    std::ifstream in(real, std::ios::binary);
    std::string content;
    if (in) {
      content.resize(size);
      in.read(content.data(), static_cast<std::streamsize>(size));
      content.resize(static_cast<size_t>(in.gcount()));
    }
    if (!in && !in.eof()) {
      problems_.Add(fmt::format("{}: cannot read the file", display));
      return;
    }
    ParseFileInto(content, display, options_, total_objects_, out_, problems_);
  }

  const fs::path& root_;
  const LoadOptions& options_;
  ParsedFile& out_;
  Problems& problems_;
  // Real path -> the path it was first loaded as.
  std::unordered_map<std::string, std::string> seen_;
  size_t total_objects_ = 0;
};

// Normalises `path` lexically: "" / "." / "./" -> "", "/apps//web/" -> "apps/web". An error
// when ".." would climb above the root.
Result<std::string> CleanRelativePath(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view part = path.substr(start, slash - start);
    start = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) {
        return InvalidArgument(fmt::format(
            "path \"{}\" leads outside the repository; paths are relative to its root", path));
      }
      parts.pop_back();
      continue;
    }
    parts.emplace_back(part);
  }
  std::string out;
  for (const std::string& p : parts) out = Join(out, p);
  return out;
}

// The group/kind/namespace/name that makes two objects the same object.
std::tuple<std::string, std::string, std::string, std::string> Identity(const json& object) {
  Result<ObjectId> id = ObjectIdOf(object);
  if (!id.ok()) return {};
  return {id->group, id->kind, id->namespace_, id->name};
}

void CheckDuplicates(const std::vector<Object>& objects, Problems& problems) {
  std::map<std::tuple<std::string, std::string, std::string, std::string>, const Object*> first;
  for (const Object& object : objects) {
    auto key = Identity(object.json);
    if (std::get<3>(key).empty()) continue;  // no usable name: already reported
    auto [it, inserted] = first.emplace(key, &object);
    if (!inserted) {
      problems.Add(ObjectMessage(
          object, fmt::format("the same object is already defined at {}", it->second->Origin())));
    }
  }
}

}  // namespace

std::string SkippedFile::ToString() const { return fmt::format("{}: {}", path, reason); }

Result<ParsedFile> ParseManifestFile(std::string_view content, std::string_view file,
                                     const LoadOptions& options) {
  ParsedFile out;
  Problems problems(options.max_reported_errors);
  size_t total = 0;
  if (content.size() > options.max_file_bytes) {
    return InvalidArgument(fmt::format("{}: the file is {} bytes, over the limit of {} bytes", file,
                                       content.size(), options.max_file_bytes));
  }
  try {
    ParseFileInto(content, file, options, total, out, problems);
  } catch (const StopLoading&) {
  }
  if (!problems.empty()) return problems.ToStatus();
  return out;
}

Result<LoadResult> LoadManifests(const fs::path& root, std::string_view path,
                                 const LoadOptions& options) {
  std::error_code ec;
  fs::path root_real = fs::canonical(root, ec);
  if (ec || !fs::is_directory(root_real, ec)) {
    return NotFound(fmt::format("repository root {} is not a readable directory", root.string()));
  }
  Result<std::string> relative = CleanRelativePath(path);
  if (!relative.ok()) return relative.status();

  fs::path start = relative->empty() ? root_real : root_real / *relative;
  fs::path start_real = fs::canonical(start, ec);
  if (ec) {
    return NotFound(fmt::format("path \"{}\" does not exist in the repository", path));
  }
  if (!IsWithin(start_real, root_real)) {
    return InvalidArgument(
        fmt::format("path \"{}\" leads outside the repository through a symlink", path));
  }

  ParsedFile parsed;
  Problems problems(options.max_reported_errors);
  Walker walker(root_real, options, parsed, problems);
  try {
    walker.Walk(*relative, start_real);
  } catch (const StopLoading&) {
  }
  if (problems.empty()) CheckDuplicates(parsed.objects, problems);
  if (!problems.empty()) return problems.ToStatus();
  return LoadResult{std::move(parsed.objects), std::move(parsed.skipped)};
}

Status ApplyTargetNamespace(std::vector<Object>& objects, std::string_view target_namespace,
                            const IsNamespacedFn& is_namespaced) {
  if (!target_namespace.empty() && !IsDns1123Label(target_namespace)) {
    return InvalidArgument(
        fmt::format("targetNamespace \"{}\" is not a valid namespace name (a DNS-1123 label)",
                    target_namespace));
  }
  for (Object& object : objects) {
    Result<GroupKind> gk = GroupKindOf(object.json);
    if (!gk.ok()) continue;  // the loader has already refused such objects
    auto metadata = object.json.find("metadata");
    if (metadata == object.json.end() || !metadata->is_object()) continue;
    if (is_namespaced(*gk)) {
      auto ns = metadata->find("namespace");
      bool missing = ns == metadata->end() || ns->is_null() ||
                     (ns->is_string() && ns->get_ref<const std::string&>().empty());
      if (missing && !target_namespace.empty()) {
        (*metadata)["namespace"] = std::string(target_namespace);
      }
    } else {
      metadata->erase("namespace");
    }
  }
  Problems problems(20);
  CheckDuplicates(objects, problems);
  if (!problems.empty()) return problems.ToStatus();
  return Status::Ok();
}

}  // namespace gantry::manifest
