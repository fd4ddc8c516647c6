#pragma once
// AWS credentials for the DynamoDB sink, from the standard places, in the
// standard order: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN),
// else the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, default
// ~/.aws/credentials) under profile AWS_PROFILE (default "default").
// Messages never contain a secret. Pure function of the environment and files.

#include "common/result.hpp"
#include "sinks/sigv4.hpp"

namespace af::sinks {

Result<SigV4Credentials> load_aws_credentials();

}  // namespace af::sinks
