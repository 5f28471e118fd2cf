"""Benchmark of ``sv.log``: rows/s of five scalar columns into a real (staged) run, against a baseline
measured in the same process — the same JSON lines written with ``json.dumps`` + ``write``. Both include
writing everything to disk. Prints one JSON object (what bench/python.bench.ts reads)::

    python python/bench/log_bench.py [--rows N] [--repeat K]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import specimen_vault as sv  # noqa: E402

SPECIMEN = "2026_01_02_bench"


def baseline(path: Path, n: int) -> float:
    t0 = time.perf_counter()
    with open(path, "w", encoding="utf-8") as f:
        for step in range(n):
            f.write(json.dumps({"step": step, "loss": 1 / (step + 1), "acc": step / n, "lr": 0.001, "grad_norm": 0.5 + step * 1e-7}) + "\n")
    return time.perf_counter() - t0


def ours(n: int) -> float:
    run = sv.init(SPECIMEN)
    log = run.log
    t0 = time.perf_counter()
    for step in range(n):
        log({"loss": 1 / (step + 1), "acc": step / n, "lr": 0.001, "grad_norm": 0.5 + step * 1e-7}, step=step)
    run.flush()
    elapsed = time.perf_counter() - t0
    lines = sum(1 for _ in open(run.dir / "metrics.jsonl"))
    assert lines == n, (lines, n)
    run.finish()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "specimens" / SPECIMEN).mkdir(parents=True)
        os.environ["SPECIMEN_VAULT"] = str(root)
        os.environ["SPECIMEN_CLI"] = "none"  # a staged run: the benchmark measures logging, not the CLI
        sys.stderr = open(os.devnull, "w")  # the staging notices
        base, mine = [], []
        for _ in range(args.repeat):  # alternated, best of each, because shared machines are noisy
            base.append(baseline(root / "baseline.jsonl", args.rows))
            mine.append(ours(args.rows))
    rows_s, base_s = args.rows / min(mine), args.rows / min(base)
    print(json.dumps({
        "rows": args.rows,
        "python": sys.version.split()[0],
        "rows_per_s": rows_s,
        "baseline_rows_per_s": base_s,
        "ratio": rows_s / base_s,
    }))


if __name__ == "__main__":
    main()
