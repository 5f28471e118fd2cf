"""A full disk under a Python run: a vault on a real 3 MiB tmpfs (skipped where one cannot be mounted, e.g.
without root). Logging until the disk is full never raises into the script; the sealed run is `failed` with
a StorageFullError, as a TypeScript writer's run is (test/security/disk-full.test.ts) — begun by the CLI,
under `specimen run`, and staged in pending/ and adopted later."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest

from conftest import SPECIMEN, child_env, cli, make_vault, run_manifest, runs, script

ROWS = 300_000
FILL = f"""
import specimen_vault as sv
run = sv.init({SPECIMEN!r})
for i in range({ROWS}):   # ~40 MB of lines for a 3 MiB disk
    sv.log({{"loss": 1 / (i + 1), "note": "y" * 100}}, step=i)
sv.finish()
print("status", run.status)
"""


@pytest.fixture
def small_disk() -> Iterator[Path]:
    mnt = Path(tempfile.mkdtemp(prefix="sv-py-full-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)], capture_output=True)
    if mounted.returncode != 0:
        shutil.rmtree(mnt, ignore_errors=True)
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        for attempt in range(20):
            if subprocess.run(["umount", str(mnt)], capture_output=True).returncode == 0:
                break
            time.sleep(0.25)
        else:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
        shutil.rmtree(mnt, ignore_errors=True)


def assert_rows_accounted(vault: Path, m: dict) -> None:
    """Every logged row is either kept (whole lines only) or counted in metrics_lost_rows, exactly."""
    assert "metrics_rejected_lines" not in m, m  # no torn line was left on disk
    rows = m.get("artifacts", {}).get("metrics", {}).get("rows")
    if rows is None:  # the conversion found no room: the writer's own lines are kept as they are
        text = (vault / "specimens" / SPECIMEN / "runs" / m["run_id"] / "metrics.jsonl").read_bytes()
        assert text.endswith(b"\n")
        lines = text.splitlines()
        for line in (lines[0], lines[-1]):
            json.loads(line)
        rows = len(lines)
    assert rows > 0, "what was written before the disk filled is kept"
    assert rows + m["metrics_lost_rows"] == ROWS, (rows, m["metrics_lost_rows"])


def assert_sealed_full(vault: Path) -> dict:
    listed = runs(vault)
    assert len(listed) == 1 and listed[0]["status"] == "failed", listed
    m = run_manifest(vault, listed[0]["run_id"])
    assert m["status"] == "failed"
    assert m["error"]["type"] == "StorageFullError", m.get("error")
    assert "no space left on the disk while writing" in m["error"]["message"]
    assert m["metrics_lost_rows"] > 0
    assert_rows_accounted(vault, m)
    # What was written before the disk filled is kept, and the run verifies as sealed.
    verify = cli(vault, "verify", SPECIMEN, check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    return m


def test_a_cli_run_that_fills_the_disk_is_sealed_failed_with_storage_full(small_disk: Path) -> None:
    vault = make_vault(small_disk / "vault")
    r = script(vault, FILL)
    assert "status failed" in r.stdout
    assert "No space left on device" in r.stderr and "Traceback" not in r.stderr
    m = assert_sealed_full(vault)
    assert m["error"]["message"].startswith("metrics: ")


def test_under_specimen_run_the_runner_seals_it_failed_and_exits_5(small_disk: Path) -> None:
    vault = make_vault(small_disk / "vault")
    (vault / "specimens" / SPECIMEN / "protocol.py").write_text(FILL)
    r = cli(vault, "run", SPECIMEN, "--python", sys.executable, "--no-system", check=False, env=child_env())
    assert r.returncode == 5, r.stdout + r.stderr
    listed = runs(vault)
    assert listed[0]["status"] == "failed"
    m = run_manifest(vault, listed[0]["run_id"])
    assert m["error"]["type"] == "StorageFullError"
    assert m["metrics_lost_rows"] > 0
    assert_rows_accounted(vault, m)


def test_a_staged_run_keeps_the_reason_until_it_is_adopted(small_disk: Path) -> None:
    vault = make_vault(small_disk / "vault")
    r = script(vault, FILL, SPECIMEN_CLI="none")
    assert "status failed" in r.stdout
    stage = next((vault / "specimens" / SPECIMEN / "pending").iterdir())
    assert (stage / "finish.json").is_file()
    cli(vault, "adopt", SPECIMEN)
    assert_sealed_full(vault)
