#!/usr/bin/env python3
"""Prints the README speed table from criterion's results (target/criterion): for each
benchmark measured for both implementations, samples/s of ours, of spandsp, and the ratio."""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
rows = {}
# criterion flattens "ours/v17/14400" into the folder name "ours_v17_14400".
for est in root.glob("*/*/new/estimates.json"):
    group, name = est.parts[-4:-2]
    parts = name.split("_")
    if len(parts) != 3 or not parts[2].isdigit():
        continue
    imp, modem, rate = parts
    bench = json.loads((est.parent / "benchmark.json").read_text())
    elements = bench["throughput"]["Elements"]
    ns = json.loads(est.read_text())["mean"]["point_estimate"]
    rows.setdefault((group, modem, int(rate)), {})[imp] = elements / ns * 1e9

print("| path | modem | rate | ours (Msamples/s) | spandsp (Msamples/s) | ours / spandsp |")
print("|---|---|---|---|---|---|")
for (group, modem, rate), v in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1], -kv[0][2])):
    ours, theirs = v.get("ours"), v.get("spandsp")
    ratio = f"{ours / theirs:.2f}" if ours and theirs else "-"
    fmt = lambda x: f"{x / 1e6:.1f}" if x else "-"
    print(f"| {group} | {modem} | {rate} | {fmt(ours)} | {fmt(theirs)} | {ratio} |")
