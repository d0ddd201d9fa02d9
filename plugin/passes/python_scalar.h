// Types whose values are Python scalars at FX trace time (bool, int, float,
// str, None): FX evaluates them in Python and records no node for them, and
// featx's passes may fold them to constants.
//
//   if (IsPythonScalarType(value->type())) ...  // a folded `training`, an int attribute
#pragma once

#include <ATen/core/jit_type.h>

namespace featx {

inline bool IsPythonScalarType(const c10::TypePtr& type) {
  switch (type->kind()) {
    case c10::TypeKind::BoolType:
    case c10::TypeKind::IntType:
    case c10::TypeKind::FloatType:
    case c10::TypeKind::StringType:
    case c10::TypeKind::NoneType:
      return true;
    default:
      return false;
  }
}

}  // namespace featx
