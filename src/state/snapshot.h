// Snapshots of a subtask's state for checkpoints and savepoints (DESIGN.md §3 "Checkpoints";
// Carbone et al. 2015, as Flink takes them): what each operator of a subtask's chain wrote when a
// checkpoint barrier passed, split so that a job can be restored at another parallelism.
//
// Every operator slot of a subtask (the source, then each chained operator, then the input gate)
// writes two kinds of state (Flink: operator state and keyed state):
//   * operator state: one blob per subtask, redistributed on restore by union (every new subtask
//     sees the blobs of every old subtask and keeps what it owns, e.g. its Kafka partitions);
//   * keyed state: per key group, numbered sections (one per state structure of the operator:
//     timers, a KeyedMapState, ...); a new subtask receives exactly the key groups it owns.
// A sink also hands over committables (e.g. part files to publish) that the coordinator commits
// once the checkpoint is complete (two-phase commit).
//
// The byte layout of a subtask file is in docs/checkpoint-format.md (format version 1).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/ids.h"
#include "state/key_group_range.h"

namespace eddy::state {

/// Format version of subtask snapshot files (docs/checkpoint-format.md); restore rejects others.
inline constexpr uint32_t kSnapshotFormatVersion = 1;

/// The state one operator slot wrote at a checkpoint.
struct OperatorSnapshot {
  /// What the operator is ("WindowAggregate", "Source: flights", ...): restore checks that the
  /// restored job has the same kind of operator in the same place.
  std::string uid;
  std::string operator_state;
  /// Key group → sections (section i as the operator numbered it; missing ones are empty).
  std::map<int32_t, std::vector<std::string>> key_groups;

  /// Section `section` of key group `kg` to append to (created empty on first use).
  std::string* Section(KeyGroup kg, int section) {
    auto& v = key_groups[kg.value()];
    if (static_cast<int>(v.size()) <= section) v.resize(static_cast<size_t>(section) + 1);
    return &v[static_cast<size_t>(section)];
  }
  bool empty() const { return operator_state.empty() && key_groups.empty(); }
  /// Bytes of state held (operator state plus every section).
  size_t ByteSize() const;
};

/// Everything one subtask wrote at one checkpoint: its operator slots in chain order and the
/// committables of its sink.
struct SubtaskSnapshot {
  std::vector<OperatorSnapshot> operators;
  std::vector<std::string> committables;

  /// Encodes the snapshot as a subtask file (magic, version, slots, committables, CRC-32).
  std::string Encode() const;
  /// Decodes a subtask file. Errors: DataLoss for a bad magic, version, checksum or structure.
  static absl::StatusOr<SubtaskSnapshot> Decode(std::string_view data);
  size_t ByteSize() const;
};

/// What a restored operator reads: the state of its slot in every old subtask, filtered to the
/// key groups the new subtask owns. Read-only; valid while the restored snapshots live.
class OperatorRestore {
 public:
  OperatorRestore() = default;
  /// `olds`: the slot's snapshot in each old subtask (null entries are skipped); `range`: the key
  /// groups the new subtask owns.
  OperatorRestore(std::vector<const OperatorSnapshot*> olds, KeyGroupRange range);

  /// Whether anything was restored (false on a fresh start: operators then start empty).
  bool restored() const { return !olds_.empty(); }
  /// Operator state of every old subtask, in old subtask order (union redistribution).
  std::vector<std::string_view> OperatorStates() const;
  /// The key groups of this subtask's range that hold state, ascending.
  std::vector<KeyGroup> KeyGroups() const;
  /// Section `section` of key group `kg` (empty when it holds none).
  std::string_view Section(KeyGroup kg, int section) const;

 private:
  std::vector<const OperatorSnapshot*> olds_;
  KeyGroupRange range_;
  std::map<int32_t, const std::vector<std::string>*> groups_;  // owned key groups → sections
};

}  // namespace eddy::state
