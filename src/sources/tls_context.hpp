#pragma once
// TLS client contexts for the Binance clients: peer verification against the
// system CAs, or a CA file (`--ca-file`, else $SSL_CERT_FILE), plus SNI and
// host-name checks per connection. Internal to sources/ (it exposes Asio types).
// A context is built once per client and used by its io thread only.

#include <memory>
#include <string>

#include <boost/asio/ssl.hpp>

#include "common/result.hpp"

namespace af::sources {

// A TLS 1.2+ client context that verifies peers: `ca_file` when given, else
// $SSL_CERT_FILE when set, else the system's default CA paths.
Result<std::shared_ptr<boost::asio::ssl::context>> make_tls_client_context(const std::string& ca_file);

// Sets SNI and host-name verification of `host` on a stream before its handshake.
// Returns an error naming the host when OpenSSL refuses the name.
template <class SslStream>
Status prepare_tls_stream(SslStream& stream, const std::string& host) {
  if (!SSL_set_tlsext_host_name(stream.native_handle(), host.c_str())) {
    return make_error("TLS: cannot set SNI host name '" + host + "'");
  }
  stream.set_verify_callback(boost::asio::ssl::host_name_verification(host));
  return {};
}

}  // namespace af::sources
