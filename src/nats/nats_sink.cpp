#include "nats/nats_sink.hpp"

#include "common/log.hpp"
#include "nats/prediction_message.hpp"
#include "nats/stream_admin.hpp"
#include "nats/subject.hpp"
#include "sinks/sink_descriptor.hpp"

namespace af::nats {

NatsSink::NatsSink(std::string name, std::string dag_name, NatsSinkConfig config, EnvLookup env)
    : name_(std::move(name)), dag_name_(std::move(dag_name)), config_(std::move(config)), env_(std::move(env)) {}

NatsSink::~NatsSink() = default;

Error NatsSink::error(const std::string& what, bool transient) const {
  const std::string bus = options_.servers.empty() ? std::string("?") : options_.redacted();
  return make_error(name_ + " (" + bus + ", stream " + config_.stream + "): " + what, transient);
}

Status NatsSink::open() {
  auto options = parse_bus_options(config_.url, env_, "url");
  if (!options) return make_error(name_ + ": " + options.error().message);
  options_ = std::move(*options);
  if (auto p = subject_prefix_problem(config_.subject_prefix); !p.empty()) return error("subject_prefix: " + p, false);
  if (auto p = subject_token_problem(dag_name_); !p.empty()) {
    return error("the pipeline's name '" + dag_name_ + "' " + p + ", so it cannot be a subject token", false);
  }
  Status st = connect();
  if (!st && st.error().transient) {
    logger("sinks")->warn("sink={} NATS not reachable at start-up, will retry: {}", name_, st.error().message);
    return {};
  }
  return st;
}

Status NatsSink::connect() {
  if (!bus_) {
    ConnectPolicy policy;
    policy.connect_timeout_ms = config_.timeout_ms;
    policy.request_timeout_ms = config_.timeout_ms;
    policy.name = "alpha_forge " + name_;
    auto c = BusConnection::connect(options_, policy);
    if (!c) return error(c.error().message, c.error().transient);
    bus_ = std::move(*c);
  }
  StreamSpec spec;
  spec.name = config_.stream;
  spec.subjects = {config_.subject_prefix + ".>"};
  spec.required_subjects = {config_.subject_prefix + "." + dag_name_ + ".*"};
  spec.replicas = config_.replicas;
  spec.duplicate_window_ms = config_.duplicate_window_ms;
  auto d = ensure_stream(*bus_, spec, config_.create_stream);
  if (!d) return error(d.error().message, d.error().transient);
  publisher_ = std::make_unique<Publisher>(*bus_, config_.stream);
  return {};
}

Status NatsSink::write(std::span<const PredictionRecord> batch) {
  if (options_.servers.empty()) return error("write before open", false);
  if (batch.empty()) return {};
  if (!publisher_) {
    if (Status st = connect(); !st) return st;
  }
  for (const auto& r : batch) {
    payload_.clear();
    append_prediction_json(payload_, r);
    auto ack = publisher_->publish(prediction_subject(config_.subject_prefix, r), prediction_msg_id(r), payload_);
    if (!ack) return make_error(name_ + ": " + ack.error().message, ack.error().transient);
    if (ack->duplicate) ++skipped_;
  }
  return {};
}

Status NatsSink::close() {
  publisher_.reset();
  bus_.reset();
  return {};
}

registry::Descriptor nats_sink_descriptor() {
  using registry::ParamSpec;
  using registry::ParamType;
  registry::Descriptor d = sinks::sink_descriptor();
  d.name = "sinks.nats";
  d.summary = "Publish predictions to a NATS JetStream stream (subscribe instead of polling; de-duplicated by id)";
  d.doc =
      "Each record is published as JSON (`dag_name, symbol, ts, prediction, frame, column, emitted_at, origin`) on "
      "the subject `<subject_prefix>.<dag_name>.<SYMBOL>` with the message id `<dag_name>#<SYMBOL>#<ts>` "
      "(header Nats-Msg-Id), and counts as delivered only once the server acked it. A record re-sent inside the "
      "stream's duplicate window (a retried batch, a spool replay, a restart) is acknowledged as a duplicate and "
      "stored once. url takes the `--bus` syntax: `nats://host:port[,nats://host:port...]`, credentials as "
      "`nats://user:password@...` or `nats://token@...`, or from AF_NATS_USER/AF_NATS_PASSWORD, AF_NATS_TOKEN, "
      "AF_NATS_CREDS (a .creds file); it is shown redacted. With create_stream the stream is created when absent "
      "(file storage, subjects `<subject_prefix>.>`, the given replicas and duplicate window); an existing stream "
      "must take `<subject_prefix>.<dag_name>.*`. A bus that is down at start-up is retried (the records spool); "
      "a bad url, refused credentials, a missing stream without create_stream or one whose subjects do not fit "
      "stop the sink at start-up. See docs/scale-out.md.";
  ParamSpec url{"url", ParamType::kString, false, std::string("nats://127.0.0.1:4222"), {}, {}, {},
                "the NATS servers, comma-separated (may carry credentials: shown redacted)"};
  url.secret = true;
  d.params.push_back(std::move(url));
  d.params.push_back(ParamSpec{"stream", ParamType::kString, false, std::string("AF_PREDICTIONS"), {}, {}, {},
                               "the JetStream stream"});
  d.params.push_back(ParamSpec{"subject_prefix", ParamType::kString, false, std::string("af.predictions"), {}, {}, {},
                               "subjects are <subject_prefix>.<dag_name>.<SYMBOL>"});
  d.params.push_back(ParamSpec{"create_stream", ParamType::kBool, false, false, {}, {}, {},
                               "create the stream if it does not exist"});
  d.params.push_back(ParamSpec{"replicas", ParamType::kInt, false, int64_t{1}, 1.0, 5.0, {},
                               "replicas of a stream this sink creates (3 on a 3-node cluster)"});
  d.params.push_back(ParamSpec{"duplicate_window_s", ParamType::kInt, false, int64_t{86'400}, 1.0, 604'800.0, {},
                               "duplicate window of a stream this sink creates, seconds: must outlast the longest "
                               "outage whose spooled records are re-sent"});
  d.params.push_back(ParamSpec{"timeout_ms", ParamType::kInt, false, int64_t{5000}, 100.0, 600'000.0, {},
                               "connect timeout, and how long to wait for each ack"});
  d.check = [](const registry::Params& p) {
    std::vector<std::string> problems;
    if (p.has("url")) {
      auto o = parse_bus_options(p.get_string("url"), [](const char*) { return std::optional<std::string>(); }, "url");
      if (!o) problems.push_back(o.error().message);
    }
    if (p.has("subject_prefix")) {
      if (auto s = subject_prefix_problem(p.get_string("subject_prefix")); !s.empty()) {
        problems.push_back("subject_prefix: " + s);
      }
    }
    if (p.has("stream")) {
      if (auto s = subject_token_problem(p.get_string("stream")); !s.empty()) {
        problems.push_back("stream: '" + p.get_string("stream") + "' " + s);
      }
    }
    return problems;
  };
  return d;
}

void register_nats_sink(SinkRegistry& registry) {
  registry.add(nats_sink_descriptor(), [](const SinkContext& ctx) -> Result<std::unique_ptr<Sink>> {
    NatsSinkConfig c;
    const auto& p = ctx.params;
    if (p.has("url")) c.url = p.get_string("url");
    if (p.has("stream")) c.stream = p.get_string("stream");
    if (p.has("subject_prefix")) c.subject_prefix = p.get_string("subject_prefix");
    if (p.has("create_stream")) c.create_stream = p.get_bool("create_stream");
    if (p.has("replicas")) c.replicas = static_cast<int>(p.get_int("replicas"));
    if (p.has("duplicate_window_s")) c.duplicate_window_ms = p.get_int("duplicate_window_s") * 1000;
    if (p.has("timeout_ms")) c.timeout_ms = p.get_int("timeout_ms");
    return std::unique_ptr<Sink>(std::make_unique<NatsSink>(ctx.name, ctx.dag_name, std::move(c)));
  });
}

}  // namespace af::nats
