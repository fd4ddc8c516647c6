#include "nats/nats_error.hpp"

namespace af::nats {

bool nats_status_transient(natsStatus status, jsErrCode js_code) {
  // No responder on a subject: a stream whose leader is being elected (a node of
  // the cluster just died) has none for a moment. The client reports it on the
  // JetStream API as "JetStream not enabled" (10076), which a server without
  // JetStream gives too: retried, and the error text says which it is.
  if (status == NATS_NO_RESPONDERS || js_code == JSNotEnabledErr) return true;
  if (static_cast<int>(js_code) != 0) {
    switch (js_code) {
    case JSClusterNotAvailErr:
    case JSClusterNotLeaderErr:
    case JSClusterIncompleteErr:
    case JSClusterNoPeersErr:  // a replica set waiting for a node to come back
    case JSRaftGeneralErr:
    case JSStreamStoreFailedErr:
    case JSInsufficientResourcesErr:
      return true;
    default:
      return false;  // a request the server refuses: the same request is refused again
    }
  }
  switch (status) {
    case NATS_IO_ERROR:
    case NATS_CONNECTION_CLOSED:
    case NATS_NO_SERVER:
    case NATS_STALE_CONNECTION:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_TIMEOUT:
    case NATS_NOT_YET_CONNECTED:
    case NATS_SLOW_CONSUMER:
    case NATS_DRAINING:
    case NATS_MISSED_HEARTBEAT:
      return true;
    default:
      return false;
  }
}

Error nats_error(std::string_view what, natsStatus status, jsErrCode js_code) {
  std::string message = "NATS: " + std::string(what) + ": " + natsStatus_GetText(status);
  if (js_code != 0) message += " (JetStream error " + std::to_string(static_cast<int>(js_code)) + ")";
  // The client's last error carries the server's own text ("stream name already in use",
  // "authorization violation"); it never holds credentials because the servers are
  // given to the client without them (bus_options.hpp).
  const char* last = nats_GetLastError(nullptr);
  std::string_view detail = last != nullptr ? last : "";
  // The client prefixes its own source position, "(conn.c:2088): ": not the user's concern.
  if (!detail.empty() && detail.front() == '(') {
    const size_t end = detail.find("): ");
    if (end != std::string_view::npos) detail.remove_prefix(end + 3);
  }
  if (!detail.empty() && message.find(detail) == std::string::npos) {
    message += ": ";
    message += detail;
  }
  for (char& c : message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  // A pull request the server ends with a 409 status about itself (it is shutting
  // down, or the consumer's leader moved): the client gives NATS_ERR with the
  // server's text; the next request, to the restarted server or the new leader,
  // works. Found by the bus fault tests (cluster_fault_test, bus_health_test): a
  // shard's fetch failed for good, and the shard exited, when its server stopped.
  const bool server_state = detail.find("Server Shutdown") != std::string_view::npos ||
                            detail.find("Leadership Change") != std::string_view::npos;
  return make_error(std::move(message), server_state || nats_status_transient(status, js_code));
}

}  // namespace af::nats
