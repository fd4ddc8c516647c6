#include "nats/bus_connection.hpp"

#include <chrono>
#include <vector>

#include "common/log.hpp"
#include "common/time.hpp"
#include "nats/nats_error.hpp"

namespace af::nats {
namespace {

std::shared_ptr<spdlog::logger> log() { return logger("nats"); }

void on_disconnected(natsConnection*, void* closure) {
  auto* s = static_cast<BusConnection::State*>(closure);
  if (s->closing.load()) {
    s->connected.store(false);
    return;
  }
  if (s->connected.exchange(false)) {
    int64_t expected = 0;
    s->disconnected_since_ms.compare_exchange_strong(expected, now_ms());
    s->disconnects.fetch_add(1);
    log()->warn("bus disconnected bus={}; reconnecting", s->bus);
  }
}

void on_reconnected(natsConnection* nc, void* closure) {
  auto* s = static_cast<BusConnection::State*>(closure);
  char url[256] = {0};
  natsConnection_GetConnectedUrl(nc, url, sizeof url);
  const int64_t since = s->disconnected_since_ms.exchange(0);
  s->connected.store(true);
  s->reconnects.fetch_add(1);
  log()->info("bus reconnected server={} down_ms={}", url, since > 0 ? now_ms() - since : 0);
}

void on_closed(natsConnection*, void* closure) {
  auto* s = static_cast<BusConnection::State*>(closure);
  s->connected.store(false);
  std::lock_guard lock(s->mutex);
  s->closed = true;
  s->closed_cv.notify_all();
}

// natsOptions with RAII, so that every early return frees them.
struct OptionsHolder {
  natsOptions* opts = nullptr;
  ~OptionsHolder() {
    if (opts) natsOptions_Destroy(opts);
  }
};

}  // namespace

Result<std::unique_ptr<BusConnection>> BusConnection::connect(const BusOptions& options, const ConnectPolicy& policy) {
  const std::string bus = options.redacted();
  auto state = std::make_unique<State>();
  state->bus = bus;
  OptionsHolder h;
  natsStatus s = natsOptions_Create(&h.opts);
  std::vector<const char*> servers;
  for (const auto& u : options.servers) servers.push_back(u.c_str());
  if (s == NATS_OK) s = natsOptions_SetServers(h.opts, servers.data(), static_cast<int>(servers.size()));
  if (s == NATS_OK) s = natsOptions_SetName(h.opts, policy.name.c_str());
  if (s == NATS_OK) s = natsOptions_SetTimeout(h.opts, policy.connect_timeout_ms);
  if (s == NATS_OK) s = natsOptions_SetAllowReconnect(h.opts, true);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(h.opts, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(h.opts, policy.reconnect_wait_ms);
  if (s == NATS_OK) s = natsOptions_SetReconnectJitter(h.opts, policy.reconnect_jitter_ms, policy.reconnect_jitter_ms);
  if (s == NATS_OK) s = natsOptions_SetPingInterval(h.opts, policy.ping_interval_ms);
  if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(h.opts, 2);
  if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(h.opts, on_disconnected, state.get());
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(h.opts, on_reconnected, state.get());
  if (s == NATS_OK) s = natsOptions_SetClosedCB(h.opts, on_closed, state.get());
  if (s == NATS_OK && !options.user.empty()) s = natsOptions_SetUserInfo(h.opts, options.user.c_str(), options.password.c_str());
  if (s == NATS_OK && !options.token.empty()) s = natsOptions_SetToken(h.opts, options.token.c_str());
  if (s == NATS_OK && !options.creds_file.empty()) {
    s = natsOptions_SetUserCredentialsFromFiles(h.opts, options.creds_file.c_str(), nullptr);
  }
  if (s != NATS_OK) return nats_error("client options for " + bus, s);

  natsConnection* nc = nullptr;
  s = natsConnection_Connect(&nc, h.opts);
  if (s != NATS_OK) {
    auto e = nats_error("connect to " + bus, s);
    if (s == NATS_CONNECTION_AUTH_FAILED || s == NATS_NOT_PERMITTED) e.transient = false;
    return e;
  }
  state->connected.store(true);

  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = policy.request_timeout_ms;
  jsCtx* js = nullptr;
  s = natsConnection_JetStream(&js, nc, &jo);
  if (s != NATS_OK) {
    auto e = nats_error("JetStream context on " + bus, s);
    natsConnection_Close(nc);
    natsConnection_Destroy(nc);
    return e;
  }
  char url[256] = {0};
  natsConnection_GetConnectedUrl(nc, url, sizeof url);
  log()->info("bus connected server={} bus={}", url, bus);
  return std::unique_ptr<BusConnection>(new BusConnection(nc, js, std::move(state), bus, policy));
}

BusConnection::BusConnection(natsConnection* nc, jsCtx* js, std::unique_ptr<State> state, std::string bus,
                             ConnectPolicy policy)
    : nc_(nc), js_(js), state_(std::move(state)), bus_(std::move(bus)), policy_(std::move(policy)) {}

BusConnection::~BusConnection() {
  jsCtx_Destroy(js_);
  state_->closing.store(true);
  natsConnection_Close(nc_);
  // The closed callback is the client's last use of state_: wait for it (it runs on
  // the client's callback thread right after the close) before freeing the state.
  {
    std::unique_lock lock(state_->mutex);
    state_->closed_cv.wait_for(lock, std::chrono::seconds(5), [&] { return state_->closed; });
  }
  natsConnection_Destroy(nc_);
}

BusHealth BusConnection::health() const {
  BusHealth h;
  h.connected = state_->connected.load();
  h.disconnected_since_ms = state_->disconnected_since_ms.load();
  h.disconnects = state_->disconnects.load();
  h.reconnects = state_->reconnects.load();
  return h;
}

}  // namespace af::nats
