#include "log/log_error.h"

#include <fmt/format.h>

#include <cstring>
#include <optional>

#include "absl/strings/cord.h"

namespace eddy::log {
namespace {

constexpr char kKafkaErrorUrl[] = "type.eddy/kafka_error";

std::optional<KafkaError> PayloadOf(const absl::Status& status) {
  auto payload = status.GetPayload(kKafkaErrorUrl);
  if (!payload.has_value()) return std::nullopt;
  std::string text(*payload);
  int value = 0;
  bool negative = false;
  size_t i = 0;
  if (!text.empty() && text[0] == '-') {
    negative = true;
    i = 1;
  }
  if (i == text.size()) return std::nullopt;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
    if (value > 32767) return std::nullopt;
  }
  return static_cast<KafkaError>(negative ? -value : value);
}

}  // namespace

absl::Status LogError(absl::StatusCode code, KafkaError kafka, const std::string& message) {
  absl::Status status(code, message);
  status.SetPayload(kKafkaErrorUrl, absl::Cord(std::to_string(static_cast<int>(kafka))));
  return status;
}

KafkaError KafkaErrorOf(const absl::Status& status) {
  if (status.ok()) return KafkaError::kNone;
  if (std::optional<KafkaError> payload = PayloadOf(status)) return *payload;
  switch (status.code()) {
    case absl::StatusCode::kOutOfRange:
      return KafkaError::kOffsetOutOfRange;
    case absl::StatusCode::kDataLoss:
      return KafkaError::kCorruptMessage;
    case absl::StatusCode::kNotFound:
      return KafkaError::kUnknownTopicOrPartition;
    case absl::StatusCode::kAlreadyExists:
      return KafkaError::kTopicAlreadyExists;
    case absl::StatusCode::kResourceExhausted:
      return KafkaError::kMessageTooLarge;
    case absl::StatusCode::kInvalidArgument:
      return KafkaError::kInvalidRequest;
    case absl::StatusCode::kFailedPrecondition:
      return KafkaError::kNotLeaderOrFollower;
    default:
      return KafkaError::kKafkaStorageError;
  }
}

absl::Status IoError(int errno_value, const std::string& what, const std::string& path) {
  std::string message = fmt::format("{} {}: {}", what, path, std::strerror(errno_value));
  absl::Status status(absl::ErrnoToStatusCode(errno_value), message);
  // Errors like ENOENT map to NotFound, which must not read as "unknown topic" to a client.
  status.SetPayload(kKafkaErrorUrl,
                    absl::Cord(std::to_string(static_cast<int>(KafkaError::kKafkaStorageError))));
  return status;
}

}  // namespace eddy::log
