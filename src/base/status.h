// Status helpers: eddy's expected failures are absl::Status / absl::StatusOr<T> values
// (DESIGN.md §3 "Errors"). Bugs are EDDY_CHECK failures that abort with a message.
#pragma once

#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

/// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define EDDY_RETURN_IF_ERROR(expr)       \
  do {                                   \
    ::absl::Status _eddy_st = (expr);    \
    if (!_eddy_st.ok()) return _eddy_st; \
  } while (0)

#define EDDY_CONCAT_INNER(a, b) a##b
#define EDDY_CONCAT(a, b) EDDY_CONCAT_INNER(a, b)

/// `EDDY_ASSIGN_OR_RETURN(auto x, F())`: evaluates F() (an absl::StatusOr<T>); on error returns its
/// status from the enclosing function, otherwise moves the value into `lhs`.
#define EDDY_ASSIGN_OR_RETURN(lhs, expr) \
  EDDY_ASSIGN_OR_RETURN_IMPL(EDDY_CONCAT(_eddy_sor_, __LINE__), lhs, expr)
#define EDDY_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()

/// Aborts with file:line and the condition when `cond` is false. For invariants (bugs), never for
/// bad input.
#define EDDY_CHECK(cond)                                                                    \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      std::fprintf(stderr, "eddy: check failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                         \
    }                                                                                       \
  } while (0)
