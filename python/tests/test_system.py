"""The system sampler on a real process tree: the `ps` fallback (for systems without /proc, forced here)
sees the resident memory /proc sees for a child holding 200 MiB, and /proc's RSS uses the kernel's page
size."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from specimen_vault import _system


def test_parse_ps_reads_pid_ppid_rss_kib_and_cpu() -> None:
    assert _system.parse_ps("    1     0 14940  0.6\n  812     1  2048 12.5\nPID PPID RSS %CPU\n") == {
        1: (0, 14940 * 1024, 0.6),
        812: (1, 2048 * 1024, 12.5),
    }


def test_the_source_is_proc_on_linux_unless_ps_is_forced(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SPECIMEN_SYSTEM_SOURCE", raising=False)
    assert _system.SystemSampler(tmp_path).source == ("proc" if os.path.isdir("/proc/self") else "ps")
    monkeypatch.setenv("SPECIMEN_SYSTEM_SOURCE", "ps")
    assert _system.SystemSampler(tmp_path).source == "ps"


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="compares with /proc")
def test_ps_and_proc_agree_on_a_child_holding_200_mib(tmp_path: Path) -> None:
    assert _system._proc_units()[1] == int(subprocess.run(["getconf", "PAGESIZE"], capture_output=True, text=True).stdout)
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nb = b'x' * (200 << 20)\nprint('ready', flush=True)\ntime.sleep(60)"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        rss = {}
        for source in ("proc", "ps"):
            d = tmp_path / source
            d.mkdir()
            sampler = _system.SystemSampler(d, interval=3600, source=source)
            sampler._write()
            sampler._write()
            rows = [json.loads(line) for line in (d / "system.jsonl").read_text().splitlines()]
            assert len(rows) == 2 and rows[1]["cpu_percent"] >= 0
            rss[source] = rows[1]["rss_bytes"]
        assert rss["proc"] > 200 << 20 and rss["ps"] > 200 << 20
        assert abs(rss["ps"] - rss["proc"]) / rss["proc"] < 0.05, rss
    finally:
        child.kill()
        child.wait()
