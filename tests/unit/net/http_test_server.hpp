#pragma once
// HttpTestServer: an HTTP/1.1 server on 127.0.0.1 (ephemeral port, plain or TLS)
// that keeps connections alive and counts them, for the HTTP client's tests. The
// handler decides per request what the server does: answer, answer and then
// close the connection (an idle timeout that fired), close without answering, or
// stall. Synchronous Beast: one accept thread, one thread per connection, all
// joined by the destructor. Test-only.

#include <atomic>
#include <chrono>
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

namespace af::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

class HttpTestServer {
 public:
  using Request = http::request<http::string_body>;
  enum class Action {
    kAnswer,             // the answer; the connection stays open for the next request
    kAnswerThenClose,    // the answer (no "Connection: close"), then the connection is closed
    kCloseWithoutAnswer, // the request is read, the connection closed
    kStall,              // the request is read, nothing ever comes back
  };
  // `nth`: the request's index on its connection, from 0.
  using Handler = std::function<Action(const Request& req, int nth)>;
  // Reads nothing at all: the client's writes and TLS handshake stall.
  struct Mute {};

  explicit HttpTestServer(Handler handler, std::shared_ptr<asio::ssl::context> tls = nullptr)
      : handler_(std::move(handler)), tls_(std::move(tls)) {
    start();
  }
  explicit HttpTestServer(Mute) : mute_(true) { start(); }
  ~HttpTestServer() { stop(); }

  unsigned short port() const { return port_; }
  std::string url(const std::string& host = "127.0.0.1") const {
    return (tls_ ? "https://" : "http://") + host + ":" + std::to_string(port_);
  }
  int accepted() const { return accepted_.load(); }  // TCP connections accepted
  int requests() const { return requests_.load(); }  // requests read

  void stop() {
    if (stopping_.exchange(true)) return;
    {  // wake the blocking accept
      asio::io_context ioc;
      tcp::socket s(ioc);
      beast::error_code ec;
      s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
    }
    accept_thread_.join();
    {
      std::lock_guard lock(mutex_);
      for (auto& s : sockets_) {
        beast::error_code ec;
        s->shutdown(tcp::socket::shutdown_both, ec);
      }
    }
    for (auto& t : threads_) t.join();
  }

 private:
  void start() {
    acceptor_.open(tcp::v4());
    acceptor_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { accept_loop(); });
  }

  void accept_loop() {
    while (true) {
      auto sock = std::make_shared<tcp::socket>(ioc_);
      beast::error_code ec;
      acceptor_.accept(*sock, ec);
      if (stopping_ || ec) return;
      ++accepted_;
      std::lock_guard lock(mutex_);
      sockets_.push_back(sock);
      threads_.emplace_back([this, sock] { session(*sock); });
    }
  }

  void stall() {
    while (!stopping_) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  // Serves requests until the client closes or the handler ends the connection.
  template <class Stream>
  void serve(Stream& stream) {
    beast::flat_buffer buf;
    for (int nth = 0;; ++nth) {
      Request req;
      beast::error_code ec;
      http::read(stream, buf, req, ec);
      if (ec) return;
      ++requests_;
      const Action action = handler_(req, nth);
      if (action == Action::kCloseWithoutAnswer) return;
      if (action == Action::kStall) return stall();
      http::response<http::string_body> res{http::status::ok, 11};
      res.body() = std::string(req.method_string()) + " " + std::string(req.target()) + " " + req.body();
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      http::write(stream, res, ec);
      if (ec || action == Action::kAnswerThenClose || !req.keep_alive()) return;
    }
  }

  void session(tcp::socket& sock) {
    beast::error_code ec;
    if (mute_) return stall();
    if (!tls_) {
      serve(sock);
      sock.shutdown(tcp::socket::shutdown_both, ec);  // closed by the destructor: stop() may shut it down too
      return;
    }
    asio::ssl::stream<tcp::socket&> stream(sock, *tls_);
    stream.handshake(asio::ssl::stream_base::server, ec);
    if (!ec) serve(stream);
    sock.shutdown(tcp::socket::shutdown_both, ec);
  }

  Handler handler_;
  std::shared_ptr<asio::ssl::context> tls_;
  bool mute_ = false;
  asio::io_context ioc_;
  tcp::acceptor acceptor_{ioc_};
  unsigned short port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0}, requests_{0};
  std::thread accept_thread_;
  std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::vector<std::shared_ptr<tcp::socket>> sockets_;
};

}  // namespace af::test
