#include "runtime/key_groups.h"

#include <fmt/format.h>

namespace eddy::runtime {

state::KeyGroupRange KeyGroupRangeOf(const SubtaskInfo& subtask) {
  return state::KeyGroupRange::Of(subtask.index, subtask.parallelism, subtask.max_parallelism);
}

KeyGroupAssigner::KeyGroupAssigner(const SubtaskInfo& subtask, std::string_view op)
    : op_(op), max_parallelism_(subtask.max_parallelism), range_(KeyGroupRangeOf(subtask)) {}

absl::Status KeyGroupAssigner::Assign(const Batch& batch, const std::vector<int>& key_columns) {
  size_t n = batch.num_rows();
  hashes_.resize(n);
  HashRows(batch, key_columns, hashes_.data());
  return Check(n);
}

absl::Status KeyGroupAssigner::Assign(const std::vector<Column>& key_columns, size_t num_rows) {
  hashes_.resize(num_rows);
  HashColumns(key_columns, num_rows, hashes_.data());
  return Check(num_rows);
}

absl::Status KeyGroupAssigner::Check(size_t n) {
  groups_.resize(n);
  int32_t first = range_.first().value(), last = range_.last().value();
  bool ok = true;
  uint64_t m = static_cast<uint64_t>(max_parallelism_);
  if ((m & (m - 1)) == 0) {
    // A power of two (the default 128): KeyGroupOf's modulo as a mask, without a division per row.
    for (size_t r = 0; r < n; ++r) {
      int32_t kg = static_cast<int32_t>(hashes_[r] & (m - 1));
      groups_[r] = kg;
      ok &= kg >= first && kg <= last;
    }
  } else {
    for (size_t r = 0; r < n; ++r) {
      int32_t kg = KeyGroupOf(hashes_[r], max_parallelism_);
      groups_[r] = kg;
      ok &= kg >= first && kg <= last;
    }
  }
  if (ok) return absl::OkStatus();
  for (size_t r = 0; r < n; ++r) {
    if (groups_[r] < first || groups_[r] > last) {
      return absl::InternalError(
          fmt::format("{}: a row of key group {} reached the subtask owning key groups [{}, {}]",
                      op_, groups_[r], first, last));
    }
  }
  return absl::OkStatus();
}

bool JoinKeysHashAlike(const std::vector<BoundExprPtr>& left,
                       const std::vector<BoundExprPtr>& right) {
  if (left.size() != right.size()) return false;
  for (size_t i = 0; i < left.size(); ++i) {
    if (left[i]->type().physical() != right[i]->type().physical()) return false;
  }
  return true;
}

}  // namespace eddy::runtime
