"""What every peer script logs, so each tool writes the same numbers: step plus four metrics per row, and a
sweep whose runs' final losses have a known order (run i's final loss grows with (i * 7919) % 1000, so the
10 best are the runs whose key is 0..9). Scripts print one JSON line; times are milliseconds.

    python peer_X.py setup WORKDIR            # untimed: what a user has before a run (a store, a repo)
    python peer_X.py write WORKDIR STEPS      # one run of STEPS rows, init to finish
    python peer_X.py read WORKDIR STEPS       # the full history of `loss` of that run
    python peer_X.py sweep WORKDIR RUNS STEPS # RUNS runs of STEPS rows, then the 10 best by final loss
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, Dict, Iterator, List, Tuple

METRICS = ("loss", "acc", "lr", "grad_norm")
PROJECT = "peers"
SPECIMEN = "2025_01_01_peers"


def key(i: int) -> int:
    return (i * 7919) % 1000


def row(i: int, step: int, steps: int) -> Dict[str, float]:
    return {
        "loss": (1.0 + key(i) / 1000.0) / (step + 1),
        "acc": step / steps,
        "lr": 0.1 * (1.0 - step / steps),
        "grad_norm": 1.0 + ((step * 37) % 101) / 101.0,
    }


def rows(i: int, steps: int) -> Iterator[Tuple[int, Dict[str, float]]]:
    for step in range(steps):
        yield step, row(i, step, steps)


def expected_top(runs: int) -> List[int]:
    return sorted(range(runs), key=key)[:10]


def expected_last_loss(steps: int) -> float:
    return row(0, steps - 1, steps)["loss"]


def now() -> float:
    return time.perf_counter() * 1000.0


def emit(**out: Any) -> None:
    print(json.dumps(out), flush=True)


def args() -> Tuple[str, str, List[int]]:
    mode, workdir, *rest = sys.argv[1:]
    return mode, workdir, [int(x) for x in rest]
