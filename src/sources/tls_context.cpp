#include "sources/tls_context.hpp"

#include <cstdlib>

namespace af::sources {

Result<std::shared_ptr<boost::asio::ssl::context>> make_tls_client_context(const std::string& ca_file) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                   ec);
  ctx->set_verify_mode(ssl::verify_peer, ec);
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

}  // namespace af::sources
