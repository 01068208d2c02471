#!/usr/bin/env python3
"""Write a SYNTHETIC transaction feed with injected fraud patterns (docs/FRAUD_FEED.md) as CSV.

    .venv/bin/python scripts/make_feed.py training --out /tmp/train.csv      # 4000 rows, 5% fraud, seed 1
    .venv/bin/python scripts/make_feed.py demo --out /tmp/demo.csv           # 256 rows, seed 2 (= data/fraud_feed.csv)

Columns: ``subject, timestamp, pattern, label`` and the model features (``zkguard.exporters.feed.FEATURES``),
one transaction per row in time order. The data is synthetic: see ``python/zkguard/exporters/feed.py``.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from zkguard.exporters import feed  # noqa: E402  (after the sys.path tweak)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="make_feed.py",
        description="Write a SYNTHETIC, deterministic transaction feed with injected fraud patterns "
        "(docs/FRAUD_FEED.md): subject, timestamp, pattern, label and the fraud models' features.",
    )
    sub = p.add_subparsers(dest="kind", required=True)
    t = sub.add_parser("training", help="fraud spread over the whole span, pattern mix of the training set")
    t.add_argument("--n", type=int, default=4_000, help="transactions (default 4000)")
    t.add_argument("--fraud-share", type=float, default=0.05, help="fraction of fraudulent rows (default 0.05)")
    t.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    d = sub.add_parser("demo", help="isolated incidents, then two drain bursts in the last ~20%% of the rows")
    d.add_argument("--n", type=int, default=256, help="transactions (default 256; 39 of them are fraud)")
    d.add_argument("--seed", type=int, default=2, help="random seed (default 2)")
    for s in (t, d):
        s.add_argument("--out", required=True, help="CSV file to write")
    args = p.parse_args(argv)
    try:
        if args.kind == "training":
            f = feed.training_feed(args.n, args.fraud_share, args.seed)
        else:
            f = feed.demo_feed(args.n, args.seed)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = feed.write_feed_csv(f, args.out)
    counts = Counter(f.patterns)
    print(f"wrote {out}: {len(f.patterns)} SYNTHETIC transactions from {len(set(f.subjects))} accounts, "
          f"{int(f.labels.sum())} fraudulent ({', '.join(f'{p} {counts[p]}' for p in feed.PATTERNS)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
