#include "sinks/register_builtins.hpp"

#include "sinks/csv_append_sink.hpp"
#include "sinks/dynamodb_sink.hpp"

namespace af::sinks {

void register_builtins(SinkRegistry& registry) {
  register_csv_append(registry);
  register_dynamodb(registry);
}

}  // namespace af::sinks
