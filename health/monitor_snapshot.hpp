#pragma once
// The monitor's windows as JSON text and back, so statistics outlast a
// restart: the node, each subscriber and each event type with their hour
// and day windows and totals, and the recent failures. The minute and log
// windows are left out: they would be stale by the time a node is back.

#include "health/delivery_counts.hpp"
#include "health/rolling_window.hpp"
#include "health/subscriber_report.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>

namespace volley {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_counts(json_writer& w, const delivery_counts& c);
// False when `v` is not what write_counts wrote.
bool read_counts(const rapidjson::Value& v, delivery_counts& out);

void write_window(json_writer& w, const rolling_window& window);
// Puts the slots back into `window` (slots of another width are skipped).
bool read_window(const rapidjson::Value& v, rolling_window& window);

void write_failure(json_writer& w, const failure_record& f);
bool read_failure(const rapidjson::Value& v, failure_record& out);

} // namespace volley
