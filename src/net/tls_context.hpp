#pragma once
// The one TLS client policy of every outgoing connection (the Binance clients in
// sources/, the database sinks' HTTP client in sinks/): TLS 1.2 or newer, the
// peer's certificate verified against one set of CAs, and the host name checked
// on each connection. The CAs are, in order: the `--ca-file` given to the
// command, else $SSL_CERT_FILE, else the system's default paths; a CA file that
// cannot be loaded is an error, never a silent fall-back.
// A context is built once per client and then used by that client's thread only.

#include <memory>
#include <string>

#include <boost/asio/ssl.hpp>

#include "common/result.hpp"

namespace af::net {

// A TLS 1.2+ client context that verifies peers against `ca_file` when given,
// else $SSL_CERT_FILE when set, else the system's default CA paths. Errors name
// the CA file: "TLS: cannot load CA file '/x.pem': no such file".
Result<std::shared_ptr<boost::asio::ssl::context>> make_tls_client_context(const std::string& ca_file);

// Makes one connection check that the peer's certificate is for `host` (a DNS
// name, or an IP address matched against the certificate's IP entries) as part
// of OpenSSL's own verification, and sends `host` as SNI when it is a name.
// Call before the handshake. Errors name the host.
Status prepare_tls_connection(SSL* ssl, const std::string& host);

template <class SslStream>
Status prepare_tls_stream(SslStream& stream, const std::string& host) {
  return prepare_tls_connection(stream.native_handle(), host);
}

// Why a handshake failed, for a one-line error: the transport's message plus
// the certificate check that failed, "certificate verify failed (hostname
// mismatch)".
std::string describe_tls_failure(SSL* ssl, const boost::system::error_code& ec);

}  // namespace af::net
