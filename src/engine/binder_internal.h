// Binder internals shared by binder_query.cc and binder_match.cc.
#pragma once

#include <string>
#include <vector>

#include "engine/plan.h"

namespace eddy {

/// What a FROM item binds to: its plan, the names it brings into scope, and, for a window TVF,
/// the window (applied by the GROUP BY that must follow).
struct Binder::FromResult {
  PlanPtr node;
  Scope scope;
  bool window = false;
  runtime::WindowSpec spec;
  int time_col = -1;
  bool proctime = false;
  std::string window_text;
  std::vector<sql::ExprPtr> session_keys;
  sql::Pos pos;
};

}  // namespace eddy
