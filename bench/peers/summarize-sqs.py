#!/usr/bin/env python3
"""summarize-sqs.py OUT_DIR: the markdown summary of a compare-sqs.sh run.

Reads OUT_DIR/meta.json and OUT_DIR/<target>-<workload>.json (tarn-load
reports; a missing one is a failed run, OUT_DIR/<target>-<workload>.rc says
its exit status, .err why) and prints one table, a row per run.
compare-sqs.sh also writes it to OUT_DIR/summary.md and the figures to
OUT_DIR/summary.json.
"""

import json
import os
import sys

NAMES = {"tarn": "Tarn", "moto": "moto", "localstack": "LocalStack"}
WORKLOAD_NAMES = {
    "sqs-send": "send (SendMessage)",
    "sqs-receive-delete": "receive + delete (10 a request)",
}


def num(x):
    return "" if x is None else f"{x:,.0f}"


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def main(out):
    with open(os.path.join(out, "meta.json")) as f:
        meta = json.load(f)
    targets, workloads = meta["targets"], meta["workloads"]
    p = meta["parameters"]
    rows, notes, results = [], [], []
    for w in workloads:
        for t in targets:
            base = os.path.join(out, f"{t}-{w}")
            cell = {"target": t, "workload": w, "ok": False}
            results.append(cell)
            label = f"| {WORKLOAD_NAMES.get(w, w)} | {NAMES.get(t, t)} |"
            rc = read(base + ".rc") or "?"
            try:
                with open(base + ".json") as f:
                    rep = json.load(f)
            except (OSError, ValueError):
                err = read(base + ".err").splitlines()
                why = err[-1] if err else f"exit status {rc}"
                rows.append(f"{label} failed | | | | |")
                notes.append(f"{NAMES.get(t, t)} {w}: failed: {why}")
                continue
            run = rep.get("run") or {}
            op = run.get("all") or {}
            lat = op.get("latency_us") or {}
            load = rep.get("load") or {}
            cell.update(
                ok=rc == "0" and op.get("count", 0) > 0,
                ops_per_s=op.get("ops_per_s"),
                messages_per_s=run.get("messages_per_s"),
                p50=lat.get("p50"),
                p99=lat.get("p99"),
                errors=run.get("errors_total", 0),
                empty_receives=run.get("empty_receives"),
                prefill=load.get("items"),
                prefill_per_s=load.get("items_per_s"),
            )
            if w == "sqs-send":
                msgs = cell["ops_per_s"]
            else:
                msgs = cell["messages_per_s"]
            status = "" if cell["ok"] else f" (exit status {rc})"
            rows.append(
                f"{label} {num(cell['ops_per_s'])}{status} | {num(msgs)} | {num(cell['p50'])} | "
                f"{num(cell['p99'])} | {num(cell['prefill'])} |"
            )
            problems = []
            if run.get("errors_total"):
                problems.append(f"{run['errors_total']} errors {run.get('errors')}")
            if run.get("empty_receives"):
                problems.append(
                    f"the queue ran dry ({run['empty_receives']} empty receives): messages/s is a lower "
                    "bound and ops/s counts empty receives; raise --prefill"
                )
            if run.get("workers_stopped"):
                problems.append(f"{run['workers_stopped']} workers stopped")
            if rc != "0":
                err = read(base + ".err").splitlines()
                problems.append(f"exit status {rc}" + (f": {err[-1]}" if err else ""))
            if problems:
                notes.append(f"{NAMES.get(t, t)} {w}: " + "; ".join(problems))

    lines = [
        f"{p['concurrency']} connections, closed loop, {p['warmup']} warmup + {p['duration']} measured, "
        f"a fresh server and queue for each run; receive + delete from a queue prefilled with "
        + ", ".join(f"{NAMES.get(t, t)} {int(n):,}" for t, n in p["prefill"].items())
        + f" messages. Tarn: {meta['tarn']['binary']} (commit {meta['tarn']['commit']}), "
        f"--durability sync. Peers: {meta['peers']}. Machine: {meta['machine']}.",
        "",
        "| workload | server | operations/s | messages/s | p50 (us) | p99 (us) | prefilled |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    lines.extend(rows)
    if notes:
        lines.append("")
        lines.append("Notes:")
        lines.extend(f"- {n}" for n in notes)
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump({"meta": meta, "results": results, "notes": notes}, f, indent=2)
        f.write("\n")
    sys.stdout.write(text)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: summarize-sqs.py OUT_DIR")
    main(sys.argv[1])
