#!/usr/bin/env python3
"""Checks that building the Python package alone reuses the workspace's compiled dependencies.

Cargo compiles a crate once per feature set. ``pip install ./python`` (maturin) resolves
features for ``zkguard-python`` alone, while ``cargo test --workspace`` unifies them over every
member and its dev-dependencies; where the two differ on a low-level crate (serde, say), the wheel
build would recompile the whole halo2 stack above it (~8 min on 2 cores). python/Cargo.toml pins
those features ("Feature alignment"). This script fails, naming each crate, when a dependency
change makes them differ again. Run by scripts/test; needs only ``cargo tree`` (no build).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def features(*args: str) -> set[str]:
    out = subprocess.run(
        ["cargo", "tree", "--locked", "-f", "{p} [{f}]", "--prefix", "none", *args],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    return {line.replace(" (*)", "").strip() for line in out.splitlines() if line.strip()}


def main() -> int:
    workspace = features("--workspace", "-e", "normal,build,dev")
    package = features("-p", "zkguard-python", "-e", "normal,build")
    drift = sorted(line for line in package - workspace if not line.startswith("zkguard-"))
    if drift:
        print("the wheel build would compile these crates with other features than `cargo test --workspace`:")
        for line in drift:
            print(f"  {line}")
        print("add them to the feature alignment block of python/Cargo.toml with the workspace's features "
              "(`cargo tree --workspace -e normal,build,dev -f '{p} [{f}]' --prefix none | grep NAME`)")
        return 1
    print(f"feature alignment: the package's {len(package)} crate/feature sets are all the workspace's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
