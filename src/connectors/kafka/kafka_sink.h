// The subtask operator of the 'kafka' sink (kafka_sink.cc) over a given ProducerTransport, so
// that its record path (encoding, partitioning, the flush at the end of a job, delivery errors)
// can be tested with a fake transport. Internal to src/connectors/kafka/ and its tests; the sink
// itself is built by MakeKafkaSink (registry.cc), which picks librdkafka or the local log.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "connectors/connector.h"
#include "connectors/kafka/kafka_table.h"
#include "connectors/kafka/transport.h"
#include "runtime/operator.h"

namespace eddy::connectors::kafka {

/// One kafka sink subtask writing through `transport`. `schema`: the columns of the batches it
/// receives; `writable_of_physical`: per physical column of the table, its column in those batches
/// (-1 for a VIRTUAL metadata column); `partitions`: of the topic. Per input batch it produces
/// every row (Produce), then calls EndOfBatch; Finish (end of the job) returns Flush's status, so a
/// record not acknowledged fails the job, and so does PrepareCommit (each checkpoint) under
/// 'sink.delivery-guarantee' = 'at-least-once' (`options.delivery`; 'exactly-once' needs the
/// transactional transports and is built by MakeKafkaSink only). Errors: as Open of the sink
/// (the encoders).
absl::StatusOr<std::unique_ptr<runtime::OneInputOperator>> NewKafkaSinkSubtask(
    KafkaTableOptions options, Schema schema, std::vector<int> writable_of_physical,
    int32_t partitions, runtime::SubtaskInfo info, std::shared_ptr<SinkMetrics> metrics,
    std::unique_ptr<ProducerTransport> transport);

}  // namespace eddy::connectors::kafka
