#include "kafka/broker.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/status.h"
#include "kafka/handlers/handler.h"
#include "kafka/messages.h"
#include "kafka/txn_coordinator.h"

namespace eddy::kafka {

absl::StatusOr<RequestFrame> ParseRequestFrame(std::string_view frame) {
  if (frame.size() < 8) {
    return absl::InvalidArgumentError(
        fmt::format("request frame of {} bytes is shorter than a request header", frame.size()));
  }
  RequestFrame f;
  ByteReader peek(frame);
  EDDY_RETURN_IF_ERROR(peek.ReadInt16(&f.api_key));
  EDDY_RETURN_IF_ERROR(peek.ReadInt16(&f.api_version));
  RequestHeader h;
  ByteReader r(frame);
  absl::Status st = h.Decode(r, RequestHeaderVersion(f.api_key, f.api_version));
  if (!st.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("malformed request header: {}", std::string(st.message())));
  }
  f.correlation_id = h.correlation_id;
  f.client_id = h.client_id;
  f.body = frame.substr(frame.size() - r.remaining());
  return f;
}

void PendingReply::Complete(std::string frame) {
  std::function<void()> w;
  {
    std::lock_guard<std::mutex> l(mu_);
    frame_ = std::move(frame);
    done_ = true;
    w = std::move(waiter_);
  }
  if (w) w();
}

void PendingReply::OnComplete(std::function<void()> waiter) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!done_) {
      waiter_ = std::move(waiter);
      return;
    }
  }
  waiter();
}

bool PendingReply::done() {
  std::lock_guard<std::mutex> l(mu_);
  return done_;
}

std::string PendingReply::TakeFrame() {
  std::lock_guard<std::mutex> l(mu_);
  return std::move(frame_);
}

absl::StatusOr<log::TopicInfo> HandlerContext::TopicOrAutoCreate(const std::string& name,
                                                                 bool allow_create) {
  auto info = log->DescribeTopic(name);
  if (info.ok() || !absl::IsNotFound(info.status())) return info;
  if (!allow_create || !options.auto_create_topics) return info;
  auto created = log->CreateTopic(name, options.default_partitions);
  if (created.ok()) {
    spdlog::info("kafka: created topic '{}' with {} partition(s) (auto.create.topics.enable)", name,
                 options.default_partitions);
    return created;
  }
  if (absl::IsAlreadyExists(created.status())) return log->DescribeTopic(name);  // a race
  return created;
}

Broker::Broker(log::LogManager* log, GroupCoordinator* groups, BrokerOptions options,
               TransactionCoordinator* txns)
    : ctx_(std::make_unique<HandlerContext>()) {
  ctx_->log = log;
  ctx_->groups = groups;
  ctx_->txns = txns;
  ctx_->options = std::move(options);
  if (txns) {
    HandlerContext* ctx = ctx_.get();
    txns->SetAppendListener([ctx] { ctx->NotifyAppended(); });
    txns->SetProducerIdSource([ctx] { return ctx->producers.NextProducerId(); });
  }
}

Broker::~Broker() = default;

void Broker::SetAppendListener(std::function<void()> listener) {
  ctx_->on_append = std::move(listener);
}

void Broker::NotifyAppended() { ctx_->NotifyAppended(); }

const BrokerOptions& Broker::options() const { return ctx_->options; }

void Broker::SetAdvertisedPort(int32_t port) { ctx_->options.advertised_port = port; }

absl::StatusOr<Reply> Broker::Handle(const RequestFrame& request, bool final_attempt) {
  // ApiVersions answers any version (an unsupported one with the list, so the client can retry).
  if (request.api_key == ApiVersionsRequest::kApiKey) {
    return HandleApiVersions(*ctx_, request, final_attempt);
  }
  const ApiHandler* api = FindServedApi(request.api_key);
  if (api && api->needs_groups && !ctx_->groups) api = nullptr;
  if (api && api->needs_txns && !ctx_->txns) api = nullptr;
  if (!api) {
    const char* name = ApiName(request.api_key);
    return absl::UnimplementedError(fmt::format("unsupported API key {}{}", request.api_key,
                                                name ? fmt::format(" ({})", name) : ""));
  }
  if (request.api_version < api->min_version || request.api_version > api->max_version) {
    return absl::UnimplementedError(fmt::format("unsupported version {} of {} (supported: {}-{})",
                                                request.api_version, ApiName(request.api_key),
                                                api->min_version, api->max_version));
  }
  return api->handle(*ctx_, request, final_attempt);
}

}  // namespace eddy::kafka
