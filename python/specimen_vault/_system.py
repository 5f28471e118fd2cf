"""System metrics of a run: every few seconds a background thread samples the CPU use and resident memory
of this process and its children, and GPU utilisation and memory where ``nvidia-smi`` is present, as one
JSON line of ``system.jsonl`` in the run; sealing converts it to ``system.parquet``.

Columns: ``time`` (Unix seconds), ``elapsed_s`` (since the run began), ``cpu_percent`` (of one core,
summed over the process tree, since the previous sample), ``rss_bytes`` (process tree), and with a GPU
``gpu_util_percent`` and ``gpu_memory_bytes`` (summed over the GPUs). The process tree is read from
``/proc`` on Linux (RSS in pages of the kernel's page size), elsewhere from ``ps -o pid=,ppid=,rss=,pcpu= -A``
(where ``cpu_percent`` is the ``%cpu`` ps reports); without ``ps`` only this process's peak RSS is known.
``SPECIMEN_SYSTEM_SOURCE=ps`` forces ``ps`` on Linux too, only so tests can compare it with ``/proc``.

``SPECIMEN_SYSTEM_INTERVAL`` sets the interval in seconds (default 5); ``off`` (or 0) turns sampling off.
Sampling never disturbs the training loop: a failure stops it with one warning.

Example::

    sampler = SystemSampler(run_dir)
    sampler.start()
    ...
    sampler.stop()     # one last sample, then the thread ends
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from ._metrics import DiskFull, warn_once

SYSTEM_JSONL_FILE = "system.jsonl"
DEFAULT_INTERVAL_S = 5.0


def interval_from_env() -> Optional[float]:
    """The sampling interval from ``SPECIMEN_SYSTEM_INTERVAL``, or None when sampling is off."""
    raw = os.environ.get("SPECIMEN_SYSTEM_INTERVAL", "").strip().lower()
    if raw == "":
        return DEFAULT_INTERVAL_S
    if raw in ("off", "no", "false"):
        return None
    try:
        value = float(raw)
    except ValueError:
        warn_once("system-interval", f"system metrics: SPECIMEN_SYSTEM_INTERVAL={raw!r} is not a number of seconds; using 5")
        return DEFAULT_INTERVAL_S
    return value if value > 0 else None


def _proc_tree(root: int) -> List[int]:
    """``root`` and its descendants, from /proc (empty when /proc is not there)."""
    children: Dict[int, List[int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read().decode("ascii", "replace")
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: fields follow the last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


_units: Optional[Tuple[int, int]] = None


def _proc_units() -> Tuple[int, int]:
    """Clock ticks per second and the page size (4 KiB on x86-64, 16 or 64 KiB on some kernels), read once."""
    global _units
    if _units is None:
        _units = (os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE"))
    return _units


def _proc_usage(pids: List[int]) -> Tuple[float, int]:
    """CPU seconds (user + system) and RSS bytes summed over ``pids``."""
    ticks, page = _proc_units()
    cpu = 0.0
    rss = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read().decode("ascii", "replace")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        # After the name: state(0) ppid(1) … utime(11) stime(12) … rss(21) in pages.
        cpu += (int(fields[11]) + int(fields[12])) / ticks
        rss += int(fields[21]) * page
    return cpu, rss


def parse_ps(out: str) -> Dict[int, Tuple[int, int, float]]:
    """pid → (ppid, RSS bytes, %cpu) from ``ps -o pid=,ppid=,rss=,pcpu= -A`` (RSS in KiB); bad lines skipped."""
    table: Dict[int, Tuple[int, int, float]] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) != 4:
            continue
        try:
            table[int(parts[0])] = (int(parts[1]), int(parts[2]) * 1024, float(parts[3]))
        except ValueError:
            continue
    return table


def _ps_usage(root: int) -> Optional[Tuple[float, int]]:
    """%cpu and RSS bytes summed over ``root``'s process tree, from ``ps``; None without a working ps."""
    try:
        proc = subprocess.Popen(["ps", "-o", "pid=,ppid=,rss=,pcpu=", "-A"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        out, _ = proc.communicate(timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    table = parse_ps(out)
    table.pop(proc.pid, None)  # ps itself is a child of this process, not part of the run
    children: Dict[int, List[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    cpu, rss, todo = 0.0, 0, [root] if root in table else []
    while todo:
        pid = todo.pop()
        cpu += table[pid][2]
        rss += table[pid][1]
        todo.extend(children.get(pid, []))
    return cpu, rss


def source_from_env() -> str:
    """``proc`` on Linux, ``ps`` elsewhere or when ``SPECIMEN_SYSTEM_SOURCE=ps``."""
    if os.environ.get("SPECIMEN_SYSTEM_SOURCE", "").strip().lower() == "ps":
        return "ps"
    return "proc" if os.path.isdir("/proc/self") else "ps"


def _gpu() -> Optional[Tuple[float, int]]:
    """Summed GPU utilisation % and memory bytes from nvidia-smi, or None without one."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "--query-gpu=utilization.gpu,memory.used", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=5,
        ).stdout
    except Exception:
        return None
    util = 0.0
    mem = 0
    seen = False
    for line in out.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        try:
            util += float(parts[0])
            mem += int(float(parts[1]) * 1024 * 1024)  # MiB
            seen = True
        except (IndexError, ValueError):
            continue
    return (util, mem) if seen else None


class SystemSampler:
    """Samples into ``directory/system.jsonl`` every ``interval`` seconds between ``start()`` and ``stop()``."""

    def __init__(
        self,
        directory: Path,
        interval: Optional[float] = None,
        full: Optional[DiskFull] = None,
        source: Optional[str] = None,
    ) -> None:
        self.directory = directory
        self.full = full if full is not None else DiskFull()
        self.interval = interval if interval is not None else interval_from_env()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._t0 = time.time()
        self._last: Optional[Tuple[float, float]] = None
        self._gpu = shutil.which("nvidia-smi") is not None
        self.source = source or source_from_env()
        """``proc`` or ``ps``: where the process tree is read."""

    def sample(self) -> Dict[str, float]:
        now = time.time()
        ps = _ps_usage(os.getpid()) if self.source == "ps" else None
        if self.source == "proc":
            cpu_s, rss = _proc_usage(_proc_tree(os.getpid()))
        elif ps is not None:
            cpu_s, rss = 0.0, ps[1]
        else:
            import resource

            t = os.times()
            cpu_s = t.user + t.system
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
        row: Dict[str, float] = {"time": round(now, 3), "elapsed_s": round(now - self._t0, 3)}
        if ps is not None:
            row["cpu_percent"] = round(ps[0], 2)
        elif self._last is not None and now > self._last[0]:
            row["cpu_percent"] = round(100.0 * (cpu_s - self._last[1]) / (now - self._last[0]), 2)
        else:
            row["cpu_percent"] = None  # type: ignore[assignment]
        self._last = (now, cpu_s)
        row["rss_bytes"] = rss
        if self._gpu:
            g = _gpu()
            if g is not None:
                row["gpu_util_percent"], row["gpu_memory_bytes"] = g
        return row

    def _write(self) -> None:
        row = self.sample()
        try:
            with open(self.directory / SYSTEM_JSONL_FILE, "a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
        except OSError as err:
            self.full.note(err, "system", self.directory / SYSTEM_JSONL_FILE)
            raise

    def _loop(self) -> None:
        try:
            self._write()
            while not self._stop.wait(self.interval or DEFAULT_INTERVAL_S):
                self._write()
        except Exception as err:
            warn_once("system", f"system metrics: sampling stopped: {err}")

    def start(self) -> None:
        if self.interval is None or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="specimen-system-metrics", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ends sampling with one last sample (so even a short run has its peak)."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout=10)
        self._thread = None
        try:
            self._write()
        except Exception as err:
            warn_once("system", f"system metrics: last sample failed: {err}")
