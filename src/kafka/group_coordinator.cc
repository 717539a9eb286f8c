#include "kafka/group_coordinator.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "base/status.h"
#include "kafka/errors.h"
#include "kafka/json_log.h"
#include "log/file_util.h"
#include "log/log_error.h"

namespace eddy::kafka {

namespace {

using Json = nlohmann::json;

std::string Hex(const std::string& bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string Unhex(const std::string& hex) {
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return 0;
  };
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(val(hex[i]) << 4 | val(hex[i + 1])));
  return out;
}

std::string RandomSuffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{:016x}", rng());
}

enum class State { kEmpty, kPreparingRebalance, kCompletingRebalance, kStable, kDead };

const char* StateName(State s) {
  switch (s) {
    case State::kEmpty:
      return "Empty";
    case State::kPreparingRebalance:
      return "PreparingRebalance";
    case State::kCompletingRebalance:
      return "CompletingRebalance";
    case State::kStable:
      return "Stable";
    case State::kDead:
      return "Dead";
  }
  return "Unknown";
}

int16_t E(ErrorCode c) { return Wire(c); }

}  // namespace

struct Member {
  std::string id;
  std::optional<std::string> instance_id;
  std::string client_id, client_host;
  int32_t session_timeout_ms = 45000;
  int32_t rebalance_timeout_ms = 300000;
  std::vector<std::pair<std::string, std::string>> protocols;  // (name, metadata)
  std::string assignment;
  int64_t last_seen_ms = 0;
  uint64_t join_order = 0;
  bool joined = false;  // has (re)joined in the current rebalance
  std::function<void(JoinGroupResponse)> join_done;
  int16_t join_version = 0;
  std::function<void(SyncGroupResponse)> sync_done;
};

struct Committed {
  int64_t offset = -1;
  std::string metadata;
  int32_t leader_epoch = -1;
};

struct GroupCoordinator::Group {
  std::string id;
  State state = State::kEmpty;
  int32_t generation = 0;
  std::string protocol_type;
  std::string protocol;
  std::string leader;
  std::map<std::string, Member> members;
  std::map<std::string, int64_t> pending_ids;  // member ids handed out (MEMBER_ID_REQUIRED)
  int64_t rebalance_deadline_ms = 0;
  // group.initial.rebalance.delay.ms: the first rebalance of an empty group waits until
  // `initial_join_until_ms` (pushed back by each new member, up to the rebalance deadline) for
  // more members, so consumers started together join one generation (Kafka's InitialDelayedJoin).
  bool initial_join = false;
  int64_t initial_join_until_ms = 0;
  std::map<std::pair<std::string, int32_t>, Committed> offsets;

  Member* FindMember(const std::string& id) {
    auto it = members.find(id);
    return it == members.end() ? nullptr : &it->second;
  }
  Member* FindInstance(const std::string& instance) {
    for (auto& [id, m] : members) {
      if (m.instance_id && *m.instance_id == instance) return &m;
    }
    return nullptr;
  }
  // KIP-345: a request naming a static instance that another client has taken over since (its
  // member id is no longer the instance's) is fenced (FENCED_INSTANCE_ID).
  bool Fenced(const std::optional<std::string>& instance, const std::string& member_id) {
    if (!instance) return false;
    const Member* m = FindInstance(*instance);
    return m && m->id != member_id;
  }
};

namespace {

// The JSON Lines records of consumer-groups.log (replayed by Load()).
std::string OffsetRecord(const std::string& group, const std::string& topic, int32_t partition,
                         const Committed& c) {
  return Json{{"type", "offset"},
              {"group", group},
              {"topic", topic},
              {"partition", partition},
              {"offset", c.offset},
              {"metadata", c.metadata},
              {"leader_epoch", c.leader_epoch}}
      .dump();
}

std::string GroupRecord(const GroupCoordinator::Group& g) {
  Json members = Json::array();
  for (const auto& [mid, m] : g.members) {
    Json jm{{"id", m.id},
            {"client_id", m.client_id},
            {"client_host", m.client_host},
            {"session_timeout_ms", m.session_timeout_ms},
            {"rebalance_timeout_ms", m.rebalance_timeout_ms},
            {"assignment", Hex(m.assignment)}};
    if (m.instance_id) jm["instance_id"] = *m.instance_id;
    members.push_back(std::move(jm));
  }
  return Json{{"type", "group"},
              {"group", g.id},
              {"generation", g.generation},
              {"protocol_type", g.protocol_type},
              {"protocol", g.protocol},
              {"leader", g.leader},
              {"members", members}}
      .dump();
}

}  // namespace

GroupCoordinator::GroupCoordinator(std::string path, GroupOptions options)
    : path_(std::move(path)), options_(options) {}

GroupCoordinator::~GroupCoordinator() = default;

absl::StatusOr<std::unique_ptr<GroupCoordinator>> GroupCoordinator::Open(
    const std::string& data_dir, GroupOptions options, int64_t now_ms) {
  std::unique_ptr<GroupCoordinator> c(
      new GroupCoordinator(data_dir + "/consumer-groups.log", options));
  EDDY_RETURN_IF_ERROR(c->Load(now_ms));
  return c;
}

absl::Status GroupCoordinator::Load(int64_t now_ms) {
  EDDY_RETURN_IF_ERROR(ReadJsonLinesLog(path_, "consumer group", [&](const Json& j) {
    std::string type = j.at("type");
    std::string gid = j.at("group");
    Group& g = *FindOrCreate(gid);
    if (type == "offset") {
      Committed c;
      c.offset = j.at("offset");
      c.metadata = j.value("metadata", "");
      c.leader_epoch = j.value("leader_epoch", -1);
      g.offsets[{j.at("topic"), j.at("partition")}] = c;
    } else if (type == "group") {
      g.generation = j.at("generation");
      g.protocol_type = j.value("protocol_type", "");
      g.protocol = j.value("protocol", "");
      g.leader = j.value("leader", "");
      g.members.clear();
      for (const auto& jm : j.at("members")) {
        Member m;
        m.id = jm.at("id");
        if (jm.contains("instance_id")) m.instance_id = jm.at("instance_id").get<std::string>();
        m.client_id = jm.value("client_id", "");
        m.client_host = jm.value("client_host", "");
        m.session_timeout_ms = jm.value("session_timeout_ms", 45000);
        m.rebalance_timeout_ms = jm.value("rebalance_timeout_ms", 300000);
        m.assignment = Unhex(jm.value("assignment", ""));
        m.last_seen_ms = now_ms;
        m.join_order = next_member_++;
        g.members[m.id] = std::move(m);
      }
      g.state = g.members.empty() ? State::kEmpty : State::kStable;
    } else if (type == "delete") {
      groups_.erase(gid);
    }
  }));
  // Rewrite compactly: one "offset" line per offset, one "group" line per group with members.
  std::string compact;
  for (const auto& [id, g] : groups_) {
    for (const auto& [tp, c] : g->offsets)
      compact += OffsetRecord(id, tp.first, tp.second, c) + "\n";
  }
  for (const auto& [id, g] : groups_) {
    if (!g->members.empty()) compact += GroupRecord(*g) + "\n";
  }
  EDDY_RETURN_IF_ERROR(log::WriteFileAtomically(path_, compact));
  EDDY_ASSIGN_OR_RETURN(file_, log::OpenFile(path_, O_WRONLY | O_CLOEXEC));
  size_ = static_cast<int64_t>(compact.size());
  size_t n = 0;
  for (const auto& [id, g] : groups_) n += g->offsets.size();
  spdlog::info("kafka: {} consumer groups with {} committed offsets loaded from {}", groups_.size(),
               n, path_);
  return absl::OkStatus();
}

absl::Status GroupCoordinator::Append(const std::string& line) {
  EDDY_RETURN_IF_ERROR(log::WriteAt(file_.get(), size_, line + "\n", path_));
  size_ += static_cast<int64_t>(line.size()) + 1;
  return log::SyncFile(file_.get(), path_);
}

void GroupCoordinator::PersistGroup(const Group& g) {
  absl::Status st = Append(GroupRecord(g));
  if (!st.ok()) spdlog::error("kafka: persisting group '{}' failed: {}", g.id, st.ToString());
}

GroupCoordinator::Group* GroupCoordinator::FindOrCreate(const std::string& id) {
  auto& slot = groups_[id];
  if (!slot) {
    slot = std::make_unique<Group>();
    slot->id = id;
  }
  return slot.get();
}

GroupCoordinator::Group* GroupCoordinator::Find(const std::string& id) {
  auto it = groups_.find(id);
  return it == groups_.end() ? nullptr : it->second.get();
}

void GroupCoordinator::PrepareRebalance(Group* g, int64_t now_ms, const std::string& reason,
                                        Callbacks* ready) {
  if (g->state == State::kPreparingRebalance) return;
  spdlog::info("kafka: group '{}' is rebalancing (generation {}): {}", g->id, g->generation,
               reason);
  // Members waiting for their assignment learn that it will not come.
  for (auto& [id, m] : g->members) {
    if (m.sync_done) {
      SyncGroupResponse r;
      r.error_code = E(ErrorCode::kRebalanceInProgress);
      ready->push_back([cb = std::move(m.sync_done), r] { cb(r); });
      m.sync_done = nullptr;
    }
    m.joined = false;
  }
  int32_t timeout = 0;
  for (const auto& [id, m] : g->members) timeout = std::max(timeout, m.rebalance_timeout_ms);
  bool first = g->state == State::kEmpty;
  g->state = State::kPreparingRebalance;
  g->rebalance_deadline_ms = now_ms + timeout;
  g->initial_join = first && options_.initial_rebalance_delay_ms > 0;
  if (g->initial_join) {
    g->initial_join_until_ms =
        std::min(now_ms + options_.initial_rebalance_delay_ms, g->rebalance_deadline_ms);
  }
}

void GroupCoordinator::MaybeCompleteJoin(Group* g, int64_t now_ms, bool deadline_passed,
                                         Callbacks* ready) {
  if (g->state != State::kPreparingRebalance) return;
  bool all = true;
  for (const auto& [id, m] : g->members) all = all && m.joined;
  bool initial_wait = g->initial_join && now_ms < g->initial_join_until_ms;
  if (!deadline_passed && (!all || initial_wait)) return;
  g->initial_join = false;
  // Dynamic members that did not rejoin in time leave the group; static members stay (Kafka:
  // they keep their partitions until their session times out, so a restarting one gets them
  // back).
  std::vector<std::string> gone;
  for (const auto& [id, m] : g->members) {
    if (!m.joined && !m.instance_id) gone.push_back(id);
  }
  for (const auto& id : gone) {
    spdlog::info("kafka: group '{}': member {} did not rejoin in time; removing it", g->id, id);
    g->members.erase(id);
  }
  ++g->generation;
  if (g->members.empty()) {
    g->state = State::kEmpty;
    g->leader.clear();
    g->protocol.clear();
    PersistGroup(*g);
    return;
  }
  // The protocol every member supports, preferring the leader candidates' order of preference
  // by votes (Kafka: each member votes for its first supported candidate).
  std::map<std::string, int> supported;
  for (const auto& [id, m] : g->members) {
    for (const auto& [name, meta] : m.protocols) supported[name]++;
  }
  std::vector<std::string> candidates;
  for (const auto& [name, n] : supported) {
    if (n == static_cast<int>(g->members.size())) candidates.push_back(name);
  }
  std::map<std::string, int> votes;
  for (const auto& [id, m] : g->members) {
    for (const auto& [name, meta] : m.protocols) {
      if (std::find(candidates.begin(), candidates.end(), name) != candidates.end()) {
        votes[name]++;
        break;
      }
    }
  }
  g->protocol.clear();
  int best = -1;
  for (const auto& [name, n] : votes) {
    if (n > best) {
      best = n;
      g->protocol = name;
    }
  }
  if (!g->FindMember(g->leader)) {
    const Member* first = nullptr;
    for (const auto& [id, m] : g->members) {
      if (!first || m.join_order < first->join_order) first = &m;
    }
    g->leader = first->id;
  }
  g->state = State::kCompletingRebalance;
  for (auto& [id, m] : g->members) m.assignment.clear();
  spdlog::info("kafka: group '{}' generation {}: {} member(s), leader {}, protocol '{}'", g->id,
               g->generation, g->members.size(), g->leader, g->protocol);
  for (auto& [id, m] : g->members) {
    if (!m.join_done) continue;
    JoinGroupResponse r;
    r.generation_id = g->generation;
    r.protocol_type = g->protocol_type;
    r.protocol_name = g->protocol;
    r.leader = g->leader;
    r.member_id = m.id;
    if (m.id == g->leader) {
      for (const auto& [oid, o] : g->members) {
        auto& rm = r.members.emplace_back();
        rm.member_id = o.id;
        rm.group_instance_id = o.instance_id;
        for (const auto& [name, meta] : o.protocols) {
          if (name == g->protocol) rm.metadata = meta;
        }
      }
    }
    ready->push_back([cb = std::move(m.join_done), r] { cb(r); });
    m.join_done = nullptr;
  }
}

void GroupCoordinator::RemoveMember(Group* g, const std::string& member_id_ref,
                                    const std::string& reason, int64_t now_ms, Callbacks* ready) {
  // A copy: callers may pass the member's own id, which the erase below frees (LeaveGroup v3+).
  const std::string member_id = member_id_ref;
  Member* m = g->FindMember(member_id);
  if (!m) return;
  if (m->join_done) {
    JoinGroupResponse r;
    r.error_code = E(ErrorCode::kUnknownMemberId);
    r.member_id = member_id;
    ready->push_back([cb = std::move(m->join_done), r] { cb(r); });
  }
  if (m->sync_done) {
    SyncGroupResponse r;
    r.error_code = E(ErrorCode::kUnknownMemberId);
    ready->push_back([cb = std::move(m->sync_done), r] { cb(r); });
  }
  spdlog::info("kafka: group '{}': member {} left ({})", g->id, member_id, reason);
  g->members.erase(member_id);
  if (g->members.empty() && g->state != State::kPreparingRebalance) {
    g->state = State::kEmpty;
    ++g->generation;
    g->leader.clear();
    PersistGroup(*g);
    return;
  }
  PrepareRebalance(g, now_ms, fmt::format("member {} left", member_id), ready);
  MaybeCompleteJoin(g, now_ms, false, ready);
}

void GroupCoordinator::JoinGroup(const JoinGroupRequest& req, int16_t version,
                                 const ClientInfo& client, int64_t now_ms,
                                 std::function<void(JoinGroupResponse)> done) {
  Callbacks ready;
  auto fail = [&](ErrorCode code, const std::string& member_id = "") {
    JoinGroupResponse r;
    r.error_code = E(code);
    r.member_id = member_id;
    ready.push_back([done, r] { done(r); });
  };
  {
    std::lock_guard<std::mutex> l(mu_);
    if (req.group_id.empty()) {
      fail(ErrorCode::kInvalidGroupId);
    } else if (req.session_timeout_ms < options_.min_session_timeout_ms ||
               req.session_timeout_ms > options_.max_session_timeout_ms) {
      fail(ErrorCode::kInvalidSessionTimeout, req.member_id);
    } else {
      Group* g = FindOrCreate(req.group_id);
      bool compatible = g->members.empty() || g->protocol_type == req.protocol_type;
      if (compatible && !g->members.empty()) {
        // At least one protocol in common with every current member.
        bool common = false;
        for (const auto& p : req.protocols) {
          bool all = true;
          for (const auto& [id, m] : g->members) {
            if (id == req.member_id) continue;
            bool has = false;
            for (const auto& [name, meta] : m.protocols) has = has || name == p.name;
            all = all && has;
          }
          common = common || all;
        }
        compatible = common;
      }
      std::string member_id = req.member_id;
      Member* instance = req.group_instance_id ? g->FindInstance(*req.group_instance_id) : nullptr;
      Member* existing = member_id.empty() ? nullptr : g->FindMember(member_id);
      if (!compatible || req.protocols.empty()) {
        fail(ErrorCode::kInconsistentGroupProtocol, member_id);
      } else if (instance && !member_id.empty() && member_id != instance->id) {
        // KIP-345: another client has taken over this instance id since.
        fail(ErrorCode::kFencedInstanceId, member_id);
      } else if (instance && member_id.empty()) {
        // A static member (re)starting: it takes over the instance's membership.
        JoinStaticMember(g, instance->id, req, version, client, now_ms, std::move(done), &ready);
      } else if (!member_id.empty() && !existing && !g->pending_ids.count(member_id)) {
        fail(ErrorCode::kUnknownMemberId, member_id);
      } else if (member_id.empty() && !existing && version >= 4 && !req.group_instance_id) {
        // KIP-394: hand out the member id first; the client rejoins with it (static members,
        // known by their instance id, skip this).
        std::string id = fmt::format(
            "{}-{}", client.client_id.empty() ? "member" : client.client_id, RandomSuffix());
        g->pending_ids[id] = now_ms + req.session_timeout_ms;
        fail(ErrorCode::kMemberIdRequired, id);
      } else {
        if (existing) {
          member_id = existing->id;
        } else if (member_id.empty()) {
          member_id = fmt::format("{}-{}", client.client_id.empty() ? "member" : client.client_id,
                                  RandomSuffix());
        }
        g->pending_ids.erase(member_id);
        bool is_new = !existing;
        if (is_new && g->initial_join) {
          // A new member during the initial delay: wait for more (Kafka's InitialDelayedJoin).
          g->initial_join_until_ms =
              std::min(now_ms + options_.initial_rebalance_delay_ms, g->rebalance_deadline_ms);
        }
        Member& m = g->members[member_id];
        std::vector<std::pair<std::string, std::string>> protocols;
        for (const auto& p : req.protocols) protocols.emplace_back(p.name, p.metadata);
        bool changed = is_new || m.protocols != protocols;
        if (is_new) m.join_order = next_member_++;
        m.id = member_id;
        m.instance_id = req.group_instance_id;
        m.client_id = client.client_id;
        m.client_host = client.client_host;
        m.session_timeout_ms = req.session_timeout_ms;
        m.rebalance_timeout_ms =
            req.rebalance_timeout_ms > 0 ? req.rebalance_timeout_ms : req.session_timeout_ms;
        m.protocols = std::move(protocols);
        m.last_seen_ms = now_ms;
        if (g->members.size() == 1) g->protocol_type = req.protocol_type;
        if (m.join_done) {
          // A second join while the first waits: the first is superseded.
          JoinGroupResponse r;
          r.error_code = E(ErrorCode::kUnknownMemberId);
          ready.push_back([cb = std::move(m.join_done), r] { cb(r); });
        }
        if (g->state == State::kStable && !changed && member_id != g->leader) {
          // Nothing changed for a follower: no rebalance; it gets the current generation and
          // syncs again.
          JoinGroupResponse r;
          r.generation_id = g->generation;
          r.protocol_type = g->protocol_type;
          r.protocol_name = g->protocol;
          r.leader = g->leader;
          r.member_id = member_id;
          ready.push_back([done, r] { done(r); });
        } else {
          m.join_done = std::move(done);
          m.join_version = version;
          m.joined = true;
          PrepareRebalance(g, now_ms,
                           is_new ? fmt::format("member {} joined", member_id)
                                  : fmt::format("member {} rejoined", member_id),
                           &ready);
          m.joined = true;
          MaybeCompleteJoin(g, now_ms, false, &ready);
        }
      }
    }
  }
  for (auto& f : ready) f();
}

void GroupCoordinator::JoinStaticMember(Group* g, std::string old_id, const JoinGroupRequest& req,
                                        int16_t version, const ClientInfo& client, int64_t now_ms,
                                        std::function<void(JoinGroupResponse)> done,
                                        Callbacks* ready) {
  // Kafka (KIP-345): the instance gets a new member id and keeps its assignment; requests under
  // the old member id are fenced from now on, and answers the old client still waits for say so.
  std::string new_id =
      fmt::format("{}-{}", client.client_id.empty() ? "member" : client.client_id, RandomSuffix());
  Member m = std::move(g->members.at(old_id));
  g->members.erase(old_id);
  if (m.join_done) {
    JoinGroupResponse r;
    r.error_code = E(ErrorCode::kFencedInstanceId);
    r.member_id = old_id;
    ready->push_back([cb = std::move(m.join_done), r] { cb(r); });
    m.join_done = nullptr;
  }
  if (m.sync_done) {
    SyncGroupResponse r;
    r.error_code = E(ErrorCode::kFencedInstanceId);
    ready->push_back([cb = std::move(m.sync_done), r] { cb(r); });
    m.sync_done = nullptr;
  }
  std::string old_leader = g->leader;
  if (g->leader == old_id) g->leader = new_id;
  std::vector<std::pair<std::string, std::string>> protocols;
  for (const auto& p : req.protocols) protocols.emplace_back(p.name, p.metadata);
  bool changed = m.protocols != protocols;
  m.id = new_id;
  m.client_id = client.client_id;
  m.client_host = client.client_host;
  m.session_timeout_ms = req.session_timeout_ms;
  m.rebalance_timeout_ms =
      req.rebalance_timeout_ms > 0 ? req.rebalance_timeout_ms : req.session_timeout_ms;
  m.protocols = std::move(protocols);
  m.last_seen_ms = now_ms;
  Member& nm = g->members[new_id] = std::move(m);
  spdlog::info("kafka: group '{}': static member '{}' rejoined as {} (replacing {})", g->id,
               *req.group_instance_id, new_id, old_id);
  if (g->state == State::kStable && !changed) {
    // No rebalance: the member gets the current generation and, syncing, its old assignment.
    // The leader id answered is the one before the replacement, so a restarted leader does not
    // compute an assignment a stable group would not send out (Kafka does the same).
    PersistGroup(*g);
    JoinGroupResponse r;
    r.generation_id = g->generation;
    r.protocol_type = g->protocol_type;
    r.protocol_name = g->protocol;
    r.leader = old_leader;
    r.member_id = new_id;
    ready->push_back([done = std::move(done), r] { done(r); });
    return;
  }
  // Otherwise (changed metadata, or a rebalance under way) it takes part in a rebalance.
  nm.join_done = std::move(done);
  nm.join_version = version;
  PrepareRebalance(g, now_ms, fmt::format("static member {} rejoined", new_id), ready);
  nm.joined = true;
  MaybeCompleteJoin(g, now_ms, false, ready);
}

void GroupCoordinator::SyncGroup(const SyncGroupRequest& req, int16_t version, int64_t now_ms,
                                 std::function<void(SyncGroupResponse)> done) {
  Callbacks ready;
  auto answer = [&](ErrorCode code) {
    SyncGroupResponse r;
    r.error_code = E(code);
    ready.push_back([done, r] { done(r); });
  };
  {
    std::lock_guard<std::mutex> l(mu_);
    Group* g = Find(req.group_id);
    Member* m = g ? g->FindMember(req.member_id) : nullptr;
    if (g && g->Fenced(req.group_instance_id, req.member_id)) {
      answer(ErrorCode::kFencedInstanceId);
    } else if (!m) {
      answer(ErrorCode::kUnknownMemberId);
    } else if (req.generation_id != g->generation) {
      answer(ErrorCode::kIllegalGeneration);
    } else if (g->state == State::kPreparingRebalance) {
      answer(ErrorCode::kRebalanceInProgress);
    } else if (g->state == State::kStable) {
      m->last_seen_ms = now_ms;
      SyncGroupResponse r;
      r.protocol_type = g->protocol_type;
      r.protocol_name = g->protocol;
      r.assignment = m->assignment;
      ready.push_back([done, r] { done(r); });
    } else {  // CompletingRebalance
      m->last_seen_ms = now_ms;
      m->sync_done = std::move(done);
      if (m->id == g->leader) {
        for (auto& [id, mm] : g->members) mm.assignment.clear();
        for (const auto& a : req.assignments) {
          if (Member* t = g->FindMember(a.member_id)) t->assignment = a.assignment;
        }
        g->state = State::kStable;
        PersistGroup(*g);
        for (auto& [id, mm] : g->members) {
          if (!mm.sync_done) continue;
          SyncGroupResponse r;
          r.protocol_type = g->protocol_type;
          r.protocol_name = g->protocol;
          r.assignment = mm.assignment;
          ready.push_back([cb = std::move(mm.sync_done), r] { cb(r); });
          mm.sync_done = nullptr;
        }
      }
    }
  }
  for (auto& f : ready) f();
}

HeartbeatResponse GroupCoordinator::Heartbeat(const HeartbeatRequest& req, int16_t version,
                                              int64_t now_ms) {
  std::lock_guard<std::mutex> l(mu_);
  HeartbeatResponse r;
  Group* g = Find(req.group_id);
  Member* m = g ? g->FindMember(req.member_id) : nullptr;
  if (g && g->Fenced(req.group_instance_id, req.member_id)) {
    r.error_code = E(ErrorCode::kFencedInstanceId);
  } else if (!m) {
    r.error_code = E(ErrorCode::kUnknownMemberId);
  } else if (req.generation_id != g->generation) {
    r.error_code = E(ErrorCode::kIllegalGeneration);
  } else {
    m->last_seen_ms = now_ms;
    if (g->state == State::kPreparingRebalance) r.error_code = E(ErrorCode::kRebalanceInProgress);
  }
  return r;
}

LeaveGroupResponse GroupCoordinator::LeaveGroup(const LeaveGroupRequest& req, int16_t version,
                                                int64_t now_ms) {
  Callbacks ready;
  LeaveGroupResponse r;
  {
    std::lock_guard<std::mutex> l(mu_);
    Group* g = Find(req.group_id);
    if (version < 3) {
      if (!g || !g->FindMember(req.member_id)) {
        r.error_code = E(ErrorCode::kUnknownMemberId);
      } else {
        RemoveMember(g, req.member_id, "LeaveGroup", now_ms, &ready);
      }
    } else {
      for (const auto& who : req.members) {
        auto& mr = r.members.emplace_back();
        mr.member_id = who.member_id;
        mr.group_instance_id = who.group_instance_id;
        Member* m = nullptr;
        if (g && who.group_instance_id) {
          m = g->FindInstance(*who.group_instance_id);
          // An empty member id names the instance whoever holds it (the admin client's
          // RemoveMembersFromConsumerGroup); another member id is a fenced client's.
          if (m && !who.member_id.empty() && who.member_id != m->id) {
            mr.error_code = E(ErrorCode::kFencedInstanceId);
            continue;
          }
        } else if (g) {
          m = g->FindMember(who.member_id);
        }
        if (!m) {
          mr.error_code = E(ErrorCode::kUnknownMemberId);
          continue;
        }
        RemoveMember(g, m->id, who.reason.value_or("LeaveGroup"), now_ms, &ready);
      }
    }
  }
  for (auto& f : ready) f();
  return r;
}

OffsetCommitResponse GroupCoordinator::OffsetCommit(const OffsetCommitRequest& req, int16_t version,
                                                    int64_t now_ms) {
  OffsetCommitResponse r;
  std::lock_guard<std::mutex> l(mu_);
  int16_t error = 0;
  Group* g = Find(req.group_id);
  bool simple = req.generation_id_or_member_epoch < 0 && req.member_id.empty();
  if (req.group_id.empty()) {
    error = E(ErrorCode::kInvalidGroupId);
  } else if (simple) {
    // A commit from outside the group protocol (e.g. a standalone consumer): allowed while the
    // group has no members.
    if (g && !g->members.empty()) error = E(ErrorCode::kUnknownMemberId);
  } else if (g && g->Fenced(req.group_instance_id, req.member_id)) {
    error = E(ErrorCode::kFencedInstanceId);
  } else {
    Member* m = g ? g->FindMember(req.member_id) : nullptr;
    if (!m) {
      error = E(ErrorCode::kUnknownMemberId);
    } else if (req.generation_id_or_member_epoch != g->generation) {
      error = E(ErrorCode::kIllegalGeneration);
    } else if (g->state == State::kCompletingRebalance) {
      // Kafka: the member already has the new generation but no assignment yet.
      error = E(ErrorCode::kRebalanceInProgress);
    } else {
      // Stable, or PreparingRebalance: a member commits what it processed before it rejoins
      // (Kafka allows this; the heartbeat tells it about the rebalance).
      m->last_seen_ms = now_ms;
    }
  }
  if (error == 0 && !g) g = FindOrCreate(req.group_id);
  std::string lines;
  for (const auto& t : req.topics) {
    auto& rt = r.topics.emplace_back();
    rt.name = t.name;
    for (const auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition_index;
      rp.error_code = error;
      if (error) continue;
      Committed c;
      c.offset = p.committed_offset;
      c.metadata = p.committed_metadata.value_or("");
      c.leader_epoch = p.committed_leader_epoch;
      g->offsets[{t.name, p.partition_index}] = c;
      if (!lines.empty()) lines += "\n";
      lines += OffsetRecord(g->id, t.name, p.partition_index, c);
    }
  }
  if (!lines.empty()) {
    absl::Status st = Append(lines);
    if (!st.ok()) {
      spdlog::error("kafka: committing offsets of group '{}' failed: {}", req.group_id,
                    st.ToString());
      for (auto& t : r.topics) {
        for (auto& p : t.partitions) p.error_code = E(ErrorCode::kKafkaStorageError);
      }
    }
  }
  return r;
}

absl::Status GroupCoordinator::CommitTxnOffsets(const std::string& group,
                                                const std::vector<TxnOffset>& offsets) {
  if (offsets.empty()) return absl::OkStatus();
  std::lock_guard<std::mutex> l(mu_);
  Group* g = FindOrCreate(group);
  std::string lines;
  for (const TxnOffset& o : offsets) {
    Committed c;
    c.offset = o.offset;
    c.metadata = o.metadata;
    c.leader_epoch = o.leader_epoch;
    g->offsets[{o.topic, o.partition}] = c;
    if (!lines.empty()) lines += "\n";
    lines += OffsetRecord(g->id, o.topic, o.partition, c);
  }
  return Append(lines);
}

OffsetFetchResponse GroupCoordinator::OffsetFetch(const OffsetFetchRequest& req, int16_t version) {
  std::lock_guard<std::mutex> l(mu_);
  OffsetFetchResponse r;
  // The committed offsets of one group for the requested partitions (all when `topics` is null).
  using Wanted = std::optional<std::vector<std::pair<std::string, std::vector<int32_t>>>>;
  auto collect = [&](const std::string& group_id, const Wanted& wanted) {
    std::vector<std::tuple<std::string, int32_t, Committed>> out;
    Group* g = Find(group_id);
    if (!wanted) {
      if (g) {
        for (const auto& [tp, c] : g->offsets) out.emplace_back(tp.first, tp.second, c);
      }
      return out;
    }
    for (const auto& [topic, parts] : *wanted) {
      for (int32_t p : parts) {
        Committed c;
        if (g) {
          auto it = g->offsets.find({topic, p});
          if (it != g->offsets.end()) c = it->second;
        }
        out.emplace_back(topic, p, c);
      }
    }
    return out;
  };
  // Fills `topics` (v0-7 response topics, or one v8+ group's) from a request's topic list.
  auto fill = [&](const std::string& group_id, const auto& requested, auto* topics) {
    Wanted wanted;
    if (requested) {
      wanted.emplace();
      for (const auto& t : *requested) wanted->emplace_back(t.name, t.partition_indexes);
    }
    std::map<std::string, size_t> index;
    for (auto& [topic, p, c] : collect(group_id, wanted)) {
      auto it = index.find(topic);
      if (it == index.end()) {
        it = index.emplace(topic, topics->size()).first;
        topics->emplace_back().name = topic;
      }
      auto& rp = (*topics)[it->second].partitions.emplace_back();
      rp.partition_index = p;
      rp.committed_offset = c.offset;
      rp.committed_leader_epoch = c.leader_epoch;
      rp.metadata = c.metadata;
    }
  };
  if (version < 8) {
    fill(req.group_id, req.topics, &r.topics);
    return r;
  }
  for (const auto& rg : req.groups) {
    auto& og = r.groups.emplace_back();
    og.group_id = rg.group_id;
    fill(rg.group_id, rg.topics, &og.topics);
  }
  return r;
}

ListGroupsResponse GroupCoordinator::ListGroups(const ListGroupsRequest& req, int16_t version) {
  std::lock_guard<std::mutex> l(mu_);
  ListGroupsResponse r;
  for (const auto& [id, g] : groups_) {
    std::string state = StateName(g->state);
    if (!req.states_filter.empty() && std::find(req.states_filter.begin(), req.states_filter.end(),
                                                state) == req.states_filter.end())
      continue;
    auto& lg = r.groups.emplace_back();
    lg.group_id = id;
    lg.protocol_type = g->protocol_type;
    lg.group_state = state;
    lg.group_type = "classic";
  }
  return r;
}

DescribeGroupsResponse GroupCoordinator::DescribeGroups(const DescribeGroupsRequest& req,
                                                        int16_t version) {
  std::lock_guard<std::mutex> l(mu_);
  DescribeGroupsResponse r;
  for (const auto& id : req.groups) {
    auto& dg = r.groups.emplace_back();
    dg.group_id = id;
    Group* g = Find(id);
    if (!g) {
      dg.group_state = "Dead";
      continue;
    }
    dg.group_state = StateName(g->state);
    dg.protocol_type = g->protocol_type;
    dg.protocol_data = g->state == State::kStable ? g->protocol : "";
    for (const auto& [mid, m] : g->members) {
      auto& dm = dg.members.emplace_back();
      dm.member_id = m.id;
      dm.group_instance_id = m.instance_id;
      dm.client_id = m.client_id;
      dm.client_host = m.client_host;
      for (const auto& [name, meta] : m.protocols) {
        if (name == g->protocol) dm.member_metadata = meta;
      }
      dm.member_assignment = m.assignment;
    }
  }
  return r;
}

DeleteGroupsResponse GroupCoordinator::DeleteGroups(const DeleteGroupsRequest& req,
                                                    int16_t version) {
  std::lock_guard<std::mutex> l(mu_);
  DeleteGroupsResponse r;
  for (const auto& id : req.groups_names) {
    auto& res = r.results.emplace_back();
    res.group_id = id;
    Group* g = Find(id);
    if (!g) {
      res.error_code = E(ErrorCode::kGroupIdNotFound);
    } else if (!g->members.empty()) {
      res.error_code = E(ErrorCode::kNonEmptyGroup);
    } else {
      absl::Status st = Append(Json{{"type", "delete"}, {"group", id}}.dump());
      if (!st.ok()) {
        res.error_code = E(ErrorCode::kKafkaStorageError);
        continue;
      }
      groups_.erase(id);
      spdlog::info("kafka: deleted consumer group '{}'", id);
    }
  }
  return r;
}

std::vector<GroupCoordinator::GroupSummary> GroupCoordinator::Groups() {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<GroupSummary> out;
  for (const auto& [id, g] : groups_) {
    if (g->state == State::kDead) continue;
    GroupSummary s;
    s.id = id;
    s.state = StateName(g->state);
    s.protocol_type = g->protocol_type;
    s.members = static_cast<int>(g->members.size());
    for (const auto& [tp, c] : g->offsets) s.committed[tp] = c.offset;
    out.push_back(std::move(s));
  }
  return out;
}

void GroupCoordinator::Tick(int64_t now_ms) {
  Callbacks ready;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& [id, gp] : groups_) {
      Group* g = gp.get();
      for (auto it = g->pending_ids.begin(); it != g->pending_ids.end();) {
        it = it->second < now_ms ? g->pending_ids.erase(it) : std::next(it);
      }
      // Session expiry: members not waiting for a join answer that have been silent too long.
      std::vector<std::string> expired;
      for (const auto& [mid, m] : g->members) {
        if (m.join_done) continue;
        if (now_ms - m.last_seen_ms > m.session_timeout_ms) expired.push_back(mid);
      }
      for (const auto& mid : expired) {
        RemoveMember(g, mid, "session timeout expired", now_ms, &ready);
      }
      if (g->state == State::kPreparingRebalance) {
        MaybeCompleteJoin(g, now_ms, now_ms >= g->rebalance_deadline_ms, &ready);
      }
    }
  }
  for (auto& f : ready) f();
}

}  // namespace eddy::kafka
