// The consumer group coordinator of `eddy server`: Kafka's classic group membership protocol
// (JoinGroup / SyncGroup / Heartbeat / LeaveGroup with rebalances, session timeouts and static
// membership, KIP-345) and committed offsets (OffsetCommit / OffsetFetch), plus ListGroups,
// DescribeGroups and DeleteGroups. Kafka protocol: "The Consumer Group Protocol"; the state
// names (Empty, PreparingRebalance, CompletingRebalance, Stable, Dead) are Kafka's.
//
// Durability: committed offsets and each group's membership after a completed rebalance are
// appended to `<data-dir>/consumer-groups.log` (JSON Lines, fsynced before the request is
// answered) and replayed on start, so consumers resume from their offsets and a stable group
// keeps its generation and assignment across a restart. The file is rewritten compactly on start.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "kafka/messages.h"
#include "log/file_util.h"

namespace eddy::kafka {

/// Coordinator settings (Kafka broker config names).
struct GroupOptions {
  int32_t min_session_timeout_ms = 1000;     // group.min.session.timeout.ms (Kafka: 6000)
  int32_t max_session_timeout_ms = 1800000;  // group.max.session.timeout.ms
  /// group.initial.rebalance.delay.ms: how long the first rebalance of an empty group waits for
  /// more members (ms), pushed back by this much by each new member up to the rebalance timeout,
  /// so consumers started together join one generation. Default 1000 (Kafka: 3000; why 1 s:
  /// docs/kafka-broker.md "Consumer groups"). 0: no delay.
  int32_t initial_rebalance_delay_ms = 1000;
};

/// Who sent a request (for DescribeGroups).
struct ClientInfo {
  std::string client_id;
  std::string client_host;
};

/// Thread-safe: every method may be called from any thread. Deferred answers (JoinGroup waits
/// for the other members, SyncGroup for the leader's assignment) are delivered through the
/// `done` callbacks, called exactly once each, possibly from another request's thread or from
/// Tick(), never with the coordinator's lock held.
class GroupCoordinator {
 public:
  /// Loads `<data_dir>/consumer-groups.log` (a torn last line is ignored with a warning) and
  /// rewrites it compactly. `now_ms` starts every restored member's session. Errors: I/O errors,
  /// DataLoss for a corrupt line before the last.
  static absl::StatusOr<std::unique_ptr<GroupCoordinator>> Open(const std::string& data_dir,
                                                                GroupOptions options,
                                                                int64_t now_ms);

  ~GroupCoordinator();

  void JoinGroup(const JoinGroupRequest& req, int16_t version, const ClientInfo& client,
                 int64_t now_ms, std::function<void(JoinGroupResponse)> done);
  void SyncGroup(const SyncGroupRequest& req, int16_t version, int64_t now_ms,
                 std::function<void(SyncGroupResponse)> done);
  HeartbeatResponse Heartbeat(const HeartbeatRequest& req, int16_t version, int64_t now_ms);
  LeaveGroupResponse LeaveGroup(const LeaveGroupRequest& req, int16_t version, int64_t now_ms);
  OffsetCommitResponse OffsetCommit(const OffsetCommitRequest& req, int16_t version,
                                    int64_t now_ms);
  OffsetFetchResponse OffsetFetch(const OffsetFetchRequest& req, int16_t version);
  ListGroupsResponse ListGroups(const ListGroupsRequest& req, int16_t version);
  DescribeGroupsResponse DescribeGroups(const DescribeGroupsRequest& req, int16_t version);
  DeleteGroupsResponse DeleteGroups(const DeleteGroupsRequest& req, int16_t version);

  /// One offset committed by a transaction (Kafka protocol: TxnOffsetCommit partition).
  struct TxnOffset {
    std::string topic;
    int32_t partition = 0;
    int64_t offset = -1;
    std::string metadata;
    int32_t leader_epoch = -1;
  };
  /// Makes the offsets that a committed transaction wrote for `group` the group's committed
  /// offsets (Kafka: the commit marker in __consumer_offsets), fsynced before it returns.
  /// Idempotent (a recovering transaction coordinator applies them again). Errors: I/O errors.
  absl::Status CommitTxnOffsets(const std::string& group, const std::vector<TxnOffset>& offsets);

  /// What the admin view shows of one consumer group (the REST API's GET /v1/groups).
  struct GroupSummary {
    std::string id;
    std::string state;  // Kafka's names: "Empty", "PreparingRebalance", "Stable", ...
    std::string protocol_type;
    int members = 0;
    /// Committed offsets (the next offset to read) by (topic, partition).
    std::map<std::pair<std::string, int32_t>, int64_t> committed;
  };
  /// Every group with its state, member count and committed offsets. Thread-safe.
  std::vector<GroupSummary> Groups();

  /// Expires members whose session timed out and ends rebalances whose timeout passed (members
  /// that did not rejoin are removed). Call every ~100 ms.
  void Tick(int64_t now_ms);

  struct Group;

 private:
  using Callbacks = std::vector<std::function<void()>>;
  GroupCoordinator(std::string path, GroupOptions options);
  absl::Status Load(int64_t now_ms);
  absl::Status Append(const std::string& line);  // appends + fsyncs (mu_ held)

  Group* Find(const std::string& id);
  Group* FindOrCreate(const std::string& id);
  void PrepareRebalance(Group* g, int64_t now_ms, const std::string& reason, Callbacks* ready);
  void MaybeCompleteJoin(Group* g, int64_t now_ms, bool deadline_passed, Callbacks* ready);
  // A static member whose instance id is known joining without a member id (a restart, or a
  // second client with the same group.instance.id): takes over the membership of `old_id`.
  void JoinStaticMember(Group* g, std::string old_id, const JoinGroupRequest& req, int16_t version,
                        const ClientInfo& client, int64_t now_ms,
                        std::function<void(JoinGroupResponse)> done, Callbacks* ready);
  void RemoveMember(Group* g, const std::string& member_id, const std::string& reason,
                    int64_t now_ms, Callbacks* ready);
  void PersistGroup(const Group& g);

  std::string path_;
  GroupOptions options_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Group>> groups_;
  log::FileHandle file_;  // consumer-groups.log, appended at `size_`
  int64_t size_ = 0;
  uint64_t next_member_ = 0;
};

}  // namespace eddy::kafka
