// The log's metrics for Prometheus.
#pragma once

#include "base/histogram.h"

namespace eddy::log {

/// The latency of each fsync of a partition's data (Partition::Sync and group commits under
/// acks=all), one per process. Thread-safe (Histogram).
Histogram& FsyncLatency();

}  // namespace eddy::log
