#pragma once
// Which kind of client a librdkafka property applies to, read from the
// library's own property table, so a consumer-only pass-through property is
// not handed to the producers (librdkafka would log a warning per client).

#include <string>

namespace volley {

enum class kafka_property_scope { any, consumer, producer };

// Unknown names answer `any`: setting them is how they get refused.
kafka_property_scope scope_of_kafka_property(const std::string& name);

} // namespace volley
