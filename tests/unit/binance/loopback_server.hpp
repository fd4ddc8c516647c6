#pragma once
// LoopbackServer: a tiny HTTP + WebSocket server on 127.0.0.1 (ephemeral port) for
// the client tests, plain or TLS. Synchronous Beast: one accept thread, one thread
// per connection, all joined by the destructor. Test-only.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace af::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

// The server side of one WebSocket, whatever the transport.
class WsPeer {
 public:
  virtual ~WsPeer() = default;
  virtual bool send(const std::string& text) = 0;
  virtual bool ping(const std::string& payload) = 0;
  // Reads one message (pongs are seen by the control callback); false on close/error.
  virtual bool read(std::string& text) = 0;
  // Ends the connection: a close frame, or, when another thread reads from this
  // peer (a Beast stream takes no close concurrently with a read), the TCP
  // connection shut down under that reader: the client sees the link drop.
  virtual void close() = 0;
  // Payloads of the pongs received so far.
  std::vector<std::string> pongs() {
    std::lock_guard lock(mutex_);
    return pongs_;
  }
  std::string target;

 protected:
  void on_pong(std::string payload) {
    std::lock_guard lock(mutex_);
    pongs_.push_back(std::move(payload));
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> pongs_;
};

class LoopbackServer {
 public:
  using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;
  using WsHandler = std::function<void(WsPeer&)>;

  LoopbackServer(HttpHandler http_handler, WsHandler ws_handler = {}, std::shared_ptr<net::ssl::context> tls = nullptr)
      : http_(std::move(http_handler)), ws_(std::move(ws_handler)), tls_(std::move(tls)),
        acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { accept_loop(); });
  }
  ~LoopbackServer() { stop(); }

  unsigned short port() const { return port_; }
  int connections() const { return connections_.load(); }

  // Closes every open connection (a dropped link, from the client's view).
  void drop_connections() {
    std::lock_guard lock(mutex_);
    for (auto& s : sockets_) {
      if (auto p = s.lock()) {
        beast::error_code ec;
        p->shutdown(tcp::socket::shutdown_both, ec);
      }
    }
  }

  void stop() {
    if (stopping_.exchange(true)) return;
    {  // wake the blocking accept
      net::io_context ioc;
      tcp::socket s(ioc);
      beast::error_code ec;
      s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), ec);
    }
    accept_thread_.join();
    drop_connections();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

 private:
  template <class Stream>
  class Peer final : public WsPeer {
   public:
    explicit Peer(websocket::stream<Stream>& ws) : ws_(ws) {
      ws_.control_callback([this](websocket::frame_type kind, beast::string_view payload) {
        if (kind == websocket::frame_type::pong) on_pong(std::string(payload));
      });
    }
    bool send(const std::string& text) override {
      beast::error_code ec;
      ws_.text(true);
      ws_.write(net::buffer(text), ec);
      return !ec;
    }
    bool ping(const std::string& payload) override {
      beast::error_code ec;
      ws_.ping(websocket::ping_data(payload.c_str()), ec);
      return !ec;
    }
    bool read(std::string& text) override {
      beast::flat_buffer buf;
      beast::error_code ec;
      if (std::this_thread::get_id() != owner_) read_elsewhere_ = true;
      ws_.read(buf, ec);
      if (ec) return false;
      text = beast::buffers_to_string(buf.data());
      return true;
    }
    void close() override {
      beast::error_code ec;
      if (read_elsewhere_) {
        beast::get_lowest_layer(ws_).shutdown(tcp::socket::shutdown_both, ec);
        return;
      }
      ws_.close(websocket::close_code::normal, ec);
    }

   private:
    websocket::stream<Stream>& ws_;
    const std::thread::id owner_ = std::this_thread::get_id();  // the handler's thread
    std::atomic<bool> read_elsewhere_{false};
  };

  void accept_loop() {
    while (true) {
      auto sock = std::make_shared<tcp::socket>(ioc_);
      beast::error_code ec;
      acceptor_.accept(*sock, ec);
      if (stopping_ || ec) return;
      ++connections_;
      std::lock_guard lock(mutex_);
      sockets_.push_back(sock);
      threads_.emplace_back([this, sock] { session(sock); });
    }
  }

  template <class Stream>
  void serve(Stream& stream) {
    beast::flat_buffer buf;
    HttpRequest req;
    beast::error_code ec;
    http::read(stream, buf, req, ec);
    if (ec) return;
    if (websocket::is_upgrade(req) && ws_) {
      websocket::stream<Stream&> ws(stream);
      ws.accept(req, ec);
      if (ec) return;
      Peer<Stream&> peer(ws);
      peer.target = std::string(req.target());
      ws_(peer);
      return;
    }
    HttpResponse res = http_ ? http_(req) : HttpResponse{http::status::not_found, 11};
    res.version(11);
    res.set(http::field::connection, "close");
    res.prepare_payload();
    http::write(stream, res, ec);
  }

  void session(std::shared_ptr<tcp::socket> sock) {
    beast::error_code ec;
    if (!tls_) {
      serve(*sock);
      sock->shutdown(tcp::socket::shutdown_both, ec);
      return;
    }
    net::ssl::stream<tcp::socket&> stream(*sock, *tls_);
    stream.handshake(net::ssl::stream_base::server, ec);
    if (ec) return;
    serve(stream);
    stream.shutdown(ec);
  }

  HttpHandler http_;
  WsHandler ws_;
  std::shared_ptr<net::ssl::context> tls_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread accept_thread_;
  std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::vector<std::weak_ptr<tcp::socket>> sockets_;
};

// A throwaway CA and a server certificate for `localhost` (openssl CLI), in `dir`.
// Returns the server context; `ca_file` receives the CA's path. nullptr when the
// openssl tool is missing.
inline std::shared_ptr<net::ssl::context> make_test_tls(const std::string& dir, std::string& ca_file) {
  const std::string cmd =
      "cd '" + dir + "' && "
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt "
      "-days 2 -subj /CN=af-test-ca >/dev/null 2>&1 && "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout srv.key -out srv.csr "
      "-subj /CN=localhost >/dev/null 2>&1 && "
      "printf 'subjectAltName=DNS:localhost\\nbasicConstraints=CA:FALSE\\n' > ext.cnf && "
      "openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 "
      "-extfile ext.cnf >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) return nullptr;
  ca_file = dir + "/ca.crt";
  auto ctx = std::make_shared<net::ssl::context>(net::ssl::context::tls_server);
  ctx->use_certificate_chain_file(dir + "/srv.crt");
  ctx->use_private_key_file(dir + "/srv.key", net::ssl::context::pem);
  return ctx;
}

}  // namespace af::test
