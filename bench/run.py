#!/usr/bin/env python3
"""Volley benchmark harness (driven by bench/run.sh, which installs and builds).

Starts volleyd, the bench sink, the load generator, wrk and the bare libcurl
loop on 127.0.0.1 only, runs the benchmark scenarios (bench/README.md) --runs
times each, and reports medians: tables on stdout, bench/results/latest.json
and bench/RESULTS.md (a run of some scenarios: latest-<keys>.json and
RESULTS-<keys>.md in bench/results/). Every process it starts is killed on
exit; every wait has a deadline.
"""

import argparse
import datetime
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

# ---------------------------------------------------------------- processes

_children = []  # every Popen this harness started


def spawn(argv, log_path, **kw):
    log = open(log_path, "ab")
    p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, **kw)
    log.close()
    _children.append(p)
    return p


def kill(p, sig=signal.SIGKILL, wait_s=5.0):
    if p is None or p.poll() is not None:
        return
    try:
        p.send_signal(sig)
        p.wait(timeout=wait_s)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            p.kill()
            p.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass


def kill_all():
    for p in reversed(_children):
        kill(p)


def _on_signal(signum, _frame):
    kill_all()
    sys.exit(128 + signum)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_until(cond, timeout_s, step_s=0.05):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step_s)
    return None


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def vm_status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmHWM", "VmRSS", "RssAnon", "RssFile")):
                    k, v = line.split(":")
                    out[k] = int(v.split()[0]) / 1024.0  # MB
    except OSError:
        pass
    return out


CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid):
    """utime + stime of a process (every thread), in seconds; None once gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def settle(pid, quiet=0.03, step_s=1.0, limit_s=15.0):
    """Waits (bounded) until a process's own CPU rate over `step_s` falls
    below `quiet` of a core. volleyd's start is not its idle: with 10,000
    subscribers the first 2-3 s after it listens (each subscriber's first
    page from disk and first report) cost 8-20 % of a core, and under 1 % after."""
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        c0, t0 = proc_cpu_s(pid), time.monotonic()
        time.sleep(step_s)
        c1 = proc_cpu_s(pid)
        if c0 is None or c1 is None or (c1 - c0) / (time.monotonic() - t0) < quiet:
            return


def socket_count(pid):
    """Open sockets of a process."""
    n = 0
    try:
        d = f"/proc/{pid}/fd"
        for fd in os.listdir(d):
            try:
                if os.readlink(os.path.join(d, fd)).startswith("socket:"):
                    n += 1
            except OSError:
                pass
    except OSError:
        return None
    return n


def cpu_us_per(cpu_before, cpu_after, count):
    if cpu_before is None or cpu_after is None or not count:
        return None
    return (cpu_after - cpu_before) * 1e6 / count


def cpu_busy(seconds=0.5):
    """Fraction of all CPU time that was busy over `seconds` (any process)."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + v[4]
        return sum(v), idle
    t1, i1 = sample()
    time.sleep(seconds)
    t2, i2 = sample()
    return 1.0 - (i2 - i1) / max(1, t2 - t1)


def wait_for_quiet(max_wait_s, threshold=0.25):
    """Waits (bounded) until other work leaves the CPUs mostly idle."""
    deadline = time.monotonic() + max_wait_s
    busy = cpu_busy()
    while busy > threshold and time.monotonic() < deadline:
        time.sleep(1.5)
        busy = cpu_busy()
    return busy


class Poller:
    """Calls self.sample() every 0.2 s on a thread of its own until stop(),
    or until sample() returns False. A subclass sets its fields before it
    calls Poller.__init__, which starts the thread."""

    def __init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set() and self.sample() is not False:
            self._stop.wait(0.2)

    def sample(self):
        raise NotImplementedError

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)


class RssSampler(Poller):
    """Keeps the peaks of anonymous memory (the daemon's own heap) and
    file-backed pages (chiefly LMDB's memory map, which the kernel can drop
    at will) from /proc/PID/status. VmHWM counts both."""

    def __init__(self, pid):
        self.pid = pid
        self.peak_anon = 0.0
        self.peak_file = 0.0
        super().__init__()

    def sample(self):
        st = vm_status(self.pid)
        if not st:
            return False
        self.peak_anon = max(self.peak_anon, st.get("RssAnon", 0.0))
        self.peak_file = max(self.peak_file, st.get("RssFile", 0.0))
        return True

    def peaks(self):
        """Stops sampling; returns the row fields."""
        self.stop()
        return {"rss_anon_mb": self.peak_anon or None, "rss_file_mb": self.peak_file or None}


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


# ---------------------------------------------------------------- the tools


class Harness:
    def __init__(self, args):
        self.args = args
        self.bin = args.bin_dir
        self.volleyd = args.volleyd
        self.tmp = tempfile.mkdtemp(prefix="volley-bench-")
        self.logs = os.path.join(args.bin_dir, "logs")
        os.makedirs(self.logs, exist_ok=True)
        self.problems = []
        self.hotspots = None

    def problem(self, text):
        print(f"  !! {text}", flush=True)
        self.problems.append(text)

    def log_path(self, name):
        return os.path.join(self.logs, name + ".log")

    # -- sink
    def start_sink(self, port, name, **options):
        """`options`: the sink's own, by name: delay_ms, hosts (slow endpoints),
        fail_percent, seed, capacity, work_ms (struggling ones)."""
        argv = [os.path.join(self.bin, "sink"), "--port", str(port), "--threads",
                str(self.args.sink_threads), "--max-seconds", "3600"]
        for key, value in options.items():
            argv += ["--" + key.replace("_", "-"), str(value)]
        p = spawn(argv, self.log_path(name))
        if not wait_until(lambda: self.sink_stats(port) is not None, 10):
            raise RuntimeError(f"sink did not start on port {port} (see {self.log_path(name)})")
        return p

    @staticmethod
    def sink_get(port, path):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", path)
            body = c.getresponse().read()
            c.close()
            return json.loads(body)
        except (OSError, ValueError, http.client.HTTPException):
            return None

    def sink_stats(self, port):
        return self.sink_get(port, "/__stats")

    def sink_reset(self, port):
        self.sink_get(port, "/__reset")
        time.sleep(0.15)  # other sink threads reset within 50 ms

    def wait_arrivals(self, port, target, timeout_s, stall_s=20, what="", field="count",
                      done=None):
        """Waits until the sink's `field` reaches `target` ("count": requests
        arrived, "ok": requests answered 200) or `done(stats)` holds (e.g.
        the rest were dead-lettered). Returns the sink's stats then, or None
        on a stall (no request for stall_s) or timeout, a problem; the last
        stats seen are kept in self.partial."""
        noun = "deliveries arrived" if field == "count" else "answered 200"
        deadline = time.monotonic() + timeout_s
        last, last_change = -1, time.monotonic()
        self.partial = None
        while time.monotonic() < deadline:
            s = self.sink_stats(port)
            if s is not None:
                self.partial = s
                if s[field] >= target or (done and done(s)):
                    return s
                if s["count"] != last:
                    last, last_change = s["count"], time.monotonic()
                elif time.monotonic() - last_change > stall_s:
                    self.problem(f"{what}: stalled at {s[field]}/{target} {noun} "
                                 f"(no request for {stall_s} s)")
                    return None
            time.sleep(0.1)
        got = self.partial[field] if self.partial else None
        self.problem(f"{what}: only {got}/{target} {noun} within {timeout_s} s")
        return None

    # -- volleyd
    @staticmethod
    def control(port, op):
        """One control op over the TCP ingress; its answer as a dict (None
        when there is none)."""
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
                c.sendall((json.dumps(op) + "\n").encode())
                buf = b""
                while not buf.endswith(b"\n"):
                    chunk = c.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
            return json.loads(buf)
        except (OSError, ValueError):
            return None

    def subscriber_state(self, port, name):
        """The `subscribers` op's entry for `name` (in_flight, limit, breaker...)."""
        answer = self.control(port, {"op": "subscribers"}) or {}
        for s in answer.get("subscribers", []):
            if s.get("subscriber") == name:
                return s
        return None

    def write_config(self, name, subscribers, port, data_dir, extra=None):
        cfg = {
            "ingress": {"host": "127.0.0.1", "port": port},
            "storage": {"path": data_dir, "map_size_mb": self.args.map_size_mb},
            "monitor": {"interval_ms": 3600000},
            "allow_private_networks": True,
            "log_level": "info",
            "subscribers": subscribers,
        }
        for k, v in (extra or {}).items():
            cfg[k] = v
        # BENCH_EXTRA_CONFIG='{"scheduler": {"policy": "stealing"}}' for A/B runs.
        for k, v in json.loads(os.environ.get("BENCH_EXTRA_CONFIG", "{}")).items():
            cfg[k] = v
        path = os.path.join(self.tmp, name + ".json")
        with open(path, "w") as f:
            json.dump(cfg, f, indent=1)
        return path

    @staticmethod
    def subscriber(i, url, events=("bench.*",), **kw):
        s = {"name": f"s{i}", "url": url, "events": list(events), "secret": SECRET}
        s.update(kw)
        return s

    def start_volleyd(self, cfg_path, port, name, timeout_s=60):
        p = spawn([self.volleyd, "--config", cfg_path], self.log_path(name))
        ok = wait_until(lambda: p.poll() is not None or port_open(port), timeout_s)
        if p.poll() is not None or not ok:
            kill(p)
            raise RuntimeError(f"volleyd did not start (see {self.log_path(name)})")
        return p

    def stop_volleyd(self, p, name):
        """SIGTERM and wait; returns seconds taken. Crashes are problems."""
        if p.poll() is not None:
            self.problem(f"{name}: volleyd had exited by itself with code {p.returncode}")
            return None
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.problem(f"{name}: volleyd did not stop within 60 s of SIGTERM; killed")
            kill(p)
            return None
        if rc != 0:
            self.problem(f"{name}: volleyd exited with code {rc} after SIGTERM")
        return time.monotonic() - t0

    # -- clients
    def loadgen(self, port, events, size=100, conns=4, window=1024, rate=0,
                duration=120, grace=60, ids=False, type_="bench.event", name="loadgen",
                http_batch=0):
        """http_batch > 0: POST /v1/events to the HTTP API on `port`, that
        many events per request (NDJSON)."""
        argv = [os.path.join(self.bin, "loadgen"), "--port", str(port), "--events", str(events),
                "--size", str(size), "--conns", str(conns), "--window", str(window),
                "--rate", str(rate), "--duration", str(duration), "--grace", str(grace),
                "--type", type_]
        if ids:
            argv.append("--ids")
        if http_batch:
            argv += ["--http", str(http_batch)]
        with open(self.log_path(name), "ab") as log:
            r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=log,
                               timeout=duration + grace + 30)
        try:
            out = json.loads(r.stdout.decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise RuntimeError(f"loadgen printed no result (exit {r.returncode})")
        if out["errors"] or out["wrong_ids"] or out["unanswered"]:
            self.problem(f"{name}: loadgen errors={out['errors']} wrong_ids={out['wrong_ids']} "
                         f"unanswered={out['unanswered']} first_error={out['first_error']!r}")
        if out["duplicates"]:
            self.problem(f"{name}: {out['duplicates']} events acknowledged as duplicates "
                         "although every id was new")
        return out

    def wrk(self, port, size, seconds):
        env = dict(os.environ, BENCH_DATA_SIZE=str(size))
        r = subprocess.run(["wrk", "-t2", f"-c{self.args.concurrency}", f"-d{seconds}s",
                            "-s", os.path.join(ROOT, "bench", "wrk_post.lua"),
                            f"http://127.0.0.1:{port}/wrk"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                           timeout=seconds + 30)
        text = r.stdout.decode()
        m = re.search(r"Requests/sec:\s+([\d.]+)", text)
        if not m:
            self.problem(f"wrk gave no result: {text[-300:]!r}")
            return None
        if "Non-2xx" in text or "Socket errors" in text:
            self.problem("wrk: " + " ".join(l.strip() for l in text.splitlines()
                                            if "Non-2xx" in l or "Socket errors" in l))
        return float(m.group(1))

    def curl_loop(self, port, size, seconds, handles=None, loop="poll", hosts=1, warmup=0.5,
                  per_multi=0, scheme="http", cafile=None):
        """The bare libcurl loop; returns its JSON result (req_per_s,
        cpu_us_per_req, peak_rss_mb, ...) or None."""
        argv = [os.path.join(self.bin, "curl_ceiling"), "--url",
                f"{scheme}://127.0.0.1:{port}/curl", "--handles",
                str(handles or self.args.concurrency), "--requests", "100000000",
                "--duration", str(seconds), "--warmup", str(warmup), "--size", str(size),
                "--loop", loop, "--hosts", str(hosts), "--per-multi", str(per_multi)]
        if cafile:
            argv += ["--cafile", cafile]
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=seconds + warmup + 60)
        try:
            out = json.loads(r.stdout.decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            self.problem(f"curl_ceiling gave no result: {r.stdout[-300:]!r}")
            return None
        if out["errors"]:
            self.problem(f"curl_ceiling ({loop}, {handles} handles): {out['errors']} errors, "
                         f"first {out['first_error']!r}")
        return out

    def perf_record(self, pid, seconds, out):
        if not shutil.which("perf"):
            return None
        return spawn(["perf", "record", "-e", "cpu-clock", "-F", "999", "-g", "-p", str(pid),
                      "-o", out, "--", "sleep", str(seconds)], self.log_path("perf"))


# ---------------------------------------------------------------- scenarios
#
# Each returns a list of (row_name, metrics dict) for one run.


def delivery_rate(stats):
    span = (stats["last_ns"] - stats["first_ns"]) / 1e9
    return stats["count"] / span if span > 0 else None


def scenario_ceilings(h, run, sizes):
    """wrk and the bare curl loop against the sink, per body size."""
    rows = []
    port = free_port()
    sink = h.start_sink(port, f"ceil-sink-{run}")
    try:
        for size in sizes:
            w = h.wrk(port, size, h.args.ceiling_seconds)
            c = h.curl_loop(port, size, h.args.ceiling_seconds) or {}
            rows.append((f"ceiling {size_label(size)}",
                         {"wrk_rps": w, "curl_rps": c.get("req_per_s"),
                          "curl_cpu_us": c.get("cpu_us_per_req")}))
            print(f"  ceiling {size_label(size)}: wrk {fmt(w)} req/s, curl loop "
                  f"{fmt(c.get('req_per_s'))} req/s at {fmt(c.get('cpu_us_per_req'), 1)} µs CPU "
                  f"per request", flush=True)
    finally:
        kill(sink, signal.SIGTERM)
    if run == 0 and shutil.which("nginx"):
        n = nginx_ceiling(h)
        if n:
            rows.append(("ceiling nginx 100 B", {"wrk_rps": n}))
            print(f"  wrk -> nginx (for the sink choice): {fmt(n)} req/s", flush=True)
    return rows


def write_nginx_conf(h, d, http_lines):
    """An nginx.conf in `d` (pid, logs and temp files there too) whose http
    block holds `http_lines`; returns its path."""
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes {h.args.sink_threads};
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
{http_lines}
}}
""")
    return conf


def nginx_ceiling(h):
    port = free_port()
    d = os.path.join(h.tmp, "nginx")
    os.makedirs(d, exist_ok=True)
    conf = write_nginx_conf(h, d, f"""  access_log off;
  client_body_buffer_size 256k;
  keepalive_requests 10000000;
  server {{ listen 127.0.0.1:{port}; location / {{ return 200; }} }}""")
    p = spawn(["nginx", "-c", conf, "-p", d], h.log_path("nginx"))
    try:
        if not wait_until(lambda: port_open(port), 10):
            return None
        return h.wrk(port, 100, h.args.ceiling_seconds)
    finally:
        kill(p, signal.SIGTERM)


def size_label(size):
    if size >= 1024:
        return f"{size // 1024} KB"
    return f"{size} B"


def scenario_a(h, run):
    """Ingest only: no subscriber matches; events/s acknowledged durably, over
    the TCP ingress and over the HTTP API on the same daemon."""
    port, sport, aport = free_port(), free_port(), free_port()
    cfg = h.write_config(f"a{run}", [h.subscriber(0, f"http://127.0.0.1:{sport}/a",
                                                  events=["nomatch.*"])],
                         port, os.path.join(h.tmp, f"a{run}"),
                         extra={"api": {"host": "127.0.0.1", "port": aport}})
    vd = h.start_volleyd(cfg, port, f"a-volleyd-{run}")
    try:
        if not wait_until(lambda: port_open(aport), 10):
            raise RuntimeError(f"the HTTP API did not listen (see {h.log_path(f'a-volleyd-{run}')})")
        lg = h.loadgen(port, h.args.ingest_events, name=f"a-loadgen-{run}")
        # The same with a client id on every event: each id is remembered on
        # disk for the dedup window, in the event's transaction.
        lg_ids = h.loadgen(port, h.args.ingest_events, ids=True, name=f"a-ids-loadgen-{run}")
        # POST /v1/events, NDJSON batches of 1,000, up to 4 requests pipelined
        # per connection: the same path to disk behind an HTTP parser.
        lg_http = h.loadgen(aport, h.args.ingest_events, window=4000, http_batch=1000,
                            name=f"a-http-loadgen-{run}")
        rss = vm_status(vd.pid).get("VmHWM")
        h.stop_volleyd(vd, "a")
    finally:
        kill(vd)
    print(f"  (a) ingest only: {fmt(lg['events_per_s'])} events/s acked, "
          f"ack p50 {lg['ack_p50_ms']:.1f} ms p99 {lg['ack_p99_ms']:.1f} ms, peak RSS {fmt(rss)} MB; "
          f"with client ids {fmt(lg_ids['events_per_s'])} events/s; "
          f"HTTP NDJSON x1000 {fmt(lg_http['events_per_s'])} events/s", flush=True)
    return [("(a) ingest only", {"events_s": lg["events_per_s"], "rss_mb": rss,
                                 "ack_p50_ms": lg["ack_p50_ms"], "ack_p99_ms": lg["ack_p99_ms"]}),
            ("(a) ingest only, client ids", {"events_s": lg_ids["events_per_s"],
                                             "ack_p50_ms": lg_ids["ack_p50_ms"],
                                             "ack_p99_ms": lg_ids["ack_p99_ms"]}),
            ("(a) ingest, HTTP NDJSON x1000", {"events_s": lg_http["events_per_s"],
                                                    "ack_p50_ms": lg_http["ack_p50_ms"],
                                                    "ack_p99_ms": lg_http["ack_p99_ms"]})]


def throughput_phase(h, port, sport, events, subs, size, name, timeout_s=None, pid=None):
    """Publishes `events` at full speed and waits (bounded) for every delivery.
    On a stall or timeout the rate is that of the deliveries that did arrive,
    and `incomplete` says how many. With `pid`, extra["cpu_us"] is volleyd's
    CPU time (utime+stime, every thread) per delivery over the phase."""
    h.sink_reset(sport)
    expect = events * subs
    cpu0 = proc_cpu_s(pid) if pid else None
    lg = h.loadgen(port, events, size=size, name=f"{name}-loadgen")
    st = h.wait_arrivals(sport, expect, timeout_s=timeout_s or h.args.drain_timeout, what=name)
    extra = {}
    if st is None and h.partial and h.partial["count"] > 0:
        st = h.partial
        extra["incomplete"] = f"only {st['count']}/{expect} delivered"
    rate = delivery_rate(st) if st else None
    if pid and st:
        extra["cpu_us"] = cpu_us_per(cpu0, proc_cpu_s(pid), st["count"])
    if st and st["count"] > expect:
        h.problem(f"{name}: sink got {st['count']} requests for {expect} deliveries "
                  "(duplicates)")
    return lg, st, rate, extra


def scenario_b(h, run):
    """One subscriber: deliveries/s at full speed, then latency at half that rate."""
    port, sport = free_port(), free_port()
    sink = h.start_sink(sport, f"b-sink-{run}")
    paired = paired_ceilings(h, sport)
    cfg = h.write_config(f"b{run}", [h.subscriber(0, f"http://127.0.0.1:{sport}/b")],
                         port, os.path.join(h.tmp, f"b{run}"))
    vd = h.start_volleyd(cfg, port, f"b-volleyd-{run}")
    sampler = RssSampler(vd.pid)
    try:
        # Warm-up that also checks ack order and ids, and one delivery per event.
        h.loadgen(port, 5000, conns=2, window=256, ids=True, name=f"b-check-{run}")
        h.wait_arrivals(sport, 5000, timeout_s=60, what="(b) warm-up")
        lg, st, rate, extra = throughput_phase(h, port, sport, h.args.b_events, 1, 100,
                                               f"(b) run {run + 1}", pid=vd.pid)
        cpu = extra.pop("cpu_us", None)
        row = {"events_s": lg["events_per_s"], "deliveries_s": rate, **extra,
               **with_ratios(paired, rate, cpu)}
        print(f"  (b) 1 subscriber: {fmt(lg['events_per_s'])} events/s acked, "
              f"{fmt(rate)} deliveries/s, {fmt(cpu, 1)} µs CPU per delivery", flush=True)
        if rate:
            half = rate / 2
            h.sink_reset(sport)
            n = int(half * h.args.latency_seconds)
            lat = h.loadgen(port, n, rate=half, duration=h.args.latency_seconds + 30,
                            name=f"b-latency-{run}")
            st2 = h.wait_arrivals(sport, n, timeout_s=h.args.drain_timeout,
                                  what=f"(b) latency run {run + 1}")
            if st2:
                row.update(p50_ms=st2["p50_us"] / 1000, p99_ms=st2["p99_us"] / 1000,
                           latency_rate=half, ack_p50_ms=lat["ack_p50_ms"],
                           ack_p99_ms=lat["ack_p99_ms"])
                print(f"  (b) at {fmt(half)} events/s: ingest->delivery p50 "
                      f"{st2['p50_us'] / 1000:.2f} ms p99 {st2['p99_us'] / 1000:.2f} ms "
                      f"(ack p50 {lat['ack_p50_ms']:.2f} ms p99 {lat['ack_p99_ms']:.2f} ms)",
                      flush=True)
        if h.args.perf and run == 0:
            profile_b(h, vd, port, sport)
        row["rss_mb"] = vm_status(vd.pid).get("VmHWM")
        row.update(sampler.peaks())
        h.stop_volleyd(vd, "b")
    finally:
        kill(vd)
        kill(sink, signal.SIGTERM)
    return [("(b) 1 subscriber", row)]


def profile_b(h, vd, port, sport):
    """A third, profiled full-speed pass of (b); not part of the numbers."""
    data = os.path.join(h.tmp, "perf.data")
    seconds = max(4, int(h.args.b_events / 20000))
    pr = h.perf_record(vd.pid, seconds, data)
    if pr is None:
        print("  perf not available: no profile", flush=True)
        return
    time.sleep(0.5)
    h.sink_reset(sport)
    h.loadgen(port, h.args.b_events, name="b-perf-loadgen")
    h.wait_arrivals(sport, h.args.b_events, timeout_s=h.args.drain_timeout, what="(b) perf pass")
    try:
        pr.wait(timeout=seconds + 60)
    except subprocess.TimeoutExpired:
        kill(pr, signal.SIGINT)
    out = {}
    for key, sort in (("threads", "pid"), ("dsos", "dso"), ("symbols", "dso,symbol")):
        r = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                            "--sort", sort, "-g", "none", "--percent-limit", "0.7"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=300)
        lines = [re.sub(r"(\s+-)+$", "", re.sub(r"\s+", " ", l).strip())
                 for l in r.stdout.decode(errors="replace").splitlines()
                 if re.match(r"^\s+\d+\.\d+%", l)]
        out[key] = [l[:160] for l in lines[:30]]
    # Self time inside the two busiest threads.
    for l in out["threads"][:2]:
        tid = l.split()[1].split(":")[0]
        r = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--tid", tid,
                            "--sort", "dso,symbol", "-g", "none", "--percent-limit", "0.5"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=300)
        out[f"thread {tid}"] = [re.sub(r"(\s+-)+$", "", re.sub(r"\s+", " ", x).strip())[:160]
                                for x in r.stdout.decode(errors="replace").splitlines()
                                if re.match(r"^\s+\d+\.\d+%", x)][:20]
    # Callers of the top symbol (kernel time shows up as one symbol on this VM).
    r = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "sym",
                        "-g", "caller,2,callee,function,percent", "--percent-limit", "10"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=300)
    out["top_callers"] = [l.rstrip()[:160] for l in r.stdout.decode(errors="replace").splitlines()
                          if l.strip() and not l.startswith("#")][:60]
    # Name the threads: the only non-main thread called "volleyd" is the HTTP
    # engine (started before the actor system); the CAF workers carry the
    # multiplexer's name; "caf.actor" threads are detached actors (persistence).
    try:
        tids = sorted(int(t) for t in os.listdir(f"/proc/{vd.pid}/task"))
        names = {}
        for t in tids:
            with open(f"/proc/{vd.pid}/task/{t}/comm") as f:
                names[t] = f.read().strip()
        out["thread_roles"] = {str(t): ("main" if t == vd.pid else
                                        "http engine (curl multi)" if names[t] == "volleyd" else
                                        "detached actor (the busy one: persistence, LMDB)"
                                        if names[t] == "caf.actor" else
                                        "CAF scheduler worker / multiplexer"
                                        if names[t] == "caf.multiplexer" else names[t])
                                for t in tids}
    except OSError:
        pass
    shutil.copy(data, os.path.join(h.logs, "perf-b.data"))
    h.hotspots = out
    print("  perf (volleyd, scenario b, cpu-clock) by thread:", flush=True)
    for l in out["threads"][:10]:
        tid = l.split()[1].split(":")[0] if len(l.split()) > 1 else ""
        print(f"   {l}  {out.get('thread_roles', {}).get(tid, '')}", flush=True)
    print("  top symbols:", flush=True)
    for l in out["symbols"][:15]:
        print("   " + l, flush=True)


def paired_ceilings(h, sport):
    """wrk and the curl loop against this scenario's sink, just before Volley
    runs against it: on a shared machine, a ratio is only fair between
    numbers taken close together."""
    h.sink_reset(sport)
    w = h.wrk(sport, 100, h.args.ceiling_seconds)
    c = h.curl_loop(sport, 100, h.args.ceiling_seconds) or {}
    print(f"  paired ceilings: wrk {fmt(w)} req/s, curl loop {fmt(c.get('req_per_s'))} req/s "
          f"at {fmt(c.get('cpu_us_per_req'), 1)} µs CPU per request", flush=True)
    h.sink_reset(sport)
    return {"wrk_rps": w, "curl_rps": c.get("req_per_s"), "curl_cpu_us": c.get("cpu_us_per_req")}


def with_ratios(paired, rate, cpu_us=None):
    out = dict(paired)
    if cpu_us is not None:
        out["cpu_us"] = cpu_us
        if paired.get("curl_cpu_us"):
            out["ratio_cpu"] = cpu_us / paired["curl_cpu_us"]
    if rate and paired.get("wrk_rps"):
        out["ratio_wrk"] = rate / paired["wrk_rps"]
    if rate and paired.get("curl_rps"):
        out["ratio_curl"] = rate / paired["curl_rps"]
    return out


def scenario_fanout(h, run, subs, size, deliveries, label, name, timeout_s=None,
                    paired=False):
    port, sport = free_port(), free_port()
    sink = h.start_sink(sport, f"{label}-sink-{run}")
    ceilings = paired_ceilings(h, sport) if paired else {}
    url = f"http://127.0.0.1:{sport}/f"
    cfg = h.write_config(f"{label}{run}", [h.subscriber(i, f"{url}/{i}") for i in range(subs)],
                         port, os.path.join(h.tmp, f"{label}{run}"))
    vd = h.start_volleyd(cfg, port, f"{label}-volleyd-{run}")
    try:
        events = max(1, deliveries // subs)
        lg, st, rate, extra = throughput_phase(h, port, sport, events, subs, size,
                                               f"{name} run {run + 1}", timeout_s, pid=vd.pid)
        cpu = extra.pop("cpu_us", None)
        rss = vm_status(vd.pid).get("VmHWM")
        h.stop_volleyd(vd, name)
    finally:
        kill(vd)
        kill(sink, signal.SIGTERM)
    print(f"  {subs} subscriber(s), {size_label(size)}: {events} events, "
          f"{fmt(lg['events_per_s'])} events/s acked, {fmt(rate)} deliveries/s, "
          f"{fmt(cpu, 1)} µs CPU per delivery, peak RSS {fmt(rss)} MB "
          f"{extra.get('incomplete', '')}", flush=True)
    return {"events_s": lg["events_per_s"], "deliveries_s": rate, "rss_mb": rss, **extra,
            **with_ratios(ceilings, rate, cpu)}


def scenario_c(h, run):
    name = "(c) fan-out 1 -> 10"
    return [(name, scenario_fanout(h, run, 10, 100, h.args.c_deliveries, "c", name,
                                         paired=True))]


def scenario_d(h, run):
    rows = []
    for size, subs_list, deliveries in h.args.d_grid:
        for subs in subs_list:
            name = f"(d) {subs} subs, {size_label(size)}"
            row = scenario_fanout(h, run, subs, size, deliveries, f"d{subs}x{size}", name,
                                  h.args.d_cell_timeout)
            rows.append((name, row))
    return rows


# ---------------------------------------------------------------- (g), (h)


class Sampler(Poller):
    """The sink's count and volleyd's CPU time, RSS and (every second) open
    sockets. window(lo, hi) gives the rate and CPU per delivery between the
    first samples past lo and past hi deliveries."""

    def __init__(self, h, sport, pid):
        self.h, self.sport, self.pid = h, sport, pid
        self.samples = []  # (t, count, cpu_s, connections the sink accepted)
        self.peak_rss = self.peak_anon = 0.0
        self.peak_sockets = 0
        self._last_sockets = 0.0
        super().__init__()

    def sample(self):
        st = self.h.sink_stats(self.sport)
        cpu = proc_cpu_s(self.pid)
        if st is not None and cpu is not None:
            self.samples.append((time.monotonic(), st["count"], cpu, st["connections"]))
        vm = vm_status(self.pid)
        self.peak_rss = max(self.peak_rss, vm.get("VmRSS", 0.0))
        self.peak_anon = max(self.peak_anon, vm.get("RssAnon", 0.0))
        if time.monotonic() - self._last_sockets >= 1.0:
            self._last_sockets = time.monotonic()
            self.peak_sockets = max(self.peak_sockets, socket_count(self.pid) or 0)

    def count(self):
        return self.samples[-1][1] if self.samples else 0

    def window(self, lo, hi):
        a = next((x for x in self.samples if x[1] >= lo), None)
        b = next((x for x in self.samples if x[1] >= hi), None) or \
            (self.samples[-1] if self.samples else None)
        if a is None or b is None or b[1] <= a[1] or b[0] <= a[0]:
            return None, None, None, None
        n = b[1] - a[1]
        return n / (b[0] - a[0]), (b[2] - a[2]) * 1e6 / n, b[0] - a[0], (b[3] - a[3]) / n


def g_subscribers(subs, sport, hosts, path="g"):
    """Subscribers spread over `hosts` loopback addresses, as real ones are
    spread over hosts (libcurl reuses a connection only for its host)."""
    return [{"name": f"s{i}", "url": f"http://127.0.0.{1 + i % hosts}:{sport}/{path}/{i}",
             "events": ["bench.*"], "secret": SECRET} for i in range(subs)]


def g_cell(h, run, subs, latency_ms, conc):
    """Slow endpoints: `subs` subscribers whose endpoint answers after
    latency_ms, http.max_concurrent = conc. Deliveries/s and volleyd's CPU
    per delivery over a steady window, against the bare curl loop at the
    same concurrency in both forms."""
    name = f"(g) {subs} subs, {latency_ms} ms, {conc} in flight"
    hosts = h.args.g_hosts
    theory = conc * 1000.0 / latency_ms if latency_ms else None
    # Enough deliveries for the window; not waited for past it.
    est = min(theory or h.args.g_rate_guess, h.args.g_rate_guess)
    needed = max(int(est * h.args.g_seconds), 500)
    events = max(1, -(-needed // subs))
    port, sport = free_port(), free_port()
    sink = h.start_sink(sport, f"g-sink-{run}-{subs}-{latency_ms}-{conc}", delay_ms=latency_ms,
                        hosts=hosts)
    row = {"theory_s": theory, "queued": events * subs}
    vd = None
    try:
        for form in ("poll", "socket"):
            c = h.curl_loop(sport, 100, h.args.g_curl_seconds, handles=conc, loop=form,
                            hosts=hosts, warmup=max(1.0, 2.5 * latency_ms / 1000),
                            per_multi=128 if form == "socket" else 0) or {}
            row[f"curl_{form}_rps"] = c.get("req_per_s")
            row[f"curl_{form}_cpu_us"] = c.get("cpu_us_per_req")
            row[f"curl_{form}_rss_mb"] = c.get("peak_rss_mb")
        h.sink_reset(sport)
        extra = {"http": {"max_concurrent": conc},
                 "defaults": {"concurrency": {"adaptive": False}}}
        cfg = h.write_config(f"g{run}-{subs}-{latency_ms}-{conc}", g_subscribers(subs, sport, hosts),
                             port, os.path.join(h.tmp, f"g{run}-{subs}-{latency_ms}-{conc}"), extra)
        vd = h.start_volleyd(cfg, port, f"g-volleyd-{run}-{subs}-{latency_ms}-{conc}", timeout_s=120)
        # Idle: what volleyd spends with nothing to deliver (timers,
        # reports), once its start has settled.
        settle(vd.pid)
        idle0, t0 = proc_cpu_s(vd.pid), time.monotonic()
        time.sleep(h.args.g_idle_seconds)
        idle_rate = (proc_cpu_s(vd.pid) - idle0) / (time.monotonic() - t0)
        anon_idle = vm_status(vd.pid).get("RssAnon")
        sampler = Sampler(h, sport, vd.pid)
        publisher = threading.Thread(target=lambda: h.loadgen(
            port, events, name=f"g-loadgen-{run}-{subs}-{latency_ms}-{conc}", duration=300),
            daemon=True)
        publisher.start()
        lo, hi = int(needed * 0.15), int(needed * 0.9)
        deadline = time.monotonic() + h.args.g_seconds * 4 + 30
        profiler = None
        while time.monotonic() < deadline and sampler.count() < hi:
            if h.args.perf and profiler is None and sampler.count() >= lo:
                # --perf: a profile of the window, kept in the logs (not summarised).
                profiler = h.perf_record(vd.pid, max(2, h.args.g_seconds // 2), os.path.join(
                    h.logs, f"perf-g-{subs}-{latency_ms}-{conc}.data"))
            time.sleep(0.2)
        if profiler is not None:
            profiler.wait(timeout=60)
        sampler.stop()
        rate, cpu_us, span, connects = sampler.window(lo, hi)
        if rate is None:
            h.problem(f"{name}: no steady window (only {sampler.count()} of {needed} delivered)")
        elif sampler.count() < hi:
            row["incomplete"] = f"window ended at {sampler.count()}/{hi} deliveries"
        row.update(deliveries_s=rate, cpu_us=cpu_us, window_s=span, connects_per_delivery=connects,
                   idle_cpu_pct=idle_rate * 100,
                   rss_mb=sampler.peak_rss, rss_anon_mb=sampler.peak_anon,
                   rss_anon_idle_mb=anon_idle, sockets=sampler.peak_sockets)
        if cpu_us is not None and rate:
            # Without what volleyd spends with nothing to deliver.
            row["cpu_net_us"] = max(0.0, cpu_us - idle_rate * 1e6 / rate)
        if anon_idle is not None and sampler.peak_anon:
            row["rss_per_1k_mb"] = (sampler.peak_anon - anon_idle) / (conc / 1000.0)
        if rate and theory:
            row["of_theory"] = rate / theory
        if cpu_us and row.get("curl_socket_cpu_us"):
            row["ratio_cpu"] = cpu_us / row["curl_socket_cpu_us"]
        publisher.join(timeout=1)
        h.stop_volleyd(vd, name)
    finally:
        kill(vd)
        kill(sink, signal.SIGTERM)
    print(f"  {name}: {fmt(rate)} deliveries/s (theory {fmt(theory)}), {fmt(cpu_us, 1)} µs CPU "
          f"per delivery ({fmt(row.get('cpu_net_us'), 1)} without idle {fmt(idle_rate * 100, 1)}%), "
          f"RSS {fmt(row.get('rss_mb'))} MB (anon {fmt(row.get('rss_anon_mb'))}, idle "
          f"{fmt(anon_idle)}), {fmt(row.get('sockets'))} sockets, "
          f"{fmt(row.get('connects_per_delivery'), 3)} connects per delivery; curl loop poll "
          f"{fmt(row.get('curl_poll_rps'))}/s {fmt(row.get('curl_poll_cpu_us'), 1)} µs, socket "
          f"{fmt(row.get('curl_socket_rps'))}/s {fmt(row.get('curl_socket_cpu_us'), 1)} µs, "
          f"{fmt(row.get('curl_socket_rss_mb'))} MB", flush=True)
    return (name, row)


def scenario_g(h, run):
    return [g_cell(h, run, subs, latency, conc) for subs, latency, conc in h.args.g_grid]


def make_pki(d):
    """A CA and a certificate for 127.0.0.1 it signed (openssl CLI)."""
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for argv in (["openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem",
                  "-days", "2", "-subj", "/CN=Volley bench CA"],
                 ["openssl", "req", *ec, "-keyout", "server.key", "-out", "server.csr",
                  "-subj", "/CN=127.0.0.1"],
                 ["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey",
                  "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2",
                  "-extfile", "ext.cnf"]):
        subprocess.run(argv, cwd=d, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)
    return {k: os.path.join(d, f) for k, f in
            (("ca", "ca.pem"), ("cert", "server.pem"), ("key", "server.key"))}


def start_https_nginx(h, port, pki, d, name):
    """nginx answering 200 over TLS; its access log names each connection
    and whether its TLS session was resumed. Defaults otherwise (1,000
    requests per keep-alive connection), as a real endpoint has."""
    conf = write_nginx_conf(h, d, f"""  log_format conn '$connection $ssl_session_reused $connection_requests';
  access_log {d}/access.log conn buffer=256k flush=1s;
  ssl_session_cache shared:SSL:10m;
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {pki['cert']};
    ssl_certificate_key {pki['key']};
    location / {{ return 200; }}
  }}""")
    p = spawn(["nginx", "-c", conf, "-p", d], h.log_path(name))
    if not wait_until(lambda: port_open(port), 10):
        kill(p)
        raise RuntimeError(f"nginx (https) did not start (see {h.log_path(name)})")
    return p


def tls_connections(log_path):
    """(requests, connections, connections whose TLS session was resumed)."""
    requests, conns, resumed = 0, set(), set()
    try:
        with open(log_path) as f:
            for line in f:
                parts = line.split()
                if len(parts) < 2:
                    continue
                requests += 1
                conns.add(parts[0])
                if parts[1] == "r":
                    resumed.add(parts[0])
    except OSError:
        pass
    return requests, len(conns), len(resumed)


def scenario_h(h, run):
    """HTTPS: nginx with a certificate from a CA generated here, trusted
    through http.tls_ca_file; CPU per delivery with connection and TLS
    session reuse, beside the bare curl loop over HTTPS."""
    if not shutil.which("nginx"):
        h.problem("(h): nginx not installed")
        return []
    rows = []
    d = os.path.join(h.tmp, f"h{run}")
    pki = make_pki(os.path.join(d, "pki"))
    for subs in h.args.h_subs:
        name = f"(h) HTTPS, {subs} subscriber{'s' if subs > 1 else ''}"
        nd = os.path.join(d, f"nginx{subs}")
        os.makedirs(nd, exist_ok=True)
        port, sport = free_port(), free_port()
        ng = start_https_nginx(h, sport, pki, nd, f"h-nginx-{run}-{subs}")
        vd = None
        try:
            c = h.curl_loop(sport, 100, h.args.ceiling_seconds, scheme="https",
                            cafile=pki["ca"]) or {}
            log = os.path.join(nd, "access.log")
            kill(ng, signal.SIGTERM)  # writes out the curl loop's log lines
            _, curl_conns, curl_resumed = tls_connections(log)
            if os.path.exists(log):
                os.remove(log)
            ng = start_https_nginx(h, sport, pki, nd, f"h-nginx-{run}-{subs}")
            subscribers = [{"name": f"s{i}", "url": f"https://127.0.0.1:{sport}/h/{i}",
                            "events": ["bench.*"], "secret": SECRET} for i in range(subs)]
            cfg = h.write_config(f"h{run}-{subs}", subscribers, port,
                                 os.path.join(d, f"data{subs}"),
                                 {"http": {"tls_ca_file": pki["ca"]}})
            vd = h.start_volleyd(cfg, port, f"h-volleyd-{run}-{subs}")
            events = max(1, h.args.h_deliveries // subs)
            cpu0 = proc_cpu_s(vd.pid)
            t0 = time.monotonic()
            lg = h.loadgen(port, events, name=f"h-loadgen-{run}-{subs}")
            expect = events * subs
            # nginx counts arrivals in its log (written out once a second).
            done = wait_until(lambda: tls_connections(log)[0] >= expect, h.args.drain_timeout,
                              step_s=0.2)
            t1 = time.monotonic()
            cpu1 = proc_cpu_s(vd.pid)
            reqs, conns, resumed = tls_connections(log)
            if not done:
                h.problem(f"{name}: only {reqs}/{expect} requests reached nginx")
            cpu = cpu_us_per(cpu0, cpu1, reqs)
            row = {"events_s": lg["events_per_s"],
                   # nginx flushes its log once a second: the rate is a floor.
                   "deliveries_s": reqs / max(t1 - t0, 1e-9), "cpu_us": cpu,
                   "curl_rps": c.get("req_per_s"), "curl_cpu_us": c.get("cpu_us_per_req"),
                   "tls_connections": conns, "tls_resumed": resumed,
                   "curl_tls_connections": curl_conns, "curl_tls_resumed": curl_resumed}
            if cpu and c.get("cpu_us_per_req"):
                row["ratio_cpu"] = cpu / c["cpu_us_per_req"]
            h.stop_volleyd(vd, name)
        finally:
            kill(vd)
            kill(ng, signal.SIGTERM)
        print(f"  {name}: {fmt(row['deliveries_s'])} deliveries/s, {fmt(cpu, 1)} µs CPU per "
              f"delivery; {conns} TLS connections for {reqs} requests, {resumed} resumed; "
              f"curl loop over HTTPS {fmt(c.get('req_per_s'))}/s at "
              f"{fmt(c.get('cpu_us_per_req'), 1)} µs per request ({curl_conns} connections, "
              f"{curl_resumed} resumed)", flush=True)
        rows.append((name, row))
    return rows


def dead_endpoint_config(h, name, port, dport, data_dir):
    sub = h.subscriber(0, f"http://127.0.0.1:{dport}/dead", max_attempts=1000000,
                       backoff={"base_ms": 1000, "max_ms": 4000},
                       breaker={"failure_threshold": 5, "cooldown_ms": 1000,
                                "max_cooldown_ms": 2000})
    return h.write_config(name, [sub], port, data_dir,
                          {"queue": {"memory_limit": h.args.memory_limit}})


def fill_dead(h, run, label):
    """volleyd with a subscriber on a closed port, `big` events published."""
    port, dport = free_port(), free_port()
    data = os.path.join(h.tmp, f"{label}{run}")
    cfg = dead_endpoint_config(h, f"{label}{run}", port, dport, data)
    vd = h.start_volleyd(cfg, port, f"{label}-volleyd-{run}")
    sampler = RssSampler(vd.pid)
    try:
        lg = h.loadgen(port, h.args.big, duration=300, name=f"{label}-loadgen-{run}")
    except BaseException:
        kill(vd)
        raise
    return vd, cfg, port, dport, lg, sampler


def scenario_e(h, run):
    """1M deliveries queued behind a dead endpoint: RSS, then drain time."""
    vd, _cfg, _port, dport, lg, sampler = fill_dead(h, run, "e")
    sink = None
    try:
        time.sleep(2)
        after_fill = vm_status(vd.pid)
        cpu0 = proc_cpu_s(vd.pid)
        sink = h.start_sink(dport, f"e-sink-{run}")
        st = h.wait_arrivals(dport, h.args.big, timeout_s=h.args.drain_timeout, stall_s=30,
                             what=f"(e) run {run + 1}")
        cpu1 = proc_cpu_s(vd.pid)
        row = {"events_s": lg["events_per_s"], "rss_after_fill_mb": after_fill.get("VmRSS"),
               "queued": h.args.big}
        if st:
            drain_s = (st["last_ns"] - st["start_ns"]) / 1e9
            row.update(drain_s=drain_s, deliveries_s=delivery_rate(st),
                       first_after_s=(st["first_ns"] - st["start_ns"]) / 1e9,
                       cpu_us=cpu_us_per(cpu0, cpu1, st["count"]))
            if st["count"] > h.args.big:
                h.problem(f"(e): sink got {st['count']} requests for {h.args.big} deliveries")
        row["rss_mb"] = vm_status(vd.pid).get("VmHWM")
        row.update(sampler.peaks())
        h.stop_volleyd(vd, "e")
    finally:
        kill(vd)
        kill(sink, signal.SIGTERM)
    print(f"  (e) {h.args.big} queued behind a dead endpoint: ingest {fmt(row['events_s'])} "
          f"events/s, RSS after fill {fmt(row['rss_after_fill_mb'])} MB, peak {fmt(row['rss_mb'])} MB "
          f"(anon {fmt(row.get('rss_anon_mb'))} MB + file-backed {fmt(row.get('rss_file_mb'))} MB), "
          f"drain {fmt(row.get('drain_s'), 2)} s after the endpoint came up "
          f"({fmt(row.get('deliveries_s'))} deliveries/s)", flush=True)
    return [("(e) 1M behind dead endpoint", row)]


def scenario_f(h, run):
    """Restart with 1M pending: time from start to the first delivery."""
    vd, cfg, port, dport, lg, sampler = fill_dead(h, run, "f")
    sampler.peaks()
    sink = vd2 = None
    try:
        stop_s = h.stop_volleyd(vd, "f (first process)")
        sink = h.start_sink(dport, f"f-sink-{run}")
        t0 = time.time_ns()
        vd2 = spawn([h.volleyd, "--config", cfg], h.log_path(f"f-volleyd2-{run}"))
        st, listen_s = None, None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and vd2.poll() is None:
            if listen_s is None and port_open(port):
                listen_s = (time.time_ns() - t0) / 1e9
            s = h.sink_stats(dport)
            if s and s["count"] > 0:
                st = s
                break
            time.sleep(0.01)
        row = {"events_s": lg["events_per_s"], "shutdown_s": stop_s, "listen_s": listen_s,
               "queued": h.args.big}
        if st:
            row["resume_s"] = (st["first_ns"] - t0) / 1e9
            # Restarted delivery rate over a bounded window (no full drain).
            time.sleep(h.args.f_window)
            s2 = h.sink_stats(dport)
            row["deliveries_s"] = delivery_rate(s2)
        else:
            h.problem("(f): no delivery within 60 s of the restart")
        row["rss_mb"] = vm_status(vd2.pid).get("VmHWM")
        h.stop_volleyd(vd2, "f (restarted)")
    finally:
        kill(vd)
        kill(vd2)
        kill(sink, signal.SIGTERM)
    print(f"  (f) restart with {h.args.big} pending: first delivery after "
          f"{fmt(row.get('resume_s'), 3)} s, then {fmt(row.get('deliveries_s'))} deliveries/s; "
          f"shutdown took {fmt(stop_s, 2)} s", flush=True)
    return [("(f) restart, 1M pending", row)]


# ------------------------------------------- struggling endpoints (issue 13)

STRUGGLE_BACKOFF = {"base_ms": 100, "max_ms": 2000}


class StateSampler(Poller):
    """A subscriber's `subscribers` entry (and a sink's open count): in
    flight and the concurrency limit as volleyd reports them (its report is
    at most a second old)."""

    def __init__(self, h, port, name, sport=None):
        self.h, self.port, self.name, self.sport = h, port, name, sport
        self.samples = []  # (sink ok so far, in_flight, limit, sink open)
        super().__init__()

    def sample(self):
        st = self.h.subscriber_state(self.port, self.name)
        sk = self.h.sink_stats(self.sport) if self.sport else None
        if st:
            self.samples.append((sk["ok"] if sk else None, st.get("in_flight"),
                                 st.get("limit"), sk["open"] if sk else None))

    def settled(self, total):
        """Medians of in flight, limit and the sink's open requests while
        20-90 % of `total` had been answered 200: past slow start, before
        the tail."""
        self.stop()
        mid = [x for x in self.samples
               if x[0] is not None and 0.2 * total <= x[0] <= 0.9 * total] or self.samples

        def med(i):
            vs = [x[i] for x in mid if x[i] is not None]
            return statistics.median(vs) if vs else None
        return {"in_flight": med(1), "limit": med(2), "sink_open": med(3),
                "limit_samples": len(mid)}


def log_size(h, log_name):
    """Where this run's lines will start: logs are appended to across runs."""
    try:
        return os.path.getsize(h.log_path(log_name))
    except OSError:
        return 0


def breaker_opens(h, log_name, subscriber, since):
    """`subscriber=S breaker=open` lines volleyd wrote after byte `since`."""
    try:
        with open(h.log_path(log_name), "rb") as f:
            f.seek(since)
            needle = f"subscriber={subscriber} breaker=open".encode()
            return sum(1 for line in f if needle in line)
    except OSError:
        return None


def scenario_flaky(h, run):
    """One subscriber whose endpoint answers 503 to 30 % of requests, beside a
    healthy one, the same events to both (backoff 100 ms .. 2 s): time for
    each to receive everything, attempts per delivery, breaker openings."""
    n = h.args.flaky_events
    port, fport, hport = free_port(), free_port(), free_port()
    fsink = h.start_sink(fport, f"flaky-sink-{run}", fail_percent=30, seed=run + 1)
    hsink = h.start_sink(hport, f"flaky-healthy-sink-{run}")
    subs = [dict(h.subscriber(0, f"http://127.0.0.1:{fport}/flaky"), name="flaky",
                 backoff=STRUGGLE_BACKOFF, max_attempts=h.args.flaky_max_attempts),
            dict(h.subscriber(1, f"http://127.0.0.1:{hport}/healthy"), name="healthy",
                 backoff=STRUGGLE_BACKOFF, max_attempts=h.args.flaky_max_attempts)]
    name = f"flaky-volleyd-{run}"
    cfg = h.write_config(f"flaky{run}", subs, port, os.path.join(h.tmp, f"flaky{run}"))
    since = log_size(h, name)
    vd = h.start_volleyd(cfg, port, name)
    rows = []
    try:
        sampler = StateSampler(h, port, "flaky", fport)
        t0 = time.time_ns()
        lg = h.loadgen(port, n, name=f"flaky-loadgen-{run}")

        def dlq():
            st = h.control(port, {"op": "stats"}) or {}
            return st.get("node", {}).get("dlq", 0)
        hst = h.wait_arrivals(hport, n, h.args.drain_timeout, 30, f"(flaky) healthy run {run + 1}",
                              field="ok") or h.partial
        fst = h.wait_arrivals(fport, n, h.args.drain_timeout, 30, f"(flaky) flaky run {run + 1}",
                              field="ok", done=lambda s: s["ok"] + dlq() >= n) or h.partial
        settled = sampler.settled(n)
        dead = dlq()
        why = ""
        if dead:
            entries = (h.control(port, {"op": "dlq.list", "limit": 5}) or {}).get("entries", [])
            why = "; ".join(f"{e.get('attempts')} attempts, {e.get('last_error')}" for e in entries)
        for label, st, sink_name in (("(flaky) healthy beside it", hst, "healthy"),
                                     ("(flaky) 30 % 503", fst, "flaky")):
            row = {"events_s": lg["events_per_s"], "delivered": st and st["ok"],
                   "dead_lettered": dead if sink_name == "flaky" else 0,
                   "breaker_opens": breaker_opens(h, name, sink_name, since)}
            if st and st["ok"]:
                row["all_s"] = (st["ok_last_ns"] - t0) / 1e9
                row["attempts_per_delivery"] = st["count"] / st["ok"]
                row["deliveries_s"] = st["ok"] / max(1e-9, (st["ok_last_ns"] - st["ok_first_ns"]) / 1e9)
            if st and st["ok"] + row["dead_lettered"] < n:
                row["incomplete"] = f"only {st['ok']}/{n} delivered"
            if sink_name == "flaky":
                row.update(in_flight=settled["in_flight"], limit=settled["limit"])
                if why:
                    row["dead_letter_reasons"] = why
            rows.append((label, row))
        h.stop_volleyd(vd, "flaky")
    finally:
        kill(vd)
        kill(fsink, signal.SIGTERM)
        kill(hsink, signal.SIGTERM)
    for label, row in rows:
        print(f"  {label}: {fmt(row.get('delivered'))}/{n} in {fmt(row.get('all_s'), 1)} s "
              f"from the first event, {fmt(row.get('attempts_per_delivery'), 2)} attempts per "
              f"delivery, breaker opened {row['breaker_opens']} time(s), "
              f"{row['dead_lettered']} dead-lettered"
              + (f", in flight {fmt(row.get('in_flight'))} (limit {fmt(row.get('limit'))})"
                 if "limit" in row else ""), flush=True)
    return rows


def scenario_capacity(h, run):
    """An endpoint with C workers (429 above C open, W ms per request) and
    max_in_flight 64: where volley's in-flight requests settle, and the
    goodput against the endpoint's ceiling C / W."""
    n, cap, work = h.args.capacity_events, h.args.capacity, h.args.capacity_work_ms
    port, sport = free_port(), free_port()
    sink = h.start_sink(sport, f"capacity-sink-{run}", capacity=cap, work_ms=work)
    sub = dict(h.subscriber(0, f"http://127.0.0.1:{sport}/capped"), name="capped",
               backoff=STRUGGLE_BACKOFF, max_attempts=100)
    name = f"capacity-volleyd-{run}"
    cfg = h.write_config(f"capacity{run}", [sub], port, os.path.join(h.tmp, f"capacity{run}"))
    since = log_size(h, name)
    vd = h.start_volleyd(cfg, port, name)
    try:
        sampler = StateSampler(h, port, "capped", sport)
        t0 = time.time_ns()
        lg = h.loadgen(port, n, name=f"capacity-loadgen-{run}")
        st = h.wait_arrivals(sport, n, h.args.drain_timeout, 30, f"(capacity) run {run + 1}",
                             field="ok") or h.partial
        settled = sampler.settled(n)
        ceiling = cap * 1000.0 / work
        stats = h.control(port, {"op": "stats"}) or {}
        row = {"events_s": lg["events_per_s"], "delivered": st and st["ok"],
               "dead_lettered": stats.get("node", {}).get("dlq"),
               "breaker_opens": breaker_opens(h, name, "capped", since),
               "in_flight": settled["in_flight"], "limit": settled["limit"],
               "sink_open": settled["sink_open"], "ceiling_s": ceiling}
        if st and st["ok"]:
            goodput = st["ok"] / max(1e-9, (st["ok_last_ns"] - st["ok_first_ns"]) / 1e9)
            row.update(deliveries_s=goodput, of_ceiling=goodput / ceiling,
                       all_s=(st["ok_last_ns"] - t0) / 1e9,
                       attempts_per_delivery=st["count"] / st["ok"],
                       busy_share=st["busy"] / max(1, st["count"]), open_peak=st["open_peak"])
            if st["ok"] < n:
                row["incomplete"] = f"only {st['ok']}/{n} delivered"
        h.stop_volleyd(vd, "capacity")
    finally:
        kill(vd)
        kill(sink, signal.SIGTERM)
    label = f"(capacity) {cap} at once, {work} ms each"
    print(f"  {label}: in flight {fmt(row.get('in_flight'))} (limit {fmt(row.get('limit'))}, "
          f"endpoint busy {fmt(row.get('sink_open'))} of {cap}), goodput "
          f"{fmt(row.get('deliveries_s'))}/s = {fmt(row.get('of_ceiling'), 2)} of {fmt(ceiling)}/s, "
          f"{fmt(row.get('busy_share', 0) * 100, 1)} % answered 429, "
          f"{fmt(row.get('attempts_per_delivery'), 2)} attempts per delivery, breaker opened "
          f"{row['breaker_opens']} time(s)", flush=True)
    return [(label, row)]


# ------------------------------------------------------ cluster mode (issue 11)
#
# Every cluster phase runs on a mock cluster of its own (volley-mock-kafka,
# librdkafka's mock brokers in a process): the mock keeps at most 5 MiB per
# partition and drops the oldest records past that, so each phase stays well
# under it and the harness checks afterwards that no partition lost its start
# (bench/kafka_offsets), which would otherwise look like volleyd losing work.

CLUSTER_TOPICS = ("volley.events", "volley.changelog")
# The group timings of tests/test_cluster.cpp: a dead member is noticed
# after 4 s, not 45 s (librdkafka's default session timeout).
CLUSTER_KAFKA = {"session.timeout.ms": "4000", "heartbeat.interval.ms": "500",
                 "fetch.wait.max.ms": "100"}
# A closed port stands for the endpoint being down: retried, never
# dead-lettered, the breaker probing every 1-2 s, as in (e).
DOWN_ENDPOINT = {"max_attempts": 1000000, "backoff": {"base_ms": 1000, "max_ms": 4000},
                 "breaker": {"failure_threshold": 5, "cooldown_ms": 1000, "max_cooldown_ms": 2000}}


class MockKafka:
    """volley-mock-kafka with both topics of `partitions` partitions. Its stdin
    stays open (it stops at end of input); killed with the other children."""

    def __init__(self, h, partitions, name):
        self.h, self.partitions = h, partitions
        log = h.log_path(name)
        since = log_size(h, name)
        argv = [h.args.mock_kafka, "--brokers", "3"]
        for topic in CLUSTER_TOPICS:
            argv += ["--topic", f"{topic}:{partitions}"]
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=out,
                                         stderr=subprocess.STDOUT)
        _children.append(self.proc)

        def bootstrap():
            try:
                with open(log, "rb") as f:
                    f.seek(since)
                    m = re.search(rb"^bootstrap=(\S+)$", f.read(), re.M)
                    return m.group(1).decode() if m else None
            except OSError:
                return None
        self.bootstrap = wait_until(lambda: self.proc.poll() is not None or bootstrap(), 30)
        if self.proc.poll() is not None or not isinstance(self.bootstrap, str):
            kill(self.proc)
            raise RuntimeError(f"volley-mock-kafka did not start (see {log})")

    @property
    def pid(self):
        return self.proc.pid

    def offsets(self):
        """{topic: [[log start, end], ...]} from the brokers, or None."""
        argv = [os.path.join(self.h.bin, "kafka_offsets"), "--brokers", self.bootstrap]
        for topic in CLUSTER_TOPICS:
            argv += ["--topic", topic]
        try:
            r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60)
            out = json.loads(r.stdout.decode().strip().splitlines()[-1])
        except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
            return None
        return None if "error" in out else out

    def check_kept(self, what):
        """A problem when the mock dropped the start of a partition. Returns
        the most records one partition of each topic holds."""
        offs = self.offsets()
        if offs is None:
            self.h.problem(f"{what}: cannot read the mock's offsets (kafka_offsets)")
            return {}
        for topic, parts in offs.items():
            dropped = [p for p, (low, _) in enumerate(parts) if low > 0]
            if dropped:
                self.h.problem(f"{what}: the mock dropped the oldest records of {topic} "
                               f"partition(s) {dropped} (over its 5 MiB per partition): the run "
                               "is too big for the mock, losses in it are not volleyd's")
        return {topic: max(high for _, high in parts) for topic, parts in offs.items()}

    def stop(self):
        kill(self.proc)


def cluster_extra(mock, node):
    return {"cluster": {"brokers": mock.bootstrap, "node": node, "kafka": dict(CLUSTER_KAFKA)}}


def cluster_partitions(h, port):
    """The partitions a node owns (restored and consuming), by the cluster op."""
    answer = h.control(port, {"op": "cluster"})
    return answer.get("partitions") if answer else None


def settled(h, ports, partitions):
    """Every partition owned by exactly one of the nodes, each owning some."""
    seen = []
    for port in ports:
        own = cluster_partitions(h, port)
        if not own:
            return False
        seen += own
    return sorted(seen) == list(range(partitions))


def pending_on_disk(h, port):
    answer = h.control(port, {"op": "queue"})
    return answer.get("pending") if answer else None


def start_cluster(h, mock, run, names, subscriber, phase, fresh_data=True):
    """Starts one volleyd per name on `mock`, waits (bounded) until they share
    every partition; returns [(name, proc, port, data dir)]."""
    nodes = []
    for name in names:
        port = free_port()
        data = os.path.join(h.tmp, f"{phase}{run}-{name}")
        if fresh_data:
            shutil.rmtree(data, ignore_errors=True)
        cfg = h.write_config(f"{phase}{run}-{name}", [subscriber], port, data,
                             cluster_extra(mock, name))
        nodes.append((name, h.start_volleyd(cfg, port, f"{phase}-{name}-{run}"), port, data))
    if not wait_until(lambda: settled(h, [n[2] for n in nodes], mock.partitions), 90, 0.2):
        raise RuntimeError(f"{phase}: the nodes did not share the {mock.partitions} partitions "
                           f"within 90 s (see {h.log_path(f'{phase}-{names[0]}-{run}')})")
    return nodes


def publish_spread(h, ports, events, name, ids=False):
    """`events` split evenly over the nodes' ingresses, published at once
    (one loadgen per node); the combined answers: events/s acked over the
    longest publisher, and ok."""
    share = [events // len(ports) + (1 if i < events % len(ports) else 0)
             for i in range(len(ports))]
    outs = [None] * len(ports)

    def one(i):
        outs[i] = h.loadgen(ports[i], share[i], ids=ids, name=f"{name}-loadgen-{i}")
    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(len(ports))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    if any(o is None for o in outs):
        raise RuntimeError(f"{name}: a publisher gave no result")
    ok = sum(o["ok"] for o in outs)
    elapsed = max(o["elapsed_s"] for o in outs)
    return {"ok": ok, "events_per_s": ok / elapsed if elapsed > 0 else None}


def spread_phase(h, ports, pids, sport, events, name, mock=None):
    """Publishes `events` over the nodes and waits (bounded) for every
    delivery: deliveries/s, CPU µs per delivery summed over the volleyd
    processes, and the mock's own."""
    h.sink_reset(sport)
    cpu0 = [proc_cpu_s(p) for p in pids]
    mock0 = proc_cpu_s(mock.pid) if mock else None
    lg = publish_spread(h, ports, events, name)
    st = h.wait_arrivals(sport, lg["ok"], timeout_s=h.args.drain_timeout, what=name)
    cpu1 = [proc_cpu_s(p) for p in pids]
    mock1 = proc_cpu_s(mock.pid) if mock else None
    row = {"events_s": lg["events_per_s"], "nodes": len(ports)}
    if st is None and h.partial and h.partial["count"] > 0:
        st = h.partial
        row["incomplete"] = f"only {st['count']}/{lg['ok']} delivered"
    if st:
        row["deliveries_s"] = delivery_rate(st)
        if None not in cpu0 and None not in cpu1:
            row["cpu_us"] = cpu_us_per(sum(cpu0), sum(cpu1), st["count"])
        if mock:
            row["mock_cpu_us"] = cpu_us_per(mock0, mock1, st["count"])
        if st["count"] > lg["ok"]:
            h.problem(f"{name}: sink got {st['count']} requests for {lg['ok']} deliveries "
                      "(duplicates)")
    return row


def cluster_throughput(h, run, paired, sport):
    """(1a) the same load through a single node and a 1-node cluster; (1b)
    through 3 nodes sharing the partitions. Rows, CPU against the curl loop."""
    rows = []
    n, parts = h.args.cluster_events, h.args.cluster_partitions
    sub = h.subscriber(0, f"http://127.0.0.1:{sport}/cluster")
    warm = 2000  # connections and first pages, before the measured phase

    # Single node, no cluster key.
    port = free_port()
    cfg = h.write_config(f"cluster-single{run}", [sub], port,
                         os.path.join(h.tmp, f"cluster-single{run}"))
    vd = h.start_volleyd(cfg, port, f"cluster-single-volleyd-{run}")
    try:
        spread_phase(h, [port], [vd.pid], sport, warm, f"(cluster) single warm-up {run + 1}")
        single = spread_phase(h, [port], [vd.pid], sport, n, f"(cluster) single node run {run + 1}")
        h.stop_volleyd(vd, "(cluster) single node")
    finally:
        kill(vd)
    rows.append(("(cluster) single node, no cluster", {**single, **with_ratios(
        paired, single.get("deliveries_s"), single.get("cpu_us"))}))

    for count, label in ((1, "1 node"), (3, "3 nodes")):
        mock = MockKafka(h, parts, f"cluster-mock{count}-{run}")
        nodes = []
        try:
            nodes = start_cluster(h, mock, run, [f"node-{c}" for c in "abc"[:count]], sub,
                                  f"cluster{count}")
            ports, pids = [x[2] for x in nodes], [x[1].pid for x in nodes]
            spread_phase(h, ports, pids, sport, warm, f"(cluster) {label} warm-up {run + 1}", mock)
            row = spread_phase(h, ports, pids, sport, n, f"(cluster) {label} run {run + 1}", mock)
            highs = mock.check_kept(f"(cluster) {label} run {run + 1}")
            row["changelog_records"] = highs.get("volley.changelog")
            for name, proc, _, _ in nodes:
                h.stop_volleyd(proc, f"(cluster) {label} {name}")
        finally:
            for x in nodes:
                kill(x[1])
            mock.stop()
        row.update(with_ratios(paired, row.get("deliveries_s"), row.get("cpu_us")))
        if row.get("cpu_us") and single.get("cpu_us"):
            row["ratio_single_cpu"] = row["cpu_us"] / single["cpu_us"]
        if row.get("deliveries_s") and single.get("deliveries_s"):
            row["ratio_single_rate"] = row["deliveries_s"] / single["deliveries_s"]
        rows.append((f"(cluster) {label} on the mock", row))
    for name, row in rows:
        print(f"  {name}: {fmt(row.get('events_s'))} events/s acked, "
              f"{fmt(row.get('deliveries_s'))} deliveries/s, {fmt(row.get('cpu_us'), 1)} µs CPU "
              f"per delivery (volleyd" + (", summed" if row.get("nodes", 1) > 1 else "") + ")"
              + (f", mock {fmt(row.get('mock_cpu_us'), 1)} µs" if "mock_cpu_us" in row else "")
              + (f", {fmt(row.get('ratio_single_cpu'), 2)}x the single node's CPU"
                 if "ratio_single_cpu" in row else "")
              + f" {row.get('incomplete', '')}", flush=True)
    return rows


def kafka_partition(key, partitions):
    """librdkafka's default partitioner (consistent_random) for a keyed
    record: CRC-32 of the key modulo the partition count. A node's ingress
    keys each event by its id."""
    return zlib.crc32(key.encode()) % partitions


def sink_ids(h, port):
    """{webhook-id: (first 200 ns, 200s)} from a sink run with --track-ids."""
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("GET", "/__ids")
        body = c.getresponse().read().decode()
        c.close()
    except (OSError, http.client.HTTPException):
        return None
    out = {}
    for line in body.splitlines():
        parts = line.split()
        if len(parts) == 3:
            out[parts[0]] = (int(parts[1]), int(parts[2]))
    return out


def fill_pending(h, ports, pending, what):
    """Publishes `pending` events (with ids) over the nodes while the endpoint
    is down and waits until every delivery is on some node's disk; returns
    the acknowledged count and each node's pending count."""
    lg = publish_spread(h, ports, pending, what, ids=True)
    if lg["ok"] != pending:
        h.problem(f"{what}: only {lg['ok']}/{pending} events acknowledged")
    counts = [None] * len(ports)

    def all_on_disk():
        counts[:] = [pending_on_disk(h, p) for p in ports]
        return None not in counts and sum(counts) >= lg["ok"]
    if not wait_until(all_on_disk, 180, 0.25):
        raise RuntimeError(f"{what}: only {counts} of {lg['ok']} deliveries pending on the "
                           "nodes' disks after 180 s")
    return lg["ok"], counts


def follow_delivery(h, sport, want, what, started_ns, survivor_port=None, partitions=None):
    """Polls (bounded) until the sink has `want` distinct ids: returns the
    times since `started_ns` (CLOCK_REALTIME) until the survivor owned every
    partition (if asked), the first 200 and all of them, and the sink's
    last stats."""
    deadline = time.monotonic() + h.args.drain_timeout
    owned_s = None
    last, last_change = -1, time.monotonic()
    st = None
    while time.monotonic() < deadline:
        if survivor_port is not None and owned_s is None:
            own = cluster_partitions(h, survivor_port)
            if own and sorted(own) == list(range(partitions)):
                owned_s = (time.time_ns() - started_ns) / 1e9
        st = h.sink_stats(sport) or st
        if st and st["distinct"] >= want and (survivor_port is None or owned_s is not None):
            break
        if st and st["distinct"] != last:
            last, last_change = st["distinct"], time.monotonic()
        elif time.monotonic() - last_change > h.args.cluster_stall_s:
            h.problem(f"{what}: stalled at {st and st['distinct']}/{want} distinct deliveries "
                      f"(none new for {h.args.cluster_stall_s} s)")
            break
        time.sleep(0.1)
    else:
        h.problem(f"{what}: only {st and st['distinct']}/{want} distinct deliveries within "
                  f"{h.args.drain_timeout} s")
    row = {"owned_s": owned_s}
    if st:
        row.update(distinct=st["distinct"], repeats=st["repeats"],
                   missing=max(0, want - st["distinct"]))
        if st["ok_first_ns"]:
            row["first_s"] = (st["ok_first_ns"] - started_ns) / 1e9
        if st["distinct"] >= want:
            row["done_s"] = (st["ok_last_ns"] - started_ns) / 1e9
    return row


def restore_lines(h, log_name, since):
    """(changelog records, ms) summed over the 'restored from' lines a node
    wrote after byte `since`."""
    records = ms = 0
    try:
        with open(h.log_path(log_name), "rb") as f:
            f.seek(since)
            for m in re.finditer(rb"restored from (\d+) changelog records in (\d+) ms", f.read()):
                records += int(m.group(1))
                ms += int(m.group(2))
    except OSError:
        return None, None
    return records, ms


def cluster_handover(h, run):
    """(1c) 100,000 deliveries pending on a 2-node cluster (endpoint down);
    kill -9 one node, bring the endpoint up: when the survivor owns every
    partition, when the dead node's deliveries start to arrive, when all
    have arrived, and whether any is missing or repeated."""
    n, parts = h.args.handover_pending, h.args.cluster_partitions
    dport = free_port()
    sub = dict(h.subscriber(0, f"http://127.0.0.1:{dport}/handover"), **DOWN_ENDPOINT)
    mock = MockKafka(h, parts, f"handover-mock-{run}")
    nodes, sink = [], None
    what = f"(cluster) hand-over run {run + 1}"
    try:
        nodes = start_cluster(h, mock, run, ["node-a", "node-b"], sub, "handover")
        ports = [x[2] for x in nodes]
        acked, counts = fill_pending(h, ports, n, what)
        owned = [cluster_partitions(h, p) or [] for p in ports]
        (survivor_name, survivor, survivor_port, _), (_, victim, _, _) = nodes
        survivor_log = f"handover-{survivor_name}-{run}"
        since = log_size(h, survivor_log)
        killed_ns = time.time_ns()
        victim.kill()
        victim.wait(timeout=10)
        sink = h.start_sink(dport, f"handover-sink-{run}", track_ids=1)
        up_s = (time.time_ns() - killed_ns) / 1e9
        row = follow_delivery(h, dport, acked, what, killed_ns, survivor_port, parts)
        row.update(pending=acked, endpoint_up_s=up_s)
        # How much of the wait was restoring the dead node's partitions.
        row["restored_records"], row["restore_ms"] = restore_lines(h, survivor_log, since)
        # Which deliveries were the dead node's: its partitions' keys. The
        # count must match what it had pending, or the partitioner guess is off.
        ids = sink_ids(h, dport) or {}
        dead_parts = set(owned[1])
        theirs = [first for key, (first, _) in ids.items()
                  if kafka_partition(key, parts) in dead_parts]
        if len(theirs) == counts[1]:
            row["first_dead_s"] = (min(theirs) - killed_ns) / 1e9 if theirs else None
            row["dead_pending"] = counts[1]
        else:
            h.problem(f"{what}: {len(theirs)} delivered ids map to the dead node's partitions "
                      f"{sorted(dead_parts)} but it had {counts[1]} pending: cannot tell its "
                      "deliveries apart (partitioner not CRC-32?)")
        if row.get("repeats"):
            h.problem(f"{what}: {row['repeats']} deliveries arrived twice (nothing was in "
                      "flight when the node died: the endpoint was down)")
        if row.get("missing"):
            h.problem(f"{what}: {row['missing']} of {acked} acknowledged deliveries never "
                      "arrived")
        highs = mock.check_kept(what)
        row["changelog_records"] = highs.get("volley.changelog")
        h.stop_volleyd(survivor, what + " (survivor)")
    finally:
        for x in nodes:
            kill(x[1])
        kill(sink, signal.SIGTERM)
        mock.stop()
    print(f"  (cluster) hand-over: {fmt(row.get('pending'))} pending ({fmt(row.get('dead_pending'))} "
          f"on the killed node); after the kill: survivor owns all {parts} partitions at "
          f"{fmt(row.get('owned_s'), 2)} s, first of the dead node's deliveries at "
          f"{fmt(row.get('first_dead_s'), 2)} s, all at {fmt(row.get('done_s'), 2)} s; "
          f"{fmt(row.get('distinct'))} distinct, {fmt(row.get('repeats'))} repeated, "
          f"{fmt(row.get('missing'))} missing", flush=True)
    return [("(cluster) hand-over, kill -9 1 of 2", row)]


def cluster_cold_restore(h, run):
    """(1c) 100,000 deliveries pending on a 2-node cluster (endpoint down);
    both stopped; one fresh node (empty data dir) on the same mock, endpoint
    up: time from its start until it owns (has restored) every partition,
    the first delivery and the last."""
    n, parts = h.args.handover_pending, h.args.cluster_partitions
    dport = free_port()
    sub = dict(h.subscriber(0, f"http://127.0.0.1:{dport}/restore"), **DOWN_ENDPOINT)
    mock = MockKafka(h, parts, f"restore-mock-{run}")
    nodes, sink, fresh = [], None, None
    what = f"(cluster) cold restore run {run + 1}"
    try:
        nodes = start_cluster(h, mock, run, ["node-a", "node-b"], sub, "restore")
        acked, _ = fill_pending(h, [x[2] for x in nodes], n, what)
        for name, proc, _, _ in nodes:
            h.stop_volleyd(proc, f"{what} ({name})")
        highs = mock.check_kept(what)
        sink = h.start_sink(dport, f"restore-sink-{run}", track_ids=1)
        port = free_port()
        data = os.path.join(h.tmp, f"restore{run}-node-c")
        cfg = h.write_config(f"restore{run}-node-c", [sub], port, data,
                             cluster_extra(mock, "node-c"))
        log_name = f"restore-node-c-{run}"
        since = log_size(h, log_name)
        started_ns = time.time_ns()
        fresh = spawn([h.volleyd, "--config", cfg], h.log_path(log_name))
        if not wait_until(lambda: fresh.poll() is not None or port_open(port), 60):
            raise RuntimeError(f"{what}: the fresh node did not listen (see {h.log_path(log_name)})")
        row = follow_delivery(h, dport, acked, what, started_ns, port, parts)
        row.update(pending=acked, changelog_records=highs.get("volley.changelog"))
        row["restored_records"], row["restore_ms"] = restore_lines(h, log_name, since)
        if row.get("repeats"):
            h.problem(f"{what}: {row['repeats']} deliveries arrived twice")
        if row.get("missing"):
            h.problem(f"{what}: {row['missing']} of {acked} acknowledged deliveries never "
                      "arrived")
        h.stop_volleyd(fresh, what + " (fresh node)")
    finally:
        for x in nodes:
            kill(x[1])
        kill(fresh)
        kill(sink, signal.SIGTERM)
        mock.stop()
    print(f"  (cluster) cold restore: {fmt(row.get('pending'))} pending; from the fresh node's "
          f"start: owns all {parts} partitions at {fmt(row.get('owned_s'), 2)} s (restored "
          f"{fmt(row.get('restored_records'))} changelog records in {fmt(row.get('restore_ms'))} ms "
          f"summed), first delivery at {fmt(row.get('first_s'), 2)} s, all at "
          f"{fmt(row.get('done_s'), 2)} s; {fmt(row.get('repeats'))} repeated, "
          f"{fmt(row.get('missing'))} missing", flush=True)
    return [("(cluster) cold restore, 1 fresh node", row)]


def scenario_cluster(h, run):
    """Cluster mode on the mock: cost per delivery against a single node, 3
    nodes sharing the load, hand-over after kill -9, cold restore."""
    sport = free_port()
    sink = h.start_sink(sport, f"cluster-sink-{run}")
    try:
        paired = paired_ceilings(h, sport)
        rows = cluster_throughput(h, run, paired, sport)
    finally:
        kill(sink, signal.SIGTERM)
    return rows + cluster_handover(h, run) + cluster_cold_restore(h, run)


# ---------------------------------------------------- the delivery log (issue 15)


def dir_bytes(path):
    """Disk space the files under `path` take (allocated blocks, as du)."""
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.stat(os.path.join(root, f)).st_blocks * 512
            except OSError:
                pass
    return total


def scenario_log(h, run):
    """(b)'s shape twice in one run, with the delivery log kept 72 h (the
    default) and off: what logging every attempt costs per delivery, and
    on disk."""
    sport = free_port()
    sink = h.start_sink(sport, f"log-sink-{run}")
    rows = {}
    # Alternate which goes first: the machine's noise drifts.
    order = (72, 0) if run % 2 == 0 else (0, 72)
    try:
        paired = paired_ceilings(h, sport)
        for hours in order:
            port = free_port()
            data = os.path.join(h.tmp, f"log{run}-{hours}")
            cfg = h.write_config(f"log{run}-{hours}",
                                 [h.subscriber(0, f"http://127.0.0.1:{sport}/log")], port, data,
                                 {"log": {"retention_hours": hours}})
            vd = h.start_volleyd(cfg, port, f"log-volleyd-{run}-{hours}")
            try:
                h.sink_reset(sport)  # the other retention's deliveries counted here
                h.loadgen(port, 5000, conns=2, window=256, ids=True, name=f"log-check-{run}")
                h.wait_arrivals(sport, 5000, timeout_s=60, what=f"(log) {hours} h warm-up")
                lg, st, rate, extra = throughput_phase(h, port, sport, h.args.b_events, 1, 100,
                                                       f"(log) {hours} h run {run + 1}", pid=vd.pid)
                cpu = extra.pop("cpu_us", None)
                h.stop_volleyd(vd, f"(log) {hours} h")
            finally:
                kill(vd)
            rows[hours] = {"events_s": lg["events_per_s"], "deliveries_s": rate, **extra,
                           "data_mb": dir_bytes(data) / 1e6, **with_ratios(paired, rate, cpu)}
    finally:
        kill(sink, signal.SIGTERM)
    on, off = rows[72], rows[0]
    if on.get("cpu_us") and off.get("cpu_us"):
        on["ratio_log_cpu"] = on["cpu_us"] / off["cpu_us"]
    if on.get("deliveries_s") and off.get("deliveries_s"):
        on["ratio_log_rate"] = on["deliveries_s"] / off["deliveries_s"]
    for hours, row in ((72, on), (0, off)):
        print(f"  (log) retention {hours} h: {fmt(row.get('deliveries_s'))} deliveries/s, "
              f"{fmt(row.get('cpu_us'), 1)} µs CPU per delivery, data dir "
              f"{fmt(row.get('data_mb'), 1)} MB {row.get('incomplete', '')}", flush=True)
    print(f"  (log) on/off: CPU {fmt(on.get('ratio_log_cpu'), 2)}x, rate "
          f"{fmt(on.get('ratio_log_rate'), 2)}x", flush=True)
    return [("(log) retention_hours 72 (default)", on), ("(log) retention_hours 0 (off)", off)]


# ---------------------------------------------------------------- reporting


def fmt(v, digits=0):
    if v is None:
        return "-"
    if digits == 0:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"


def medians(samples):
    out = {}
    for k, vs in samples.items():
        vs = [v for v in vs if v is not None]
        if vs and all(isinstance(v, str) for v in vs):
            out[k] = " / ".join(dict.fromkeys(vs))
        else:
            vs = [v for v in vs if not isinstance(v, str)]
            out[k] = statistics.median(vs) if vs else None
    return out


COLUMNS = [
    ("scenario", None, 30),
    ("events/s acked", "events_s", 14),
    ("deliveries/s", "deliveries_s", 12),
    ("p50 ms", "p50_ms", 7),
    ("p99 ms", "p99_ms", 7),
    ("peak RSS MB", "rss_mb", 11),
    ("wrk req/s", "wrk_rps", 10),
    ("curl-loop req/s", "curl_rps", 15),
    ("volley/wrk", "ratio_wrk", 10),
    ("volley/curl", "ratio_curl", 11),
    ("CPU µs/delivery", "cpu_us", 15),
    ("curl CPU µs/req", "curl_cpu_us", 15),
    ("CPU volley/curl", "ratio_cpu", 15),
    ("notes", "notes", 0),
]

# Scenario (g) has a table of its own.
G_COLUMNS = [
    ("scenario", None, 36),
    ("deliveries/s", "deliveries_s", 12),
    ("conc/latency", "theory_s", 12),
    ("of it", "of_theory", 6),
    ("CPU µs/delivery", "cpu_us", 15),
    ("same, less idle", "cpu_net_us", 15),
    ("curl perform µs/req", "curl_poll_cpu_us", 19),
    ("curl socket µs/req", "curl_socket_cpu_us", 18),
    ("CPU volley/curl", "ratio_cpu", 15),
    ("curl perform req/s", "curl_poll_rps", 18),
    ("curl socket req/s", "curl_socket_rps", 17),
    ("RSS MB", "rss_mb", 7),
    ("anon MB", "rss_anon_mb", 8),
    ("anon MB per 1k in flight", "rss_per_1k_mb", 24),
    ("curl RSS MB", "curl_socket_rss_mb", 11),
    ("sockets", "sockets", 8),
    ("connects/delivery", "connects_per_delivery", 17),
    ("notes", "notes", 0),
]

# So have the struggling endpoints, (flaky) and (capacity).
STRUGGLE_COLUMNS = [
    ("scenario", None, 30),
    ("delivered", "delivered", 9),
    ("all in s", "all_s", 8),
    ("attempts/delivery", "attempts_per_delivery", 17),
    ("breaker opened", "breaker_opens", 14),
    ("dead-lettered", "dead_lettered", 13),
    ("in flight", "in_flight", 9),
    ("limit", "limit", 5),
    ("goodput/s", "deliveries_s", 9),
    ("of ceiling", "of_ceiling", 10),
    ("429 share", "busy_share", 9),
    ("notes", "notes", 0),
]


# Cluster mode (issue 11): throughput against a single node, then the
# hand-over and the cold restore, each in a table of its own; then the
# delivery log's cost (issue 15).
CLUSTER_COLUMNS = [
    ("scenario", None, 34),
    ("nodes", "nodes", 5),
    ("events/s acked", "events_s", 14),
    ("deliveries/s", "deliveries_s", 12),
    ("CPU µs/delivery", "cpu_us", 15),
    ("mock CPU µs/delivery", "mock_cpu_us", 20),
    ("curl CPU µs/req", "curl_cpu_us", 15),
    ("CPU volley/curl", "ratio_cpu", 15),
    ("CPU vs single node", "ratio_single_cpu", 18),
    ("rate vs single node", "ratio_single_rate", 19),
    ("notes", "notes", 0),
]

HANDOVER_COLUMNS = [
    ("scenario", None, 36),
    ("pending", "pending", 8),
    ("all partitions owned s", "owned_s", 22),
    ("first of the dead node's s", "first_dead_s", 26),
    ("first delivery s", "first_s", 16),
    ("all delivered s", "done_s", 15),
    ("distinct", "distinct", 8),
    ("repeated", "repeats", 8),
    ("missing", "missing", 7),
    ("notes", "notes", 0),
]

LOG_COLUMNS = [
    ("scenario", None, 34),
    ("events/s acked", "events_s", 14),
    ("deliveries/s", "deliveries_s", 12),
    ("CPU µs/delivery", "cpu_us", 15),
    ("curl CPU µs/req", "curl_cpu_us", 15),
    ("CPU volley/curl", "ratio_cpu", 15),
    ("data dir MB", "data_mb", 11),
    ("CPU log on/off", "ratio_log_cpu", 14),
    ("rate log on/off", "ratio_log_rate", 15),
    ("notes", "notes", 0),
]

TABLES = [COLUMNS, G_COLUMNS, STRUGGLE_COLUMNS, CLUSTER_COLUMNS, HANDOVER_COLUMNS, LOG_COLUMNS]


def columns_of(scenario):
    """The table a scenario's row is shown in."""
    if scenario.startswith("(g)"):
        return G_COLUMNS
    if scenario.startswith(("(flaky)", "(capacity)")):
        return STRUGGLE_COLUMNS
    if scenario.startswith(("(cluster) hand-over", "(cluster) cold restore")):
        return HANDOVER_COLUMNS
    if scenario.startswith("(cluster)"):
        return CLUSTER_COLUMNS
    if scenario.startswith("(log)"):
        return LOG_COLUMNS
    return COLUMNS


def cell(key, v):
    if v is None:
        return "-"
    if key in ("p50_ms", "p99_ms", "attempts_per_delivery", "of_ceiling", "of_theory") \
            or key.startswith("ratio"):
        return f"{v:.2f}"
    if key in ("owned_s", "first_dead_s", "first_s", "done_s"):
        return f"{v:.2f}"
    if key.endswith("cpu_us") or key in ("cpu_net_us", "rss_per_1k_mb", "all_s", "data_mb"):
        return f"{v:.1f}"
    if key == "busy_share":
        return f"{v * 100:.1f} %"
    if key == "connects_per_delivery":
        return f"{v:.3f}"
    if isinstance(v, str):
        return v
    return f"{v:,.0f}"


def build_rows(results):
    """Medians per row, plus the ceilings and ratios for delivery rows."""
    rows = []
    ceilings = {}
    for name, samples in results.items():
        m = medians(samples)
        if name.startswith("ceiling"):
            ceilings[name] = m
        rows.append([name, m, samples])
    out = []
    for name, m, samples in rows:
        size = "100 B"
        mm = re.search(r"(\d+ K?B)", name)
        if mm and not name.startswith("ceiling"):
            size = mm.group(1)
        ceil = ceilings.get(f"ceiling {size}", {})
        if name.startswith(("(b)", "(c)", "(d)")):
            m.setdefault("wrk_rps", ceil.get("wrk_rps"))
            m.setdefault("curl_rps", ceil.get("curl_rps"))
            m.setdefault("curl_cpu_us", ceil.get("curl_cpu_us"))
        if m.get("cpu_us") and m.get("curl_cpu_us") and m.get("ratio_cpu") is None:
            m["ratio_cpu"] = m["cpu_us"] / m["curl_cpu_us"]
        # Rows with paired ceilings carry the median of per-run ratios;
        # the others are divided by the ceiling scenario's medians.
        d = m.get("deliveries_s")
        if d and m.get("wrk_rps") and m.get("ratio_wrk") is None \
                and not name.startswith("ceiling"):
            m["ratio_wrk"] = d / m["wrk_rps"]
        if d and m.get("curl_rps") and m.get("ratio_curl") is None \
                and not name.startswith("ceiling"):
            m["ratio_curl"] = d / m["curl_rps"]
        notes = []
        if "ratio_wrk" in samples:
            notes.append("ceilings paired (measured on this sink right before)")
        if m.get("incomplete"):
            runs = len(samples.get("incomplete", []))
            notes.append(f"INCOMPLETE in {runs} run(s): {m['incomplete']}")
        if m.get("queued") is not None and m["queued"] != 1000000 \
                and not name.startswith("(g)"):
            notes.append(f"{m['queued']:,.0f} queued (not 1M)")
        if m.get("drain_s") is not None:
            notes.append(f"drain {m['drain_s']:.1f} s after endpoint up")
        if m.get("tls_connections") is not None:
            notes.append(f"{m['tls_connections']:.0f} TLS connections ({m['tls_resumed']:.0f} "
                         f"resumed); curl loop {m.get('curl_tls_connections') or 0:.0f} "
                         f"({m.get('curl_tls_resumed') or 0:.0f} resumed)")
        if m.get("window_s") is not None:
            notes.append(f"window {m['window_s']:.1f} s; idle CPU {m.get('idle_cpu_pct') or 0:.1f}%;"
                         f" anon idle {m.get('rss_anon_idle_mb') or 0:.0f} MB;"
                         f" {m['queued']:,.0f} queued")
        elif m.get("rss_anon_mb") is not None:
            notes.append(f"peak RSS = anon {m['rss_anon_mb']:.0f} MB + file-backed (LMDB map) "
                         f"{m['rss_file_mb'] or 0:.0f} MB, sampled")
        if m.get("rss_after_fill_mb") is not None:
            notes.append(f"RSS after fill {m['rss_after_fill_mb']:.0f} MB")
        if m.get("resume_s") is not None:
            notes.append(f"first delivery {m['resume_s']:.2f} s after start")
        if m.get("listen_s") is not None:
            notes.append(f"ingress up {m['listen_s']:.2f} s after start")
        if m.get("shutdown_s") is not None:
            notes.append(f"SIGTERM->exit {m['shutdown_s']:.2f} s")
        if m.get("latency_rate") is not None:
            notes.append(f"latency at {m['latency_rate']:,.0f} ev/s")
        if m.get("ack_p99_ms") is not None:
            notes.append(f"ack p50/p99 {m['ack_p50_ms']:.1f}/{m['ack_p99_ms']:.1f} ms")
        if m.get("dead_letter_reasons"):
            notes.append(f"dead-lettered: {m['dead_letter_reasons']}")
        if m.get("ceiling_s") is not None:
            notes.append(f"endpoint ceiling {m['ceiling_s']:,.0f}/s; busy at the endpoint "
                         f"{m['sink_open'] or 0:.0f} (median), at most {m.get('open_peak') or 0:.0f}"
                         " open at once incl. the refused")
        if m.get("dead_pending") is not None:
            notes.append(f"{m['dead_pending']:,.0f} of them on the killed node")
        if m.get("endpoint_up_s") is not None:
            notes.append(f"endpoint up {m['endpoint_up_s']:.2f} s after the kill")
        if m.get("restored_records") is not None:
            notes.append(f"restored {m['restored_records']:,.0f} changelog records, "
                         f"{m['restore_ms'] or 0:,.0f} ms summed over partitions")
        if m.get("changelog_records") is not None:
            notes.append(f"changelog: up to {m['changelog_records']:,.0f} records in a partition")
        m["notes"] = "; ".join(notes)
        out.append({"scenario": name, "median": m, "samples": samples})
    return out


def render_table(rows, markdown, columns=None):
    """The main table, or (g)'s with columns=G_COLUMNS, or the struggling
    endpoints' with columns=STRUGGLE_COLUMNS; each only with its rows, ""
    when it has none."""
    cols = columns or COLUMNS
    rows = [r for r in rows if columns_of(r["scenario"]) is cols]
    if not rows:
        return ""
    heads = [c[0] for c in cols]
    lines = []
    if markdown:
        lines.append("| " + " | ".join(heads) + " |")
        lines.append("|" + "|".join("---" if i == 0 or i == len(heads) - 1 else "---:"
                                     for i in range(len(heads))) + "|")
        for r in rows:
            vals = [r["scenario"]] + [cell(k, r["median"].get(k)) for _, k, _ in cols[1:]]
            lines.append("| " + " | ".join(vals) + " |")
    else:
        widths = [max(w, len(h)) for (h, _, w) in cols]
        lines.append("  ".join(h.ljust(widths[i]) if i == 0 else h.rjust(widths[i])
                               for i, h in enumerate(heads)).rstrip())
        for r in rows:
            vals = [r["scenario"]] + [cell(k, r["median"].get(k)) for _, k, _ in cols[1:]]
            lines.append("  ".join(v.ljust(widths[i]) if i in (0, len(vals) - 1)
                                   else v.rjust(widths[i]) for i, v in enumerate(vals)).rstrip())
    return "\n".join(lines)


def targets(rows):
    by = {r["scenario"]: r["median"] for r in rows}
    checks = []

    def check(label, value, ok, shown):
        checks.append({"target": label, "value": value,
                       "met": None if value is None else bool(ok),
                       "shown": "-" if value is None else shown})

    # An event no subscriber wants has nothing to keep, so the plain (a) run
    # writes nothing; with client ids every event's id is committed and
    # synced before its answer: that is the durable ingest rate.
    a = by.get("(a) ingest only, client ids", {})
    v = a.get("events_s")
    check("(a) >= 150k events/s acknowledged, durable (client ids committed)", v,
          v is not None and v >= 150000, fmt(v))
    b = by.get("(b) 1 subscriber", {})
    v = b.get("deliveries_s")
    check("(b) >= 30k deliveries/s", v, v is not None and v >= 30000, fmt(v))
    v = b.get("p99_ms")
    check("(b) p99 <= 20 ms at half rate", v, v is not None and v <= 20, fmt(v, 2) + " ms")
    v = b.get("ratio_wrk")
    check("(b) volley/wrk >= 0.3", v, v is not None and v >= 0.3, fmt(v, 2))
    c = by.get("(c) fan-out 1 -> 10", {})
    v = c.get("deliveries_s")
    check("(c) >= 30k deliveries/s", v, v is not None and v >= 30000, fmt(v))
    e = by.get("(e) 1M behind dead endpoint", {})
    v = e.get("rss_mb")
    check("(e) peak RSS <= 300 MB (VmHWM)", v, v is not None and v <= 300, fmt(v) + " MB")
    v = e.get("rss_anon_mb")
    check("(e) ... of which anonymous (daemon's own) memory", v, v is not None and v <= 300,
          fmt(v) + " MB")
    f = by.get("(f) restart, 1M pending", {})
    v = f.get("resume_s")
    check("(f) first delivery <= 2 s after restart", v, v is not None and v <= 2,
          fmt(v, 2) + " s")
    # Issue 12: slow endpoints.
    v = b.get("ratio_cpu")
    check("(b) CPU µs per delivery <= 1.5x the curl loop's per request (same run)", v,
          v is not None and v <= 1.5, fmt(v, 2) + "x")
    g16 = by.get("(g) 10000 subs, 500 ms, 16384 in flight", {})
    g64 = by.get("(g) 10000 subs, 500 ms, 64 in flight", {})
    g0 = by.get("(g) 10000 subs, 0 ms, 1024 in flight", {})
    rate, theory, cpu_bound = g16.get("deliveries_s"), g16.get("theory_s"), g0.get("deliveries_s")
    if rate and theory:
        bound = min(theory, cpu_bound) if cpu_bound else theory
        v = rate / bound
        check(f"(g) 10k subs, 500 ms, 16k in flight: >= 0.8 of min(concurrency/latency "
              f"{fmt(theory)}, CPU-bound {fmt(cpu_bound)} = the 0 ms cell)", v, v >= 0.8,
              f"{fmt(rate)}/s = {v:.2f}")
    for key, label in (("cpu_us", ""), ("cpu_net_us", ", less idle CPU")):
        a, b64 = g16.get(key), g64.get(key)
        v = a / b64 if a and b64 else None
        check(f"(g) CPU µs per delivery at 16k in flight <= 1.5x at 64{label}", v,
              v is not None and v <= 1.5,
              "-" if v is None else f"{a:.1f} / {b64:.1f} = {v:.2f}x")
    v = g16.get("rss_mb")
    check("(g) 16k transfers in flight: RSS <= 400 MB", v, v is not None and v <= 400,
          fmt(v) + " MB")
    return checks


def machine_info():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = None
    try:
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) // 1024
    except OSError:
        pass

    def git(*a):
        try:
            return subprocess.run(["git", "-C", ROOT, *a], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, timeout=10).stdout.decode().strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "mem_mb": mem,
        "kernel": os.uname().release,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "git_commit": git("rev-parse", "--short", "HEAD"),
        "git_dirty_files": len([l for l in git("status", "--porcelain").splitlines() if l]),
    }


def write_reports(h, rows, machine, command, load, busy_at, started):
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    tcheck = targets(rows)
    doc = {
        "command": command,
        "machine": machine,
        "runs": h.args.runs,
        "d_runs": h.args.d_runs,
        "quick": h.args.quick,
        "settings": {
            "concurrency": h.args.concurrency, "sink_threads": h.args.sink_threads,
            "big": h.args.big, "memory_limit": h.args.memory_limit,
            "ingest_events": h.args.ingest_events, "b_events": h.args.b_events,
            "c_deliveries": h.args.c_deliveries, "latency_seconds": h.args.latency_seconds,
            "d_grid": h.args.d_grid, "ceiling_seconds": h.args.ceiling_seconds,
            "g_grid": h.args.g_grid, "g_hosts": h.args.g_hosts, "g_seconds": h.args.g_seconds,
            "h_subs": h.args.h_subs, "h_deliveries": h.args.h_deliveries,
            "flaky_events": h.args.flaky_events, "capacity_events": h.args.capacity_events,
            "capacity": h.args.capacity, "capacity_work_ms": h.args.capacity_work_ms,
            "cluster_partitions": h.args.cluster_partitions,
            "cluster_events": h.args.cluster_events, "handover_pending": h.args.handover_pending,
        },
        "loadavg_at_scenario_start": load,
        "cpu_busy_before_each_run": busy_at,
        "duration_s": round(time.monotonic() - started, 1),
        "rows": rows,
        "targets": tcheck,
        "hotspots": h.hotspots,
        "problems": h.problems,
    }
    # A run of some scenarios only leaves RESULTS.md (the whole table) alone.
    full = set(h.args.scenarios) >= set(ALL_SCENARIOS)
    part = "" if full else "-" + "-".join(h.args.scenarios)
    json_path = h.args.json_out or os.path.join(ROOT, "bench", "results", f"latest{part}.json")
    with open(json_path, "w") as f:
        json.dump(doc, f, indent=1)

    md = [
        "# Volley benchmark results",
        "",
        "Written by `bench/run.sh`; medians of the runs. Rerun to refresh.",
        "",
        f"- Command: `{command}`",
        f"- Date: {machine['date']}; runs per scenario: {h.args.runs}"
        f"{'' if h.args.d_runs == h.args.runs else f' ((d) grid: {h.args.d_runs})'}"
        f"{' (quick mode)' if h.args.quick else ''}; whole run {doc['duration_s']:.0f} s",
        f"- Machine: {machine['nproc']} cores, {machine['cpu_model']}, "
        f"{machine['mem_mb']} MB RAM, Linux {machine['kernel']}",
        f"- Tree: commit {machine['git_commit']}"
        f"{', with %d uncommitted files' % machine['git_dirty_files'] if machine['git_dirty_files'] else ''}",
        f"- Load average (1 min) when each scenario started: "
        + ", ".join(f"{k} {v:.1f}" for k, v in load.items())
        + " — the machine is shared, so other work competes for its 2 cores.",
        f"- CPU busy (all processes) just before each run, after waiting up to "
        f"{h.args.wait_idle:.0f} s for quiet: "
        + ", ".join(f"{k} " + "/".join(f"{b:.0%}" for b in v) for k, v in busy_at.items()),
        f"- Same concurrency everywhere: Volley `max_in_flight` 64 (default), "
        f"wrk `-t2 -c{h.args.concurrency}`, curl loop {h.args.concurrency} handles; "
        f"sink: bench/sink.cpp with {h.args.sink_threads} epoll thread(s).",
        "",
        render_table(rows, markdown=True) or "(ceil, a-f and h not run)",
        "",
    ]
    g_table = render_table(rows, markdown=True, columns=G_COLUMNS)
    if g_table:
        md += ["## (g) Slow endpoints", "",
               "Subscribers spread over loopback hosts 127.0.0.1..127.0.0.N, their endpoint "
               "(bench/sink --delay-ms) answering after the latency; `http.max_concurrent` = the "
               "transfers in flight; adaptive concurrency off (so the engine's cap binds). Rate and "
               "CPU over a steady window (15 %..90 % of the deliveries wanted). The curl loop runs "
               "at the same concurrency against the same sink right before volleyd, in both "
               "forms (`curl_multi_perform`, and `curl_multi_socket_action` + epoll with 128 "
               "handles per multi handle, as the engine).", "",
               g_table, ""]
    struggle_table = render_table(rows, markdown=True, columns=STRUGGLE_COLUMNS)
    if struggle_table:
        md += ["## Struggling endpoints (issue 13)", "", struggle_table, ""]
    cluster_table = render_table(rows, markdown=True, columns=CLUSTER_COLUMNS)
    if cluster_table:
        md += ["## Cluster mode (issue 11)", "",
               f"One subscriber, the bench sink answering at once, 100 B events; the cluster "
               f"runs on volley-mock-kafka (3 mock brokers, both topics with "
               f"{h.args.cluster_partitions} partitions, a fresh mock per row). CPU µs per "
               "delivery is volleyd's (summed over the nodes); the mock's is apart, a cost a "
               "real deployment pays on its brokers. \"vs single node\" divides by the single "
               "node's figure of the same run.", "", cluster_table, ""]
    handover_table = render_table(rows, markdown=True, columns=HANDOVER_COLUMNS)
    if handover_table:
        md += ["### Hand-over and cold restore", "",
               "Deliveries pending behind a closed port on 2 nodes. Hand-over: times from the "
               "kill -9 of one node (the endpoint comes up right after it). Cold restore: both "
               "nodes stopped, then times from the start of one fresh node with an empty data "
               "dir (the endpoint up before it). \"distinct\" counts webhook-ids answered 200, "
               "\"repeated\" 200s for an id seen before.", "", handover_table, ""]
    log_table = render_table(rows, markdown=True, columns=LOG_COLUMNS)
    if log_table:
        md += ["## The delivery log (issue 15)", "",
               "(b)'s shape (1 subscriber, the sink answering at once) twice in each run, "
               "`log.retention_hours` 72 (the default) and 0 (off), in alternating order; the "
               "ratios are medians of each run's own.", "", log_table, ""]
    md += [
        "## Targets (issues 5 and 12)",
        "",
        "| target | measured | met |",
        "|---|---:|---|",
    ]
    for t in tcheck:
        met = "n/a" if t["met"] is None else ("yes" if t["met"] else "**no**")
        md.append(f"| {t['target']} | {t['shown']} | {met} |")
    if h.hotspots:
        roles = h.hotspots.get("thread_roles", {})
        threads = []
        for l in h.hotspots["threads"][:12]:
            parts = l.split()
            tid = parts[1].split(":")[0] if len(parts) > 1 else ""
            threads.append(f"{l}  ({roles.get(tid, '?')})")
        md += ["", "## Hot spots of volleyd during (b) (perf record -e cpu-clock -g, self time)",
               "", "By thread:", "", "```"] + threads + ["```", "", "By library:", "", "```"] \
            + h.hotspots["dsos"][:12] + ["```", "", "By symbol:", "", "```"] \
            + h.hotspots["symbols"][:25] + ["```", "", "Callers of the top symbol:", "", "```"] \
            + h.hotspots.get("top_callers", [])[:40] + ["```"]
        for key, lines in h.hotspots.items():
            if key.startswith("thread "):
                tid = key.split()[1]
                md += ["", f"Inside thread {tid} ({roles.get(tid, '?')}), % of all samples:", "",
                       "```"] + lines + ["```"]
    md += ["", "## Problems seen during the run", ""]
    md += [f"- {p}" for p in h.problems] or ["- none"]
    md += ["", "## How each number is measured", "", METHOD]
    out = os.path.join(ROOT, "bench", "RESULTS.md") if full else \
        os.path.join(ROOT, "bench", "results", f"RESULTS{part}.md")
    with open(out, "w") as f:
        f.write("\n".join(md) + "\n")
    return tcheck, os.path.relpath(out, ROOT), h.args.json_out or os.path.relpath(json_path, ROOT)


METHOD = """\
- **events/s acked**: `bench/loadgen` (4 TCP connections, 1024 lines in flight
  each) counts `{"ok":true}` answers ÷ time from the first line sent to the
  last answer. An answer means the event and its deliveries are committed to
  LMDB. In (a) no subscriber matches, so a plain event has nothing to write
  and is answered without a commit; the "client ids" run commits (and
  fsyncs) every event's id for the dedup window, which makes it the durable
  ingest rate. (e)'s ingest column commits events and deliveries.
- **deliveries/s**: requests counted by `bench/sink` ÷ time between the first
  and the last arrival, with every event published at full speed (so the
  delivery path, not the publisher, sets the pace). Every delivery must arrive
  before the number counts; a stall is reported as a problem.
- **p50/p99 ms** (b): ingest→delivery latency at half the measured delivery
  rate. The publisher writes `data.t` = CLOCK_REALTIME ns when it sends the
  line; the sink subtracts it from its own CLOCK_REALTIME on arrival (same
  machine, same clock), into a log-linear histogram (<1 % error).
- **peak RSS**: `VmHWM` of volleyd from /proc at the end of the scenario. It
  counts file-backed pages too, and LMDB reads through a shared memory map,
  so for (b) and (e) the harness also samples `RssAnon` (the daemon's own
  memory) and `RssFile` (mostly the LMDB map, reclaimable by the kernel)
  every 0.2 s and reports their peaks in the notes.
- **ratios**: for (b) and (c), wrk and the curl loop run against the same
  sink right before volleyd starts, in every run, and the ratio is the median
  of the per-run ratios (the machine is shared, so only numbers taken close
  together compare fairly); for (d) the ceiling scenario's medians per size.
- **wrk req/s**: `wrk -t2 -c64` POSTing a Volley-shaped body and header set
  (`bench/wrk_post.lua`) to the same sink — the HTTP ceiling of this machine.
- **curl-loop req/s**: `bench/curl_ceiling`, a bare libcurl multi loop (64
  easy handles, re-added on completion; no actors, no disk) with the same body
  and headers against the same sink — the ceiling of Volley's HTTP stack.
- **CPU µs per delivery**: volleyd's utime+stime (every thread, from
  /proc/PID/stat) over the phase ÷ the deliveries the sink counted in it;
  **curl CPU µs/req** the bare loop's own utime+stime ÷ its requests
  (`getrusage`), against the same sink in the same run; **CPU volley/curl**
  their ratio. Both include the kernel's TCP work, and on loopback a send
  also runs the receiver's side of it.
- **(g)**: see "(g) Slow endpoints" above; "less idle" subtracts volleyd's
  CPU rate measured for 2 s before publishing, once its start has settled
  (what subscriber actors and the monitor spend with nothing to deliver);
  "connects/delivery" is connections the sink accepted ÷
  deliveries in the window; "anon MB per 1k in flight" is (peak RssAnon −
  RssAnon before publishing) ÷ thousands in flight, and includes the
  queued deliveries (their count is in the notes).
- **(h)**: nginx logs each request's connection number and
  `$ssl_session_reused`; deliveries/s is a floor (nginx writes its log once
  a second).
- **(e)**: one subscriber whose URL is a closed 127.0.0.1 port
  (`max_attempts` 1e6 so nothing is dead-lettered; breaker cooldown 1–2 s;
  backoff 1–4 s), `queue.memory_limit` 10000. After all events are
  acknowledged, RSS is read; then the sink starts on that port and the drain
  time runs from its start until the last delivery arrives.
- **(f)**: the same fill, then SIGTERM; the sink starts on the port, then
  volleyd again; the time runs from spawning volleyd until the sink sees the
  first delivery. The restarted delivery rate is over a short window.
- **(flaky)**: two subscribers get the same events (backoff 100 ms .. 2 s,
  `max_attempts` 12, everything else default): one sink answers a seeded
  random 30 % of requests 503, the other is healthy. "all in s" runs from
  the first event published to the last 200 at that sink; attempts per
  delivery are the sink's requests ÷ its 200s; breaker openings are counted
  in volleyd's log; in flight and limit are the medians of the `subscribers`
  op, polled every 0.2 s while 20–90 % of the events had arrived.
- **(capacity)**: one subscriber (`max_in_flight` 64) whose sink holds at
  most C requests for W ms each and answers 429 to one that finds C open:
  its ceiling is C ÷ W. Goodput is the sink's 200s ÷ the time between the
  first and the last; "in flight" and "limit" are medians as in (flaky);
  the notes give the endpoint's own median of busy workers and the most
  requests it saw open at once, the refused one included.
- **(cluster)**: volley-mock-kafka (librdkafka's mock cluster: 3 brokers in
  one process, both topics with 12 partitions), a fresh one for each row,
  the group timings of the tests (`session.timeout.ms` 4000,
  `heartbeat.interval.ms` 500, `fetch.wait.max.ms` 100). The same sink and
  the same count of events (after 2,000 to warm up) go through a single node,
  a 1-node cluster and 3 nodes (each publishing a third over its own
  ingress); CPU µs per delivery is the volleyd processes' utime+stime summed
  ÷ deliveries, the mock's apart. Afterwards `bench/kafka_offsets` checks that
  the mock kept every partition's start (it drops the oldest records past
  5 MiB per partition). **Hand-over**: 2 nodes, 100,000 events (ids from the
  load generator) behind a closed port until the `queue` op counts every
  delivery on the nodes' disks; kill -9 of one node, then the sink starts
  on the port with `--track-ids`; the `cluster` op is polled on the
  survivor until it owns all 12 partitions. The dead node's deliveries are
  told apart by their key's partition (CRC-32 of the id, librdkafka's
  default partitioner; the harness checks that the count matches what the
  node had pending). **Cold restore**: the same fill on another mock, both
  nodes stopped with SIGTERM, the sink up, then one node with an empty data
  dir; times from its spawn.
- **(log)**: (b)'s shape (5,000 events with ids to warm up, then the
  measured events at full speed) with `log.retention_hours` 72 and 0 on the
  same sink in the same run, the order alternating between runs; the data
  dir's size is the space its files take (`du`) after SIGTERM.
"""


# ---------------------------------------------------------------- main

ALL_SCENARIOS = ["ceil", "a", "b", "c", "d", "e", "f", "g", "h", "flaky", "capacity", "cluster",
                 "log"]


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="smaller counts and grid")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--scenarios", default=",".join(ALL_SCENARIOS),
                    help="comma list of " + ",".join(ALL_SCENARIOS)
                         + " (a subset writes bench/results/RESULTS-<keys>.md, not RESULTS.md)")
    ap.add_argument("--g-cells", help="(g) cells to run, comma list of SUBSxLATENCYxCONC "
                                      "(e.g. 10000x500x16384); default: the grid")
    ap.add_argument("--g-hosts", type=int, default=64,
                    help="(g) loopback hosts the subscribers are spread over")
    ap.add_argument("--d-runs", type=int, help="runs of the (d) grid (default: --runs)")
    ap.add_argument("--big", type=int, help="queued deliveries for (e)/(f) (default 1000000)")
    ap.add_argument("--perf", action="store_true", help="profile volleyd during (b)")
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--volleyd", required=True)
    ap.add_argument("--mock-kafka", help="volley-mock-kafka, for the cluster scenario "
                                         "(default: beside --volleyd)")
    ap.add_argument("--command", default="bench/run.sh")
    ap.add_argument("--json-out", help="write the JSON report here instead of "
                                       "bench/results/latest[-<keys>].json (bench/ab.py)")
    ap.add_argument("--sink-threads", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--wait-idle", type=float, default=60,
                    help="before each run, wait up to this many seconds for the CPUs to be "
                         "mostly idle (the machine is shared); 0 = do not wait")
    args = ap.parse_args()
    q = args.quick
    args.big = args.big or (200000 if q else 1000000)
    args.memory_limit = 10000
    args.map_size_mb = 8192
    args.ingest_events = 300000 if q else 1000000
    args.b_events = 100000 if q else 300000
    args.c_deliveries = 100000 if q else 300000
    args.latency_seconds = 5 if q else 10
    args.ceiling_seconds = 4 if q else 8
    args.drain_timeout = 300
    args.d_cell_timeout = 30 if q else 60
    args.f_window = 3
    # (payload size, subscriber counts, deliveries per cell)
    if q:
        args.d_grid = [(100, [1, 10, 100, 1000], 50000),
                       (10240, [1, 100], 20000),
                       (102400, [1, 100], 5000)]
    else:
        args.d_grid = [(100, [1, 10, 100, 1000], 100000),
                       (10240, [1, 10, 100, 1000], 20000),
                       (102400, [1, 10, 100, 1000], 5000)]
    # (g): (subscribers, latency ms, http.max_concurrent); 0 ms is the
    # CPU-bound reference, 64 in flight the base of the flatness target.
    if args.g_cells:
        args.g_grid = [tuple(int(x) for x in c.split("x")) for c in args.g_cells.split(",")]
    elif q:
        args.g_grid = [(10000, 0, 1024), (10000, 500, 64), (10000, 500, 1024),
                       (10000, 500, 4096), (10000, 500, 16384), (1000, 100, 1024),
                       (1000, 100, 4096), (1000, 100, 16384)]
    else:
        args.g_grid = [(1000, 0, 1024), (10000, 0, 1024), (10000, 500, 64)] + \
            [(subs, lat, conc) for subs in (1000, 10000) for lat in (100, 500)
             for conc in (1024, 4096, 16384)]
    args.g_seconds = 8 if q else 12
    args.g_curl_seconds = 4 if q else 6
    args.g_idle_seconds = 2
    args.g_rate_guess = 20000  # deliveries/s, to size the backlog when latency allows more
    args.h_subs = [1, 100]
    args.h_deliveries = 50000 if q else 150000
    args.flaky_events = 20000 if q else 50000
    args.flaky_max_attempts = 12  # 0.3^12 x 50,000: no dead letter expected
    args.capacity_events = 5000 if q else 10000
    args.capacity, args.capacity_work_ms = 8, 10
    # Cluster mode: each phase on a mock of its own, well under its 5 MiB per
    # partition (about 6 changelog records per finished delivery, ~70 B each).
    args.cluster_partitions = 12
    args.cluster_events = 50000 if q else 100000
    args.handover_pending = 100000
    args.cluster_stall_s = 60
    args.d_runs = args.d_runs or args.runs
    args.mock_kafka = args.mock_kafka or os.path.join(os.path.dirname(args.volleyd),
                                                      "volley-mock-kafka")
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    return args


def main():
    args = parse_args()
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    h = Harness(args)
    started = time.monotonic()
    machine = machine_info()
    print(f"machine: {machine['nproc']} cores, {machine['cpu_model']}; "
          f"runs={args.runs}{' quick' if args.quick else ''}; scenarios={','.join(args.scenarios)}",
          flush=True)
    results = {}  # row name -> metric -> [values per run]
    load = {}
    busy_at = {}  # scenario -> CPU busy fraction (other work) before each run

    def add(rows):
        for name, metrics in rows:
            r = results.setdefault(name, {})
            for k, v in metrics.items():
                r.setdefault(k, []).append(v)

    ceiling_sizes = [100]
    if "d" in args.scenarios:
        ceiling_sizes += sorted({s for s, _, _ in args.d_grid if s != 100})
    plan = [("ceil", lambda run: scenario_ceilings(h, run, ceiling_sizes)),
            ("a", lambda run: scenario_a(h, run)),
            ("b", lambda run: scenario_b(h, run)),
            ("c", lambda run: scenario_c(h, run)),
            ("d", lambda run: scenario_d(h, run)),
            ("e", lambda run: scenario_e(h, run)),
            ("f", lambda run: scenario_f(h, run)),
            ("g", lambda run: scenario_g(h, run)),
            ("h", lambda run: scenario_h(h, run)),
            ("flaky", lambda run: scenario_flaky(h, run)),
            ("capacity", lambda run: scenario_capacity(h, run)),
            ("cluster", lambda run: scenario_cluster(h, run)),
            ("log", lambda run: scenario_log(h, run))]
    try:
        for key, fn in plan:
            if key not in args.scenarios:
                continue
            load[key] = loadavg()
            for run in range(args.d_runs if key == "d" else args.runs):
                busy = wait_for_quiet(args.wait_idle) if args.wait_idle > 0 else cpu_busy()
                busy_at.setdefault(key, []).append(round(busy, 2))
                print(f"[{time.monotonic() - started:6.0f}s] scenario {key}, run {run + 1}"
                      f" (load {loadavg():.1f}, CPU busy before start {busy:.0%})", flush=True)
                try:
                    add(fn(run))
                except (RuntimeError, subprocess.TimeoutExpired, OSError) as e:
                    h.problem(f"scenario {key} run {run + 1}: {e}")
        rows = build_rows(results)
        machine = machine_info()
        tcheck, md_path, json_path = write_reports(h, rows, machine, args.command, load, busy_at,
                                                   started)
        print()
        for columns in TABLES:
            table = render_table(rows, markdown=False, columns=columns)
            if table:
                print(table)
                print()
        for t in tcheck:
            met = "n/a" if t["met"] is None else ("met" if t["met"] else "NOT MET")
            print(f"  target {t['target']}: {t['shown']} -> {met}")
        if h.problems:
            print("\nproblems:")
            for p in h.problems:
                print("  - " + p)
        print(f"\nwrote {json_path} and {md_path} ({time.monotonic() - started:.0f} s)")
    finally:
        kill_all()
        shutil.rmtree(h.tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
