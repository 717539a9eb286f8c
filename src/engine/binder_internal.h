// Binder internals shared by binder_query.cc and binder_match.cc.
#pragma once

#include <string>
#include <vector>

#include "connectors/connector.h"
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

/// The conjuncts of an AND tree of the AST.
void Conjuncts(const sql::ExprPtr& e, std::vector<sql::ExprPtr>* out);

/// Whether `upper_name` is an auxiliary function of a group window (TUMBLE_START …
/// SESSION_PROCTIME, binder_group_window.cc).
bool IsGroupWindowAuxiliary(const std::string& upper_name);

/// The connectors' identifiers (those `pred` accepts, all when null), for hints.
std::vector<std::string> ConnectorNames(bool (*pred)(const connectors::ConnectorFactory&));

}  // namespace eddy
