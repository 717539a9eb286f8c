// Errors of the log module. Every failure is an absl::Status whose code says what kind of failure
// it is; the ones a Kafka client must see as a specific error code also carry that code as a
// payload, so the broker maps them without parsing messages (Kafka protocol: error codes,
// ../shared/kafka-protocol/error-codes.tsv).
//
// absl code            Kafka error (default mapping when no payload is attached)
// OutOfRange           OFFSET_OUT_OF_RANGE (1): fetch/offset below the log start or above the end
// DataLoss             CORRUPT_MESSAGE (2): CRC mismatch, bad lengths, bad magic
// NotFound             UNKNOWN_TOPIC_OR_PARTITION (3)
// AlreadyExists        TOPIC_ALREADY_EXISTS (36)
// ResourceExhausted    MESSAGE_TOO_LARGE (10): a batch larger than max.message.bytes
// InvalidArgument      INVALID_REQUEST (42) unless the payload says INVALID_TOPIC_EXCEPTION (17),
//                      INVALID_PARTITIONS (37), INVALID_CONFIG (40) or INVALID_RECORD (87)
// FailedPrecondition   NOT_LEADER_OR_FOLLOWER (6): the partition is closed or being deleted
// anything else        KAFKA_STORAGE_ERROR (56): I/O errors
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace eddy::log {

/// The Kafka error codes the log reports (numbers from Kafka's error-codes table).
enum class KafkaError : int16_t {
  kUnknownServerError = -1,
  kNone = 0,
  kOffsetOutOfRange = 1,
  kCorruptMessage = 2,
  kUnknownTopicOrPartition = 3,
  kNotLeaderOrFollower = 6,
  kMessageTooLarge = 10,
  kInvalidTopic = 17,
  kRecordListTooLarge = 18,
  kTopicAlreadyExists = 36,
  kInvalidPartitions = 37,
  kInvalidConfig = 40,
  kInvalidRequest = 42,
  kUnsupportedForMessageFormat = 43,
  kKafkaStorageError = 56,
  kInvalidRecord = 87,
};

/// A status with `code`, `message` and the Kafka error `kafka` attached as a payload.
absl::Status LogError(absl::StatusCode code, KafkaError kafka, const std::string& message);

/// The Kafka error for `status`: its payload if it has one, else the default mapping in the table
/// above; kNone for OK. Thread-safe; pure.
KafkaError KafkaErrorOf(const absl::Status& status);

/// An I/O failure: the status for `errno_value` with "<what> <path>: <strerror>" as message and
/// KAFKA_STORAGE_ERROR as Kafka error.
absl::Status IoError(int errno_value, const std::string& what, const std::string& path);

}  // namespace eddy::log
