#include "plugin/naming/fx_node_name.h"

#include <algorithm>
#include <optional>
#include <string>

#include <torch/csrc/jit/frontend/source_range.h>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace featx {
namespace {

namespace jit = ::torch::jit;

absl::string_view StripUnderscores(absl::string_view s) {
  while (!s.empty() && s.front() == '_') s.remove_prefix(1);
  while (!s.empty() && s.back() == '_') s.remove_suffix(1);
  return s;
}

bool IsIdentifier(absl::string_view s) {
  if (s.empty() || absl::ascii_isdigit(s[0])) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(c) && c != '_') return false;
  }
  return true;
}

// `out.add_`, `torch.flatten`, `x.shape`: the callee of a call, or an
// attribute read. Anything else is an operator expression.
bool IsDottedName(absl::string_view s) {
  for (absl::string_view part : absl::StrSplit(s, '.')) {
    if (!IsIdentifier(part)) return false;
  }
  return true;
}

// The original Python source of a node, if the model kept it. A loaded
// model's own ranges point into the code torch.jit.save printed
// (code/__torch__/...), which always spells in-place ops as torch.add_(...).
// Where a node's source range points.
enum class SourceKind { kNone, kPython, kTensorProperty };

struct OriginalSource {
  SourceKind kind = SourceKind::kNone;
  std::string text;
};

// `size` chars of `cord` from `start`, copied piece by piece:
// StringCordView::str goes through a stringstream, and this runs for every
// op node (a loaded model's source is many pieces).
absl::string_view Slice(const jit::StringCordView& cord, size_t start, size_t size, std::string* storage) {
  storage->clear();
  storage->reserve(size);
  while (storage->size() < size) {
    const auto rest = cord.iter_for_pos(start + storage->size()).rest_line();
    if (rest.empty()) {  // not where the pieces said: ask torch
      *storage = cord.substr(start, size).str();
      break;
    }
    storage->append(rest.data(), std::min(rest.size(), size - storage->size()));
  }
  return *storage;
}

OriginalSource FindOriginalSource(const jit::Node* node) {
  jit::SourceRange range = node->sourceRange();
  if (c10::optional<jit::SourceRange> original = range.findSourceRangeThatGenerated()) {
    range = *original;
  } else if (range.source() && range.source()->filename() &&
             absl::StartsWith(*range.source()->filename(), "code/__torch__")) {
    return {};
  }
  if (!range.source() || range.size() == 0) return {};
  // Look at the whole source only where it is cheap: a model's source can be
  // long.
  const jit::StringCordView& whole = range.source()->text_str();
  std::string storage;
  // A graph written in IR (torch::jit::parseIR) has ranges into the IR.
  const absl::string_view head = Slice(whole, 0, std::min<size_t>(whole.size(), 64), &storage);
  if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(head), "graph(")) return {};
  // `x.shape`, `x.T`, ...: TorchScript compiles tensor properties from its
  // own short builtin source, whose ranges the nodes keep.
  if (whole.size() < 2048 &&
      absl::StrContains(Slice(whole, 0, whole.size(), &storage), "def shape(a : Tensor) -> List[int]:")) {
    return {SourceKind::kTensorProperty, ""};
  }
  return {SourceKind::kPython,
          std::string(absl::StripAsciiWhitespace(Slice(whole, range.start(), range.size(), &storage)))};
}

// Tensor attributes FX records as getattr nodes (TorchScript: aten::size for
// `.shape`, aten::numpy_T for `.T`, ...).
bool IsTensorAttribute(absl::string_view name) {
  static const absl::flat_hash_set<absl::string_view> kAttributes = {"shape", "T",    "mT",   "H",    "mH",
                                                                     "data",  "ndim", "real", "imag", "grad"};
  return kAttributes.contains(name);
}

// Operator expressions: FX records the function of Python's `operator`
// module (`a / b` is operator.truediv, `out += x` falls back to
// operator.add) and names the node after it.
std::string OperatorName(absl::string_view op) {
  static const absl::flat_hash_map<absl::string_view, absl::string_view> kOperators = {
      {"add", "add"},
      {"sub", "sub"},
      {"rsub", "sub"},
      {"mul", "mul"},
      {"div", "truediv"},
      {"floordiv", "floordiv"},
      {"floor_divide", "floordiv"},
      {"remainder", "mod"},
      {"pow", "pow"},
      {"matmul", "matmul"},
      {"neg", "neg"},
      {"and", "and_"},
      {"bitwise_and", "and_"},
      {"or", "or_"},
      {"bitwise_or", "or_"},
      {"xor", "xor"},
      {"bitwise_xor", "xor"},
      {"lshift", "lshift"},
      {"rshift", "rshift"},
      {"bitwise_not", "invert"},
      {"select", "getitem"},
      {"slice", "getitem"},
      {"index", "getitem"},
      {"getitem", "getitem"},
  };
  auto it = kOperators.find(op);
  return std::string(it == kOperators.end() ? op : it->second);
}

}  // namespace

std::string SnakeCase(absl::string_view s) {
  std::string out;
  bool prev_lower = false;
  for (char c : s) {
    if (prev_lower && absl::ascii_isupper(c)) out.push_back('_');
    out.push_back(absl::ascii_tolower(c));
    prev_lower = absl::ascii_islower(c);
  }
  return out;
}

std::string FxFunctionName(const jit::Node* call) {
  const c10::QualifiedName& qualname = call->input(0)->type()->expect<c10::FunctionType>()->function()->qualname();
  std::string name = qualname.name();
  if (qualname.prefix() == "__torch__.torch.nn.functional") {
    name = std::string(absl::StripSuffix(absl::StripPrefix(name, "_"), "_with_indices"));
  }
  return SnakeCase(name);
}

std::string FxGetAttrName(const std::string& target) {
  std::string name = SnakeCase(target);
  for (char& c : name) {
    if (!absl::ascii_isalnum(c) && c != '_') c = '_';
  }
  if (!name.empty() && absl::ascii_isdigit(name[0])) name.insert(name.begin(), '_');
  return name;
}

std::string OpNameWithoutUnderscores(const jit::Node* node) {
  return std::string(StripUnderscores(node->kind().toUnqualString()));
}

std::string FxOpName(const jit::Node* node) {
  const std::string op = OpNameWithoutUnderscores(node);
  const OriginalSource source = FindOriginalSource(node);
  if (source.kind == SourceKind::kNone) return op;
  if (source.kind == SourceKind::kTensorProperty) return "getattr";
  absl::string_view text = source.text;
  // A loaded model maps `x.shape[1]`'s aten::size back to the whole
  // subscript; the size is the `x.shape` in it.
  if (node->kind() == c10::aten::size && absl::EndsWith(text, "]")) text = text.substr(0, text.rfind('['));
  if (IsDottedName(text)) {
    absl::string_view last = text;
    if (size_t dot = last.rfind('.'); dot != absl::string_view::npos) last.remove_prefix(dot + 1);
    if (IsTensorAttribute(last)) return "getattr";
    // A method or function name: FX keeps it, trailing underscore and all,
    // stripping only a magic method's dunders.
    if (absl::StartsWith(last, "__") && absl::EndsWith(last, "__") && last.size() > 4) {
      last = last.substr(2, last.size() - 4);
    }
    return SnakeCase(last);
  }
  return OperatorName(op);
}

}  // namespace featx
