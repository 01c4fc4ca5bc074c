#!/usr/bin/env python3
"""The end of `make bench`: one table of every figure, and the same as JSON.

  report.py RESULTS JSON

RESULTS holds the lines bench/lib.sh's bench_record wrote, one figure a line,
tab-separated: bench, figure, peer, peer value, value, unit, ratio, goal, met,
note ("-" where a field does not apply; lines starting with "#" are markers).
Prints the table (figure | peer | peer value | this project | ratio | goal |
met), the notes, the goals missed, and writes JSON:

  {"commit": "<git HEAD or null>", "dirty": bool or null,
   "date": "<ISO-8601, UTC>",
   "machine": {"cpus": N, "model": "...", "kernel": "...", "memory_mib": N},
   "figures": [{"bench", "figure", "peer", "peer_value", "value", "unit",
                "ratio", "goal", "met", "note"}, ...]}

peer_value, value and ratio are numbers (null: not measured / no peer), met is
true, false or null (no goal, or not measured), ratio is value / peer_value.
Exit status: 0 no goal missed, 1 a goal missed (met no), 2 no figures or an
unreadable RESULTS.
"""
import datetime
import json
import os
import platform
import subprocess
import sys

FIELDS = ("bench", "figure", "peer", "peer_value", "value", "unit", "ratio",
          "goal", "met", "note")


def number(s):
    if s in ("", "-"):
        return None
    try:
        return float(s)
    except ValueError:
        return None


def shown(s):
    """A recorded number as the table shows it: 4 significant digits."""
    v = number(s)
    if v is None:
        return s
    if v == int(v) and abs(v) < 1e6:
        return "%d" % v
    return "%.0f" % v if abs(v) >= 1000 else "%.4g" % v


def git(*args):
    try:
        r = subprocess.run(("git",) + args, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() if r.returncode == 0 else None


def machine():
    model = None
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
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = int(line.split()[1]) // 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    return {"cpus": os.cpu_count(), "model": model, "kernel": platform.release(),
            "memory_mib": mem}


def read(path):
    rows = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            parts = line.split("\t")
            parts += ["-"] * (len(FIELDS) - len(parts))
            rows.append(dict(zip(FIELDS, parts[:len(FIELDS)])))
    return rows


def table(rows):
    head = ("#", "figure", "peer", "peer value", "this project", "ratio", "goal", "met")
    lines = []
    for i, r in enumerate(rows, 1):
        unit = "" if r["unit"] == "-" else " " + r["unit"]
        pv = r["peer_value"] if r["peer_value"] == "-" else shown(r["peer_value"]) + unit
        v = r["value"] if r["value"] == "-" else shown(r["value"]) + unit
        ratio = number(r["ratio"])
        lines.append((str(i), r["figure"], r["peer"], pv, v,
                      "-" if ratio is None else "%.3gx" % ratio, r["goal"], r["met"]))
    width = [max(len(x[c]) for x in [head] + lines) for c in range(len(head))]
    right = {0, 3, 4, 5}  # numbers

    def fmt(cols):
        return " | ".join(c.rjust(w) if i in right else c.ljust(w)
                          for i, (c, w) in enumerate(zip(cols, width))).rstrip()

    out = [fmt(head), "-+-".join("-" * w for w in width)]
    out += [fmt(x) for x in lines]
    return out


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: report.py RESULTS JSON\n")
        return 2
    try:
        rows = read(argv[1])
    except OSError as e:
        sys.stderr.write("bench: %s: %s\n" % (argv[1], e.strerror))
        return 2
    if not rows:
        sys.stderr.write("bench: no figures in %s\n" % argv[1])
        return 2

    head = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if head else None
    doc = {
        "commit": head,
        "dirty": None if status is None else bool(status),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "figures": [],
    }
    for r in rows:
        doc["figures"].append({
            "bench": r["bench"], "figure": r["figure"],
            "peer": None if r["peer"] == "-" else r["peer"],
            "peer_value": number(r["peer_value"]), "value": number(r["value"]),
            "unit": None if r["unit"] == "-" else r["unit"],
            "ratio": number(r["ratio"]),
            "goal": None if r["goal"] == "-" else r["goal"],
            "met": {"yes": True, "no": False}.get(r["met"]),
            "note": None if r["note"] == "-" else r["note"],
        })
    tmp = argv[2] + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmp, argv[2])

    m = doc["machine"]
    print("make bench: %d figures; commit %s%s, %s" % (
        len(rows), (head or "unknown")[:12], " (uncommitted changes)" if doc["dirty"] else "",
        doc["date"]))
    print("machine: %s CPUs, %s, %s MiB, kernel %s" % (
        m["cpus"], m["model"] or "unknown model", m["memory_mib"] or "?", m["kernel"]))
    print()
    for line in table(rows):
        print(line)
    print()
    print("ratio = this project / peer (below 1: less time or memory than the peer)")
    notes = [(i, r) for i, r in enumerate(rows, 1) if r["note"] != "-"]
    if notes:
        print("notes:")
        for i, r in notes:
            print("  %2d  %s" % (i, r["note"]))
    met = sum(r["met"] == "yes" for r in rows)
    missed = [(i, r) for i, r in enumerate(rows, 1) if r["met"] == "no"]
    unmeasured = sum(r["met"] not in ("yes", "no") and r["note"].startswith("not measured")
                     for r in rows)
    print()
    print("%d goals met, %d missed, %d not measured, %d figures without a goal; JSON in %s" % (
        met, len(missed), unmeasured,
        sum(r["met"] not in ("yes", "no") for r in rows) - unmeasured, argv[2]))
    if missed:
        print("missed:")
        for i, r in missed:
            if r["value"] == "-":
                got = r["note"] if r["note"] != "-" else "no figure"
            else:
                got = shown(r["value"]) + ("" if r["unit"] == "-" else " " + r["unit"])
            if number(r["ratio"]) is not None:
                got += ", %.3gx %s" % (number(r["ratio"]), r["peer"])
            print("  %2d  %s: %s (goal %s)" % (i, r["figure"], got, r["goal"]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
