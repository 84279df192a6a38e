#pragma once
// The on-disk byte layout of Volley's records and keys.
//
// Values: little-endian fixed-width integers and u32-length-prefixed strings,
// in the field order of records.hpp. Keys sort the way reads walk them:
//   events         be64(seq)
//   deliveries     subscriber '\0' be64(event_seq)   (dlq uses the same scheme)
//   dedup_ids      the client's event id               -> i64 accept ms
//   dedup_by_time  be64(accept ms) id                  -> empty
//   subscriber_state  subscriber name                  -> disabled record
//   subscriber_definitions  subscriber name            -> API subscriber
// Big-endian numbers make byte order equal numeric order, so one subscriber's
// records are contiguous and in seq order, and remembered ids are walked
// oldest first for pruning.
//
// Decoding reads bytes that came from disk: every read is bounds-checked and
// a bad value comes back as a status, never as a crash or a partial record.

#include "storage/records.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace volley {

// Bumped whenever a layout below changes; lmdb_store refuses other versions.
// (The dedup, subscriber_state and subscriber_definitions databases were added later without a
// bump: they are created when missing, and older builds never open them.)
inline constexpr uint32_t record_format_version = 1;

// LMDB refuses keys over 511 bytes; a dedup_by_time key adds 8 to the id.
inline constexpr size_t max_remembered_id_size = 500;
// A subscriber_state key is the bare name; a delivery key adds 9 to it.
inline constexpr size_t max_subscriber_name_size = 500;

enum class decode_status {
  ok,
  truncated,      // the value ends before its last field
  trailing_bytes, // bytes left over after the last field
  bad_field,      // a field holds an impossible value (e.g. priority > 3)
};

const char* to_string(decode_status status);

// Subscriber names become key prefixes: they must be non-empty and hold no
// NUL byte, or one subscriber's keys could run into another's.
bool is_storable_subscriber(std::string_view name);

// --- keys -----------------------------------------------------------------
constexpr size_t seq_key_size = 8;

void encode_seq_key(uint64_t seq, char (&out)[seq_key_size]);
bool decode_seq_key(std::string_view in, uint64_t& seq);

// --- meta values (format version, last event seq) ---------------------------
std::string encode_meta_u32(uint32_t v);
std::string encode_meta_u64(uint64_t v);
bool decode_meta_u32(std::string_view in, uint32_t& v);
bool decode_meta_u64(std::string_view in, uint64_t& v);

// Replaces `out` with be64(accepted_ms) followed by `id`; accepted_ms must
// not be negative (check_batch refuses that).
void encode_id_time_key(int64_t accepted_ms, std::string_view id, std::string& out);
bool decode_id_time_key(std::string_view in, remembered_id& out);

// Replaces `out` with the key of `key`.
void encode_delivery_key(const delivery_key& key, std::string& out);
// Replaces `out` with `subscriber` '\0': the prefix every key of it starts with.
void encode_subscriber_prefix(std::string_view subscriber, std::string& out);
bool decode_delivery_key(std::string_view in, delivery_key& out);

// --- values ---------------------------------------------------------------
// Encoders replace the contents of `out`, so callers can reuse one buffer.

// [u32 refcount][id][type][i64 created_ms][body]; the seq lives in the key.
void encode_event(const event_record& event, uint32_t refcount, std::string& out);
// Sets `out.seq` to `seq` (taken from the key).
decode_status decode_event(std::string_view in, uint64_t seq, event_record& out, uint32_t& refcount);
// Only the refcount: what a writer needs to decide whether to delete an event.
decode_status decode_event_refcount(std::string_view in, uint32_t& refcount);
// Rewrites the refcount of an encoded event in place (`value` must have
// passed decode_event_refcount).
void set_event_refcount(std::string& value, uint32_t refcount);

// A remembered id's value: [i64 accepted_ms].
void encode_accept_time(int64_t accepted_ms, std::string& out);
bool decode_accept_time(std::string_view in, int64_t& accepted_ms);

// [u8 priority][u32 attempts][i64 next_attempt_ms][i64 created_ms]
void encode_delivery(const delivery_record& delivery, std::string& out);
// Sets `out.key` to `key` (taken from the key).
decode_status decode_delivery(std::string_view in, const delivery_key& key, delivery_record& out);

// [event_id][type][body][u8 priority][u32 attempts][i32 last_status]
// [last_error][i64 created_ms][i64 failed_ms]
void encode_dlq(const dlq_record& record, std::string& out);
decode_status decode_dlq(std::string_view in, const delivery_key& key, dlq_record& out);

// A disabled subscriber's value: [i64 since_ms][reason]. Sets
// `out.subscriber` to `subscriber` (taken from the key) and `out.disabled`.
void encode_subscriber_status(const subscriber_status& status, std::string& out);
decode_status decode_subscriber_status(std::string_view in, std::string_view subscriber,
                                       subscriber_status& out);

// An API subscriber's value: [i64 updated_ms][json]. Sets `out.name` to
// `name` (taken from the key).
void encode_subscriber_definition(const subscriber_definition& definition, std::string& out);
decode_status decode_subscriber_definition(std::string_view in, std::string_view name,
                                           subscriber_definition& out);

// --- the delivery log ----------------------------------------------------------
// Keys carry strings with a be16 length, so ids holding any byte (even NUL)
// keep their keys apart; numbers big-endian, so keys sort by time:
//   log_events    be16 len, event id                          -> [i64 created][type][body]
//   log_attempts  be16 len, event id, be16 len, subscriber,
//                 be64 at ms, be32 attempt                     -> [i32 status][f64 latency][u8 outcome][error]
//   log_by_time   be64 ms, 'e', be16 len, event id             -> (empty)   an event logged
//                 be64 ms, 'a', <the attempt's key after its id> -> (empty) an attempt
inline constexpr size_t max_logged_id_size = 256;
// Config names are at most 200 bytes; so a log key stays under LMDB's 511.
inline constexpr size_t max_logged_subscriber_size = 200;

void encode_log_event_key(std::string_view id, std::string& out);
void encode_logged_event(const logged_event& event, std::string& out);
decode_status decode_logged_event(std::string_view in, std::string_view id, logged_event& out);

void encode_log_attempt_key(const logged_attempt& attempt, std::string& out);
bool decode_log_attempt_key(std::string_view in, logged_attempt& out);
void encode_logged_attempt(const logged_attempt& attempt, std::string& out);
decode_status decode_logged_attempt(std::string_view in, logged_attempt& out);

// The log_by_time key of an event logged at `at_ms`, or of an attempt.
void encode_log_time_key(int64_t at_ms, std::string_view id, std::string& out);
void encode_log_time_key(const logged_attempt& attempt, std::string& out);
// What a log_by_time key names: an event (kind 'e', id) or an attempt
// (kind 'a', its fields from the key).
struct log_time_entry {
  int64_t at_ms = 0;
  char kind = 0;
  logged_attempt attempt; // kind 'a': event_id, subscriber, at_ms, attempt; kind 'e': event_id
};
bool decode_log_time_key(std::string_view in, log_time_entry& out);

// --- batches --------------------------------------------------------------
// Structural checks every backend applies before it writes anything, so all
// backends refuse the same batches: storable subscriber names, priorities in
// 0..3, each new event's deliveries naming that event and no subscriber twice,
// no seq twice, remembered ids non-empty, at most max_remembered_id_size
// bytes and not accepted before 1970, status changes naming a storable
// subscriber of at most max_subscriber_name_size bytes, and so do
// definitions. Returns an empty string when the batch is well formed,
// otherwise what is wrong with it.
std::string check_batch(const write_batch& batch);

} // namespace volley
