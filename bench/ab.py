#!/usr/bin/env python3
"""A/B runs of two volleyd builds on the same machine, alternating.

  bench/ab.py --a OLD/volleyd --b NEW/volleyd --rounds 3 -- --quick --scenarios b

Runs bench/run.py (the arguments after --) once per build per round, in
the order A B A B ..., keeps each run's JSON report as
bench/results/ab/<label>-<build>-<round>.json, and prints per row and metric every
run's value and the median of each build. The bench programs must be
built already (bench/run.sh builds them into <build>/bench): --bin-dir.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METRICS = ["deliveries_s", "cpu_us", "cpu_net_us", "curl_cpu_us", "curl_socket_cpu_us",
           "ratio_cpu", "rss_mb", "rss_anon_mb", "sockets", "connects_per_delivery", "of_theory"]


def main():
    argv = sys.argv[1:]
    rest = []
    if "--" in argv:
        rest = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--a", required=True, help="volleyd of build A (the base)")
    ap.add_argument("--b", required=True, help="volleyd of build B (the change)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--label", default="ab")
    args = ap.parse_args(argv)
    out_dir = os.path.join(ROOT, "bench", "results", "ab")
    os.makedirs(out_dir, exist_ok=True)
    runs = {"A": [], "B": []}
    for r in range(args.rounds):
        for build, volleyd in (("A", args.a), ("B", args.b)):
            print(f"== round {r + 1}, build {build}: {volleyd}", flush=True)
            dst = os.path.join(out_dir, f"{args.label}-{build}-{r + 1}.json")
            if os.path.exists(dst):
                os.remove(dst)  # an earlier session's; never read in place of this run's
            subprocess.run([sys.executable, os.path.join(ROOT, "bench", "run.py"), "--bin-dir",
                            args.bin_dir, "--volleyd", volleyd, "--command",
                            f"bench/ab.py ({build})", "--json-out", dst, *rest], check=False)
            if not os.path.exists(dst):
                sys.exit(f"ab: run.py wrote no report for build {build}, round {r + 1} "
                         "(its output is above)")
            with open(dst) as f:
                runs[build].append(json.load(f))
    print(f"\n{'row':48} {'metric':22} {'A runs':>30} {'B runs':>30} {'A med':>9} {'B med':>9} {'B/A':>6}")
    names = []
    for doc in runs["A"] + runs["B"]:
        for row in doc["rows"]:
            if row["scenario"] not in names:
                names.append(row["scenario"])
    for name in names:
        for metric in METRICS:
            vals = {}
            for build in ("A", "B"):
                vals[build] = []
                for doc in runs[build]:
                    for row in doc["rows"]:
                        if row["scenario"] == name:
                            v = row["median"].get(metric)
                            if isinstance(v, (int, float)):
                                vals[build].append(v)
            if not vals["A"] and not vals["B"]:
                continue
            med_a = statistics.median(vals["A"]) if vals["A"] else None
            med_b = statistics.median(vals["B"]) if vals["B"] else None
            ratio = med_b / med_a if med_a and med_b else None
            print(f"{name[:48]:48} {metric:22} {show(vals['A']):>30} {show(vals['B']):>30} "
                  f"{num(med_a):>9} {num(med_b):>9} {num(ratio, 2):>6}")


def show(values):
    return " / ".join(num(v) for v in values)


def num(v, digits=1):
    if v is not None and abs(v) < 10 and digits == 1:
        digits = 3  # ratios and per-delivery counts
    return "-" if v is None else f"{v:,.{digits}f}"

if __name__ == "__main__":
    main()
