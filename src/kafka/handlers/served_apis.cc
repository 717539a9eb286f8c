// The one table of the Kafka APIs `eddy server` serves: key, advertised version range, handler
// (Redpanda's `handler<api, min, max>` list). ApiVersions advertises it, Broker::Handle checks
// versions against it and dispatches through it.
#include <algorithm>

#include "kafka/handlers/handler.h"

namespace eddy::kafka {

namespace {

// Version choices. Fetch starts at 4: older versions carry message sets v0/v1, and the log stores
// record batches v2 only. Produce is advertised from v0 although v0-2 are answered with
// UNSUPPORTED_FOR_MESSAGE_FORMAT: librdkafka up to 2.11 compresses with gzip, snappy or lz4 only
// when the broker lists Produce v0 (it asks whether Produce is supported within [0, 0]) and
// otherwise silently sends uncompressed batches; it still produces with v3+. ListOffsets starts
// at 1 (v0 has different semantics, and every supported client sends v1+).
const std::vector<ApiHandler> kServedApis = {
    // {API key, min version, max version, handler, consumer group API[, transaction API]}
    {ProduceRequest::kApiKey, 0, 9, HandleProduce, false},
    {FetchRequest::kApiKey, 4, 12, HandleFetch, false},
    {ListOffsetsRequest::kApiKey, 1, 6, HandleListOffsets, false},
    {MetadataRequest::kApiKey, 0, 12, HandleMetadata, false},
    {OffsetCommitRequest::kApiKey, 0, 8, HandleOffsetCommit, true},
    {OffsetFetchRequest::kApiKey, 1, 8, HandleOffsetFetch, true},
    {FindCoordinatorRequest::kApiKey, 0, 4, HandleFindCoordinator, true},
    {JoinGroupRequest::kApiKey, 0, 7, HandleJoinGroup, true},
    {HeartbeatRequest::kApiKey, 0, 4, HandleHeartbeat, true},
    {LeaveGroupRequest::kApiKey, 0, 5, HandleLeaveGroup, true},
    {SyncGroupRequest::kApiKey, 0, 5, HandleSyncGroup, true},
    {DescribeGroupsRequest::kApiKey, 0, 5, HandleDescribeGroups, true},
    {ListGroupsRequest::kApiKey, 0, 4, HandleListGroups, true},
    {ApiVersionsRequest::kApiKey, 0, 3, HandleApiVersions, false},
    {CreateTopicsRequest::kApiKey, 0, 7, HandleCreateTopics, false},
    {DeleteTopicsRequest::kApiKey, 0, 6, HandleDeleteTopics, false},
    {DeleteGroupsRequest::kApiKey, 0, 2, HandleDeleteGroups, true},
    {InitProducerIdRequest::kApiKey, 0, 4, HandleInitProducerId, false},
    {DescribeConfigsRequest::kApiKey, 0, 4, HandleDescribeConfigs, false},
    {CreatePartitionsRequest::kApiKey, 0, 3, HandleCreatePartitions, false},
    {DescribeClusterRequest::kApiKey, 0, 1, HandleDescribeCluster, false},
    // Transactions (v4+ of the first four are KIP-890's second transaction protocol).
    {AddPartitionsToTxnRequest::kApiKey, 0, 3, HandleAddPartitionsToTxn, false, true},
    {AddOffsetsToTxnRequest::kApiKey, 0, 3, HandleAddOffsetsToTxn, false, true},
    {EndTxnRequest::kApiKey, 0, 3, HandleEndTxn, false, true},
    {TxnOffsetCommitRequest::kApiKey, 0, 3, HandleTxnOffsetCommit, true, true},
    {DescribeTransactionsRequest::kApiKey, 0, 0, HandleDescribeTransactions, false, true},
    {ListTransactionsRequest::kApiKey, 0, 1, HandleListTransactions, false, true},
};

}  // namespace

const std::vector<ApiHandler>& ServedApis() { return kServedApis; }

const ApiHandler* FindServedApi(int16_t key) {
  auto it = std::find_if(kServedApis.begin(), kServedApis.end(),
                         [key](const ApiHandler& a) { return a.key == key; });
  return it == kServedApis.end() ? nullptr : &*it;
}

}  // namespace eddy::kafka
