// The marks featx.inline_non_leaf leaves around an inlined call when
// featx.restore_calls will run, so that restore_calls can put the call back:
//   prim::featx_call_begin()
//   ... the call's code ...
//   prim::featx_call_end[name="forward"](%module, %args..., %returned)
// Naming and the analyses pass over them as they pass over constants.
//
//   if (n->kind() == kCallBegin || n->kind() == kCallEnd) continue;
#pragma once

#include <ATen/core/symbol.h>

namespace featx {

inline const c10::Symbol kCallBegin = c10::Symbol::fromQualString("prim::featx_call_begin");
inline const c10::Symbol kCallEnd = c10::Symbol::fromQualString("prim::featx_call_end");

}  // namespace featx
