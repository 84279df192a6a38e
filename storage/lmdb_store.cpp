#include "storage/lmdb_store.hpp"

#include "logging/logger.hpp"
#include "storage/record_codec.hpp"

#include <lmdb.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace volley {

namespace {

constexpr unsigned max_dbs = 16; // 8 in use; not stored, so raising it later costs nothing
constexpr const char* lock_file_name = "volley.lock";
constexpr std::string_view meta_last_event_seq = "last_event_seq";
constexpr std::string_view meta_format_version = "format_version";
constexpr std::string_view meta_log_bytes = "log_bytes";
constexpr std::string_view meta_monitor_snapshot = "monitor_snapshot";
constexpr std::string_view empty_value{"", 0}; // not a null pointer: LMDB copies from it
// Corrupt entries are reported on stderr, but only the first few: reads that
// page over the same broken entry again must not flood the log.
constexpr uint64_t max_corrupt_reports = 10;

MDB_val to_val(std::string_view s) { return {s.size(), const_cast<char*>(s.data())}; }

MDB_val to_val(const char (&key)[seq_key_size]) { return {seq_key_size, const_cast<char*>(key)}; }

std::string_view to_view(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// Closes a cursor on every path out of a scope.
class cursor_guard {
public:
  cursor_guard() = default;
  cursor_guard(const cursor_guard&) = delete;
  cursor_guard& operator=(const cursor_guard&) = delete;
  ~cursor_guard() {
    if (cursor_)
      mdb_cursor_close(cursor_);
  }
  MDB_cursor** out() { return &cursor_; }
  MDB_cursor* get() const { return cursor_; }

private:
  MDB_cursor* cursor_ = nullptr;
};

// Aborts a write transaction on every path out of commit that did not commit
// it, exceptions included: a dangling write transaction would hold LMDB's
// writer lock for ever.
class write_txn_guard {
public:
  write_txn_guard() = default;
  write_txn_guard(const write_txn_guard&) = delete;
  write_txn_guard& operator=(const write_txn_guard&) = delete;
  ~write_txn_guard() {
    if (txn_)
      mdb_txn_abort(txn_);
  }
  MDB_txn** out() { return &txn_; }
  MDB_txn* get() const { return txn_; }
  int commit() {
    int rc = mdb_txn_commit(txn_); // frees the transaction whatever it returns
    txn_ = nullptr;
    return rc;
  }

private:
  MDB_txn* txn_ = nullptr;
};

// Keys of corrupt entries go into a log line: NUL and control bytes as '?'.
std::string printable(std::string_view raw) {
  std::string s(raw);
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      c = '?';
  return s;
}

// Raised inside commit for conditions that are not LMDB errors but must
// abort the transaction all the same (a seq stored twice).
struct batch_refused {
  std::string what;
};

// Finds this process's mapping of `file` in /proc/self/maps (by device and
// inode, so the path's spelling does not matter).
void find_map(const std::string& file, void*& addr, size_t& length) {
  struct stat st;
  if (::stat(file.c_str(), &st) != 0)
    return;
  std::ifstream maps{"/proc/self/maps"};
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long long start = 0, end = 0, offset = 0, inode = 0;
    unsigned major = 0, minor = 0;
    char perms[8] = {0};
    if (std::sscanf(line.c_str(), "%llx-%llx %7s %llx %x:%x %llu", &start, &end, perms, &offset, &major,
                    &minor, &inode) != 7)
      continue;
    if (inode == st.st_ino && makedev(major, minor) == st.st_dev && offset == 0) {
      addr = reinterpret_cast<void*>(start);
      length = static_cast<size_t>(end - start);
      return;
    }
  }
}

} // namespace

struct lmdb_store::impl {
  std::string path;
  uint64_t map_size_mb = 0;
  MDB_env* env = nullptr;
  MDB_dbi events = 0;
  MDB_dbi deliveries = 0;
  MDB_dbi dlq = 0;
  MDB_dbi meta = 0;
  MDB_dbi dedup_ids = 0;              // client id -> accept ms
  MDB_dbi dedup_by_time = 0;          // (accept ms, client id), oldest first, for pruning
  MDB_dbi subscriber_state = 0;       // subscriber name -> disabled record (absent: enabled)
  MDB_dbi subscriber_definitions = 0; // subscriber name -> an API subscriber's definition
  MDB_dbi log_events = 0;             // the delivery log (record_codec.hpp): event id -> event
  MDB_dbi log_attempts = 0;           // (event id, subscriber, time, attempt) -> attempt
  MDB_dbi log_by_time = 0;            // (time, what) -> empty: pruning oldest first, listing newest first
  uint64_t log_bytes = 0;             // bytes the delivery log holds, as the meta says (committed)
  uint64_t txn_log_bytes = 0;         // ... as the transaction being written says
  int lock_fd = -1;
  // Where LMDB mapped data.mdb (mdb_env_info only knows it with
  // MDB_FIXEDMAP); nullptr when it could not be found.
  void* map_addr = nullptr;
  size_t map_length = 0;
  uint64_t last_seq = 0;
  std::atomic<uint64_t> corrupt_seen{0};

  // Where a commit records its changes; nullptr while it does not.
  std::vector<mirrored_change>* mirror = nullptr;
  bool mirroring = false;

  // Reused by every commit so a batch does not allocate per record.
  std::string key_buf;
  std::string value_buf;
  std::vector<uint64_t> released; // event seqs whose refcount drops

  ~impl() {
    if (env)
      mdb_env_close(env);
    if (lock_fd >= 0)
      ::close(lock_fd); // releases the flock
  }

  // --- reads ---------------------------------------------------------------
  // A read transaction for the current scope, of its own: reads may run on
  // any thread (the operator's queries run beside the commits; LMDB readers
  // never block the writer). Failures throw inside the store and come out
  // of the public methods as a failed read_result.
  class read_scope {
  public:
    explicit read_scope(impl& self) {
      if (int rc = mdb_txn_begin(self.env, nullptr, MDB_RDONLY, &txn_); rc != 0)
        self.throw_read_error("start a read transaction", rc);
    }
    read_scope(const read_scope&) = delete;
    read_scope& operator=(const read_scope&) = delete;
    ~read_scope() { mdb_txn_abort(txn_); }
    MDB_txn* txn() const { return txn_; }

  private:
    MDB_txn* txn_ = nullptr;
  };

  // Runs a read, turning its failure into a failed result.
  template <class F>
  auto guarded(F&& f) -> read_result<decltype(f())> {
    try {
      return f();
    } catch (const std::runtime_error& e) {
      return read_result<decltype(f())>::failure(e.what());
    }
  }

  [[noreturn]] void throw_read_error(const char* what, int rc) const {
    throw std::runtime_error("storage read failed in '" + path + "': cannot " + what + ": " +
                             mdb_strerror(rc) +
                             "; the data directory may be damaged, check the disk and restart");
  }

  // Entries in one database, from its statistics (no walk).
  size_t count_entries(MDB_dbi dbi, const char* what) {
    read_scope scope(*this);
    MDB_stat stat;
    if (int rc = mdb_stat(scope.txn(), dbi, &stat); rc != 0)
      throw_read_error(what, rc);
    return stat.ms_entries;
  }

  void open_cursor(MDB_txn* txn, MDB_dbi dbi, cursor_guard& cursor) const {
    if (int rc = mdb_cursor_open(txn, dbi, cursor.out()); rc != 0)
      throw_read_error("open a cursor", rc);
  }

  // MDB_NOTFOUND ends a walk; anything else is a real failure.
  bool cursor_step(MDB_cursor* cursor, MDB_val& key, MDB_val& value, MDB_cursor_op op) const {
    int rc = mdb_cursor_get(cursor, &key, &value, op);
    if (rc == MDB_NOTFOUND)
      return false;
    if (rc != 0)
      throw_read_error("walk the database", rc);
    return true;
  }

  // Hands `visit(key, value)` the records of `dbi` in key order, from the
  // first key at or after `from` (the first of all when it is empty), until
  // it returns false or the database ends.
  template <class Visit>
  void walk(MDB_txn* txn, MDB_dbi dbi, std::string_view from, Visit&& visit) const {
    cursor_guard cursor;
    open_cursor(txn, dbi, cursor);
    MDB_val key = to_val(from), value;
    for (bool found = cursor_step(cursor.get(), key, value, from.empty() ? MDB_FIRST : MDB_SET_RANGE);
         found && visit(to_view(key), to_view(value));
         found = cursor_step(cursor.get(), key, value, MDB_NEXT)) {
    }
  }

  void report_corrupt(std::string_view what, std::string_view key_text, const char* why) {
    if (++corrupt_seen > max_corrupt_reports)
      return;
    // Through the log, so the json format keeps one JSON object per line.
    log_warn("storage '" + path + "': skipping " + std::string{what} + " " + std::string{key_text} + ": " +
             why + "; the entry stays on disk untouched" +
             (corrupt_seen == max_corrupt_reports ? " (further corrupt entries are not reported)" : ""));
  }

  // --- writes --------------------------------------------------------------
  // Each helper returns an LMDB code; the caller aborts on anything but 0.
  // With mirroring on, every change a transaction makes is also recorded
  // (database tag + key, value or deletion), so another store can replay it.
  int put(MDB_txn* txn, MDB_dbi dbi, MDB_val key, std::string_view value, unsigned flags) {
    MDB_val v = to_val(value);
    int rc = mdb_put(txn, dbi, &key, &v, flags);
    if (rc == 0)
      mirror_put(dbi, to_view(key), value);
    return rc;
  }

  // Deletes `key`; MDB_NOTFOUND when it was not there (nothing recorded).
  int del(MDB_txn* txn, MDB_dbi dbi, MDB_val key) {
    // The key may point into the page freed below: the mirror gets a copy.
    std::string text;
    if (mirror != nullptr)
      text = to_view(key);
    int rc = mdb_del(txn, dbi, &key, nullptr);
    if (rc == 0)
      mirror_del(dbi, text);
    return rc;
  }

  // Deletes the entry under `cursor`, whose key is `key`.
  int cursor_del(MDB_cursor* cursor, MDB_dbi dbi, std::string_view key) {
    std::string text;
    if (mirror != nullptr)
      text = key;
    int rc = mdb_cursor_del(cursor, 0);
    if (rc == 0)
      mirror_del(dbi, text);
    return rc;
  }

  int cursor_replace(MDB_cursor* cursor, MDB_dbi dbi, MDB_val key, std::string_view value) {
    MDB_val v = to_val(value);
    int rc = mdb_cursor_put(cursor, &key, &v, MDB_CURRENT);
    if (rc == 0)
      mirror_put(dbi, to_view(key), value);
    return rc;
  }

  char tag_of(MDB_dbi dbi) const {
    if (dbi == events)
      return 'e';
    if (dbi == deliveries)
      return 'd';
    if (dbi == dlq)
      return 'q';
    if (dbi == meta)
      return 'm';
    if (dbi == dedup_ids)
      return 'i';
    if (dbi == dedup_by_time)
      return 't';
    if (dbi == subscriber_definitions)
      return 'r';
    if (dbi == log_events)
      return 'l';
    if (dbi == log_attempts)
      return 'a';
    if (dbi == log_by_time)
      return 'b';
    return 's'; // subscriber_state
  }

  std::optional<MDB_dbi> dbi_of(char tag) const {
    switch (tag) {
      case 'e':
        return events;
      case 'd':
        return deliveries;
      case 'q':
        return dlq;
      case 'm':
        return meta;
      case 'i':
        return dedup_ids;
      case 't':
        return dedup_by_time;
      case 's':
        return subscriber_state;
      case 'r':
        return subscriber_definitions;
      case 'l':
        return log_events;
      case 'a':
        return log_attempts;
      case 'b':
        return log_by_time;
    }
    return std::nullopt;
  }

  void mirror_put(MDB_dbi dbi, std::string_view key, std::string_view value) {
    if (mirror == nullptr)
      return;
    mirrored_change c;
    c.key.reserve(key.size() + 1);
    c.key.push_back(tag_of(dbi));
    c.key.append(key.data(), key.size());
    c.value = std::string{value};
    mirror->push_back(std::move(c));
  }

  void mirror_del(MDB_dbi dbi, std::string_view key) {
    if (mirror == nullptr)
      return;
    mirrored_change c;
    c.key.reserve(key.size() + 1);
    c.key.push_back(tag_of(dbi));
    c.key.append(key.data(), key.size());
    mirror->push_back(std::move(c));
  }

  int apply(MDB_txn* txn, const write_batch& batch, write_result& result, const char*& stage) {
    int rc = 0;
    char seq_key[seq_key_size];

    stage = "storing new events";
    uint64_t new_last = last_seq;
    for (const auto& ev : batch.events) {
      new_last = std::max(new_last, ev.event.seq);
      if (ev.deliveries.empty())
        continue; // nobody to deliver to: only the seq advances
      encode_seq_key(ev.event.seq, seq_key);
      encode_event(ev.event, static_cast<uint32_t>(ev.deliveries.size()), value_buf);
      rc = put(txn, events, to_val(seq_key), value_buf, MDB_NOOVERWRITE);
      if (rc == MDB_KEYEXIST)
        throw batch_refused{"event seq " + std::to_string(ev.event.seq) +
                            " is already stored although it is above last_event_seq: the data "
                            "directory is inconsistent, restore it from a backup"};
      if (rc != 0)
        return rc;
      for (const auto& d : ev.deliveries) {
        encode_delivery_key(d.key, key_buf);
        encode_delivery(d, value_buf);
        rc = put(txn, deliveries, to_val(key_buf), value_buf, MDB_NOOVERWRITE);
        if (rc == MDB_KEYEXIST)
          throw batch_refused{"delivery '" + d.key.subscriber + "'/" + std::to_string(d.key.event_seq) +
                              " is already stored although its event is new: the data "
                              "directory is inconsistent, restore it from a backup"};
        if (rc != 0)
          return rc;
      }
    }
    if (new_last != last_seq) {
      if ((rc = put(txn, meta, to_val(meta_last_event_seq), encode_meta_u64(new_last), 0)) != 0)
        return rc;
    }

    cursor_guard cursor;
    if ((rc = mdb_cursor_open(txn, deliveries, cursor.out())) != 0)
      return rc;
    MDB_val key, value;

    stage = "updating deliveries";
    for (const auto& d : batch.updates) {
      encode_delivery_key(d.key, key_buf);
      key = to_val(key_buf);
      rc = mdb_cursor_get(cursor.get(), &key, &value, MDB_SET);
      if (rc == MDB_NOTFOUND)
        continue; // finished meanwhile
      if (rc != 0)
        return rc;
      encode_delivery(d, value_buf);
      if ((rc = cursor_replace(cursor.get(), deliveries, key, value_buf)) != 0)
        return rc;
    }

    // Refcounts drop once per event after both removal steps, so an event
    // with several deliveries finishing in one batch is rewritten once.
    released.clear();

    stage = "removing finished deliveries";
    for (const auto& k : batch.finished) {
      encode_delivery_key(k, key_buf);
      key = to_val(key_buf);
      rc = mdb_cursor_get(cursor.get(), &key, &value, MDB_SET);
      if (rc == MDB_NOTFOUND)
        continue; // already finished
      if (rc != 0 || (rc = cursor_del(cursor.get(), deliveries, key_buf)) != 0)
        return rc;
      released.push_back(k.event_seq);
    }

    stage = "moving deliveries to the dead-letter queue";
    for (const auto& r : batch.dead_lettered) {
      encode_delivery_key(r.key, key_buf);
      key = to_val(key_buf);
      rc = mdb_cursor_get(cursor.get(), &key, &value, MDB_SET);
      if (rc == MDB_NOTFOUND)
        continue; // finished or dead-lettered already
      if (rc != 0 || (rc = cursor_del(cursor.get(), deliveries, key_buf)) != 0)
        return rc;
      released.push_back(r.key.event_seq);
      if (r.event_id.empty() || r.type.empty() || r.body.empty()) {
        // The DLQ copy must be able to re-create the event on requeue.
        dlq_record filled = r;
        if ((rc = fill_from_event(txn, filled)) != 0)
          return rc;
        encode_dlq(filled, value_buf);
      } else {
        encode_dlq(r, value_buf);
      }
      if ((rc = put(txn, dlq, to_val(key_buf), value_buf, 0)) != 0)
        return rc;
    }

    stage = "releasing events";
    if ((rc = release_events(txn)) != 0)
      return rc;

    stage = "deleting dead-letter entries";
    for (const auto& k : batch.dlq_deleted) {
      encode_delivery_key(k, key_buf);
      key = to_val(key_buf);
      rc = del(txn, dlq, key);
      if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
      result.dlq_removed += rc == 0 ? 1 : 0;
    }

    stage = "requeueing dead-letter entries";
    for (const auto& k : batch.dlq_requeued)
      if ((rc = requeue(txn, k, result)) != 0)
        return rc;

    stage = "recording subscriber status changes";
    for (const auto& c : batch.status_changes) {
      MDB_val name = to_val(c.subscriber);
      if (c.disabled) {
        encode_subscriber_status(c, value_buf);
        rc = put(txn, subscriber_state, name, value_buf, 0);
      } else if ((rc = del(txn, subscriber_state, name)) == MDB_NOTFOUND) {
        rc = 0; // enabled already
      }
      if (rc != 0)
        return rc;
    }

    stage = "storing subscriber definitions";
    for (const auto& d : batch.definitions) {
      MDB_val name = to_val(d.name);
      if (!d.deleted) {
        encode_subscriber_definition(d, value_buf);
        rc = put(txn, subscriber_definitions, name, value_buf, 0);
      } else if ((rc = del(txn, subscriber_definitions, name)) == MDB_NOTFOUND) {
        rc = 0; // deleted already
      }
      if (rc != 0)
        return rc;
    }

    stage = "remembering client ids";
    for (const auto& r : batch.remembered)
      if ((rc = remember_id(txn, r)) != 0)
        return rc;

    // After remembering, so the cap counts this batch's ids too.
    stage = "pruning remembered client ids";
    if ((rc = prune_ids(txn, batch.pruning)) != 0)
      return rc;

    if (batch.monitor_snapshot) {
      stage = "storing the monitor's statistics";
      if ((rc = put(txn, meta, to_val(meta_monitor_snapshot), *batch.monitor_snapshot, 0)) != 0)
        return rc;
    }

    stage = "writing the delivery log";
    txn_log_bytes = log_bytes;
    for (const auto& e : batch.logged_events)
      if ((rc = log_event(txn, e)) != 0)
        return rc;
    for (const auto& a : batch.logged_attempts)
      if ((rc = log_attempt(txn, a)) != 0)
        return rc;
    stage = "pruning the delivery log";
    if ((rc = prune_log(txn, batch.log_prune)) != 0)
      return rc;
    if (txn_log_bytes != log_bytes)
      return put(txn, meta, to_val(meta_log_bytes), encode_meta_u64(txn_log_bytes), 0);
    return 0;
  }

  // --- the delivery log ---------------------------------------------------------
  // Every entry's key and value count against log.max_mb.
  void count_in(size_t n) { txn_log_bytes += n; }
  void count_out(size_t n) { txn_log_bytes -= std::min<uint64_t>(txn_log_bytes, n); }

  int log_event(MDB_txn* txn, const logged_event& e) {
    encode_log_event_key(e.id, key_buf);
    encode_logged_event(e, value_buf);
    // Almost every id is new: one descent of the tree for those.
    MDB_val key = to_val(key_buf), value = to_val(value_buf);
    int rc = mdb_put(txn, log_events, &key, &value, MDB_NOOVERWRITE);
    if (rc == 0) {
      mirror_put(log_events, key_buf, value_buf);
    } else if (rc == MDB_KEYEXIST) { // `value` is the entry there now
      // The id was used again (after the dedup window): the newest wins.
      logged_event old;
      if (decode_logged_event(to_view(value), e.id, old) == decode_status::ok) {
        std::string time_key;
        encode_log_time_key(old.created_ms, e.id, time_key);
        if ((rc = del(txn, log_by_time, to_val(time_key))) != 0 && rc != MDB_NOTFOUND)
          return rc;
        count_out(time_key.size());
      }
      count_out(key_buf.size() + value.mv_size);
      if ((rc = put(txn, log_events, to_val(key_buf), value_buf, 0)) != 0)
        return rc;
    } else {
      return rc;
    }
    count_in(key_buf.size() + value_buf.size());
    encode_log_time_key(e.created_ms, e.id, key_buf);
    count_in(key_buf.size());
    return put(txn, log_by_time, to_val(key_buf), empty_value, 0);
  }

  int log_attempt(MDB_txn* txn, const logged_attempt& a) {
    encode_log_attempt_key(a, key_buf);
    encode_logged_attempt(a, value_buf);
    int rc = put(txn, log_attempts, to_val(key_buf), value_buf, 0);
    if (rc != 0)
      return rc;
    count_in(key_buf.size() + value_buf.size());
    encode_log_time_key(a, key_buf);
    count_in(key_buf.size());
    return put(txn, log_by_time, to_val(key_buf), empty_value, 0);
  }

  // Deletes one attempt entry and its time key.
  int forget_attempt(MDB_txn* txn, const logged_attempt& a) {
    encode_log_attempt_key(a, key_buf);
    MDB_val key = to_val(key_buf), value;
    int rc = mdb_get(txn, log_attempts, &key, &value);
    if (rc == MDB_NOTFOUND)
      return 0;
    if (rc != 0)
      return rc;
    count_out(key_buf.size() + value.mv_size);
    if ((rc = del(txn, log_attempts, key)) != 0)
      return rc;
    encode_log_time_key(a, key_buf);
    rc = del(txn, log_by_time, to_val(key_buf));
    count_out(key_buf.size());
    return rc == MDB_NOTFOUND ? 0 : rc;
  }

  // Deletes an event's entry and every attempt of it.
  int forget_logged_event(MDB_txn* txn, const std::string& id) {
    encode_log_event_key(id, key_buf);
    std::string prefix = key_buf;
    MDB_val key = to_val(key_buf), value;
    int rc = mdb_get(txn, log_events, &key, &value);
    if (rc == 0) {
      logged_event old;
      if (decode_logged_event(to_view(value), id, old) == decode_status::ok) {
        std::string time_key;
        encode_log_time_key(old.created_ms, id, time_key);
        if ((rc = del(txn, log_by_time, to_val(time_key))) != 0 && rc != MDB_NOTFOUND)
          return rc;
        count_out(time_key.size());
      }
      count_out(prefix.size() + value.mv_size);
      if ((rc = del(txn, log_events, to_val(prefix))) != 0)
        return rc;
    } else if (rc != MDB_NOTFOUND) {
      return rc;
    }
    // Its attempts: collected first, then deleted (a cursor walk and deletes
    // in other databases do not mix well).
    std::vector<logged_attempt> attempts;
    {
      cursor_guard cursor;
      if ((rc = mdb_cursor_open(txn, log_attempts, cursor.out())) != 0)
        return rc;
      MDB_val k = to_val(prefix), v;
      for (rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_SET_RANGE); rc == 0;
           rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_NEXT)) {
        if (!starts_with(to_view(k), prefix))
          break;
        logged_attempt a;
        if (decode_log_attempt_key(to_view(k), a) && a.event_id == id)
          attempts.push_back(std::move(a));
      }
      if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    }
    for (const auto& a : attempts)
      if ((rc = forget_attempt(txn, a)) != 0)
        return rc;
    return 0;
  }

  // Oldest first: events (with their attempts) accepted before the
  // retention, then more while the log is over its byte budget.
  int prune_log(MDB_txn* txn, const log_pruning& p) {
    if (p.max_deletions == 0)
      return 0;
    for (size_t deleted = 0; deleted < p.max_deletions; ++deleted) {
      log_time_entry oldest;
      {
        cursor_guard cursor;
        int rc = mdb_cursor_open(txn, log_by_time, cursor.out());
        if (rc != 0)
          return rc;
        MDB_val key, value;
        rc = mdb_cursor_get(cursor.get(), &key, &value, MDB_FIRST);
        if (rc == MDB_NOTFOUND)
          return 0;
        if (rc != 0)
          return rc;
        if (!decode_log_time_key(to_view(key), oldest)) {
          report_corrupt("delivery log time key", printable(to_view(key)), "malformed key");
          count_out(key.mv_size);
          if ((rc = cursor_del(cursor.get(), log_by_time, to_view(key))) != 0)
            return rc;
          continue;
        }
      }
      if (oldest.at_ms >= p.before_ms && txn_log_bytes <= p.max_bytes)
        return 0;
      int rc = oldest.kind == 'e' ? forget_logged_event(txn, oldest.attempt.event_id)
                                  : forget_attempt(txn, oldest.attempt);
      if (rc != 0)
        return rc;
    }
    return 0;
  }

  int remember_id(MDB_txn* txn, const remembered_id& r) {
    MDB_val key = to_val(r.id), value;
    int rc = mdb_get(txn, dedup_ids, &key, &value);
    if (rc == 0) {
      // Still stored from an earlier acceptance (expired, not yet pruned):
      // its old time key goes, or pruning would later take the new one.
      int64_t old_ms = 0;
      if (decode_accept_time(to_view(value), old_ms) && old_ms >= 0) {
        encode_id_time_key(old_ms, r.id, key_buf);
        MDB_val old_key = to_val(key_buf);
        rc = del(txn, dedup_by_time, old_key);
        if (rc != 0 && rc != MDB_NOTFOUND)
          return rc;
      }
    } else if (rc != MDB_NOTFOUND) {
      return rc;
    }
    encode_accept_time(r.accepted_ms, value_buf);
    if ((rc = put(txn, dedup_ids, key, value_buf, 0)) != 0)
      return rc;
    encode_id_time_key(r.accepted_ms, r.id, key_buf);
    return put(txn, dedup_by_time, to_val(key_buf), empty_value, 0);
  }

  // Deletes from the oldest end of dedup_by_time, each with its dedup_ids
  // entry, while the rule of `p` says so and its deletion budget lasts.
  int prune_ids(MDB_txn* txn, const id_pruning& p) {
    if (p.max_deletions == 0)
      return 0;
    MDB_stat stat;
    int rc = mdb_stat(txn, dedup_by_time, &stat);
    if (rc != 0)
      return rc;
    uint64_t remaining = stat.ms_entries;
    cursor_guard cursor;
    if ((rc = mdb_cursor_open(txn, dedup_by_time, cursor.out())) != 0)
      return rc;
    remembered_id oldest;
    for (size_t deleted = 0; deleted < p.max_deletions; ++deleted) {
      MDB_val key, value;
      rc = mdb_cursor_get(cursor.get(), &key, &value, MDB_FIRST);
      if (rc == MDB_NOTFOUND)
        return 0;
      if (rc != 0)
        return rc;
      if (decode_id_time_key(to_view(key), oldest)) {
        if (oldest.accepted_ms >= p.before_ms && remaining <= p.keep_at_most)
          return 0;
        if ((rc = forget_id(txn, oldest)) != 0)
          return rc;
      } else {
        // It could never match an id; dropping it costs nothing.
        report_corrupt("remembered id time key", printable(to_view(key)), "malformed key");
      }
      if ((rc = cursor_del(cursor.get(), dedup_by_time, to_view(key))) != 0)
        return rc;
      --remaining;
    }
    return 0;
  }

  // Deletes the dedup_ids entry of `r` unless it was remembered again later.
  int forget_id(MDB_txn* txn, const remembered_id& r) {
    MDB_val key = to_val(r.id), value;
    int rc = mdb_get(txn, dedup_ids, &key, &value);
    if (rc == MDB_NOTFOUND)
      return 0;
    if (rc != 0)
      return rc;
    int64_t stored_ms = 0;
    if (decode_accept_time(to_view(value), stored_ms) && stored_ms != r.accepted_ms)
      return 0;
    return del(txn, dedup_ids, key);
  }

  // One write transaction for the whole batch; 0 once it is synced.
  int write(const write_batch& batch, write_result& result, const char*& stage) {
    result.changes.clear();
    mirror = mirroring ? &result.changes : nullptr;
    struct stop_mirroring {
      impl& self;
      ~stop_mirroring() { self.mirror = nullptr; }
    } stop{*this};
    write_txn_guard txn;
    stage = "starting the transaction";
    int rc = mdb_txn_begin(env, nullptr, 0, txn.out());
    if (rc == 0)
      rc = apply(txn.get(), batch, result, stage);
    if (rc == 0) {
      stage = "committing";
      rc = txn.commit();
    }
    return rc;
  }

  // LMDB reuses the pages a transaction freed only two transactions later.
  // When the map is full right after deliveries were drained, every retry of
  // a failing (aborted) batch would run as that same next transaction and
  // never see the freed space. A tiny commit moves past it.
  int release_freed_pages() {
    write_txn_guard txn;
    int rc = mdb_txn_begin(env, nullptr, 0, txn.out());
    if (rc != 0)
      return rc;
    if ((rc = put(txn.get(), meta, to_val(meta_format_version), encode_meta_u32(record_format_version), 0)) !=
        0)
      return rc;
    return txn.commit();
  }

  int fill_from_event(MDB_txn* txn, dlq_record& r) {
    char seq_key[seq_key_size];
    encode_seq_key(r.key.event_seq, seq_key);
    MDB_val key = to_val(seq_key), value;
    int rc = mdb_get(txn, events, &key, &value);
    if (rc == MDB_NOTFOUND)
      return 0; // keep what the caller gave
    if (rc != 0)
      return rc;
    event_record event;
    uint32_t refcount = 0;
    if (decode_event(to_view(value), r.key.event_seq, event, refcount) != decode_status::ok)
      return 0;
    if (r.event_id.empty())
      r.event_id = std::move(event.id);
    if (r.type.empty())
      r.type = std::move(event.type);
    if (r.body.empty())
      r.body = std::move(event.body);
    return 0;
  }

  int release_events(MDB_txn* txn) {
    std::sort(released.begin(), released.end());
    for (size_t i = 0; i < released.size();) {
      const uint64_t seq = released[i];
      uint32_t drop = 0;
      for (; i < released.size() && released[i] == seq; ++i)
        ++drop;
      char seq_key[seq_key_size];
      encode_seq_key(seq, seq_key);
      MDB_val key = to_val(seq_key), value;
      int rc = mdb_get(txn, events, &key, &value);
      if (rc == MDB_NOTFOUND)
        continue;
      if (rc != 0)
        return rc;
      uint32_t refcount = 0;
      if (auto st = decode_event_refcount(to_view(value), refcount); st != decode_status::ok) {
        // Unreadable: left for an operator rather than guessed at.
        report_corrupt("event", std::to_string(seq), to_string(st));
        continue;
      }
      if (refcount <= drop) {
        if ((rc = del(txn, events, key)) != 0)
          return rc;
        continue;
      }
      // Copy out first: the put may move the page `value` points into.
      value_buf.assign(static_cast<const char*>(value.mv_data), value.mv_size);
      set_event_refcount(value_buf, refcount - drop);
      if ((rc = put(txn, events, key, value_buf, 0)) != 0)
        return rc;
    }
    return 0;
  }

  int requeue(MDB_txn* txn, const delivery_key& k, write_result& result) {
    encode_delivery_key(k, key_buf);
    MDB_val key = to_val(key_buf), value;
    int rc = mdb_get(txn, dlq, &key, &value);
    if (rc == MDB_NOTFOUND)
      return 0;
    if (rc != 0)
      return rc;
    dlq_record r;
    if (auto st = decode_dlq(to_view(value), k, r); st != decode_status::ok) {
      report_corrupt("dead-letter entry", k.subscriber + "/" + std::to_string(k.event_seq), to_string(st));
      return 0; // cannot be requeued; `dlq.delete` still removes it
    }
    rc = mdb_get(txn, deliveries, &key, &value);
    if (rc == 0) // already pending again: the DLQ entry is stale
      return del(txn, dlq, key);
    if (rc != MDB_NOTFOUND)
      return rc;

    pending_delivery p;
    p.delivery.key = k;
    p.delivery.priority = r.priority;
    p.delivery.created_ms = r.created_ms;
    encode_delivery(p.delivery, value_buf);
    if ((rc = put(txn, deliveries, key, value_buf, 0)) != 0)
      return rc;

    char seq_key[seq_key_size];
    encode_seq_key(k.event_seq, seq_key);
    MDB_val event_key = to_val(seq_key);
    uint32_t refcount = 0;
    rc = mdb_get(txn, events, &event_key, &value);
    if (rc != 0 && rc != MDB_NOTFOUND)
      return rc;
    if (rc == 0 && decode_event(to_view(value), k.event_seq, p.event, refcount) == decode_status::ok) {
      ++refcount;
    } else {
      // Gone (or unreadable): the DLQ copy re-creates it.
      p.event.seq = k.event_seq;
      p.event.id = std::move(r.event_id);
      p.event.type = std::move(r.type);
      p.event.created_ms = r.created_ms;
      p.event.body = std::move(r.body);
      refcount = 1;
    }
    encode_event(p.event, refcount, value_buf);
    if ((rc = put(txn, events, event_key, value_buf, 0)) != 0)
      return rc;
    if ((rc = del(txn, dlq, key)) != 0)
      return rc;
    result.requeued.push_back(std::move(p));
    return 0;
  }

  std::string write_error(int rc, const char* stage) const {
    if (rc == MDB_MAP_FULL)
      return "storage is full: the LMDB map of " + std::to_string(map_size_mb) + " MiB in '" + path +
             "' has no room for this batch (nothing was written); raise "
             "storage.map_size_mb and restart, or wait for the queue to drain";
    if (rc == ENOSPC)
      return "the disk holding '" + path +
             "' is full (nothing was written); free disk space "
             "or wait for the queue to drain";
    if (rc == MDB_TXN_FULL)
      return "write batch too large for one LMDB transaction in '" + path +
             "' (nothing was written); lower storage.batch_max";
    return std::string("storage write failed in '") + path + "' while " + stage + ": " + mdb_strerror(rc) +
           " (nothing was written); check the disk and the data directory";
  }
};

lmdb_store::lmdb_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

lmdb_store::~lmdb_store() = default;

std::unique_ptr<lmdb_store> lmdb_store::open(const std::string& path, uint64_t map_size_mb,
                                             std::string& error) {
  namespace fs = std::filesystem;
  if (map_size_mb == 0) {
    error = "storage.map_size_mb must be at least 1 (the LMDB map size in MiB)";
    return nullptr;
  }
  if (map_size_mb > std::numeric_limits<size_t>::max() >> 20) {
    error = "storage.map_size_mb " + std::to_string(map_size_mb) + " is too large";
    return nullptr;
  }
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) {
    error = "cannot create storage directory '" + path + "': " + ec.message() +
            "; check storage.path and the permissions of its parent";
    return nullptr;
  }
  if (!fs::is_directory(path, ec)) {
    error = "storage.path '" + path +
            "' exists but is not a directory; point storage.path at "
            "a directory";
    return nullptr;
  }

  auto p = std::make_unique<impl>();
  p->path = path;
  p->map_size_mb = map_size_mb;

  // LMDB must not be opened twice by one process, and two daemons sharing a
  // directory would both deliver every event: one holder at a time.
  const std::string lock_path = (fs::path(path) / lock_file_name).string();
  p->lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (p->lock_fd < 0) {
    error = "cannot create lock file '" + lock_path + "': " + std::strerror(errno) +
            "; check the permissions of storage.path";
    return nullptr;
  }
  if (::flock(p->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    error = errno == EWOULDBLOCK ? "storage directory '" + path +
                                     "' is in use by another Volley process or "
                                     "store (it holds '" +
                                     lock_path + "'); stop it or choose another storage.path"
                                 : "cannot lock '" + lock_path + "': " + std::strerror(errno);
    return nullptr;
  }

  auto env_error = [&](const char* what, int rc) {
    std::string hint;
    if (rc == EACCES || rc == EPERM)
      hint = "; check the permissions of the directory and its files";
    else if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH)
      hint = "; the directory holds files that are not a Volley data store of this version, "
             "point storage.path at an empty directory or a Volley one";
    else if (rc == ENOMEM)
      hint =
        "; the map of " + std::to_string(map_size_mb) + " MiB cannot be mapped, lower storage.map_size_mb";
    error = std::string("cannot ") + what + " in '" + path + "': " + mdb_strerror(rc) + hint;
    return nullptr;
  };

  int rc = mdb_env_create(&p->env);
  if (rc != 0)
    return env_error("create the LMDB environment", rc);
  if ((rc = mdb_env_set_maxdbs(p->env, max_dbs)) != 0 ||
      (rc = mdb_env_set_mapsize(p->env, static_cast<size_t>(map_size_mb) << 20)) != 0)
    return env_error("configure the LMDB environment", rc);
  // MDB_NOTLS: read transactions are not tied to a thread, so the actor's
  // thread may change. No MDB_NOSYNC/MDB_NOMETASYNC: a commit is on disk.
  if ((rc = mdb_env_open(p->env, path.c_str(), MDB_NOTLS, 0600)) != 0)
    return env_error("open the LMDB environment", rc);
  int stale = 0;
  mdb_reader_check(p->env, &stale); // reader slots left by a crashed process

  MDB_txn* txn = nullptr;
  if ((rc = mdb_txn_begin(p->env, nullptr, 0, &txn)) != 0)
    return env_error("start the opening transaction", rc);
  auto fail = [&](const char* what, int code) {
    mdb_txn_abort(txn);
    return env_error(what, code);
  };
  if ((rc = mdb_dbi_open(txn, "events", MDB_CREATE, &p->events)) != 0 ||
      (rc = mdb_dbi_open(txn, "deliveries", MDB_CREATE, &p->deliveries)) != 0 ||
      (rc = mdb_dbi_open(txn, "dlq", MDB_CREATE, &p->dlq)) != 0 ||
      (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &p->meta)) != 0 ||
      (rc = mdb_dbi_open(txn, "dedup_ids", MDB_CREATE, &p->dedup_ids)) != 0 ||
      (rc = mdb_dbi_open(txn, "dedup_by_time", MDB_CREATE, &p->dedup_by_time)) != 0 ||
      (rc = mdb_dbi_open(txn, "subscriber_state", MDB_CREATE, &p->subscriber_state)) != 0 ||
      (rc = mdb_dbi_open(txn, "subscriber_definitions", MDB_CREATE, &p->subscriber_definitions)) != 0 ||
      (rc = mdb_dbi_open(txn, "log_events", MDB_CREATE, &p->log_events)) != 0 ||
      (rc = mdb_dbi_open(txn, "log_attempts", MDB_CREATE, &p->log_attempts)) != 0 ||
      (rc = mdb_dbi_open(txn, "log_by_time", MDB_CREATE, &p->log_by_time)) != 0)
    return fail("open the databases", rc);

  MDB_val key = to_val(meta_format_version), value;
  rc = mdb_get(txn, p->meta, &key, &value);
  if (rc == MDB_NOTFOUND) {
    auto version = encode_meta_u32(record_format_version);
    value = to_val(version);
    if ((rc = mdb_put(txn, p->meta, &key, &value, 0)) != 0)
      return fail("record the storage format version", rc);
  } else if (rc != 0) {
    return fail("read the storage format version", rc);
  } else {
    uint32_t version = 0;
    if (!decode_meta_u32(to_view(value), version) || version != record_format_version) {
      mdb_txn_abort(txn);
      error = "'" + path + "' holds data in storage format " + std::to_string(version) +
              ", this build reads format " + std::to_string(record_format_version) +
              "; use the matching volleyd or point storage.path at a new directory";
      return nullptr;
    }
  }

  key = to_val(meta_last_event_seq);
  rc = mdb_get(txn, p->meta, &key, &value);
  if (rc == 0) {
    if (!decode_meta_u64(to_view(value), p->last_seq))
      return fail("read last_event_seq", MDB_CORRUPTED);
  } else if (rc != MDB_NOTFOUND) {
    return fail("read last_event_seq", rc);
  }
  key = to_val(meta_log_bytes);
  rc = mdb_get(txn, p->meta, &key, &value);
  if (rc == 0 && !decode_meta_u64(to_view(value), p->log_bytes))
    return fail("read log_bytes", MDB_CORRUPTED);
  if (rc != 0 && rc != MDB_NOTFOUND)
    return fail("read log_bytes", rc);
  if ((rc = mdb_txn_commit(txn)) != 0)
    return env_error("commit the opening transaction", rc);
  find_map(path + "/data.mdb", p->map_addr, p->map_length);
  return std::unique_ptr<lmdb_store>(new lmdb_store(std::move(p)));
}

write_result lmdb_store::commit(const write_batch& batch) {
  write_result result;
  if (batch.empty())
    return result;
  auto refuse = [&](std::string what) {
    result.status = write_status::failed;
    result.error = "refused a write batch for '" + impl_->path + "': " + what;
    return result;
  };
  if (auto error = check_batch(batch); !error.empty())
    return refuse(std::move(error));
  uint64_t new_last = impl_->last_seq;
  for (const auto& ev : batch.events) {
    if (ev.event.seq <= impl_->last_seq)
      return refuse("new event seq " + std::to_string(ev.event.seq) + " is not above last_event_seq " +
                    std::to_string(impl_->last_seq));
    new_last = std::max(new_last, ev.event.seq);
  }

  const char* stage = nullptr;
  int rc = 0;
  try {
    rc = impl_->write(batch, result, stage);
    if (rc == MDB_MAP_FULL && impl_->release_freed_pages() == 0) {
      result.requeued.clear();
      result.dlq_removed = 0;
      rc = impl_->write(batch, result, stage);
    }
  } catch (const batch_refused& refused) {
    result.requeued.clear();
    return refuse(refused.what);
  }
  if (rc != 0) {
    result.requeued.clear();
    result.status = rc == MDB_MAP_FULL || rc == ENOSPC ? write_status::full : write_status::failed;
    result.error = impl_->write_error(rc, stage);
    return result;
  }
  impl_->last_seq = new_last;
  impl_->log_bytes = impl_->txn_log_bytes;
  return result;
}

void lmdb_store::set_mirroring(bool on) { impl_->mirroring = on; }

write_result lmdb_store::apply_changes(const std::vector<mirrored_change>& changes) {
  write_result result;
  for (const auto& c : changes)
    if (c.key.empty() || !impl_->dbi_of(c.key[0])) {
      result.status = write_status::failed;
      result.error = "refused to replay a change to an unknown database in '" + impl_->path + "'";
      return result;
    }
  auto* p = impl_.get();
  write_txn_guard txn;
  int rc = mdb_txn_begin(p->env, nullptr, 0, txn.out());
  for (size_t i = 0; rc == 0 && i < changes.size(); ++i) {
    const auto& c = changes[i];
    auto dbi = *p->dbi_of(c.key[0]);
    MDB_val key = to_val(std::string_view{c.key}.substr(1));
    if (c.value) {
      MDB_val value = to_val(*c.value);
      rc = mdb_put(txn.get(), dbi, &key, &value, 0);
    } else if ((rc = mdb_del(txn.get(), dbi, &key, nullptr)) == MDB_NOTFOUND) {
      rc = 0;
    }
  }
  // The replayed meta carries the last event seq.
  uint64_t last = p->last_seq;
  if (rc == 0) {
    MDB_val key = to_val(meta_last_event_seq), value;
    int got = mdb_get(txn.get(), p->meta, &key, &value);
    if (got == 0 && !decode_meta_u64(to_view(value), last))
      rc = MDB_CORRUPTED;
    else if (got != 0 && got != MDB_NOTFOUND)
      rc = got;
  }
  if (rc == 0)
    rc = txn.commit();
  if (rc != 0) {
    result.status = rc == MDB_MAP_FULL || rc == ENOSPC ? write_status::full : write_status::failed;
    result.error = p->write_error(rc, "replaying changes");
    return result;
  }
  p->last_seq = last;
  return result;
}

uint64_t lmdb_store::last_event_seq() { return impl_->last_seq; }

read_result<std::vector<std::string>> lmdb_store::pending_subscribers() {
  return impl_->guarded([&] {
    std::vector<std::string> names;
    impl::read_scope scope(*impl_);
    cursor_guard cursor;
    impl_->open_cursor(scope.txn(), impl_->deliveries, cursor);
    MDB_val key, value;
    std::string seek;
    delivery_key k;
    bool found = impl_->cursor_step(cursor.get(), key, value, MDB_FIRST);
    while (found) {
      std::string_view raw = to_view(key);
      if (decode_delivery_key(raw, k))
        names.push_back(k.subscriber);
      else
        impl_->report_corrupt("delivery", printable(raw), "malformed key");
      // Jump past every key of this subscriber: name '\x01' sorts after all
      // of name '\0' <seq>.
      seek.assign(raw.substr(0, raw.find('\0')));
      seek.push_back('\x01');
      key = to_val(seek);
      found = impl_->cursor_step(cursor.get(), key, value, MDB_SET_RANGE);
    }
    return names;
  });
}

read_result<std::vector<pending_delivery>> lmdb_store::read_pending(const std::string& subscriber,
                                                                    uint64_t after_seq, page_bounds bounds) {
  return impl_->guarded([&] {
    std::vector<pending_delivery> out;
    if (bounds.count == 0 || after_seq == std::numeric_limits<uint64_t>::max() ||
        !is_storable_subscriber(subscriber))
      return out;
    std::string prefix, start;
    encode_subscriber_prefix(subscriber, prefix);
    encode_delivery_key({subscriber, after_seq + 1}, start);

    impl::read_scope scope(*impl_);
    pending_delivery p;
    uint64_t bytes = 0;
    impl_->walk(scope.txn(), impl_->deliveries, start, [&](std::string_view raw, std::string_view value) {
      if (!bounds.room(out.size(), bytes) || !starts_with(raw, prefix))
        return false;
      if (!decode_delivery_key(raw, p.delivery.key)) {
        impl_->report_corrupt("delivery", printable(raw), "malformed key");
        return true;
      }
      if (auto st = decode_delivery(value, p.delivery.key, p.delivery); st != decode_status::ok) {
        impl_->report_corrupt("delivery", subscriber + "/" + std::to_string(p.delivery.key.event_seq),
                              to_string(st));
        return true;
      }
      char seq_key[seq_key_size];
      encode_seq_key(p.delivery.key.event_seq, seq_key);
      MDB_val event_key = to_val(seq_key), event_value;
      int rc = mdb_get(scope.txn(), impl_->events, &event_key, &event_value);
      if (rc != 0 && rc != MDB_NOTFOUND)
        impl_->throw_read_error("read an event", rc);
      uint32_t refcount = 0;
      decode_status st = rc == MDB_NOTFOUND
                           ? decode_status::truncated
                           : decode_event(to_view(event_value), p.delivery.key.event_seq, p.event, refcount);
      if (st != decode_status::ok) {
        impl_->report_corrupt("delivery", subscriber + "/" + std::to_string(p.delivery.key.event_seq),
                              rc == MDB_NOTFOUND ? "its event is missing" : to_string(st));
        return true;
      }
      bytes += event_bytes(p.event);
      out.push_back(std::move(p));
      return true;
    });
    return out;
  });
}

read_result<size_t> lmdb_store::count_pending(const std::string& subscriber) {
  return impl_->guarded([&] {
    if (!is_storable_subscriber(subscriber))
      return size_t{0};
    std::string prefix;
    encode_subscriber_prefix(subscriber, prefix);
    impl::read_scope scope(*impl_);
    size_t n = 0;
    impl_->walk(scope.txn(), impl_->deliveries, prefix, [&](std::string_view key, std::string_view) {
      if (!starts_with(key, prefix))
        return false;
      ++n;
      return true;
    });
    return n;
  });
}

read_result<std::array<size_t, 4>> lmdb_store::count_pending_by_priority(const std::string& subscriber) {
  return impl_->guarded([&] {
    std::array<size_t, 4> counts{};
    if (!is_storable_subscriber(subscriber))
      return counts;
    std::string prefix;
    encode_subscriber_prefix(subscriber, prefix);
    impl::read_scope scope(*impl_);
    delivery_key dkey{subscriber, 0};
    delivery_record record;
    impl_->walk(scope.txn(), impl_->deliveries, prefix, [&](std::string_view key, std::string_view value) {
      if (!starts_with(key, prefix))
        return false;
      if (decode_delivery(value, dkey, record) == decode_status::ok)
        counts[std::min<size_t>(record.priority, 3)] += 1;
      return true;
    });
    return counts;
  });
}

read_result<size_t> lmdb_store::count_pending_total() {
  return impl_->guarded([&] { return impl_->count_entries(impl_->deliveries, "count deliveries"); });
}

read_result<size_t> lmdb_store::count_dlq() {
  return impl_->guarded([&] { return impl_->count_entries(impl_->dlq, "count dead-letter entries"); });
}

void lmdb_store::release_cached_pages() {
  // Every page a read touches stays mapped into this process, so draining a
  // million-delivery backlog left the whole file resident (~400 MB of RSS
  // at 1M). The map is read-only and shared (no MDB_WRITEMAP: commits write
  // with pwrite), so dropping its pages from our page tables loses nothing:
  // the kernel keeps them in its page cache and the next touch maps them
  // again. Below 64 MiB of used map it is not worth the refaults.
  MDB_envinfo info;
  MDB_stat stat;
  if (impl_->map_addr == nullptr || mdb_env_info(impl_->env, &info) != 0 ||
      mdb_env_stat(impl_->env, &stat) != 0)
    return;
  size_t used = (static_cast<size_t>(info.me_last_pgno) + 1) * stat.ms_psize;
  if (used < (size_t{64} << 20))
    return;
  ::madvise(impl_->map_addr, std::min(used, impl_->map_length), MADV_DONTNEED);
}

read_result<std::vector<dlq_record>> lmdb_store::list_dlq(const std::optional<std::string>& subscriber,
                                                          const std::optional<delivery_key>& after,
                                                          size_t limit) {
  return impl_->guarded([&] {
    std::vector<dlq_record> out;
    if (limit == 0 || (subscriber && !is_storable_subscriber(*subscriber)))
      return out;
    std::string prefix, after_key, start;
    if (subscriber)
      encode_subscriber_prefix(*subscriber, prefix);
    if (after)
      encode_delivery_key(*after, after_key);
    // Start at `after` (skipped below, it is exclusive) or at the subscriber's
    // first key, whichever is later.
    start = std::max(prefix, after_key);

    impl::read_scope scope(*impl_);
    delivery_key k;
    impl_->walk(scope.txn(), impl_->dlq, start, [&](std::string_view raw, std::string_view value) {
      if (out.size() >= limit || (subscriber && !starts_with(raw, prefix)))
        return false;
      if (after && raw == after_key)
        return true;
      if (!decode_delivery_key(raw, k)) {
        impl_->report_corrupt("dead-letter entry", printable(raw), "malformed key");
        return true;
      }
      dlq_record r;
      if (auto st = decode_dlq(value, k, r); st != decode_status::ok) {
        impl_->report_corrupt("dead-letter entry", k.subscriber + "/" + std::to_string(k.event_seq),
                              to_string(st));
        return true;
      }
      out.push_back(std::move(r));
      return true;
    });
    return out;
  });
}

read_result<std::vector<remembered_id>> lmdb_store::recent_ids(int64_t since_ms, size_t limit) {
  return impl_->guarded([&] {
    std::vector<remembered_id> out;
    if (limit == 0)
      return out;
    impl::read_scope scope(*impl_);
    cursor_guard cursor;
    impl_->open_cursor(scope.txn(), impl_->dedup_by_time, cursor);
    MDB_val key, value;
    remembered_id r;
    // Newest first, so the limit keeps the most recent; reversed at the end.
    for (bool found = impl_->cursor_step(cursor.get(), key, value, MDB_LAST); found && out.size() < limit;
         found = impl_->cursor_step(cursor.get(), key, value, MDB_PREV)) {
      if (!decode_id_time_key(to_view(key), r)) {
        impl_->report_corrupt("remembered id time key", printable(to_view(key)), "malformed key");
        continue;
      }
      if (r.accepted_ms < since_ms)
        break;
      out.push_back(std::move(r));
    }
    std::reverse(out.begin(), out.end());
    return out;
  });
}

read_result<std::vector<subscriber_status>> lmdb_store::disabled_subscribers() {
  return impl_->guarded([&] {
    std::vector<subscriber_status> out;
    impl::read_scope scope(*impl_);
    impl_->walk(scope.txn(), impl_->subscriber_state, {}, [&](std::string_view name, std::string_view value) {
      subscriber_status status;
      if (!is_storable_subscriber(name)) {
        impl_->report_corrupt("subscriber state", printable(name), "malformed key");
        return true;
      }
      if (auto st = decode_subscriber_status(value, name, status); st != decode_status::ok) {
        // Still disabled: the key says so, only the details are unreadable,
        // and the subscriber's start-up line shows that.
        status.reason = std::string{"(the stored reason is unreadable: "} + to_string(st) + ")";
        status.since_ms = 0;
      }
      out.push_back(std::move(status));
      return true;
    });
    return out;
  });
}

read_result<std::optional<event_log>> lmdb_store::read_event_log(const std::string& event_id) {
  return impl_->guarded([&]() -> std::optional<event_log> {
    impl::read_scope scope(*impl_);
    event_log out;
    bool found = false;
    std::string prefix;
    encode_log_event_key(event_id, prefix);
    MDB_val key = to_val(prefix), value;
    int rc = mdb_get(scope.txn(), impl_->log_events, &key, &value);
    if (rc == 0) {
      found = true;
      if (decode_logged_event(to_view(value), event_id, out.event) != decode_status::ok)
        impl_->report_corrupt("delivery log event", printable(event_id), "unreadable value");
    } else if (rc != MDB_NOTFOUND) {
      impl_->throw_read_error("read the delivery log", rc);
    }
    out.event.id = event_id;
    impl_->walk(scope.txn(), impl_->log_attempts, prefix, [&](std::string_view key, std::string_view value) {
      if (!starts_with(key, prefix))
        return false;
      logged_attempt a;
      if (!decode_log_attempt_key(key, a) || a.event_id != event_id ||
          decode_logged_attempt(value, a) != decode_status::ok)
        return true;
      out.attempts.push_back(std::move(a));
      found = true;
      return true;
    });
    // In time order (the keys sort by subscriber first).
    std::stable_sort(out.attempts.begin(), out.attempts.end(),
                     [](const logged_attempt& x, const logged_attempt& y) { return x.at_ms < y.at_ms; });
    if (!found)
      return std::nullopt;
    return out;
  });
}

read_result<std::vector<logged_attempt>> lmdb_store::list_attempts(const attempt_query& query) {
  return impl_->guarded([&] {
    std::vector<logged_attempt> out;
    if (query.limit == 0)
      return out;
    impl::read_scope scope(*impl_);
    cursor_guard cursor;
    impl_->open_cursor(scope.txn(), impl_->log_by_time, cursor);
    MDB_val key, value;
    std::string attempt_key;
    log_time_entry entry;
    for (bool more = impl_->cursor_step(cursor.get(), key, value, MDB_LAST); more && out.size() < query.limit;
         more = impl_->cursor_step(cursor.get(), key, value, MDB_PREV)) {
      if (!decode_log_time_key(to_view(key), entry))
        continue;
      if (entry.at_ms < query.since_ms)
        break;
      if (entry.kind != 'a' || (!query.subscriber.empty() && entry.attempt.subscriber != query.subscriber))
        continue;
      encode_log_attempt_key(entry.attempt, attempt_key);
      MDB_val k = to_val(attempt_key), v;
      int rc = mdb_get(scope.txn(), impl_->log_attempts, &k, &v);
      if (rc == MDB_NOTFOUND)
        continue;
      if (rc != 0)
        impl_->throw_read_error("read the delivery log", rc);
      auto a = entry.attempt;
      if (decode_logged_attempt(to_view(v), a) != decode_status::ok)
        continue;
      if (query.failed_only &&
          (a.outcome == attempt_outcome::delivered || a.outcome == attempt_outcome::replay))
        continue;
      out.push_back(std::move(a));
    }
    return out;
  });
}

read_result<std::optional<std::string>> lmdb_store::monitor_snapshot() {
  return impl_->guarded([&]() -> std::optional<std::string> {
    impl::read_scope scope(*impl_);
    MDB_val key = to_val(meta_monitor_snapshot), value;
    int rc = mdb_get(scope.txn(), impl_->meta, &key, &value);
    if (rc == MDB_NOTFOUND)
      return std::nullopt;
    if (rc != 0)
      impl_->throw_read_error("read the monitor's statistics", rc);
    return std::string{to_view(value)};
  });
}

read_result<std::vector<subscriber_definition>> lmdb_store::subscriber_definitions() {
  return impl_->guarded([&] {
    std::vector<subscriber_definition> out;
    impl::read_scope scope(*impl_);
    impl_->walk(scope.txn(), impl_->subscriber_definitions, {},
                [&](std::string_view name, std::string_view value) {
                  subscriber_definition d;
                  if (!is_storable_subscriber(name)) {
                    impl_->report_corrupt("subscriber definition", printable(name), "malformed key");
                    return true;
                  }
                  if (auto st = decode_subscriber_definition(value, name, d); st != decode_status::ok) {
                    impl_->report_corrupt("subscriber definition", printable(name), to_string(st));
                    return true;
                  }
                  out.push_back(std::move(d));
                  return true;
                });
    return out;
  });
}

} // namespace volley
