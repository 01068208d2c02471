#!/usr/bin/env python3
"""Merge zkguard's benchmark results into one file and one markdown table.

Reads the JSON files that ``scripts/bench`` writes under a results directory (``prover.json``,
``trees.json``, ``trees-large.json``, ``fixed.json`` from ``zkguard-bench``; ``relayer-*.json`` from the relayer
bench, one per configuration) and writes ``summary.json`` (all results, keyed by source file) and
``SUMMARY.md`` (one table per kind); ``aggregation.json`` (an aggregation-only run) is read too. Standard library only, so it runs without the exporters'
virtual environment. Usage: ``python3 scripts/bench_summary.py bench/results``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

PROVER_FILES = ("prover.json", "trees.json", "trees-large.json", "fixed.json")
# An aggregation-only run (`zkguard-bench --aggregate ...` with its own --out); its app-circuit
# case rows, if any, are only the aggregated circuit's and are not repeated in the prover table.
AGGREGATION_FILE = "aggregation.json"
# Large-batch aggregation runs (`zkguard-bench --aggregate N:B:none --out aggregation-b<B>.json`).
AGGREGATION_GLOB = "aggregation-b*.json"
# Direct-mode on-chain costs against the batch size (`zkguard-bench --onchain ...`).
ONCHAIN_FILE = "onchain.json"


def _num(value, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def prover_table(results: list[dict]) -> str:
    lines = [
        "| model | batch | visibility | k | advice cols | advice cells | keygen s | prove s (median) | verify ms | proof B | instances | peak MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['model']} | {r['batch_size']} | {r.get('visibility', 'committed')} | {r['k']} | {r['advice_columns']}+{r['lookup_columns']} | "
            f"{_num(r['advice_cells'])} | {_num(r['keygen_s'])} | {_num(r['prove_s_median'])} | "
            f"{_num(r['verify_s_median'] * 1000, 1)} | {r['proof_bytes']} | {r['instances']} | {_num(r['peak_rss_mb'], 0)} |"
        )
    return "\n".join(lines)


def aggregation_table(results: list[dict]) -> str:
    if not results:
        return ""
    keys = list(results[0].keys())
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in results:
        lines.append("| " + " | ".join(_num(r.get(k)) for k in keys) + " |")
    return "\n".join(lines)


def generic_table(rows: list[dict]) -> str:
    if not rows:
        return ""
    keys = [k for k in rows[0] if not isinstance(rows[0][k], (list, dict))]
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        lines.append("| " + " | ".join(_num(r.get(k)) for k in keys) + " |")
    return "\n".join(lines)


def summarize(results_dir: Path) -> tuple[dict, str]:
    summary: dict = {}
    md = ["# zkguard benchmark summary", ""]
    machines = set()
    prover_rows: list[dict] = []
    aggregation_rows: list[dict] = []
    for name in PROVER_FILES + (AGGREGATION_FILE,):
        path = results_dir / name
        if not path.exists():
            continue
        data = json.loads(path.read_text())
        summary[name] = data
        machines.add(data.get("machine", "unknown machine"))
        if name != AGGREGATION_FILE:
            prover_rows += data.get("results", [])
        aggregation_rows += data.get("aggregation", [])
    for path in sorted(results_dir.glob(AGGREGATION_GLOB)):
        data = json.loads(path.read_text())
        summary[path.name] = data
        machines.add(data.get("machine", "unknown machine"))
        aggregation_rows += data.get("aggregation", [])
    onchain_rows: list[dict] = []
    onchain = results_dir / ONCHAIN_FILE
    if onchain.exists():
        data = json.loads(onchain.read_text())
        summary[ONCHAIN_FILE] = data
        machines.add(data.get("machine", "unknown machine"))
        onchain_rows = data.get("direct", [])
    relayer_rows = []
    for path in sorted(results_dir.glob("relayer-*.json"), key=lambda p: (len(p.name), p.name)):
        row = json.loads(path.read_text())
        summary[path.name] = row
        relayer_rows.append(row)
    if not summary:
        raise SystemExit(f"no benchmark results in {results_dir}")
    md += [f"Machine: {', '.join(sorted(machines))}. INSECURE development SRS (numbers only).", ""]
    if prover_rows:
        md += ["## Prover (app circuits, EVM transcript)", "", prover_table(prover_rows), ""]
    if aggregation_rows:
        md += ["## Aggregation (batch mode)", "", aggregation_table(aggregation_rows), ""]
    if onchain_rows:
        md += ["## Direct mode on chain against the batch size (revm, Prague)", "", generic_table(onchain_rows), ""]
    if relayer_rows:
        md += ["## Relayer (end to end on a local anvil)", "", generic_table(relayer_rows), ""]
    return summary, "\n".join(md)


def main(argv: list[str]) -> int:
    results_dir = Path(argv[1] if len(argv) > 1 else "bench/results")
    summary, markdown = summarize(results_dir)
    (results_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (results_dir / "SUMMARY.md").write_text(markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
