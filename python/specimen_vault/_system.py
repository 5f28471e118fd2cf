"""System metrics of a run: every few seconds a background thread samples the CPU use and resident memory
of this process and its children, and GPU utilisation and memory where ``nvidia-smi`` is present, as one
JSON line of ``system.jsonl`` in the run, and once more when the run ends (a run shorter than one interval
still has one sample); sealing converts it to ``system.parquet``. One thread per interpreter samples every
running run, so a sweep of short runs starts no thread per run.

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
    sampler.stop()     # one last sample; the interpreter's sampling thread waits for the next run
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


def _read_stat(pid: int) -> Optional[List[str]]:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first), or None when it is gone."""
    try:
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
        try:
            stat = os.read(fd, 4096).decode("ascii", "replace")
        finally:
            os.close(fd)
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: fields follow the last ')'.
    return stat[stat.rfind(")") + 2 :].split()


def _proc_tree(root: int) -> List[int]:
    """``root`` and its descendants, from a scan of every process in /proc (empty when /proc is not there)."""
    children: Dict[int, List[int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    for name in names:
        if not name.isdigit():
            continue
        fields = _read_stat(int(name))
        if fields is not None and len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


class _TreeCache:
    """This process's descendants, found by a scan of all of /proc at most once per ``max_age`` seconds.

    The kernel here may not offer ``/proc/<pid>/task/<tid>/children``, so finding descendants means reading
    every process's ``stat`` (milliseconds with a few hundred processes). A sweep of short runs samples at
    every run's end; rescanning then would cost each run more than the rest of its bookkeeping. Between
    scans the known descendants are read directly, each kept only while its parent is still in the tree (a
    process that ended and whose pid was reused is dropped), so a process started since the last scan is
    counted from the next one: the same staleness as the sampling interval itself.
    """

    def __init__(self) -> None:
        self.pid = -1
        self.descendants: List[int] = []
        self.scanned = -1e18
        self.lock = threading.Lock()

    def usage(self, max_age: Optional[float]) -> Tuple[float, int]:
        """CPU seconds (user + system) and RSS bytes summed over this process and its descendants, with the
        tree scanned anew when the last scan is older than ``max_age`` seconds (always when None)."""
        me = os.getpid()
        now = time.monotonic()
        with self.lock:
            if me != self.pid or max_age is None or now - self.scanned >= max_age:
                tree = _proc_tree(me)
                self.pid, self.descendants, self.scanned = me, tree[1:], now
            descendants = list(self.descendants)
        ticks, page = _proc_units()
        cpu, rss = 0.0, 0
        alive = {me}
        for pid in [me, *descendants]:
            fields = _read_stat(pid)
            # After the name: state(0) ppid(1) … utime(11) stime(12) … rss(21) in pages.
            if fields is None or len(fields) < 22 or (pid != me and int(fields[1]) not in alive):
                continue
            alive.add(pid)
            cpu += (int(fields[11]) + int(fields[12])) / ticks
            rss += int(fields[21]) * page
        return cpu, rss


_tree = _TreeCache()


_units: Optional[Tuple[int, int]] = None


def _proc_units() -> Tuple[int, int]:
    """Clock ticks per second and the page size (4 KiB on x86-64, 16 or 64 KiB on some kernels), read once."""
    global _units
    if _units is None:
        _units = (os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE"))
    return _units


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


_nvidia_smi: Optional[List[str]] = None


def _nvidia_smi_path() -> Optional[str]:
    """Where ``nvidia-smi`` is, looked up on PATH once per process (every run asks)."""
    global _nvidia_smi
    if _nvidia_smi is None:
        found = shutil.which("nvidia-smi")
        _nvidia_smi = [found] if found else []
    return _nvidia_smi[0] if _nvidia_smi else None


def _gpu() -> Optional[Tuple[float, int]]:
    """Summed GPU utilisation % and memory bytes from nvidia-smi, or None without one."""
    exe = _nvidia_smi_path()
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


class _Ticker:
    """The one background thread of a process that takes every running sampler's periodic samples.

    One thread for the interpreter's life rather than one per run: a sweep of short runs would otherwise
    start and join a thread per run. Samplers register at ``start()`` and leave at ``stop()``; the thread
    sleeps until the next one is due. Started on first use, and again in a forked child (threads do not
    survive a fork).
    """

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.due: Dict["SystemSampler", float] = {}
        self.thread: Optional[threading.Thread] = None

    def add(self, sampler: "SystemSampler", at: float) -> None:
        with self.cond:
            self.due[sampler] = at
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._loop, name="specimen-system-metrics", daemon=True)
                self.thread.start()
            self.cond.notify()

    def remove(self, sampler: "SystemSampler") -> None:
        with self.cond:
            self.due.pop(sampler, None)

    def _loop(self) -> None:
        while True:
            with self.cond:
                now = time.monotonic()
                ready = [s for s, at in self.due.items() if at <= now]
                if not ready:
                    # Also woken by add(): a new sampler may be due sooner than the others.
                    self.cond.wait(min(self.due.values(), default=now + 3600) - now)
                    continue
                for s in ready:
                    self.due[s] = now + (s.interval or DEFAULT_INTERVAL_S)
            for s in ready:
                if not s._tick():
                    self.remove(s)

    def forget_in_child(self) -> None:
        self.cond = threading.Condition()
        self.due = {}
        self.thread = None


_ticker = _Ticker()


def _forget_in_child() -> None:
    global _tree
    _ticker.forget_in_child()
    _tree = _TreeCache()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


class SystemSampler:
    """Samples into ``directory/system.jsonl`` every ``interval`` seconds between ``start()`` and ``stop()``,
    and once more at ``stop()``: a run shorter than one interval still has one sample, with its RSS and its
    CPU use since ``start()``."""

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
        self._started = False
        self._stopped = False
        # Held while a sample is written: the final one waits for a periodic one under way, so lines stay in
        # time order and none follows the final one.
        self._lock = threading.Lock()
        self._t0 = time.time()
        self._last: Optional[Tuple[float, float]] = None
        self._gpu = _nvidia_smi_path() is not None
        self.source = source or source_from_env()
        """``proc`` or ``ps``: where the process tree is read."""

    def _usage(self, fresh: bool) -> Tuple[Optional[float], Optional[float], int]:
        """(CPU seconds of the tree or None, %cpu as ps reports it or None, RSS bytes); ``fresh`` scans the
        process tree anew, else a scan younger than one interval is reused."""
        if self.source == "proc":
            cpu_s, rss = _tree.usage(None if fresh else (self.interval or DEFAULT_INTERVAL_S))
            return cpu_s, None, rss
        ps = _ps_usage(os.getpid())
        if ps is not None:
            return None, ps[0], ps[1]
        import resource

        t = os.times()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
        return t.user + t.system, None, rss

    def sample(self, fresh: bool = True) -> Dict[str, float]:
        now = time.time()
        cpu_s, ps_cpu, rss = self._usage(fresh)
        row: Dict[str, float] = {"time": round(now, 3), "elapsed_s": round(now - self._t0, 3)}
        if ps_cpu is not None:
            row["cpu_percent"] = round(ps_cpu, 2)
        elif cpu_s is not None and self._last is not None and now > self._last[0]:
            row["cpu_percent"] = round(100.0 * (cpu_s - self._last[1]) / (now - self._last[0]), 2)
        else:
            row["cpu_percent"] = None  # type: ignore[assignment]
        if cpu_s is not None:
            self._last = (now, cpu_s)
        row["rss_bytes"] = rss
        if self._gpu:
            g = _gpu()
            if g is not None:
                row["gpu_util_percent"], row["gpu_memory_bytes"] = g
        return row

    def _write(self, fresh: bool = True) -> None:
        row = self.sample(fresh)
        try:
            with open(self.directory / SYSTEM_JSONL_FILE, "a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
        except OSError as err:
            self.full.note(err, "system", self.directory / SYSTEM_JSONL_FILE)
            raise

    def _tick(self) -> bool:
        """One periodic sample (from the ticker thread); False once sampling has stopped or failed."""
        with self._lock:
            if self._stopped:
                return False
            try:
                self._write()
                return True
            except Exception as err:
                self._stopped = True
                warn_once("system", f"system metrics: sampling stopped: {err}")
                return False

    def start(self) -> None:
        if self.interval is None or self._started:
            return
        self._started = True
        self._t0 = time.time()
        if self.source == "proc":
            # The CPU counters at the start, so the first sample's cpu_percent covers the run so far.
            try:
                self._last = (self._t0, _tree.usage(self.interval)[0])  # a recent scan's tree will do
            except Exception:
                self._last = None
        _ticker.add(self, time.monotonic() + self.interval)

    def stop(self) -> None:
        """Ends sampling with one last sample (so even a short run has its resident memory)."""
        if not self._started:
            return
        self._started = False
        _ticker.remove(self)
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            try:
                # The periodic samples rescan the process tree; this one reuses a scan younger than one
                # interval (a full scan of /proc would be most of a short run's cost).
                self._write(fresh=False)
            except Exception as err:
                warn_once("system", f"system metrics: last sample failed: {err}")
