"""Buffered, crash-safe JSON lines for ``run.log``: rows become lines of the run's ``metrics.jsonl``, which
the ``specimen`` CLI turns into ``metrics.parquet`` when the run is sealed.

Rows are buffered and written out at least every ``FLUSH_INTERVAL_S`` (0.1 s): by the next ``log`` call
once that much time has passed, or by a background thread when the loop is busy elsewhere. A killed process
therefore loses at most the last ~100 ms of rows. Rows with the keys of the previous row (the usual case)
are stored as tuples and formatted with one template per key set, which is several times faster than
``json.dumps`` per row; anything the template cannot express exactly (NaN, booleans, strings, numpy
scalars…) goes through the careful per-value path. A flush is written in pieces of whole lines, so a full
disk leaves only whole rows in the file, and the rows not kept are counted exactly. Nothing here raises into
the training loop: bad values and I/O failures are warned about once on stderr and counted::

    m = MetricsFile(path)
    m.append(("step", "loss"), (0, 1.5))
    m.close()
"""

from __future__ import annotations

import errno
import json
from itertools import chain
import os
import re
import sys
import threading
import time
import weakref
from typing import Any, Dict, List, Optional, Set, Tuple

FLUSH_INTERVAL_S = 0.1
"""Longest time a logged row stays in memory before it is written (and flushed to the OS)."""
MAX_BUFFERED_ROWS = 20_000
"""Rows buffered before a write even within the interval, so memory stays small."""
WRITE_PIECE_BYTES = 64 * 1024
"""Largest single ``write`` of a flush (whole lines; a longer line is written alone). A full disk then
costs at most the piece being written: its whole lines that fit are kept, the torn tail is cut off, and
exactly the rows not on disk are counted as lost."""

_MAX_NAME = 200
# A value in the template must start like a JSON number; `nan`, `inf`, `True`, `None`, `'text'`,
# `np.float32(…)` do not.
_NOT_A_NUMBER = re.compile(r":(?![-\d])|:-(?!\d)")
_SCALARS = (bool, int, float, str, type(None))
# Exactly these types (not bool, not numpy's) print as JSON numbers with %r, NaN and infinities aside.
_FAST_TYPES = frozenset((int, float))

_warned: Set[str] = set()


def warn_once(key: str, message: str) -> None:
    """Writes ``message`` to stderr the first time ``key`` is seen."""
    if key in _warned:
        return
    _warned.add(key)
    try:
        sys.stderr.write(f"specimen_vault: warning: {message}\n")
    except Exception:  # pragma: no cover - stderr itself is gone
        pass


def name_problem(key: Any) -> Optional[str]:
    """Why ``key`` cannot be a metric column name, or None."""
    if not isinstance(key, str):
        return f"column names must be strings, got {type(key).__name__} {key!r}"
    if not key.strip():
        return "column names must not be empty"
    if len(key) > _MAX_NAME:
        return f"column name {key[:40]!r}… is longer than {_MAX_NAME} characters"
    if key == "run_id":
        return "the column 'run_id' is added by the vault; use another name"
    if any(ord(c) < 32 for c in key):
        return f"column name {key!r} contains control characters"
    return None


_FULL_ERRNOS = {errno.ENOSPC: "ENOSPC", getattr(errno, "EDQUOT", -1): "EDQUOT"}


def disk_full_code(err: BaseException) -> Optional[str]:
    """``"ENOSPC"`` or ``"EDQUOT"`` when ``err`` (or what caused it) says the disk is full, else None."""
    e: Optional[BaseException] = err
    for _ in range(5):
        if e is None:
            return None
        if isinstance(e, OSError) and e.errno in _FULL_ERRNOS:
            return _FULL_ERRNOS[e.errno]
        text = str(e)
        if "No space left on device" in text:
            return "ENOSPC"
        if "Disk quota exceeded" in text:
            return "EDQUOT"
        e = e.__cause__ or e.__context__
    return None


class DiskFull:
    """The first full-disk failure among a run's writes (metrics, tensors, console, system metrics).

    Writers ``note`` every I/O failure; one that says the disk is full is kept, and ``Run.finish`` seals the
    run as failed with a ``StorageFullError`` — the type and message TypeScript writers record
    (src/storage/disk-full.ts, src/errors.ts), so a sealed run reads the same whichever language filled the
    disk. Thread-safe; never raises.
    """

    def __init__(self) -> None:
        self.subsystem: Optional[str] = None
        self.file: Optional[str] = None
        self.code: Optional[str] = None

    def note(self, err: BaseException, subsystem: str, file: Any) -> bool:
        """Records ``err`` if it is the first full-disk failure; True when ``err`` says the disk is full."""
        try:
            code = disk_full_code(err)
        except Exception:  # an exception whose str() fails: not one the disk raised
            return False
        if code is None:
            return False
        if self.code is None:
            self.subsystem, self.file, self.code = subsystem, str(file), code
        return True

    def error(self) -> Optional[Dict[str, str]]:
        """The manifest's ``error`` for the first full disk (StorageFullError's type and message), or None."""
        if self.code is None:
            return None
        what = "disk quota exceeded" if self.code == "EDQUOT" else "disk full"
        return {
            "type": "StorageFullError",
            "message": f"{self.subsystem}: no space left on the disk while writing {self.file} ({what}); "
            "free some space (or raise the quota) and try again; what was written before is kept",
            "code": self.code,
        }


_DROP = object()


def plain(key: str, value: Any) -> Any:
    """``value`` as a JSON scalar (numpy/torch scalars become Python numbers), or _DROP with a warning."""
    if isinstance(value, _SCALARS):
        return value
    if getattr(value, "ndim", 0) == 0 and hasattr(value, "item"):
        try:
            v = value.item()
            if isinstance(v, _SCALARS):
                return v
        except Exception:
            pass
    elif not isinstance(value, (list, tuple, dict, set)) and not hasattr(value, "ndim"):
        try:
            return float(value)  # Decimal, Fraction, other number-likes
        except Exception:
            pass
    warn_once(
        f"value:{key}",
        f"log: {key!r} must be a scalar (number, bool, string or None), got {type(value).__name__}; "
        "such values are dropped (log a tensor with run.log_tensor)",
    )
    return _DROP


def _template(keys: Tuple[str, ...]) -> str:
    return "{" + ",".join(json.dumps(k).replace("%", "%%") + ":%r" for k in keys) + "}"


class MetricsFile:
    """The buffered writer of one run's ``metrics.jsonl`` (thread-safe; see the module docstring)."""

    def __init__(self, path: str, full: Optional[DiskFull] = None) -> None:
        self.path = path
        self.full = full if full is not None else DiskFull()
        """Where a full disk is recorded (shared with the run's other writers)."""
        self.rows = 0
        """Rows accepted so far."""
        self.failures = 0
        """Rows lost to I/O failures (rows not in the file)."""
        self._fd: Optional[int] = None
        self._size = 0
        self._segments: List[Tuple[Tuple[Any, ...], List[Tuple[Any, ...]]]] = []
        self._keys: Optional[Tuple[Any, ...]] = None
        self._rows: List[Tuple[Any, ...]] = []
        self._buffered = 0
        self._templates: Dict[Tuple[Any, ...], Tuple[Optional[str], Tuple[int, ...]]] = {}
        self._lock = threading.Lock()
        self._last = time.monotonic()
        self._closed = False
        _start_flusher(self)

    def append(self, keys: Tuple[Any, ...], values: Tuple[Any, ...]) -> None:
        """Buffers one row (``keys`` and ``values`` of equal length)."""
        with self._lock:
            if self._closed:
                warn_once("closed", "log: the run is finished; rows logged after finish() are dropped")
                return
            if keys is not self._keys and keys != self._keys:
                self._keys = keys
                self._rows = []
                self._segments.append((keys, self._rows))
            self._rows.append(values)
            self.rows += 1
            self._buffered += 1
            # The clock is read every 16th row (reading it costs as much as the rest of this method); between
            # those, and when logging is slow, the background thread flushes rows older than the interval.
            if self._buffered & 15 == 0 and (
                self._buffered >= MAX_BUFFERED_ROWS or time.monotonic() - self._last >= FLUSH_INTERVAL_S
            ):
                self._flush_locked()

    def flush(self) -> None:
        """Writes every buffered row now."""
        with self._lock:
            self._flush_locked()

    def flush_if_due(self) -> None:
        """What the background thread calls: writes buffered rows older than the interval."""
        with self._lock:
            if self._buffered and time.monotonic() - self._last >= FLUSH_INTERVAL_S:
                self._flush_locked()

    def close(self) -> None:
        """Writes what is buffered and closes the file; later rows are dropped with a warning."""
        with self._lock:
            self._flush_locked()
            self._closed = True
            if self._fd is not None:
                try:
                    os.close(self._fd)
                except Exception:
                    pass
                self._fd = None

    def _shape(self, keys: Tuple[Any, ...]) -> Tuple[Optional[str], Tuple[int, ...]]:
        """The template of a key set (None when a key needs escaping care) and the indices of valid keys."""
        t = self._templates.get(keys)
        if t is None:
            valid: List[int] = []
            for i, k in enumerate(keys):
                problem = name_problem(k)
                if problem:
                    warn_once(f"name:{k!r}", f"log: {problem}; the value is dropped")
                elif k not in [keys[j] for j in valid]:
                    valid.append(i)
            tpl = _template(keys) if len(valid) == len(keys) else None
            t = (tpl, tuple(valid))
            self._templates[keys] = t
        return t

    def _slow_line(self, keys: Tuple[Any, ...], valid: Tuple[int, ...], values: Tuple[Any, ...]) -> Optional[str]:
        row = {}
        for i in valid:
            v = plain(keys[i], values[i])
            if v is not _DROP:
                row[keys[i]] = v
        if not row:
            return None
        return json.dumps(row, allow_nan=True)

    def _format(self, keys: Tuple[Any, ...], rows: List[Tuple[Any, ...]]) -> str:
        tpl, valid = self._shape(keys)
        if tpl is not None and _FAST_TYPES.issuperset(map(type, chain.from_iterable(rows))):
            try:
                text = "\n".join(map(tpl.__mod__, rows))
                if _NOT_A_NUMBER.search(text) is None:
                    return text
            except Exception:
                pass  # a value whose repr fails: the careful path below reports it
        lines = []
        for values in rows:
            line = None
            if tpl is not None and _FAST_TYPES.issuperset(map(type, values)):
                try:
                    line = tpl % values
                    if _NOT_A_NUMBER.search(line) is not None:
                        line = None
                except Exception:
                    line = None
            if line is None:
                line = self._slow_line(keys, valid, values)
            if line is not None:
                lines.append(line)
        return "\n".join(lines)

    def _flush_locked(self) -> None:
        self._last = time.monotonic()
        if not self._buffered:
            return
        segments, count = self._segments, self._buffered
        self._segments = []
        self._keys = None
        self._buffered = 0
        try:
            text = "\n".join(filter(None, (self._format(k, rows) for k, rows in segments)))
            if not text:
                return
            data = (text + "\n").encode("utf-8")
        except Exception as err:  # pragma: no cover - formatting reports bad values itself
            self._lost(count, err)
            return
        try:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                self._size = os.fstat(self._fd).st_size
        except Exception as err:  # disk full, file removed, permissions…: never into the training loop
            self._lost(data.count(b"\n"), err)
            return
        kept, err = self._write_pieces(data)
        if err is not None:
            self._lost(data.count(b"\n", kept), err)

    def _write_pieces(self, data: bytes) -> Tuple[int, Optional[BaseException]]:
        """Writes ``data`` (whole lines) in pieces: the bytes of ``data`` kept (whole lines) and the failure."""
        assert self._fd is not None
        view = memoryview(data)
        start = 0
        while start < len(data):
            stop = data.rfind(b"\n", start, start + WRITE_PIECE_BYTES) + 1
            if stop <= start:  # one line longer than a piece
                stop = data.index(b"\n", start) + 1
            done = 0
            try:
                while start + done < stop:
                    n = os.write(self._fd, view[start + done : stop])
                    if n <= 0:  # pragma: no cover - a regular file either writes or raises
                        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                    done += n
            except Exception as err:
                # The whole lines of this piece that reached the file stay; a torn last line is cut off,
                # which also gives its bytes back to a full disk.
                kept = data.rfind(b"\n", start, start + done) + 1 if done else start
                kept = max(kept, start)
                self._size += kept - start
                if kept < start + done:
                    try:
                        os.ftruncate(self._fd, self._size)
                    except OSError:  # the torn line stays; sealing rejects it as an unreadable line
                        self._size += start + done - kept
                return kept, err
            self._size += done
            start = stop
        return len(data), None

    def _lost(self, rows: int, err: BaseException) -> None:
        self.failures += rows
        self.full.note(err, "metrics", self.path)
        warn_once(
            "io:" + self.path,
            f"log: cannot write {self.path}: {err}; rows that cannot be written are counted and dropped",
        )


_files: "weakref.WeakSet[MetricsFile]" = weakref.WeakSet()
_flusher: Optional[threading.Thread] = None
_flusher_lock = threading.Lock()


def _flush_loop() -> None:
    while True:
        time.sleep(FLUSH_INTERVAL_S / 2)
        for f in list(_files):
            try:
                f.flush_if_due()
            except Exception:  # pragma: no cover - flush_if_due already swallows I/O errors
                pass


def _forget_in_child() -> None:
    # A forked child must not write the rows its parent had buffered.
    global _flusher
    _files.clear()
    _flusher = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


def _start_flusher(f: MetricsFile) -> None:
    global _flusher
    _files.add(f)
    with _flusher_lock:
        if _flusher is None or not _flusher.is_alive():
            _flusher = threading.Thread(target=_flush_loop, name="specimen_vault-flush", daemon=True)
            _flusher.start()
