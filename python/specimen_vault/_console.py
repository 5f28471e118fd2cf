"""Console capture: what the script prints (``sys.stdout``, ``sys.stderr``) is also appended to the run's
``stdout.log`` / ``stderr.log``, so the web UI shows it while the run trains and it is sealed with the
run. Under ``specimen run`` the runner captures the process's output itself and this is not used.

Only Python-level writes are copied (``print``, ``logging``, tracebacks, tqdm); output written straight to
file descriptor 1 or 2 by C code or by child processes is not. ``SPECIMEN_CONSOLE=off`` turns capture off.
Failing to write a log never reaches the script: the first failure is reported once and copying stops.

Example::

    capture = ConsoleCapture(run_dir)
    capture.start()
    print("epoch 1")        # on the terminal and in run_dir/stdout.log
    capture.stop()
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any, List, Optional, TextIO

from ._metrics import DiskFull, warn_once

STDOUT_FILE = "stdout.log"
STDERR_FILE = "stderr.log"


class _Tee:
    """A text stream that writes to the original stream and to a log file (line-buffered)."""

    def __init__(self, original: TextIO, path: Path, full: DiskFull) -> None:
        self._original = original
        self._path = path
        self._full = full
        self._file: Optional[TextIO] = None
        self._broken = False
        self._lock = threading.Lock()

    def _log(self, text: str) -> None:
        if self._broken or not text:
            return
        with self._lock:
            try:
                if self._file is None:
                    # Created on first output: a run that prints nothing has no empty log.
                    self._file = open(self._path, "a", encoding="utf-8", errors="replace", buffering=1)
                self._file.write(text)
                if "\r" in text and "\n" not in text:  # progress bars redraw with \r: keep the log current
                    self._file.flush()
            except Exception as err:
                self._broken = True
                self._full.note(err, "console", self._path)
                warn_once(f"console:{self._path.name}", f"console: cannot write {self._path}: {err}; no longer copied")

    def write(self, text: str) -> int:
        n = self._original.write(text)
        self._log(text)
        return n

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._original.flush()
        with self._lock:
            if self._file is not None:
                try:
                    self._file.flush()
                except Exception:
                    pass

    def close_log(self) -> None:
        with self._lock:
            if self._file is not None:
                try:
                    self._file.close()
                except Exception:
                    pass
                self._file = None
            self._broken = True

    def __getattr__(self, name: str) -> Any:
        # encoding, isatty, fileno, buffer…: those of the original stream.
        return getattr(self._original, name)


class ConsoleCapture:
    """Copies ``sys.stdout`` and ``sys.stderr`` into ``directory`` between ``start()`` and ``stop()``."""

    def __init__(self, directory: Path, full: Optional[DiskFull] = None) -> None:
        self.directory = directory
        self.full = full if full is not None else DiskFull()
        self._tees: List[_Tee] = []

    @staticmethod
    def enabled() -> bool:
        return os.environ.get("SPECIMEN_CONSOLE", "").strip().lower() not in ("off", "0", "false", "no")

    def start(self) -> None:
        if self._tees or not self.enabled():
            return
        out = _Tee(sys.stdout, self.directory / STDOUT_FILE, self.full)
        err = _Tee(sys.stderr, self.directory / STDERR_FILE, self.full)
        self._tees = [out, err]
        sys.stdout = out  # type: ignore[assignment]
        sys.stderr = err  # type: ignore[assignment]

    def log_stderr(self, text: str) -> None:
        """Appends ``text`` to ``stderr.log`` only (the terminal gets it from Python itself)."""
        if self._tees:
            self._tees[1]._log(text)

    def stop(self) -> None:
        if not self._tees:
            return
        out, err = self._tees
        # Restored only if nobody replaced them since (a notebook or a library may have).
        if sys.stdout is out:
            sys.stdout = out._original
        if sys.stderr is err:
            sys.stderr = err._original
        for t in self._tees:
            t.flush()
            t.close_log()
        self._tees = []
