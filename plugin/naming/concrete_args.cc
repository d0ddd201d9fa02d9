#include "plugin/naming/concrete_args.h"

#include <algorithm>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "plugin/did_you_mean.h"

namespace featx {
namespace {

// The Python literal `text` spells: None, True, False, an int, a float.
std::optional<c10::IValue> ParseLiteral(absl::string_view text) {
  if (text == "None") return c10::IValue();
  if (text == "True") return c10::IValue(true);
  if (text == "False") return c10::IValue(false);
  int64_t i = 0;
  if (absl::SimpleAtoi(text, &i)) return c10::IValue(i);
  double d = 0;
  if (absl::SimpleAtod(text, &d)) return c10::IValue(d);
  return std::nullopt;
}

// Whether an argument of `type` takes `value`; FX passes a Python int for
// a float argument as Python would.
// An Optional argument is fixed only to None: forward's check compares the
// value as it arrives.
bool Takes(const c10::TypePtr& type, const c10::IValue& value) {
  if (value.isNone()) return type->kind() == c10::TypeKind::OptionalType || type->kind() == c10::TypeKind::NoneType;
  switch (type->kind()) {
    case c10::TypeKind::BoolType:
      return value.isBool();
    case c10::TypeKind::IntType:
      return value.isInt();
    case c10::TypeKind::FloatType:
    case c10::TypeKind::NumberType:
      return value.isInt() || value.isDouble();
    default:
      return false;
  }
}

std::string Literal(const c10::IValue& value) {
  if (value.isNone()) return "None";
  if (value.isBool()) return value.toBool() ? "True" : "False";
  if (value.isInt()) return absl::StrCat(value.toInt());
  return absl::StrCat(value.toDouble());
}

}  // namespace

absl::StatusOr<std::vector<ConcreteArgument>> ParseConcreteArgs(const torch::jit::Module& module,
                                                                const std::vector<std::string>& specs) {
  if (specs.empty()) return std::vector<ConcreteArgument>();
  const c10::FunctionSchema& schema = module.get_method("forward").function().getSchema();
  std::vector<std::string> names;
  for (size_t i = 1; i < schema.arguments().size(); ++i) names.push_back(schema.arguments()[i].name());
  std::vector<ConcreteArgument> fixed;
  for (const std::string& spec : specs) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("concrete_args entry '", spec, "' is not name=value (e.g. attn_mask=None, is_causal=False)"));
    }
    const std::string name(absl::StripAsciiWhitespace(spec.substr(0, eq)));
    const std::string text(absl::StripAsciiWhitespace(spec.substr(eq + 1)));
    auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) {
      return absl::InvalidArgumentError(absl::StrCat("concrete_args: forward has no argument '", name, "' (it takes ",
                                                     absl::StrJoin(names, ", "), ")", DidYouMean(name, names)));
    }
    const size_t index = it - names.begin();
    if (std::any_of(fixed.begin(), fixed.end(), [&](const ConcreteArgument& a) { return a.index == index; })) {
      return absl::InvalidArgumentError(absl::StrCat("concrete_args: '", name, "' is given twice"));
    }
    std::optional<c10::IValue> value = ParseLiteral(text);
    if (!value) {
      return absl::InvalidArgumentError(absl::StrCat("concrete_args: '", name, "=", text,
                                                     "': featx fixes an argument to None, True, False, an int or a "
                                                     "float, not '",
                                                     text, "'"));
    }
    const c10::TypePtr& type = schema.arguments()[index + 1].type();
    if (!Takes(type, *value)) {
      return absl::InvalidArgumentError(absl::StrCat("concrete_args: '", name, "' is a ", type->annotation_str(),
                                                     " and cannot be ", Literal(*value)));
    }
    if (value->isInt() && type->kind() == c10::TypeKind::FloatType) value = c10::IValue(double(value->toInt()));
    fixed.push_back({name, index, *std::move(value)});
  }
  std::sort(fixed.begin(), fixed.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  return fixed;
}

std::string SpecializedMessage(const ConcreteArgument& argument) {
  return absl::StrCat(argument.name, kSpecializedMarker, Literal(argument.value), " but got another value");
}

}  // namespace featx
