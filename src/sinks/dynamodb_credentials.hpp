#pragma once
// AWS credentials for the DynamoDB sink, from the standard places, in the
// standard order: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN),
// else the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, default
// ~/.aws/credentials) under profile AWS_PROFILE (default "default").
// The first two providers of the credential chain (sinks/aws_credential_chain.hpp):
// nullopt when neither applies (no keys in the environment, no credentials file
// or no [default] profile in it, and neither AWS_SHARED_CREDENTIALS_FILE nor
// AWS_PROFILE set). Messages never contain a secret. Pure function of the
// environment and files.

#include <optional>

#include "common/result.hpp"
#include "sinks/sigv4.hpp"

namespace af::sinks {

Result<std::optional<SigV4Credentials>> static_aws_credentials();

}  // namespace af::sinks
