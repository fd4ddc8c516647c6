#include "net/tls_context.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>

#include <cstdlib>

namespace af::net {

Result<std::shared_ptr<boost::asio::ssl::context>> make_tls_client_context(const std::string& ca_file) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::no_compression,
                   ec);
  if (ec) return make_error("TLS: cannot set the context options: " + ec.message());
  // The floor as a version too: the no_tlsv1* options alone leave it to OpenSSL's
  // build configuration.
  if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1)
    return make_error("TLS: cannot require TLS 1.2 or newer");
  ctx->set_verify_mode(ssl::verify_peer, ec);
  if (ec) return make_error("TLS: cannot enable peer verification: " + ec.message());
  std::string file = ca_file;
  if (file.empty()) {
    if (const char* env = std::getenv("SSL_CERT_FILE"); env && *env) file = env;
  }
  if (!file.empty()) {
    ctx->load_verify_file(file, ec);
    if (ec) return make_error("TLS: cannot load CA file '" + file + "': " + ec.message());
  } else {
    ctx->set_default_verify_paths(ec);
    if (ec) return make_error("TLS: cannot load the system CA certificates: " + ec.message());
  }
  return ctx;
}

Status prepare_tls_connection(SSL* ssl, const std::string& host) {
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  if (!ec) {
    // An IP literal: matched against the certificate's IP entries; SNI carries
    // names only (RFC 6066).
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1)
      return make_error("TLS: cannot check the certificate for address '" + host + "'");
    return {};
  }
  if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) return make_error("TLS: cannot set SNI host name '" + host + "'");
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) != 1)
    return make_error("TLS: cannot check the certificate for host name '" + host + "'");
  return {};
}

std::string describe_tls_failure(SSL* ssl, const boost::system::error_code& ec) {
  std::string out = ec.message();
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    out += " (";
    out += X509_verify_cert_error_string(verify);
    out += ')';
  }
  return out;
}

}  // namespace af::net
