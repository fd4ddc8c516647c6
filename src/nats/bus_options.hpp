#pragma once
// BusOptions: where the NATS servers are and how to authenticate, parsed from
// `--bus URL[,URL...]` (or a sink's `url` parameter) and the environment.
//
// A URL is `nats://[user:password@|token@]host[:port]` (`tls://` too). Every URL
// of one list names a member of the same cluster, so they must carry the same
// credentials (or none). Credentials in the URL win over the environment:
//   AF_NATS_USER + AF_NATS_PASSWORD   user and password
//   AF_NATS_TOKEN                     a token
//   AF_NATS_CREDS                     a .creds file (JWT + NKey seed), read by the client
// Exactly one kind may be in effect. The servers are kept WITHOUT their
// credentials, so that whatever the client library prints or returns names
// `host:port` only; `redacted()` is the one way a bus is named in logs and errors.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace af::nats {

struct BusOptions {
  std::vector<std::string> servers;  // "nats://host:port", credentials removed
  std::string user, password;        // user/password authentication, or empty
  std::string token;                 // token authentication, or empty
  std::string creds_file;            // a .creds file, or empty

  bool has_credentials() const { return !user.empty() || !token.empty() || !creds_file.empty(); }
  // The servers joined by ','; a user/password or token shown as "***":
  // "nats://***@127.0.0.1:4222" (a creds file is a path, not a secret, and not shown).
  std::string redacted() const;
};

// Reads one variable of the environment; a test passes its own.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;
EnvLookup process_env();

// Parses a comma-separated list of URLs. Errors start with `label` (the option or
// param that held the list) and name the offending URL redacted, never its
// credentials: "--bus: URL 2 (nats://***@h:x): port 'x' is not a number in 1..65535".
Result<BusOptions> parse_bus_options(std::string_view urls, const EnvLookup& env = process_env(),
                                     std::string_view label = "--bus");

}  // namespace af::nats
