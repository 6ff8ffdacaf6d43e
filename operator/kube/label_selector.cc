#include "operator/kube/label_selector.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace gantry::kube {
namespace {

bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

bool IsQualifiedName(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

bool IsDnsSubdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (!IsAlnum(label.front()) || !IsAlnum(label.back())) return false;
    for (char c : label) {
      if (!(std::islower(static_cast<unsigned char>(c)) ||
            std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
        return false;
      }
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

// Tokenizer over the selector string. Identifiers are runs of anything that is not an
// operator, comma, parenthesis or space, so that invalid keys reach the validity check and get
// a precise message instead of a generic syntax error.
class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool AtEnd() {
    SkipSpace();
    return pos_ >= text_.size();
  }
  size_t pos() const { return pos_; }
  char Peek() {
    SkipSpace();
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }
  bool Consume(std::string_view token) {
    SkipSpace();
    if (text_.substr(pos_, token.size()) == token) {
      pos_ += token.size();
      return true;
    }
    return false;
  }
  std::string Identifier() {
    SkipSpace();
    size_t start = pos_;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '=' || c == '!' || c == ',' || c == '(' || c == ')' || c == '<' || c == '>' ||
          std::isspace(static_cast<unsigned char>(c))) {
        break;
      }
      ++pos_;
    }
    return std::string(text_.substr(start, pos_ - start));
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

const Object* LabelValue(const Object& labels, const std::string& key) {
  if (!labels.is_object()) return nullptr;
  auto it = labels.find(key);
  if (it == labels.end() || !it->is_string()) return nullptr;
  return &*it;
}

std::string_view OpString(LabelSelector::Op op) {
  switch (op) {
    case LabelSelector::Op::kEquals:
      return "=";
    case LabelSelector::Op::kNotEquals:
      return "!=";
    case LabelSelector::Op::kIn:
      return " in ";
    case LabelSelector::Op::kNotIn:
      return " notin ";
    case LabelSelector::Op::kGreaterThan:
      return ">";
    case LabelSelector::Op::kLessThan:
      return "<";
    default:
      return "";
  }
}

}  // namespace

bool IsValidLabelKey(std::string_view key) {
  size_t slash = key.find('/');
  if (slash == std::string_view::npos) return IsQualifiedName(key);
  return IsDnsSubdomain(key.substr(0, slash)) && IsQualifiedName(key.substr(slash + 1));
}

bool IsValidLabelValue(std::string_view value) { return value.empty() || IsQualifiedName(value); }

Result<LabelSelector> LabelSelector::Parse(std::string_view text) {
  LabelSelector selector;
  Lexer lex(text);
  auto error = [&](std::string_view what) {
    return InvalidArgument(
        fmt::format("label selector \"{}\" at position {}: {}", text, lex.pos() + 1, what));
  };
  if (lex.AtEnd()) return selector;
  while (true) {
    Requirement req;
    bool negated = lex.Consume("!");
    req.key = lex.Identifier();
    if (req.key.empty()) return error("expected a label key");
    if (!IsValidLabelKey(req.key)) return error(fmt::format("invalid label key \"{}\"", req.key));
    if (negated) {
      req.op = Op::kDoesNotExist;
    } else if (lex.AtEnd() || lex.Peek() == ',') {
      req.op = Op::kExists;
    } else if (lex.Consume("==") || lex.Consume("=")) {
      req.op = Op::kEquals;
    } else if (lex.Consume("!=")) {
      req.op = Op::kNotEquals;
    } else if (lex.Consume(">")) {
      req.op = Op::kGreaterThan;
    } else if (lex.Consume("<")) {
      req.op = Op::kLessThan;
    } else {
      std::string word = lex.Identifier();
      if (word == "in") {
        req.op = Op::kIn;
      } else if (word == "notin") {
        req.op = Op::kNotIn;
      } else {
        return error(fmt::format("expected =, ==, !=, in, notin after \"{}\"", req.key));
      }
      if (!lex.Consume("(")) return error("expected ( after in/notin");
      while (true) {
        if (lex.Consume(")")) break;
        std::string value = lex.Identifier();
        if (!IsValidLabelValue(value)) {
          return error(fmt::format("invalid label value \"{}\"", value));
        }
        req.values.push_back(std::move(value));
        if (lex.Consume(",")) continue;
        if (lex.Consume(")")) break;
        return error("expected , or ) in value list");
      }
      if (req.values.empty()) return error("empty value list");
    }
    if (req.op == Op::kEquals || req.op == Op::kNotEquals || req.op == Op::kGreaterThan ||
        req.op == Op::kLessThan) {
      std::string value = lex.Identifier();
      if (req.op == Op::kGreaterThan || req.op == Op::kLessThan) {
        char* end = nullptr;
        std::strtoll(value.c_str(), &end, 10);
        if (value.empty() || *end != '\0') return error("> and < need an integer value");
      } else if (!IsValidLabelValue(value)) {
        return error(fmt::format("invalid label value \"{}\"", value));
      }
      req.values.push_back(std::move(value));
    }
    std::sort(req.values.begin(), req.values.end());
    req.values.erase(std::unique(req.values.begin(), req.values.end()), req.values.end());
    selector.requirements_.push_back(std::move(req));
    if (lex.AtEnd()) break;
    if (!lex.Consume(",")) return error("expected , between requirements");
  }
  return selector;
}

Result<LabelSelector> LabelSelector::FromJson(const Object& json) {
  LabelSelector selector;
  if (json.is_null()) return selector;
  if (!json.is_object()) return InvalidArgument("label selector must be an object");
  if (auto ml = json.find("matchLabels"); ml != json.end() && !ml->is_null()) {
    if (!ml->is_object()) return InvalidArgument("selector.matchLabels must be an object");
    for (const auto& [key, value] : ml->items()) {
      if (!value.is_string()) {
        return InvalidArgument(fmt::format("selector.matchLabels[{}] must be a string", key));
      }
      if (!IsValidLabelKey(key)) {
        return InvalidArgument(fmt::format("selector.matchLabels: invalid label key \"{}\"", key));
      }
      if (!IsValidLabelValue(value.get<std::string>())) {
        return InvalidArgument(fmt::format("selector.matchLabels[{}]: invalid label value \"{}\"",
                                           key, value.get<std::string>()));
      }
      selector.requirements_.push_back({key, Op::kEquals, {value.get<std::string>()}});
    }
  }
  if (auto me = json.find("matchExpressions"); me != json.end() && !me->is_null()) {
    if (!me->is_array()) return InvalidArgument("selector.matchExpressions must be a list");
    for (size_t i = 0; i < me->size(); ++i) {
      const Object& e = (*me)[i];
      auto where = fmt::format("selector.matchExpressions[{}]", i);
      if (!e.is_object() || !e.contains("key") || !e["key"].is_string() ||
          !e.contains("operator") || !e["operator"].is_string()) {
        return InvalidArgument(where + ": needs key and operator");
      }
      Requirement req;
      req.key = e["key"].get<std::string>();
      if (!IsValidLabelKey(req.key)) {
        return InvalidArgument(fmt::format("{}: invalid label key \"{}\"", where, req.key));
      }
      std::string op = e["operator"].get<std::string>();
      if (op == "In") {
        req.op = Op::kIn;
      } else if (op == "NotIn") {
        req.op = Op::kNotIn;
      } else if (op == "Exists") {
        req.op = Op::kExists;
      } else if (op == "DoesNotExist") {
        req.op = Op::kDoesNotExist;
      } else {
        return InvalidArgument(fmt::format(
            "{}: operator \"{}\" is not one of In, NotIn, Exists, DoesNotExist", where, op));
      }
      if (auto values = e.find("values"); values != e.end() && values->is_array()) {
        for (const auto& v : *values) {
          if (!v.is_string()) return InvalidArgument(where + ": values must be strings");
          req.values.push_back(v.get<std::string>());
        }
      }
      bool needs_values = req.op == Op::kIn || req.op == Op::kNotIn;
      if (needs_values && req.values.empty()) {
        return InvalidArgument(where + ": In and NotIn need at least one value");
      }
      if (!needs_values && !req.values.empty()) {
        return InvalidArgument(where + ": Exists and DoesNotExist take no values");
      }
      std::sort(req.values.begin(), req.values.end());
      selector.requirements_.push_back(std::move(req));
    }
  }
  return selector;
}

bool LabelSelector::Matches(const Object& labels) const {
  for (const Requirement& req : requirements_) {
    const Object* value = LabelValue(labels, req.key);
    auto contains = [&](const Object* v) {
      return v != nullptr && std::binary_search(req.values.begin(), req.values.end(),
                                                v->get_ref<const std::string&>());
    };
    switch (req.op) {
      case Op::kEquals:
      case Op::kIn:
        if (!contains(value)) return false;
        break;
      case Op::kNotEquals:
      case Op::kNotIn:
        if (contains(value)) return false;
        break;
      case Op::kExists:
        if (value == nullptr) return false;
        break;
      case Op::kDoesNotExist:
        if (value != nullptr) return false;
        break;
      case Op::kGreaterThan:
      case Op::kLessThan: {
        if (value == nullptr) return false;
        const std::string& s = value->get_ref<const std::string&>();
        char* end = nullptr;
        long long have = std::strtoll(s.c_str(), &end, 10);
        if (s.empty() || *end != '\0') return false;
        long long want = std::strtoll(req.values.front().c_str(), nullptr, 10);
        if (req.op == Op::kGreaterThan ? !(have > want) : !(have < want)) return false;
        break;
      }
    }
  }
  return true;
}

std::string LabelSelector::ToString() const {
  std::string out;
  for (const Requirement& req : requirements_) {
    if (!out.empty()) out += ',';
    switch (req.op) {
      case Op::kExists:
        out += req.key;
        break;
      case Op::kDoesNotExist:
        out += "!" + req.key;
        break;
      case Op::kIn:
      case Op::kNotIn:
        out += fmt::format("{}{}({})", req.key, OpString(req.op), fmt::join(req.values, ","));
        break;
      default:
        out += fmt::format("{}{}{}", req.key, OpString(req.op), req.values.front());
    }
  }
  return out;
}

Result<FieldSelector> FieldSelector::Parse(std::string_view text) {
  FieldSelector selector;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    std::string_view term = text.substr(start, comma == text.npos ? text.npos : comma - start);
    start = comma == text.npos ? text.size() : comma + 1;
    while (!term.empty() && term.front() == ' ') term.remove_prefix(1);
    while (!term.empty() && term.back() == ' ') term.remove_suffix(1);
    if (term.empty()) continue;
    Term t;
    size_t op = term.find("!=");
    size_t op_len = 2;
    t.equals = false;
    if (op == term.npos) {
      t.equals = true;
      op = term.find("==");
      if (op == term.npos) {
        op = term.find('=');
        op_len = 1;
      }
    }
    if (op == term.npos || op == 0) {
      return InvalidArgument(fmt::format(
          "field selector \"{}\": term \"{}\" is not field=value or field!=value", text, term));
    }
    std::string_view field = term.substr(0, op);
    t.value = std::string(term.substr(op + op_len));
    size_t p = 0;
    while (p <= field.size()) {
      size_t dot = field.find('.', p);
      t.path.emplace_back(field.substr(p, dot == field.npos ? field.npos : dot - p));
      if (dot == field.npos) break;
      p = dot + 1;
    }
    selector.terms_.push_back(std::move(t));
  }
  return selector;
}

bool FieldSelector::Matches(const Object& object) const {
  for (const Term& term : terms_) {
    const Object* node = &object;
    for (const std::string& part : term.path) {
      if (node == nullptr || !node->is_object()) {
        node = nullptr;
        break;
      }
      auto it = node->find(part);
      node = it == node->end() ? nullptr : &*it;
    }
    std::string have;
    if (node != nullptr) {
      if (node->is_string()) {
        have = node->get<std::string>();
      } else if (node->is_number() || node->is_boolean()) {
        have = node->dump();
      }
    }
    if ((have == term.value) != term.equals) return false;
  }
  return true;
}

}  // namespace gantry::kube
