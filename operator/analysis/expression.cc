#include "operator/analysis/expression.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

// Evaluates `expr` (a Result<T>); returns its Status on failure, else moves the value into
// `lhs`, which may be a declaration.
#define ANALYSIS_CONCAT_INNER(a, b) a##b
#define ANALYSIS_CONCAT(a, b) ANALYSIS_CONCAT_INNER(a, b)
#define ANALYSIS_ASSIGN_OR_RETURN(lhs, expr) \
  ANALYSIS_ASSIGN_OR_RETURN_IMPL(ANALYSIS_CONCAT(analysis_result_, __LINE__), lhs, expr)
#define ANALYSIS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()

namespace gantry::analysis {
namespace {

// Strings built with + stop here, so that `result.s + result.s + ...` cannot eat the memory.
constexpr size_t kMaxStringLength = size_t{1} << 20;
// How much of a sub-expression or a value an error message quotes.
constexpr size_t kSnippetLength = 60;
constexpr size_t kQuotedValueLength = 40;

// ---------------------------------------------------------------------------------------------
// Values during evaluation. Lists and objects are borrowed from the result document rather than
// copied; the document outlives the evaluation.

struct Operand {
  enum class Kind { kMissing, kNull, kBool, kNumber, kString, kList, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  double number = 0;
  // kString: the string. kMissing: the error to report if the missing value gets used.
  std::string text;
  const Value* json = nullptr;  // kList, kObject
};

Operand Bool(bool b) {
  Operand o;
  o.kind = Operand::Kind::kBool;
  o.boolean = b;
  return o;
}

Operand Number(double d) {
  Operand o;
  o.kind = Operand::Kind::kNumber;
  o.number = d;
  return o;
}

Operand String(std::string s) {
  Operand o;
  o.kind = Operand::Kind::kString;
  o.text = std::move(s);
  return o;
}

std::string FormatNumber(double d) { return FormatValue(Value(d)); }

std::string Plural(size_t n, std::string_view noun) {
  return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

// "number 0.97", "string \"ok\"", "a list of 2 elements", ... for messages.
std::string Describe(const Operand& o) {
  switch (o.kind) {
    case Operand::Kind::kMissing:
      return "missing";
    case Operand::Kind::kNull:
      return "null";
    case Operand::Kind::kBool:
      return o.boolean ? "boolean true" : "boolean false";
    case Operand::Kind::kNumber:
      return "number " + FormatNumber(o.number);
    case Operand::Kind::kString:
      return "string " + QuoteText(o.text, kQuotedValueLength);
    case Operand::Kind::kList:
      return "a list of " + Plural(o.json->size(), "element");
    case Operand::Kind::kObject:
      return "an object with " + Plural(o.json->size(), "field");
  }
  return "unknown";
}

bool IsNullish(const Operand& o) {
  return o.kind == Operand::Kind::kNull || o.kind == Operand::Kind::kMissing;
}

bool IsStringAndNumber(const Operand& a, const Operand& b) {
  return (a.kind == Operand::Kind::kString && b.kind == Operand::Kind::kNumber) ||
         (a.kind == Operand::Kind::kNumber && b.kind == Operand::Kind::kString);
}

bool IsComposite(const Operand& o) {
  return o.kind == Operand::Kind::kList || o.kind == Operand::Kind::kObject;
}

// The hint that helps with the two commonest type mistakes.
std::string_view MismatchHint(const Operand& a, const Operand& b) {
  if (IsStringAndNumber(a, b)) return "; convert the string with asFloat() first";
  if (a.kind == Operand::Kind::kList || b.kind == Operand::Kind::kList) {
    return "; pick an element of the list first, e.g. result[0]";
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// Lexer

enum class TokenKind { kEnd, kNumber, kString, kName, kSymbol };

struct Token {
  TokenKind kind = TokenKind::kEnd;
  size_t begin = 0;  // byte offsets of the token's spelling in the source
  size_t end = 0;
  std::string text;   // kName, kSymbol: the spelling. kString: the decoded string
  double number = 0;  // kNumber
};

// 1-based column of a byte offset, counting UTF-8 characters rather than bytes.
size_t ColumnOf(std::string_view source, size_t offset) {
  size_t column = 1;
  for (size_t i = 0; i < offset && i < source.size(); ++i) {
    if ((static_cast<unsigned char>(source[i]) & 0xC0) != 0x80) ++column;
  }
  return column;
}

Status SyntaxError(std::string_view source, size_t offset, std::string_view message) {
  return InvalidArgument(fmt::format("at column {}: {}", ColumnOf(source, offset), message));
}

std::string Describe(const Token& token, std::string_view source) {
  switch (token.kind) {
    case TokenKind::kEnd:
      return "end of input";
    case TokenKind::kNumber:
      return fmt::format("number {}", source.substr(token.begin, token.end - token.begin));
    case TokenKind::kString:
      return "string " + QuoteText(token.text, kQuotedValueLength);
    case TokenKind::kName:
    case TokenKind::kSymbol:
      return QuoteText(token.text, kQuotedValueLength);
  }
  return "unknown token";
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || IsDigit(c); }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::optional<uint32_t> ParseHex4(std::string_view text) {
  if (text.size() < 4) return std::nullopt;
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) {
    const char c = text[i];
    uint32_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      digit = static_cast<uint32_t>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
    value = value * 16 + digit;
  }
  return value;
}

void AppendUtf8(std::string& out, uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

class Lexer {
 public:
  explicit Lexer(std::string_view source) : source_(source) {}

  // The next token; kEnd (repeatedly) at the end of the source.
  Result<Token> Next();

 private:
  Status Error(size_t offset, std::string_view message) const {
    return SyntaxError(source_, offset, message);
  }
  Result<Token> LexNumber();
  Result<Token> LexString();
  // One (possibly multi-byte) character at `offset`, quoted for a message.
  std::string QuoteCharacterAt(size_t offset) const;

  std::string_view source_;
  size_t pos_ = 0;
};

std::string Lexer::QuoteCharacterAt(size_t offset) const {
  size_t end = offset + 1;
  while (end < source_.size() && end - offset < 4 &&
         (static_cast<unsigned char>(source_[end]) & 0xC0) == 0x80) {
    ++end;
  }
  return QuoteText(source_.substr(offset, end - offset));
}

Result<Token> Lexer::Next() {
  while (pos_ < source_.size() && IsSpace(source_[pos_])) ++pos_;
  Token token;
  token.begin = token.end = pos_;
  if (pos_ == source_.size()) return token;

  const char c = source_[pos_];
  if (IsDigit(c)) return LexNumber();
  if (c == '"' || c == '\'') return LexString();
  if (IsNameStart(c)) {
    while (pos_ < source_.size() && IsNameChar(source_[pos_])) ++pos_;
    token.kind = TokenKind::kName;
    token.end = pos_;
    token.text = std::string(source_.substr(token.begin, pos_ - token.begin));
    return token;
  }
  static constexpr std::string_view kTwoCharacterSymbols[] = {"==", "!=", "<=", ">=", "&&", "||"};
  const std::string_view rest = source_.substr(pos_);
  for (std::string_view symbol : kTwoCharacterSymbols) {
    if (rest.starts_with(symbol)) {
      pos_ += symbol.size();
      token.kind = TokenKind::kSymbol;
      token.end = pos_;
      token.text = std::string(symbol);
      return token;
    }
  }
  static constexpr std::string_view kOneCharacterSymbols = "()[].,+-*/!<>";
  if (kOneCharacterSymbols.find(c) != std::string_view::npos) {
    ++pos_;
    token.kind = TokenKind::kSymbol;
    token.end = pos_;
    token.text = std::string(1, c);
    return token;
  }
  switch (c) {
    case '=':
      return Error(pos_, "unexpected \"=\"; compare with \"==\"");
    case '&':
      return Error(pos_, "unexpected \"&\"; the logical and is \"&&\" (or \"and\")");
    case '|':
      return Error(pos_, "unexpected \"|\"; the logical or is \"||\" (or \"or\")");
    default:
      return Error(pos_, fmt::format("unexpected character {}", QuoteCharacterAt(pos_)));
  }
}

Result<Token> Lexer::LexNumber() {
  const size_t begin = pos_;
  auto digits = [&] {
    while (pos_ < source_.size() && IsDigit(source_[pos_])) ++pos_;
  };
  digits();
  if (pos_ < source_.size() && source_[pos_] == '.') {
    ++pos_;
    if (pos_ >= source_.size() || !IsDigit(source_[pos_])) {
      return Error(
          pos_, fmt::format("expected a digit after \"{}\"", source_.substr(begin, pos_ - begin)));
    }
    digits();
  }
  if (pos_ < source_.size() && (source_[pos_] == 'e' || source_[pos_] == 'E')) {
    ++pos_;
    if (pos_ < source_.size() && (source_[pos_] == '+' || source_[pos_] == '-')) ++pos_;
    if (pos_ >= source_.size() || !IsDigit(source_[pos_])) {
      return Error(pos_, fmt::format("expected the digits of an exponent after \"{}\"",
                                     source_.substr(begin, pos_ - begin)));
    }
    digits();
  }
  if (pos_ < source_.size() && IsNameChar(source_[pos_])) {
    return Error(pos_, fmt::format("unexpected {} after the number {}", QuoteCharacterAt(pos_),
                                   source_.substr(begin, pos_ - begin)));
  }
  Token token;
  token.kind = TokenKind::kNumber;
  token.begin = begin;
  token.end = pos_;
  const char* first = source_.data() + begin;
  const char* last = source_.data() + pos_;
  const auto [stop, error] = std::from_chars(first, last, token.number);
  if (error != std::errc() || stop != last) {
    return Error(begin,
                 fmt::format("the number {} is out of range", source_.substr(begin, pos_ - begin)));
  }
  return token;
}

Result<Token> Lexer::LexString() {
  const size_t begin = pos_;
  const char quote = source_[pos_++];
  Token token;
  token.kind = TokenKind::kString;
  token.begin = begin;
  while (true) {
    if (pos_ >= source_.size()) {
      return Error(begin, fmt::format("unterminated string: no closing {} before the end",
                                      quote == '"' ? "'\"'" : "\"'\""));
    }
    const char c = source_[pos_];
    if (c == quote) {
      ++pos_;
      break;
    }
    if (c != '\\') {
      token.text += c;
      ++pos_;
      continue;
    }
    if (pos_ + 1 >= source_.size()) {
      return Error(begin, "unterminated string: it ends in a lone backslash");
    }
    const char escape = source_[pos_ + 1];
    switch (escape) {
      case '"':
      case '\'':
      case '\\':
      case '/':
        token.text += escape;
        break;
      case 'n':
        token.text += '\n';
        break;
      case 't':
        token.text += '\t';
        break;
      case 'r':
        token.text += '\r';
        break;
      case 'b':
        token.text += '\b';
        break;
      case 'f':
        token.text += '\f';
        break;
      case 'u': {
        std::optional<uint32_t> unit = ParseHex4(source_.substr(pos_ + 2));
        if (!unit) return Error(pos_, "expected four hex digits after \"\\u\"");
        uint32_t code_point = *unit;
        size_t length = 6;
        if (code_point >= 0xD800 && code_point <= 0xDBFF) {
          // A UTF-16 surrogate pair, as JSON spells characters beyond the BMP.
          std::optional<uint32_t> low;
          if (source_.substr(pos_ + 6).starts_with("\\u"))
            low = ParseHex4(source_.substr(pos_ + 8));
          if (!low || *low < 0xDC00 || *low > 0xDFFF) {
            return Error(pos_, "a \"\\u\" high surrogate must be followed by a low surrogate");
          }
          code_point = 0x10000 + ((code_point - 0xD800) << 10) + (*low - 0xDC00);
          length = 12;
        } else if (code_point >= 0xDC00 && code_point <= 0xDFFF) {
          return Error(pos_, "a \"\\u\" low surrogate without a high surrogate before it");
        }
        AppendUtf8(token.text, code_point);
        pos_ += length;
        continue;
      }
      default:
        return Error(
            pos_, fmt::format("unknown escape {} in a string", QuoteText(source_.substr(pos_, 2))));
    }
    pos_ += 2;
  }
  token.end = pos_;
  return token;
}

// ---------------------------------------------------------------------------------------------
// Syntax tree

enum class NodeKind { kLiteral, kResult, kMember, kIndex, kUnary, kBinary, kCall };

enum class Op {
  // unary
  kNot,
  kNegate,
  kPlus,
  // logical
  kOr,
  kAnd,
  // comparison
  kEqual,
  kNotEqual,
  kLess,
  kLessEqual,
  kGreater,
  kGreaterEqual,
  // arithmetic
  kAdd,
  kSubtract,
  kMultiply,
  kDivide,
};

enum class Function { kLen, kIsNaN, kIsInf, kDefault, kAsFloat, kAsInt };

struct FunctionInfo {
  std::string_view name;
  Function function;
  size_t arity;
};

constexpr FunctionInfo kFunctions[] = {
    {"len", Function::kLen, 1},         {"isNaN", Function::kIsNaN, 1},
    {"isInf", Function::kIsInf, 1},     {"default", Function::kDefault, 2},
    {"asFloat", Function::kAsFloat, 1}, {"asInt", Function::kAsInt, 1},
};

const FunctionInfo* FindFunction(std::string_view name) {
  for (const FunctionInfo& info : kFunctions) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

std::string_view FunctionName(Function function) {
  for (const FunctionInfo& info : kFunctions) {
    if (info.function == function) return info.name;
  }
  return "?";
}

constexpr std::string_view kFunctionList = "len, isNaN, isInf, default, asFloat and asInt";

struct Node {
  NodeKind kind = NodeKind::kLiteral;
  size_t begin = 0;  // byte span of the node's text in the source
  size_t end = 0;
  int height = 1;
  Op op = Op::kAdd;                    // kUnary, kBinary
  Function function = Function::kLen;  // kCall
  Operand literal;                     // kLiteral
  std::string name;                    // kMember: the field; kUnary, kBinary: the spelling
  std::vector<std::unique_ptr<Node>> children;
};
using NodePtr = std::unique_ptr<Node>;

// ---------------------------------------------------------------------------------------------
// Parser: recursive descent, one level per precedence. depth_ bounds the recursion for input
// that nests without building nodes ("((((1))))", "- - - 1"); Node::height bounds the tree that
// evaluation walks.

struct BinaryOperator {
  std::string_view symbol;
  std::string_view keyword;  // alias spelled as a word, or empty
  Op op;
};

constexpr BinaryOperator kLevel0[] = {{"||", "or", Op::kOr}};
constexpr BinaryOperator kLevel1[] = {{"&&", "and", Op::kAnd}};
constexpr BinaryOperator kLevel2[] = {{"==", "", Op::kEqual}, {"!=", "", Op::kNotEqual}};
constexpr BinaryOperator kLevel3[] = {{"<", "", Op::kLess},
                                      {"<=", "", Op::kLessEqual},
                                      {">", "", Op::kGreater},
                                      {">=", "", Op::kGreaterEqual}};
constexpr BinaryOperator kLevel4[] = {{"+", "", Op::kAdd}, {"-", "", Op::kSubtract}};
constexpr BinaryOperator kLevel5[] = {{"*", "", Op::kMultiply}, {"/", "", Op::kDivide}};

struct Level {
  const BinaryOperator* begin;
  const BinaryOperator* end;
};
constexpr Level kLevels[] = {
    {std::begin(kLevel0), std::end(kLevel0)}, {std::begin(kLevel1), std::end(kLevel1)},
    {std::begin(kLevel2), std::end(kLevel2)}, {std::begin(kLevel3), std::end(kLevel3)},
    {std::begin(kLevel4), std::end(kLevel4)}, {std::begin(kLevel5), std::end(kLevel5)},
};
constexpr size_t kLevelCount = std::size(kLevels);

class Parser {
 public:
  explicit Parser(std::string_view source) : source_(source), lexer_(source) {}

  Result<NodePtr> Parse() {
    GANTRY_RETURN_IF_ERROR(Advance());
    ANALYSIS_ASSIGN_OR_RETURN(NodePtr root, ParseNested());
    if (current_.kind != TokenKind::kEnd) return Expected("an operator or the end");
    return root;
  }

 private:
  Status Advance() {
    ANALYSIS_ASSIGN_OR_RETURN(current_, lexer_.Next());
    return Status::Ok();
  }
  bool AtSymbol(std::string_view symbol) const {
    return current_.kind == TokenKind::kSymbol && current_.text == symbol;
  }
  bool AtName(std::string_view name) const {
    return current_.kind == TokenKind::kName && current_.text == name;
  }
  Status Error(size_t offset, std::string_view message) const {
    return SyntaxError(source_, offset, message);
  }
  Status Expected(std::string_view what) const {
    return Error(current_.begin,
                 fmt::format("expected {} but found {}", what, Describe(current_, source_)));
  }
  Status TooDeep(size_t offset) const {
    return Error(offset,
                 fmt::format("the expression nests more than {} levels deep", kMaxExpressionDepth));
  }

  // A node over `children`, refusing trees taller than kMaxExpressionDepth.
  Result<NodePtr> Make(NodeKind kind, size_t begin, size_t end, std::vector<NodePtr> children,
                       size_t error_offset) const {
    auto node = std::make_unique<Node>();
    node->kind = kind;
    node->begin = begin;
    node->end = end;
    for (const NodePtr& child : children) node->height = std::max(node->height, child->height + 1);
    if (node->height > kMaxExpressionDepth) return TooDeep(error_offset);
    node->children = std::move(children);
    return node;
  }

  Result<NodePtr> ParseNested();
  Result<NodePtr> ParseBinary(size_t level);
  Result<NodePtr> ParseUnary();
  Result<NodePtr> ParsePostfix();
  Result<NodePtr> ParsePrimary();
  Result<NodePtr> ParseCall(const FunctionInfo& info);

  std::string_view source_;
  Lexer lexer_;
  Token current_;
  int depth_ = 0;
};

Result<NodePtr> Parser::ParseNested() {
  if (++depth_ > kMaxExpressionDepth) return TooDeep(current_.begin);
  Result<NodePtr> node = ParseBinary(0);
  --depth_;
  return node;
}

Result<NodePtr> Parser::ParseBinary(size_t level) {
  if (level == kLevelCount) return ParseUnary();
  ANALYSIS_ASSIGN_OR_RETURN(NodePtr left, ParseBinary(level + 1));
  while (true) {
    const BinaryOperator* match = nullptr;
    for (const BinaryOperator* o = kLevels[level].begin; o != kLevels[level].end; ++o) {
      if (AtSymbol(o->symbol) || (!o->keyword.empty() && AtName(o->keyword))) match = o;
    }
    if (match == nullptr) return left;
    const size_t op_offset = current_.begin;
    std::string spelling = current_.text;
    GANTRY_RETURN_IF_ERROR(Advance());
    ANALYSIS_ASSIGN_OR_RETURN(NodePtr right, ParseBinary(level + 1));
    const size_t begin = left->begin;
    const size_t end = right->end;
    std::vector<NodePtr> children;
    children.push_back(std::move(left));
    children.push_back(std::move(right));
    ANALYSIS_ASSIGN_OR_RETURN(left,
                              Make(NodeKind::kBinary, begin, end, std::move(children), op_offset));
    left->op = match->op;
    left->name = std::move(spelling);
  }
}

Result<NodePtr> Parser::ParseUnary() {
  std::optional<Op> op;
  if (AtSymbol("!") || AtName("not")) {
    op = Op::kNot;
  } else if (AtSymbol("-")) {
    op = Op::kNegate;
  } else if (AtSymbol("+")) {
    op = Op::kPlus;
  }
  if (!op) return ParsePostfix();
  const size_t begin = current_.begin;
  std::string spelling = current_.text;
  GANTRY_RETURN_IF_ERROR(Advance());
  if (++depth_ > kMaxExpressionDepth) return TooDeep(begin);
  ANALYSIS_ASSIGN_OR_RETURN(NodePtr operand, ParseUnary());
  --depth_;
  const size_t end = operand->end;
  std::vector<NodePtr> children;
  children.push_back(std::move(operand));
  ANALYSIS_ASSIGN_OR_RETURN(NodePtr node,
                            Make(NodeKind::kUnary, begin, end, std::move(children), begin));
  node->op = *op;
  node->name = std::move(spelling);
  return node;
}

Result<NodePtr> Parser::ParsePostfix() {
  ANALYSIS_ASSIGN_OR_RETURN(NodePtr node, ParsePrimary());
  while (true) {
    if (AtSymbol(".")) {
      const size_t dot = current_.begin;
      GANTRY_RETURN_IF_ERROR(Advance());
      if (current_.kind == TokenKind::kNumber) {
        return Expected("a field name after \".\" (index lists with [i])");
      }
      if (current_.kind != TokenKind::kName) return Expected("a field name after \".\"");
      std::string field = current_.text;
      const size_t begin = node->begin;
      const size_t end = current_.end;
      GANTRY_RETURN_IF_ERROR(Advance());
      std::vector<NodePtr> children;
      children.push_back(std::move(node));
      ANALYSIS_ASSIGN_OR_RETURN(node,
                                Make(NodeKind::kMember, begin, end, std::move(children), dot));
      node->name = std::move(field);
    } else if (AtSymbol("[")) {
      const size_t bracket = current_.begin;
      GANTRY_RETURN_IF_ERROR(Advance());
      ANALYSIS_ASSIGN_OR_RETURN(NodePtr index, ParseNested());
      if (!AtSymbol("]")) return Expected("\"]\"");
      const size_t begin = node->begin;
      const size_t end = current_.end;
      GANTRY_RETURN_IF_ERROR(Advance());
      std::vector<NodePtr> children;
      children.push_back(std::move(node));
      children.push_back(std::move(index));
      ANALYSIS_ASSIGN_OR_RETURN(node,
                                Make(NodeKind::kIndex, begin, end, std::move(children), bracket));
    } else {
      return node;
    }
  }
}

Result<NodePtr> Parser::ParsePrimary() {
  const Token token = current_;
  switch (token.kind) {
    case TokenKind::kNumber:
    case TokenKind::kString: {
      GANTRY_RETURN_IF_ERROR(Advance());
      ANALYSIS_ASSIGN_OR_RETURN(NodePtr node,
                                Make(NodeKind::kLiteral, token.begin, token.end, {}, token.begin));
      node->literal = token.kind == TokenKind::kNumber ? Number(token.number) : String(token.text);
      return node;
    }
    case TokenKind::kName: {
      if (const FunctionInfo* info = FindFunction(token.text)) return ParseCall(*info);
      if (token.text == "and" || token.text == "or") return Expected("a value");
      GANTRY_RETURN_IF_ERROR(Advance());
      Operand literal;
      if (token.text == "true" || token.text == "false") {
        literal = Bool(token.text == "true");
      } else if (token.text == "null" || token.text == "nil") {
        literal.kind = Operand::Kind::kNull;
      } else if (token.text == "result") {
        return Make(NodeKind::kResult, token.begin, token.end, {}, token.begin);
      } else if (AtSymbol("(")) {
        return Error(token.begin,
                     fmt::format("unknown function {}; the functions are {}",
                                 QuoteText(token.text, kQuotedValueLength), kFunctionList));
      } else {
        return Error(token.begin,
                     fmt::format("unknown name {}; a condition can use result, true, false, null "
                                 "and the functions {}",
                                 QuoteText(token.text, kQuotedValueLength), kFunctionList));
      }
      ANALYSIS_ASSIGN_OR_RETURN(NodePtr node,
                                Make(NodeKind::kLiteral, token.begin, token.end, {}, token.begin));
      node->literal = std::move(literal);
      return node;
    }
    case TokenKind::kSymbol:
      if (token.text == "(") {
        GANTRY_RETURN_IF_ERROR(Advance());
        ANALYSIS_ASSIGN_OR_RETURN(NodePtr inner, ParseNested());
        if (!AtSymbol(")")) return Expected("\")\"");
        // The parentheses belong to the sub-expression's text, so that the spans of the nodes
        // above it stay well formed: `(a + b) * c`.
        inner->begin = token.begin;
        inner->end = current_.end;
        GANTRY_RETURN_IF_ERROR(Advance());
        return inner;
      }
      return Expected("a value");
    case TokenKind::kEnd:
      return Expected("a value");
  }
  return Expected("a value");
}

Result<NodePtr> Parser::ParseCall(const FunctionInfo& info) {
  const size_t begin = current_.begin;
  GANTRY_RETURN_IF_ERROR(Advance());
  if (!AtSymbol("(")) return Expected(fmt::format("\"(\" after {}", info.name));
  GANTRY_RETURN_IF_ERROR(Advance());
  std::vector<NodePtr> arguments;
  if (!AtSymbol(")")) {
    while (true) {
      ANALYSIS_ASSIGN_OR_RETURN(NodePtr argument, ParseNested());
      arguments.push_back(std::move(argument));
      if (AtSymbol(")")) break;
      if (!AtSymbol(",")) return Expected("\",\" or \")\"");
      GANTRY_RETURN_IF_ERROR(Advance());
    }
  }
  const size_t end = current_.end;
  GANTRY_RETURN_IF_ERROR(Advance());
  if (arguments.size() != info.arity) {
    return Error(begin, fmt::format("{} takes {} but was given {}", info.name,
                                    Plural(info.arity, "argument"), arguments.size()));
  }
  ANALYSIS_ASSIGN_OR_RETURN(NodePtr node,
                            Make(NodeKind::kCall, begin, end, std::move(arguments), begin));
  node->function = info.function;
  return node;
}

// ---------------------------------------------------------------------------------------------
// Evaluator: walks the tree once per measurement. Recursion is bounded by the tree height.

class Evaluator {
 public:
  Evaluator(std::string_view source, const Value& result) : source_(source), result_(result) {}

  Result<Operand> Eval(const Node& node) const;

  // The sub-expression's text in backticks, shortened to kSnippetLength.
  std::string Snippet(const Node& node) const {
    std::string_view text = source_.substr(node.begin, node.end - node.begin);
    if (text.size() <= kSnippetLength) return fmt::format("`{}`", text);
    size_t cut = kSnippetLength - 3;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return fmt::format("`{}...`", text.substr(0, cut));
  }

  Status Fail(const Node& node, std::string_view message) const {
    return InvalidArgument(fmt::format("in {}: {}", Snippet(node), message));
  }

  // An error unless `o` has a value.
  static Status RequirePresent(const Operand& o) {
    if (o.kind != Operand::Kind::kMissing) return Status::Ok();
    return InvalidArgument(o.text + "; use default(x, value) where x may be absent");
  }

 private:
  Operand Missing(const Node& node, std::string_view why) const {
    Operand o;
    o.kind = Operand::Kind::kMissing;
    o.text = fmt::format("in {}: {}", Snippet(node), why);
    return o;
  }
  Result<Operand> FromJson(const Node& node, const Value& json) const;
  Result<Operand> Lookup(const Node& node, const Operand& object, const std::string& key) const;
  Result<Operand> EvalMember(const Node& node) const;
  Result<Operand> EvalIndex(const Node& node) const;
  Result<Operand> EvalUnary(const Node& node) const;
  Result<Operand> EvalBinary(const Node& node) const;
  Result<bool> Equal(const Node& node, const Operand& a, const Operand& b) const;
  Result<Operand> Order(const Node& node, const Operand& a, const Operand& b) const;
  Result<Operand> Arithmetic(const Node& node, const Operand& a, const Operand& b) const;
  Result<Operand> EvalCall(const Node& node) const;
  Status RequireBool(const Node& node, const Node& operand_node, const Operand& operand) const;

  std::string_view source_;
  const Value& result_;
};

Result<Operand> Evaluator::FromJson(const Node& node, const Value& json) const {
  Operand o;
  switch (json.type()) {
    case Value::value_t::null:
      o.kind = Operand::Kind::kNull;
      return o;
    case Value::value_t::boolean:
      return Bool(json.get<bool>());
    case Value::value_t::number_integer:
    case Value::value_t::number_unsigned:
    case Value::value_t::number_float:
      return Number(json.get<double>());
    case Value::value_t::string:
      return String(json.get<std::string>());
    case Value::value_t::array:
      o.kind = Operand::Kind::kList;
      o.json = &json;
      return o;
    case Value::value_t::object:
      o.kind = Operand::Kind::kObject;
      o.json = &json;
      return o;
    case Value::value_t::binary:
    case Value::value_t::discarded:
      break;
  }
  return Fail(node,
              fmt::format("holds a {} value, which conditions cannot read", ValueTypeName(json)));
}

Result<Operand> Evaluator::Lookup(const Node& node, const Operand& object,
                                  const std::string& key) const {
  const Value& json = *object.json;
  auto it = json.find(key);
  if (it != json.end()) return FromJson(node, *it);
  std::string fields;
  size_t listed = 0;
  for (auto field = json.begin(); field != json.end() && listed < 5; ++field, ++listed) {
    fields += fmt::format("{}{}", listed == 0 ? "" : ", ", QuoteText(field.key(), 20));
  }
  if (json.size() > listed) fields += fmt::format(" and {} more", json.size() - listed);
  return Missing(node, fmt::format("no field {} ({})", QuoteText(key, kQuotedValueLength),
                                   json.empty() ? "the object is empty" : "fields: " + fields));
}

Result<Operand> Evaluator::Eval(const Node& node) const {
  switch (node.kind) {
    case NodeKind::kLiteral:
      return node.literal;
    case NodeKind::kResult:
      return FromJson(node, result_);
    case NodeKind::kMember:
      return EvalMember(node);
    case NodeKind::kIndex:
      return EvalIndex(node);
    case NodeKind::kUnary:
      return EvalUnary(node);
    case NodeKind::kBinary:
      return EvalBinary(node);
    case NodeKind::kCall:
      return EvalCall(node);
  }
  return Fail(node, "unknown node");
}

Result<Operand> Evaluator::EvalMember(const Node& node) const {
  const Node& base_node = *node.children[0];
  ANALYSIS_ASSIGN_OR_RETURN(Operand base, Eval(base_node));
  switch (base.kind) {
    case Operand::Kind::kMissing:
      return base;
    case Operand::Kind::kNull:
      return Missing(node, fmt::format("{} is null", Snippet(base_node)));
    case Operand::Kind::kObject:
      return Lookup(node, base, node.name);
    case Operand::Kind::kList:
      return Fail(node, fmt::format("{} is {}, not an object; pick an element first, e.g. [0]",
                                    Snippet(base_node), Describe(base)));
    default:
      return Fail(node, fmt::format("{} is {}, not an object", Snippet(base_node), Describe(base)));
  }
}

Result<Operand> Evaluator::EvalIndex(const Node& node) const {
  const Node& base_node = *node.children[0];
  const Node& index_node = *node.children[1];
  ANALYSIS_ASSIGN_OR_RETURN(Operand base, Eval(base_node));
  if (base.kind == Operand::Kind::kMissing) return base;
  if (base.kind == Operand::Kind::kNull) {
    return Missing(node, fmt::format("{} is null", Snippet(base_node)));
  }
  ANALYSIS_ASSIGN_OR_RETURN(Operand index, Eval(index_node));
  GANTRY_RETURN_IF_ERROR(RequirePresent(index));
  if (index.kind == Operand::Kind::kString) {
    if (base.kind != Operand::Kind::kObject) {
      return Fail(
          node,
          fmt::format("{} is {}, not an object with fields{}", Snippet(base_node), Describe(base),
                      base.kind == Operand::Kind::kList ? "; index it with [i]" : ""));
    }
    return Lookup(node, base, index.text);
  }
  if (index.kind != Operand::Kind::kNumber) {
    return Fail(node, fmt::format("an index must be a number or a string, but {} is {}",
                                  Snippet(index_node), Describe(index)));
  }
  if (base.kind != Operand::Kind::kList) {
    return Fail(node, fmt::format("{} is {}, not a list{}", Snippet(base_node), Describe(base),
                                  base.kind == Operand::Kind::kObject
                                      ? "; look its fields up by name, e.g. [\"name\"]"
                                      : ""));
  }
  const double d = index.number;
  if (!std::isfinite(d) || d != std::trunc(d)) {
    return Fail(node, fmt::format("the index {} is not a whole number", FormatNumber(d)));
  }
  const Value& list = *base.json;
  const auto size = static_cast<int64_t>(list.size());
  // Beyond ±2^53 doubles are not exact and any list is shorter anyway.
  int64_t i = std::fabs(d) < 9007199254740992.0 ? static_cast<int64_t>(d) : size;
  if (i < 0) i += size;
  if (i < 0 || i >= size) {
    return Missing(node, fmt::format("index {} is out of range for a list of {}", FormatNumber(d),
                                     Plural(list.size(), "element")));
  }
  return FromJson(node, list[static_cast<size_t>(i)]);
}

Status Evaluator::RequireBool(const Node& node, const Node& operand_node,
                              const Operand& operand) const {
  GANTRY_RETURN_IF_ERROR(RequirePresent(operand));
  if (operand.kind == Operand::Kind::kBool) return Status::Ok();
  return Fail(node, fmt::format("\"{}\" needs true or false, but {} is {}", node.name,
                                Snippet(operand_node), Describe(operand)));
}

Result<Operand> Evaluator::EvalUnary(const Node& node) const {
  const Node& operand_node = *node.children[0];
  ANALYSIS_ASSIGN_OR_RETURN(Operand operand, Eval(operand_node));
  if (node.op == Op::kNot) {
    GANTRY_RETURN_IF_ERROR(RequireBool(node, operand_node, operand));
    return Bool(!operand.boolean);
  }
  GANTRY_RETURN_IF_ERROR(RequirePresent(operand));
  if (operand.kind != Operand::Kind::kNumber) {
    return Fail(node, fmt::format("\"{}\" needs a number, but {} is {}", node.name,
                                  Snippet(operand_node), Describe(operand)));
  }
  return Number(node.op == Op::kNegate ? -operand.number : operand.number);
}

Result<Operand> Evaluator::EvalBinary(const Node& node) const {
  const Node& left_node = *node.children[0];
  const Node& right_node = *node.children[1];
  if (node.op == Op::kAnd || node.op == Op::kOr) {
    ANALYSIS_ASSIGN_OR_RETURN(Operand left, Eval(left_node));
    GANTRY_RETURN_IF_ERROR(RequireBool(node, left_node, left));
    // Short-circuit: the right side may only make sense when the left one holds.
    if (node.op == Op::kAnd && !left.boolean) return Bool(false);
    if (node.op == Op::kOr && left.boolean) return Bool(true);
    ANALYSIS_ASSIGN_OR_RETURN(Operand right, Eval(right_node));
    GANTRY_RETURN_IF_ERROR(RequireBool(node, right_node, right));
    return Bool(right.boolean);
  }
  ANALYSIS_ASSIGN_OR_RETURN(Operand left, Eval(left_node));
  ANALYSIS_ASSIGN_OR_RETURN(Operand right, Eval(right_node));
  switch (node.op) {
    case Op::kEqual:
    case Op::kNotEqual: {
      ANALYSIS_ASSIGN_OR_RETURN(bool equal, Equal(node, left, right));
      // IEEE: NaN is unequal to everything, so NaN != NaN holds.
      return Bool(node.op == Op::kEqual ? equal : !equal);
    }
    case Op::kLess:
    case Op::kLessEqual:
    case Op::kGreater:
    case Op::kGreaterEqual:
      return Order(node, left, right);
    default:
      return Arithmetic(node, left, right);
  }
}

Result<bool> Evaluator::Equal(const Node& node, const Operand& a, const Operand& b) const {
  if (IsNullish(a) || IsNullish(b)) return IsNullish(a) && IsNullish(b);
  if (IsComposite(a) || IsComposite(b)) {
    return Fail(node, fmt::format("cannot compare {} with {} using \"{}\"; compare elements "
                                  "(e.g. result[0]) or sizes (len(result))",
                                  Describe(a), Describe(b), node.name));
  }
  if (a.kind != b.kind) {
    return Fail(node, fmt::format("cannot compare {} with {} using \"{}\"{}", Describe(a),
                                  Describe(b), node.name, MismatchHint(a, b)));
  }
  switch (a.kind) {
    case Operand::Kind::kBool:
      return a.boolean == b.boolean;
    case Operand::Kind::kNumber:
      return a.number == b.number;
    default:
      return a.text == b.text;
  }
}

Result<Operand> Evaluator::Order(const Node& node, const Operand& a, const Operand& b) const {
  GANTRY_RETURN_IF_ERROR(RequirePresent(a));
  GANTRY_RETURN_IF_ERROR(RequirePresent(b));
  const bool numbers = a.kind == Operand::Kind::kNumber && b.kind == Operand::Kind::kNumber;
  const bool strings = a.kind == Operand::Kind::kString && b.kind == Operand::Kind::kString;
  if (!numbers && !strings) {
    return Fail(node, fmt::format("cannot compare {} with {} using \"{}\"{}", Describe(a),
                                  Describe(b), node.name, MismatchHint(a, b)));
  }
  // Every ordering with NaN is false, as C++ (and Go) comparisons already are.
  const int c = numbers ? 0 : a.text.compare(b.text);
  switch (node.op) {
    case Op::kLess:
      return Bool(numbers ? a.number < b.number : c < 0);
    case Op::kLessEqual:
      return Bool(numbers ? a.number <= b.number : c <= 0);
    case Op::kGreater:
      return Bool(numbers ? a.number > b.number : c > 0);
    default:
      return Bool(numbers ? a.number >= b.number : c >= 0);
  }
}

double Divide(double a, double b) {
  // Go float semantics, spelled out rather than left to the FPU so that sanitizers that trap
  // float division by zero do not fire: x/0 is ±Inf by the signs, 0/0 and NaN/0 are NaN.
  if (b != 0) return a / b;
  if (a == 0 || std::isnan(a)) return std::numeric_limits<double>::quiet_NaN();
  const bool negative = std::signbit(a) != std::signbit(b);
  return negative ? -std::numeric_limits<double>::infinity()
                  : std::numeric_limits<double>::infinity();
}

Result<Operand> Evaluator::Arithmetic(const Node& node, const Operand& a, const Operand& b) const {
  GANTRY_RETURN_IF_ERROR(RequirePresent(a));
  GANTRY_RETURN_IF_ERROR(RequirePresent(b));
  if (node.op == Op::kAdd && a.kind == Operand::Kind::kString && b.kind == Operand::Kind::kString) {
    if (a.text.size() + b.text.size() > kMaxStringLength) {
      return Fail(node,
                  fmt::format("the joined string would be longer than {} bytes", kMaxStringLength));
    }
    return String(a.text + b.text);
  }
  if (a.kind != Operand::Kind::kNumber || b.kind != Operand::Kind::kNumber) {
    return Fail(node, fmt::format("\"{}\" needs two numbers{}, not {} and {}{}", node.name,
                                  node.op == Op::kAdd ? " or two strings" : "", Describe(a),
                                  Describe(b), MismatchHint(a, b)));
  }
  switch (node.op) {
    case Op::kAdd:
      return Number(a.number + b.number);
    case Op::kSubtract:
      return Number(a.number - b.number);
    case Op::kMultiply:
      return Number(a.number * b.number);
    default:
      return Number(Divide(a.number, b.number));
  }
}

std::optional<double> ParseDecimalInteger(std::string_view text) {
  // Go's strconv.ParseInt takes one optional sign; from_chars takes only '-'.
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
    if (!text.empty() && text.front() == '-') return std::nullopt;
  }
  if (text.empty() || text.front() == '+') return std::nullopt;
  int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || stop != end) return std::nullopt;
  return static_cast<double>(value);
}

Result<Operand> Evaluator::EvalCall(const Node& node) const {
  const Node& argument_node = *node.children[0];
  ANALYSIS_ASSIGN_OR_RETURN(Operand x, Eval(argument_node));
  if (node.function == Function::kDefault) {
    // The fallback is evaluated only when needed, like the right side of &&.
    if (IsNullish(x)) return Eval(*node.children[1]);
    return x;
  }
  GANTRY_RETURN_IF_ERROR(RequirePresent(x));
  const std::string_view name = FunctionName(node.function);
  auto wrong_type = [&](std::string_view wanted) {
    return Fail(node, fmt::format("{} needs {}, but {} is {}", name, wanted, Snippet(argument_node),
                                  Describe(x)));
  };
  switch (node.function) {
    case Function::kLen:
      if (x.kind == Operand::Kind::kString) {
        return Number(static_cast<double>(CountCharacters(x.text)));
      }
      if (IsComposite(x)) return Number(static_cast<double>(x.json->size()));
      return wrong_type("a string, a list or an object");
    case Function::kIsNaN:
    case Function::kIsInf:
      if (x.kind != Operand::Kind::kNumber) return wrong_type("a number");
      return Bool(node.function == Function::kIsNaN ? std::isnan(x.number) : std::isinf(x.number));
    case Function::kAsFloat:
      if (x.kind == Operand::Kind::kNumber) return x;
      if (x.kind != Operand::Kind::kString) return wrong_type("a number or a string");
      if (std::optional<double> d = ParseFloat(x.text)) return Number(*d);
      return Fail(node, fmt::format("{} is not a number", Describe(x)));
    case Function::kAsInt:
      if (x.kind == Operand::Kind::kNumber) {
        // Go's int64(f) truncates toward zero; values it cannot hold are refused, not wrapped.
        if (!std::isfinite(x.number) || std::fabs(x.number) >= 9223372036854775808.0) {
          return Fail(node, fmt::format("{} does not fit in an integer", Describe(x)));
        }
        return Number(std::trunc(x.number));
      }
      if (x.kind != Operand::Kind::kString) return wrong_type("a number or a string");
      if (std::optional<double> d = ParseDecimalInteger(x.text)) return Number(*d);
      return Fail(node, fmt::format("{} is not a decimal integer", Describe(x)));
    case Function::kDefault:
      break;
  }
  return Fail(node, "unknown function");
}

// ---------------------------------------------------------------------------------------------

class TreeExpression final : public Expression {
 public:
  TreeExpression(std::string source, NodePtr root)
      : source_(std::move(source)), root_(std::move(root)) {}

  std::string_view source() const override { return source_; }

  Result<Value> Evaluate(const Value& result) const override {
    try {
      Evaluator evaluator(source_, result);
      ANALYSIS_ASSIGN_OR_RETURN(Operand value, evaluator.Eval(*root_));
      switch (value.kind) {
        case Operand::Kind::kMissing:
          return Evaluator::RequirePresent(value);
        case Operand::Kind::kNull:
          return Value(nullptr);
        case Operand::Kind::kBool:
          return Value(value.boolean);
        case Operand::Kind::kNumber:
          return Value(value.number);
        case Operand::Kind::kString:
          return Value(std::move(value.text));
        case Operand::Kind::kList:
        case Operand::Kind::kObject:
          if (NestsDeeperThan(*value.json, kMaxValueDepth)) {
            return evaluator.Fail(
                *root_, fmt::format("the value nests more than {} levels deep", kMaxValueDepth));
          }
          return Value(*value.json);
      }
      return Internal("unknown value kind");
    } catch (const std::exception& e) {
      return Internal(fmt::format("evaluating `{}`: {}", source_, e.what()));
    }
  }

  Result<bool> EvaluateCondition(const Value& result) const override {
    try {
      Evaluator evaluator(source_, result);
      ANALYSIS_ASSIGN_OR_RETURN(Operand value, evaluator.Eval(*root_));
      GANTRY_RETURN_IF_ERROR(Evaluator::RequirePresent(value));
      if (value.kind != Operand::Kind::kBool) {
        return evaluator.Fail(*root_, fmt::format("a condition must be true or false, but this "
                                                  "is {}",
                                                  Describe(value)));
      }
      return value.boolean;
    } catch (const std::exception& e) {
      return Internal(fmt::format("evaluating `{}`: {}", source_, e.what()));
    }
  }

 private:
  std::string source_;
  NodePtr root_;
};

}  // namespace

Result<std::unique_ptr<Expression>> ParseExpression(std::string_view source) {
  if (source.size() > kMaxExpressionLength) {
    return InvalidArgument(fmt::format("the expression is {} bytes long; the limit is {}",
                                       source.size(), kMaxExpressionLength));
  }
  try {
    Parser parser(source);
    ANALYSIS_ASSIGN_OR_RETURN(NodePtr root, parser.Parse());
    return std::unique_ptr<Expression>(
        std::make_unique<TreeExpression>(std::string(source), std::move(root)));
  } catch (const std::exception& e) {
    return Internal(fmt::format("parsing an expression: {}", e.what()));
  }
}

}  // namespace gantry::analysis
