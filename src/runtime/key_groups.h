// Key groups of the rows a keyed operator receives, computed exactly as the exchange into it
// routed them (DESIGN.md §3 "Parallelism by key groups"), for its keyed state
// (state/keyed_map_state.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "base/ids.h"
#include "function/expr.h"
#include "runtime/operator.h"
#include "state/key_group_range.h"

namespace eddy::runtime {

/// The key-group range of a subtask: KeyGroupRange::Of(index, parallelism, max_parallelism).
state::KeyGroupRange KeyGroupRangeOf(const SubtaskInfo& subtask);

/// Computes, once per batch, the key group of every row: KeyGroupOf(hash of the key columns,
/// max_parallelism), the hash being HashRows over the columns the exchange into the operator
/// hashes. An operator behind a global exchange (no key columns, parallelism 1) hashes no
/// columns, so all its state lands in the one key group of the empty key, owned by its only
/// subtask. Not thread-safe: one per operator instance.
class KeyGroupAssigner {
 public:
  /// `op` names the operator in errors.
  KeyGroupAssigner(const SubtaskInfo& subtask, std::string_view op);

  const state::KeyGroupRange& range() const { return range_; }

  /// Key groups of the rows of `batch` over its columns `key_columns`. Errors: Internal when a
  /// row's key group is not owned by this subtask (the exchange and the operator disagree).
  absl::Status Assign(const Batch& batch, const std::vector<int>& key_columns);
  /// Same over whole columns of `num_rows` rows (evaluated keys, e.g. of a join).
  absl::Status Assign(const std::vector<Column>& key_columns, size_t num_rows);

  /// Key group of row `row` of the last assigned batch.
  KeyGroup operator[](size_t row) const { return KeyGroup(groups_[row]); }

 private:
  absl::Status Check(size_t num_rows);

  std::string op_;
  int max_parallelism_;
  state::KeyGroupRange range_;
  std::vector<uint64_t> hashes_;
  std::vector<int32_t> groups_;
};

/// Whether the join keys `left` and `right` hash alike on both sides (pairwise the same physical
/// type, so equal key values have equal hashes): a join then takes key groups from its evaluated
/// keys, as its exchange does when they are plain columns; otherwise its vertex has parallelism 1
/// and it hashes no columns (every key in one key group).
bool JoinKeysHashAlike(const std::vector<BoundExprPtr>& left,
                       const std::vector<BoundExprPtr>& right);

}  // namespace eddy::runtime
