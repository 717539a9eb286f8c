// The compiled program of a row pattern (runtime/cep/nfa.h): its instruction set, shared by the
// compiler (compile.cc) and the Matcher (nfa.cc). Internal to runtime/cep/.
#pragma once

#include <cstdint>

#include "runtime/cep/nfa.h"

namespace eddy::runtime::cep {

// One instruction of the compiled program. Epsilon instructions (kSplit, kJmp, kLoop*) are
// followed when a run moves; a run rests only at kVar (waiting for the next row), kAbsent
// (waiting for its window to pass) or reaches kMatch.
struct CompiledPattern::Inst {
  enum class Op : uint8_t {
    kVar,       // map the next row to `var` if its condition holds, then go to x
    kSplit,     // go to x, and with lower preference to y
    kJmp,       // go to x
    kLoopInit,  // counter[slot] = 0, go to x
    kLoop,      // counted repetition: body x, exit y (see Closure)
    kLoopInc,   // counter[slot] += 1 (saturating at the bound that matters), go to x
    kAbsent,    // NOT var: wait until the WITHIN window passes with no row matching var
    kMatch,     // the match is complete
  };
  Op op = Op::kMatch;
  VarId var = -1;
  int32_t x = -1;
  int32_t y = -1;
  int32_t slot = -1;
  int32_t min = 0;
  int32_t max = 0;
  bool greedy = true;
};

}  // namespace eddy::runtime::cep
