#!/usr/bin/env python3
"""summarize.py OUT_DIR: the markdown summary of a compare.sh run.

Reads OUT_DIR/meta.json and OUT_DIR/<target>-<workload>.json (tarn-load
reports; a missing one is a failed run, OUT_DIR/<target>-<workload>.rc says
its exit status) and prints the tables. compare.sh also writes them to
OUT_DIR/summary.md and the figures to OUT_DIR/summary.json.
"""

import json
import os
import sys

NAMES = {
    "tarn": "Tarn",
    "dynamodb-local": "DynamoDB Local",
    "dynalite": "dynalite",
    "ceiling": "ceiling",
}
WORKLOAD_NAMES = {
    "put": "put",
    "get": "get",
    "query": "query (10 items)",
    "batch-write": "batch-write (25 items)",
}


def num(x):
    return f"{x:,.0f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return ""
    return f"{a / b:.2f}×"


def main(out):
    with open(os.path.join(out, "meta.json")) as f:
        meta = json.load(f)
    targets, workloads = meta["targets"], meta["workloads"]
    results, notes = {}, []
    for w in workloads:
        for t in targets:
            path = os.path.join(out, f"{t}-{w}.json")
            cell = {"ok": False}
            results[(t, w)] = cell
            try:
                with open(path) as f:
                    rep = json.load(f)
            except (OSError, ValueError):
                rc = "?"
                try:
                    with open(os.path.join(out, f"{t}-{w}.rc")) as f:
                        rc = f.read().strip()
                except OSError:
                    pass
                notes.append(f"{NAMES.get(t, t)} {w}: failed (exit status {rc}), see {t}-{w}.err and logs/{t}-{w}.log")
                continue
            run = rep.get("run") or {}
            op = (run.get("operations") or {}).get(w) or run.get("all") or {}
            lat = op.get("latency_us") or {}
            cell.update(
                ok=op.get("count", 0) > 0,
                ops_per_s=op.get("ops_per_s"),
                p50=lat.get("p50"),
                p99=lat.get("p99"),
                p999=lat.get("p99.9"),
                errors=run.get("errors_total", 0),
                load_items_per_s=(rep.get("load") or {}).get("items_per_s"),
            )
            problems = []
            if run.get("errors_total"):
                problems.append(f"{run['errors_total']} errors {run.get('errors')}")
            if run.get("get_misses"):
                problems.append(f"{run['get_misses']} GetItems found no item")
            if run.get("unprocessed_items"):
                problems.append(f"{run['unprocessed_items']} unprocessed items")
            if run.get("workers_stopped"):
                problems.append(f"{run['workers_stopped']} workers stopped")
            if not cell["ok"]:
                problems.append("no successful operation")
            if problems:
                notes.append(f"{NAMES.get(t, t)} {w}: " + "; ".join(problems))

    lines = []
    p = meta["parameters"]
    lines.append(
        f"{p['concurrency']} connections, closed loop, {p['warmup']} warmup + {p['duration']} measured, "
        f"{p['records']:,} records ({p['value_bytes']}-byte values), a fresh server loaded for each run; "
        f"tarn-load {p['threads']} thread(s). Tarn: {meta['tarn']['binary']} "
        f"(commit {meta['tarn']['commit']}{', work tree modified' if meta['tarn']['dirty'] else ''}), "
        f"--durability sync, data on {meta['tarn']['data_fs']}. "
        f"Peers: {meta['peers']}. Machine: {meta['machine']}."
    )
    lines.append("")
    head = "| workload |" + "".join(f" {NAMES.get(t, t)} ops/s | p99 (us) |" for t in targets)
    lines.append(head)
    lines.append("|---|" + "---:|---:|" * len(targets))
    for w in workloads:
        row = f"| {WORKLOAD_NAMES.get(w, w)} |"
        for t in targets:
            c = results[(t, w)]
            if c["ok"]:
                err = f" ({c['errors']} err)" if c["errors"] else ""
                row += f" {num(c['ops_per_s'])}{err} | {num(c['p99'])} |"
            else:
                row += " failed | |"
        lines.append(row)

    if "tarn" in targets and len(targets) > 1:
        others = [t for t in targets if t not in ("tarn", "ceiling")] + [t for t in targets if t == "ceiling"]
        lines.append("")
        lines.append(
            "Tarn ÷ each: throughput ratio (above 1: Tarn does more) and p99 ratio (below 1: Tarn's tail is shorter)."
        )
        lines.append("")
        hdr = "| workload |"
        for t in others:
            hdr += f" ÷ {NAMES.get(t, t)} ops/s |" + (f" ÷ {NAMES.get(t, t)} p99 |" if t != "ceiling" else "")
        lines.append(hdr)
        lines.append("|---|" + "".join("---:|" + ("---:|" if t != "ceiling" else "") for t in others))
        for w in workloads:
            a = results[("tarn", w)]
            row = f"| {WORKLOAD_NAMES.get(w, w)} |"
            for t in others:
                b = results[(t, w)]
                ok = a["ok"] and b["ok"]
                row += f" {ratio(a['ops_per_s'], b['ops_per_s']) if ok else ''} |"
                if t != "ceiling":
                    row += f" {ratio(a['p99'], b['p99']) if ok else ''} |"
            lines.append(row)

    if "tarn" in targets and "ceiling" in targets and "get" in workloads:
        a, b = results[("tarn", "get")], results[("ceiling", "get")]
        if a["ok"] and b["ok"]:
            lines.append("")
            lines.append(
                f"Tarn's get is {100 * a['ops_per_s'] / b['ops_per_s']:.0f}% of the ceiling "
                f"({num(a['ops_per_s'])} of {num(b['ops_per_s'])} GetItems/s): "
                "the closer to 100%, the more the generator, not the server, was measured."
            )

    loads = []
    for t in targets:
        vals = [results[(t, w)].get("load_items_per_s") for w in workloads]
        vals = [v for v in vals if v]
        if vals:
            loads.append(f"{NAMES.get(t, t)} {num(min(vals))}-{num(max(vals))}")
    if loads:
        lines.append("")
        lines.append("Load phase (BatchWriteItem, items/s): " + ", ".join(loads) + ".")
    if notes:
        lines.append("")
        lines.append("Notes:")
        lines.extend(f"- {n}" for n in notes)

    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(
            {
                "meta": meta,
                "results": [
                    dict(target=t, workload=w, **results[(t, w)]) for w in workloads for t in targets
                ],
                "notes": notes,
            },
            f,
            indent=2,
        )
        f.write("\n")
    sys.stdout.write(text)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: summarize.py OUT_DIR")
    main(sys.argv[1])
