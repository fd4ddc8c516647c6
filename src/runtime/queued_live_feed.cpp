#include "runtime/queued_live_feed.hpp"

#include <exception>

namespace af {

QueuedLiveFeed::QueuedLiveFeed(std::string log_name, std::string log_label, std::string error_prefix)
    : handoff_(std::move(log_name), std::move(log_label)), error_prefix_(std::move(error_prefix)) {}

QueuedLiveFeed::~QueuedLiveFeed() {
  handoff_.stop();
  if (worker_.joinable()) worker_.join();
}

void QueuedLiveFeed::start_worker(std::function<void()> body) {
  worker_ = std::thread([this, body = std::move(body)] {
    try {
      body();
    } catch (const std::exception& e) {
      handoff_.fail(make_error(error_prefix_ + ": internal error: " + e.what()));
    } catch (...) {
      handoff_.fail(make_error(error_prefix_ + ": internal error: unknown exception"));
    }
  });
}

void QueuedLiveFeed::stop() {
  handoff_.stop();
  on_stop();
  if (worker_.joinable()) worker_.join();
  after_stop();
}

}  // namespace af
