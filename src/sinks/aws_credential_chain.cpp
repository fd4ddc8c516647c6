#include "sinks/aws_credential_chain.hpp"

#include <chrono>
#include <cstdlib>

#include "common/log.hpp"
#include "sinks/dynamodb_credentials.hpp"

namespace af::sinks {
namespace {

int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

net::HttpClientOptions http_options(const AwsCredentialChainOptions& o) {
  net::HttpClientOptions h;
  h.connect_timeout_ms = o.timeout_ms;
  h.io_timeout_ms = o.timeout_ms;
  h.ca_file = o.ca_file;
  h.user_agent = "alpha_forge-credentials";
  h.body_limit = 1 << 20;  // credentials documents are a few hundred bytes
  return h;
}

}  // namespace

Result<AwsCredentials> resolve_aws_credentials(net::HttpClient& http) {
  auto fixed = static_aws_credentials();
  if (!fixed) return fixed.error();
  if (*fixed) {
    const char* key = std::getenv("AWS_ACCESS_KEY_ID");
    return AwsCredentials{**fixed, 0, key && *key ? "environment" : "shared credentials file"};
  }
  for (auto* provider : {&web_identity_credentials, &container_credentials}) {
    auto c = provider(http);
    if (!c) return c.error();
    if (*c) return std::move(**c);
  }
  // The last resort: off EC2 the metadata service does not answer, which means
  // "no credentials configured", not an outage to wait for.
  auto imds = instance_metadata_credentials(http);
  if (!imds && imds.error().transient)
    return make_error("AWS credentials: none found (no keys in the environment or a shared credentials file, no web "
                      "identity or container endpoint configured); " + imds.error().message,
                      false);
  if (!imds) return imds.error();
  if (*imds) return std::move(**imds);
  return make_error(
      "AWS credentials: none found (looked at: the environment, the shared credentials file, web identity, the "
      "container endpoint; the instance metadata service is disabled by AWS_EC2_METADATA_DISABLED)",
      false);
}

AwsCredentialChain::AwsCredentialChain(AwsCredentialChainOptions options)
    : options_(std::move(options)), http_(http_options(options_)) {
  if (!options_.now_ms) options_.now_ms = system_now_ms;
}

Result<AwsCredentials> AwsCredentialChain::fetch() {
  if (!creds_) return resolve_aws_credentials(http_);
  // A refresh asks the provider that gave the keys in use.
  const std::string& p = creds_->provider;
  auto c = p == "web identity"         ? web_identity_credentials(http_)
           : p == "container endpoint" ? container_credentials(http_)
                                       : instance_metadata_credentials(http_);
  if (!c) return c.error();
  if (!*c) return make_error("AWS credentials (" + p + "): no longer configured in the environment", false);
  return std::move(**c);
}

Result<SigV4Credentials> AwsCredentialChain::current() {
  const int64_t now = options_.now_ms();
  if (creds_ && creds_->expires_at_ms == 0) return creds_->keys;
  const bool due = !creds_ || invalidated_ || now >= creds_->expires_at_ms - options_.refresh_margin_ms;
  if (!due) return creds_->keys;
  const bool valid = creds_ && !invalidated_ && now < creds_->expires_at_ms;
  if (valid && now - last_attempt_ms_ < options_.retry_interval_ms) return creds_->keys;
  last_attempt_ms_ = now;
  auto fresh = fetch();
  if (!fresh) {
    if (valid) {
      logger("sinks")->warn("AWS credentials refresh failed, keeping the current keys for {} s more: {}",
                            (creds_->expires_at_ms - now) / 1000, fresh.error().message);
      return creds_->keys;
    }
    // Expired (or rejected) keys are a passing condition once they have been
    // good: the sink worker retries the batch.
    return make_error(fresh.error().message, fresh.error().transient || creds_.has_value());
  }
  if (creds_) {
    ++refreshes_;
    logger("sinks")->info("AWS credentials refreshed from {}, valid for {} s", fresh->provider,
                          (fresh->expires_at_ms - now) / 1000);
  }
  creds_ = std::move(*fresh);
  invalidated_ = false;
  return creds_->keys;
}

void AwsCredentialChain::invalidate() {
  if (creds_ && creds_->expires_at_ms != 0) invalidated_ = true;
}

}  // namespace af::sinks
