"""Short runs from Python through the specimen_vault package, alternating with a baseline that writes the
same files with plain os calls and fsyncs them. Prints one JSON object: per-run wall times in ms.

    python specimen_sweep.py VAULT SPECIMEN RUNS STEPS
"""

import json
import os
import sys
import time

import specimen_vault as sv


def plain_run(root: str, i: int, manifest: bytes, metrics: bytes) -> None:
    """What a short run must put on disk, written as plainly as possible: a running manifest, the metrics
    file and the sealed manifest (temp file + rename), each fsynced, then the directory."""
    d = os.path.join(root, f"run_{i:06d}")
    os.mkdir(d)
    for name, data in (("manifest.msgpack", manifest), ("metrics.parquet", metrics)):
        fd = os.open(os.path.join(d, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, data)
        os.fsync(fd)
        os.close(fd)
    tmp = os.path.join(d, ".tmp-manifest")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, manifest)
    os.fsync(fd)
    os.close(fd)
    os.replace(tmp, os.path.join(d, "manifest.msgpack"))
    dfd = os.open(d, os.O_RDONLY)
    os.fsync(dfd)
    os.close(dfd)


def main() -> None:
    vault, specimen, runs, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    baseline_root = os.path.join(vault, ".plain-baseline")
    os.makedirs(baseline_root, exist_ok=True)
    ours, plain = [], []
    manifest = metrics = b""
    for i in range(runs + 1):
        t0 = time.perf_counter()
        with sv.init(specimen, config={"lr": 0.001 * (i + 1), "width": 64}, seed=i, vault=vault) as run:
            for step in range(steps):
                run.log({"loss": 1.0 / (step + 1 + i), "acc": step / steps, "lr": 0.1, "grad_norm": 1.5}, step=step)
        ours.append((time.perf_counter() - t0) * 1000)
        if run.status != "succeeded" or run.mode != "cli":
            raise SystemExit(f"run {run} was not sealed by the CLI")
        if i == 0:
            with open(os.path.join(run.dir, "manifest.msgpack"), "rb") as f:
                manifest = f.read()
            with open(os.path.join(run.dir, "metrics.parquet"), "rb") as f:
                metrics = f.read()
        t0 = time.perf_counter()
        plain_run(baseline_root, i, manifest, metrics)
        plain.append((time.perf_counter() - t0) * 1000)
    # The first run starts the session (Node's start-up): reported apart.
    print(json.dumps({"first_ms": ours[0], "ours_ms": ours[1:], "plain_ms": plain[1:]}))


if __name__ == "__main__":
    main()
