"""Short runs from Python through the specimen_vault package in both durability modes, alternating with two
baselines that write the same files with plain os calls, one fsyncing them and one not. Prints one JSON
object: per-run wall times in ms.

    python specimen_sweep.py VAULT SPECIMEN RUNS STEPS
"""

import json
import os
import sys
import time

import specimen_vault as sv


def plain_run(root: str, i: int, manifest: bytes, metrics: bytes, sync: bool) -> None:
    """What a short run must put on disk, written as plainly as possible: a running manifest, the metrics
    file and the sealed manifest (temp file + rename); with ``sync`` each fsynced, then the directory."""
    d = os.path.join(root, f"run_{i:06d}")
    os.mkdir(d)
    for name, data in (("manifest.msgpack", manifest), ("metrics.parquet", metrics)):
        fd = os.open(os.path.join(d, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, data)
        if sync:
            os.fsync(fd)
        os.close(fd)
    tmp = os.path.join(d, ".tmp-manifest")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, manifest)
    if sync:
        os.fsync(fd)
    os.close(fd)
    os.replace(tmp, os.path.join(d, "manifest.msgpack"))
    if sync:
        dfd = os.open(d, os.O_RDONLY)
        os.fsync(dfd)
        os.close(dfd)


def one_run(vault: str, specimen: str, i: int, steps: int, durability: str) -> "sv.Run":
    with sv.init(specimen, config={"lr": 0.001 * (i + 1), "width": 64}, seed=i, vault=vault, durability=durability) as run:
        for step in range(steps):
            run.log({"loss": 1.0 / (step + 1 + i), "acc": step / steps, "lr": 0.1, "grad_norm": 1.5}, step=step)
    if run.status != "succeeded" or run.mode != "cli":
        raise SystemExit(f"run {run} was not sealed by the CLI")
    return run


def main() -> None:
    vault, specimen, runs, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    baseline_root = os.path.join(vault, ".plain-baseline")
    os.makedirs(baseline_root, exist_ok=True)
    times = {"run_ms": [], "batch_ms": [], "plain_sync_ms": [], "plain_ms": []}
    # The first run starts the session (Node's start-up): reported apart; its files give the baselines bytes.
    t0 = time.perf_counter()
    first = one_run(vault, specimen, 0, steps, "run")
    first_ms = (time.perf_counter() - t0) * 1000
    one_run(vault, specimen, 0, steps, "batch")
    with open(os.path.join(first.dir, "manifest.msgpack"), "rb") as f:
        manifest = f.read()
    with open(os.path.join(first.dir, "metrics.parquet"), "rb") as f:
        metrics = f.read()
    # One mode after the other, each alternating with its baseline run by run (a batch's background flush
    # then weighs on the batch runs and their baseline only).
    for mode, key, sync in (("run", "run_ms", True), ("batch", "batch_ms", False)):
        plain_key = "plain_sync_ms" if sync else "plain_ms"
        for i in range(1, runs + 1):
            t0 = time.perf_counter()
            one_run(vault, specimen, i, steps, mode)
            times[key].append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            plain_run(baseline_root, 2 * i + (0 if sync else 1), manifest, metrics, sync)
            times[plain_key].append((time.perf_counter() - t0) * 1000)
    # What the package's system-metrics sampler (a thread and two /proc samples per run) adds: batch runs
    # without it, for the details.
    os.environ["SPECIMEN_SYSTEM_INTERVAL"] = "off"
    times["batch_no_system_ms"] = []
    for i in range(1, runs + 1):
        t0 = time.perf_counter()
        one_run(vault, specimen, i, steps, "batch")
        times["batch_no_system_ms"].append((time.perf_counter() - t0) * 1000)
    print(json.dumps({"first_ms": first_ms, **times}))


if __name__ == "__main__":
    main()
