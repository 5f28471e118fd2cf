"""Runs: ``init`` creates one (through the ``specimen`` CLI, or attached to ``specimen run``'s run, or staged
in ``pending/`` when no CLI is reachable), ``Run.log``/``Run.log_tensor`` write language-neutral files
into it, and ``Run.finish`` — called by ``with``, by ``finish()``, or at interpreter exit — seals it::

    run = init("2026_01_02_probe", config={"lr": 0.1}, seed=3)
    for step in range(100):
        run.log({"loss": 1 / (step + 1)}, step=step)
    run.summary["best_loss"] = 0.01
    run.finish()

An uncaught exception seals the run ``failed`` with its traceback in the manifest's ``error``;
KeyboardInterrupt or SIGTERM seal it ``interrupted``; ``sys.exit(n)`` with n ≠ 0 seals it ``failed``.
"""

from __future__ import annotations

import atexit
import errno
import json
import math
import os
import re
import secrets
import signal
import socket
import sys
import threading
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any, Dict, Iterable, List, Mapping, Optional, Type, Union

from ._cli import CliError, find_cli, session_call, start_session
from ._code import keep_code, protocol_files, script_of
from ._console import ConsoleCapture
from ._system import SystemSampler
from ._metrics import DiskFull, MetricsFile, warn_once
from ._vault import PathLike, find_vault_root, specimen_dir

PENDING_DIR = "pending"
BEGIN_FILE = "begin.json"
FINISH_FILE = "finish.json"
# Set aside in the run directory by the CLI when it begins a run (src/format/layout.ts); given back to write
# finish.json when the disk is full, so the sealed run can still say why it failed.
SPACE_RESERVE_FILE = ".tmp-space-reserve"
SPACE_RESERVE_BYTES = 128 * 1024  # as the CLI's (SPACE_RESERVE_BYTES); a staged run sets it aside itself
# The writer's own reserve: set aside when the run starts and overwritten in place with finish.json when the
# disk is full, so the finish record needs no new space (nothing else writing at that moment can take it),
# and the CLI's reserve above is left whole for sealing. `.tmp-` files are not part of a sealed run.
FINISH_RESERVE_FILE = ".tmp-finish-reserve"
FINISH_RESERVE_BYTES = 64 * 1024
SERIES_SUFFIX = ".npy-series"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")
_STATUSES = ("succeeded", "failed", "interrupted")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _jsonable(value: Any, where: str) -> Any:
    """``value`` as plain JSON: numpy scalars become numbers, NaN/±Infinity the strings "NaN"/"Infinity"/"-Infinity"."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return float(value)
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, where) for v in value]
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return _jsonable(value.tolist(), where)
    warn_once(f"json:{where}", f"{where}: {type(value).__name__} is not JSON; stored as its str()")
    return str(value)


_packages: Optional[List[str]] = None


def _installed_packages() -> List[str]:
    """``name==version`` of every installed distribution, sorted as ``pip freeze`` lists them.

    Read once per process: scanning every distribution's metadata costs milliseconds, a run of a sweep less.
    """
    global _packages
    if _packages is None:
        try:
            from importlib.metadata import distributions

            found = {f"{d.metadata['Name']}=={d.version}" for d in distributions() if d.metadata["Name"]}
            _packages = sorted(found, key=str.lower)
        except Exception:
            _packages = []
    return list(_packages)


def _write_json_atomic(path: Path, data: Any, sync: bool = True) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, allow_nan=False)
        if sync:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)


def _set_aside(path: Path, size: int) -> None:
    """Writes ``size`` zero bytes to ``path``, space kept for a full disk. Best effort: on a disk already too
    full for it, the run's first write reports the full disk."""
    try:
        with open(path, "wb") as f:
            f.write(bytes(size))
            f.flush()
    except OSError:
        try:
            path.unlink()
        except OSError:
            pass


class Run:
    """One run of a specimen, from ``init`` to ``finish``. Use it as a context manager to seal on exit.

    Attributes:
        specimen_id: the specimen's ID.
        run_id: the run's ID (None while staged in ``pending/``, until ``specimen adopt`` seals it).
        dir: the directory files are written to.
        config: the configuration (``init``'s, updated by ``specimen run --set`` when attached).
        seed: the seed (``specimen run --seed`` when attached, else ``init``'s).
        summary: final figures; what it holds when the run ends lands in the sealed manifest's ``summary``.
        mode: ``"cli"`` (begun by the CLI), ``"attached"`` (inside ``specimen run``) or ``"pending"``.
        status: None while running, then ``succeeded``, ``failed`` or ``interrupted``.
        seal_report: what ``specimen seal --json`` said (run_id, status, rows, tensors), once sealed here.

    Example::

        with sv.init("2026_01_02_probe", config={"lr": 0.1}) as run:
            run.log({"loss": 0.5}, step=0)
    """

    def __init__(
        self,
        specimen_id: str,
        run_id: Optional[str],
        directory: Path,
        mode: str,
        config: Dict[str, Any],
        seed: Optional[int],
        vault: Optional[Path],
        cli: Optional[List[str]] = None,
        protocol: Optional[Dict[str, Any]] = None,
        durability: Optional[str] = None,
    ) -> None:
        self.specimen_id = specimen_id
        self.durability = durability
        self.run_id = run_id
        self.dir = directory
        self.mode = mode
        self.config = config
        self.seed = seed
        self.vault = vault
        self.summary: Dict[str, Any] = {}
        self.status: Optional[str] = None
        self.seal_report: Optional[Dict[str, Any]] = None
        self._cli = cli
        self._protocol = protocol or {}
        self._pid = os.getpid()
        self._full = DiskFull()
        self._metrics = MetricsFile(str(directory / "metrics.jsonl"), self._full)
        self._exc: Optional[BaseException] = None
        self._lock = threading.Lock()
        self._console = ConsoleCapture(directory, self._full)
        self._system = SystemSampler(directory, full=self._full)
        self._exc_printed = False
        _set_aside(directory / FINISH_RESERVE_FILE, FINISH_RESERVE_BYTES)

    def __repr__(self) -> str:
        return f"<Run {self.specimen_id}/{self.run_id or 'pending'} {self.mode} {self.status or 'running'}>"

    # ---- logging ----

    def log(self, data: Optional[Mapping[str, Any]] = None, /, *, step: Optional[int] = None, **metrics: Any) -> None:
        """Logs one row of scalars: ``run.log({"loss": 0.3, "acc": 0.9}, step=10)`` or ``run.log(step=10, loss=0.3)``.

        Buffered and written at least every 0.1 s. Values are numbers, bools, strings or None (numpy and
        torch scalars are converted); NaN and ±Infinity are kept; a step may go backwards (rows keep their
        order). A non-scalar value or an invalid column name is warned about once and dropped; nothing
        here raises into the training loop.
        """
        if data is None:
            row: Mapping[str, Any] = metrics
        elif metrics:
            row = {**data, **metrics}
        elif type(data) is dict or isinstance(data, Mapping):
            row = data
        else:
            warn_once("log:mapping", f"log: expected a dict of metrics, got {type(data).__name__}; dropped")
            return
        if _forked:
            warn_once("log:fork", "log: called in a forked child process; only the process that called init() logs")
            return
        if step is None:
            if not row:
                return
            self._metrics.append(tuple(row), tuple(row.values()))
        else:
            if "step" in row:
                row = {k: v for k, v in row.items() if k != "step"}
            self._metrics.append(("step", *row), (step, *row.values()))

    def log_tensor(self, name: str, array: Any, step: Optional[int] = None) -> None:
        """Saves an array (numpy, or anything ``numpy.asarray`` takes) as a tensor of the run.

        Without ``step`` it becomes the Zarr array ``<name>.zarr``; with ``step`` (checkpoints) every call
        adds one entry to the series ``<name>.zarr`` (shape ``[n_steps, *array.shape]``, in step order) with
        the steps in ``<name>.steps.zarr``; the same step twice keeps the last array. Needs numpy. Problems
        are warned about once and the array is dropped.

        Example::

            run.log_tensor("embeddings", emb)              # one array
            run.log_tensor("weights", w, step=1000)         # a checkpoint
        """
        if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
            warn_once(
                f"tensor-name:{name!r}",
                f"log_tensor: name {name!r} must be letters, digits, '_', '-' or '.' (no '..', at most 200); dropped",
            )
            return
        if step is not None and (isinstance(step, bool) or not isinstance(step, int) or step < 0):
            warn_once(f"tensor-step:{name}", f"log_tensor: step must be a non-negative int, got {step!r}; dropped")
            return
        try:
            import numpy as np
        except ImportError:
            warn_once("numpy", "log_tensor needs numpy (pip install numpy); tensors are dropped")
            return
        tmp: Optional[Path] = None
        try:
            if hasattr(array, "detach"):  # torch
                array = array.detach().cpu().numpy()
            arr = np.ascontiguousarray(array)
            if step is None:
                path = self.dir / f"{name}.npy"
                if path.exists():
                    warn_once(f"tensor-exists:{name}", f"log_tensor: {name!r} is already saved; pass step= for a series")
                    return
            else:
                series = self.dir / f"{name}{SERIES_SUFFIX}"
                series.mkdir(exist_ok=True)
                path = series / f"{step:012d}.npy"
            tmp = path.with_name(f".{path.name}.tmp")
            with open(tmp, "wb") as f:
                np.save(f, arr)
            os.replace(tmp, path)
        except Exception as err:
            self._full.note(err, "tensor", self.dir / name)
            if tmp is not None:
                try:
                    tmp.unlink()  # a partial array gives its space back
                except OSError:
                    pass
            warn_once(f"tensor-io:{name}", f"log_tensor: cannot save {name!r}: {err}; dropped")

    def flush(self) -> None:
        """Writes buffered metric rows now."""
        self._metrics.flush()

    def note(self, text: str) -> None:
        """Appends a dated entry to the field notes of this run's specimen, naming the run (``specimen note``).

        Raises SpecimenError with the command line's message when it refuses, or when none is reachable (a
        run staged in ``pending/``).

        Example::

            run.note("loss spiked at step 4000; lowering the learning rate")
        """
        from ._notebook import note

        prefix = f"Run {self.run_id}: " if self.run_id else ""
        note(self.specimen_id, prefix + text, vault=self.vault)

    # ---- ending ----

    def finish(self, status: Optional[str] = None, exit_code: Optional[int] = None) -> Optional[str]:
        """Ends the run and seals it; returns the final status. Idempotent.

        ``status`` is ``succeeded`` (default), ``failed`` or ``interrupted``; ``exit_code`` ≠ 0 means
        ``failed``. Under ``specimen run`` the runner seals when the process exits (its exit code decides
        the status, unless it is 0 and ``status`` says otherwise); staged runs are sealed by
        ``specimen adopt`` or ``specimen index``.
        """
        with self._lock:
            if self.status is not None or self._pid != os.getpid():
                return self.status
            exc = self._exc
            if status is None:
                if isinstance(exc, KeyboardInterrupt) or _signalled is not None:
                    status = "interrupted"
                elif exc is not None or (exit_code not in (None, 0)):
                    status = "failed"
                else:
                    status = "succeeded"
            if status not in _STATUSES:
                raise ValueError(f"finish: status must be one of {', '.join(_STATUSES)}, got {status!r}")
            self._metrics.close()
            self._system.stop()
            if exc is not None and not self._exc_printed:
                # Raised out of a `with` block: Python prints it after the run is sealed, so the log gets it now.
                self._console.log_stderr("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
            self._console.stop()
            if exc is not None:
                self._full.note(exc, "run", self.dir)  # e.g. write_tensor's OSError, uncaught
            finish: Dict[str, Any] = {"status": status, "ended": _now(), "summary": _jsonable(self.summary, "summary")}
            if exc is not None:
                finish["error"] = {
                    "type": type(exc).__name__,
                    "message": str(exc),
                    "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
                }
            full = self._full.error()
            if full is not None:
                # As a TypeScript writer's run: failed, whatever else happened, with the full disk as its error.
                status = finish["status"] = "failed"
                finish["error"] = {**full, **({"traceback": finish["error"]["traceback"]} if exc is not None else {})}
            if exit_code not in (None, 0):
                finish["exit_code"] = exit_code
            if self._metrics.failures:
                finish["metrics_lost_rows"] = self._metrics.failures
                warn_once("lost", f"{self._metrics.failures} metric row(s) could not be written to {self.dir}")
            finish.update(self._protocol)
            self.status = status
            self._write_finish(finish)
            if self.mode == "cli" and self._cli is not None:
                self._seal()
            elif self.mode == "pending":
                sys.stderr.write(
                    f"specimen_vault: run staged in {self.dir}; `specimen adopt {self.specimen_id}` "
                    "or `specimen index` seals it\n"
                )
            return self.status

    def _write_finish(self, finish: Dict[str, Any]) -> None:
        # A run sealed right away needs no fsync of what the seal reads and removes a moment later (the seal
        # makes the run durable); a staged run's finish.json waits for `specimen adopt`.
        sync = not (self.mode == "cli" and self._cli is not None)
        reserve = self.dir / FINISH_RESERVE_FILE
        try:
            try:
                _write_json_atomic(self.dir / FINISH_FILE, finish, sync=sync)
                return
            except Exception as err:
                if not self._full.note(err, "run", self.dir / FINISH_FILE):
                    warn_once("finish-io", f"finish: cannot write {self.dir / FINISH_FILE}: {err}")
                    return
                first = err
            for tmp in self.dir.glob(f".{FINISH_FILE}.*.tmp"):
                try:
                    tmp.unlink()
                except OSError:
                    pass
            full = self._full.error()
            if full is not None:
                self.status = finish["status"] = "failed"
                finish["error"] = {**full, **({"traceback": finish["error"]["traceback"]} if "traceback" in finish.get("error", {}) else {})}
            # The disk is full: finish.json goes into the space this writer set aside, written in place.
            data = json.dumps(finish, allow_nan=False).encode("utf-8")
            try:
                if len(data) > reserve.stat().st_size:
                    raise OSError(errno.ENOSPC, "finish.json is larger than the space set aside for it")
                with open(reserve, "r+b") as f:
                    f.write(data)
                    f.truncate(len(data))
                    f.flush()
                    if sync:
                        os.fsync(f.fileno())
                os.replace(reserve, self.dir / FINISH_FILE)
                return
            except Exception:
                pass
            # No room of its own (the disk was full when the run started): the CLI's reserve takes it.
            for name in (FINISH_RESERVE_FILE, SPACE_RESERVE_FILE):
                try:
                    (self.dir / name).unlink()
                except OSError:
                    pass
            try:
                _write_json_atomic(self.dir / FINISH_FILE, finish, sync=sync)
            except Exception as err:
                warn_once("finish-io", f"finish: cannot write {self.dir / FINISH_FILE}: {first}; then {err}")
        finally:
            try:
                reserve.unlink()
            except OSError:
                pass

    def _seal(self) -> None:
        assert self._cli is not None and self.vault is not None and self.run_id is not None
        try:
            payload = {"vault": str(self.vault), "specimen": self.specimen_id, "run": self.run_id, "status": self.status}
            args = ["--vault", str(self.vault), "seal", self.specimen_id, self.run_id, "--status", str(self.status), "--json"]
            if self.durability is not None:
                payload["durability"] = self.durability
                args += ["--durability", self.durability]
            report = session_call(self._cli, "seal", payload, args)
            if isinstance(report, dict):
                report.pop("warnings", None)
            self.seal_report = report
        except Exception as err:
            warn_once(
                "seal",
                f"finish: could not seal run {self.run_id}: {err}; its data is kept and "
                f"`specimen adopt {self.specimen_id}` seals it",
            )

    def __enter__(self) -> "Run":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if exc is not None and not isinstance(exc, (GeneratorExit,)):
            if isinstance(exc, SystemExit):
                self.finish(exit_code=exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1))
                return
            self._exc = exc
        self.finish()


_current: Optional[Run] = None
_forked = False
_hooks_installed = False
_exit_code: Optional[int] = None
_signalled: Optional[str] = None


def current_run() -> Optional[Run]:
    """The run ``init`` started last, while it is not finished."""
    return _current if _current is not None and _current.status is None else None


def _runner_env(specimen_id: Optional[str]) -> Optional[Dict[str, str]]:
    env = os.environ
    keys = ("SPECIMEN_RUN_DIR", "SPECIMEN_RUN_ID", "SPECIMEN_ID")
    if not all(env.get(k) for k in keys):
        return None
    if specimen_id is not None and specimen_id != env["SPECIMEN_ID"]:
        return None
    return {k: env[k] for k in keys}


def _env_json(name: str) -> Dict[str, Any]:
    try:
        value = json.loads(os.environ.get(name) or "{}")
        return value if isinstance(value, dict) else {}
    except ValueError:
        return {}


def _code_files(specimen_dir: Path) -> List[Path]:
    """What a staged run keeps: the script ``sys.argv`` names, else the specimen's protocol file(s)."""
    script = script_of(sys.argv, os.getcwd())
    return [script] if script is not None else protocol_files(specimen_dir)


def init(
    specimen_id: Optional[str] = None,
    *,
    config: Optional[Mapping[str, Any]] = None,
    seed: Optional[int] = None,
    name: Optional[str] = None,
    tags: Optional[Iterable[str]] = None,
    notes: Optional[str] = None,
    vault: Optional[PathLike] = None,
    durability: Optional[str] = None,
) -> Run:
    """Starts a run of ``specimen_id`` and returns it (also the target of ``sv.log``).

    Under ``specimen run`` it attaches to the runner's run (``specimen_id`` may be omitted); ``--set``
    values override ``config`` and ``--seed`` gives the seed, and the runner seals. Otherwise the vault
    is ``vault``, ``$SPECIMEN_VAULT`` or the nearest one above the working directory, and the ``specimen``
    CLI (``$SPECIMEN_CLI``, ``specimen`` on PATH, or this checkout's ``dist/cli/main.js``) creates the run;
    without a CLI the run is staged in ``specimens/<id>/pending/`` for ``specimen adopt``. A previous run
    still open is finished first. Raises LookupError for an unknown vault or specimen (naming the closest
    IDs and how to create one).

    ``durability`` is when the sealed run is durable: ``"batch"`` (group commit: fsynced together with the
    runs sealed within the same second; a crash of this process never loses a sealed run) or ``"run"``
    (durable when ``finish()`` returns); by default the vault's ``durability`` setting, else ``"batch"``.

    Example::

        import specimen_vault as sv
        run = sv.init("2026_01_02_probe", config={"lr": 0.1}, seed=3, tags=["baseline"])
        sv.log({"loss": 0.25}, step=0)
        sv.finish()
    """
    global _current
    if durability not in (None, "run", "batch"):
        raise ValueError(f"init: durability must be 'run' or 'batch', got {durability!r}")
    if _current is not None and _current.status is None and _current._pid == os.getpid():
        _current.finish()
    cfg = _jsonable(dict(config or {}), "config")
    tag_list = [str(t) for t in tags] if tags is not None else None
    runner = _runner_env(specimen_id)
    if runner is not None:
        run_config = {**cfg, **_env_json("SPECIMEN_CONFIG")}
        runner_seed = os.environ.get("SPECIMEN_SEED")
        protocol: Dict[str, Any] = {}
        if config:
            protocol["protocol_config"] = cfg
        if seed is not None:
            protocol["protocol_seeds"] = {"global": seed}
        protocol.update({k: v for k, v in (("name", name), ("tags", tag_list), ("notes", notes)) if v is not None})
        run = Run(
            runner["SPECIMEN_ID"],
            runner["SPECIMEN_RUN_ID"],
            Path(runner["SPECIMEN_RUN_DIR"]),
            "attached",
            run_config,
            int(runner_seed) if runner_seed not in (None, "") else seed,
            Path(os.environ["SPECIMEN_VAULT"]) if os.environ.get("SPECIMEN_VAULT") else None,
            protocol=protocol,
        )
    else:
        if specimen_id is None:
            raise ValueError("init: give the specimen ID, e.g. sv.init('2026_01_02_probe') (outside `specimen run`)")
        root = find_vault_root(vault)
        sdir = specimen_dir(root, specimen_id)
        cli = find_cli()
        if cli is not None:
            # Node starts while the packages are listed below (each takes a good part of init's time).
            start_session(cli)
        request: Dict[str, Any] = {
            "config": cfg,
            "seed": seed,
            "name": name,
            "tags": tag_list,
            "notes": notes,
            "owner": {"pid": os.getpid(), "host": socket.gethostname()},
            "command": [str(a) for a in sys.argv],
            "cwd": os.getcwd(),
            "language": "python",
            "python": sys.executable,
            "python_version": sys.version.split()[0],
            "python_packages": _installed_packages(),
        }
        request = {k: v for k, v in request.items() if v is not None}
        begun: Optional[Dict[str, Any]] = None
        if cli is not None:
            try:
                begun = session_call(
                    cli,
                    "begin",
                    {"vault": str(root), "specimen": specimen_id, "request": request},
                    ["--vault", str(root), "begin", specimen_id, "--request", "-", "--json"],
                    request,
                )
            except CliError as err:
                if err.code == 3:  # not found: the CLI's message names the closest IDs
                    raise LookupError(str(err)) from None
                warn_once("begin", f"init: {err}; the run is staged in pending/ instead")
            except Exception as err:
                warn_once("begin", f"init: cannot run the specimen CLI ({err}); the run is staged in pending/ instead")
        else:
            warn_once(
                "no-cli",
                "init: no `specimen` CLI found ($SPECIMEN_CLI, PATH, or a built checkout); the run is staged "
                f"in {sdir / PENDING_DIR}/ and sealed by `specimen adopt {specimen_id}` or `specimen index`",
            )
        if begun is not None:
            run = Run(specimen_id, begun["run_id"], Path(begun["run_dir"]), "cli", cfg, seed, root, cli, durability=durability)
        else:
            started = _now()
            stage = f"{time.strftime('%Y%m%d_%H%M%S', time.gmtime())}-{os.getpid()}-{secrets.token_hex(3)}"
            directory = sdir / PENDING_DIR / stage
            directory.mkdir(parents=True)
            request["started"] = started
            request["extra"] = {
                "host": {"hostname": socket.gethostname(), "platform": sys.platform},
                "runtime": {"python": sys.version.split()[0]},
                # Kept now, as it runs: `specimen adopt` may come after the script has changed.
                "code": keep_code(directory, _code_files(sdir), os.getcwd()),
            }
            _write_json_atomic(directory / BEGIN_FILE, request)
            _set_aside(directory / SPACE_RESERVE_FILE, SPACE_RESERVE_BYTES)
            run = Run(specimen_id, None, directory, "pending", cfg, seed, root)
    _current = run
    if run.mode != "attached":  # under `specimen run` the runner keeps the console itself
        run._console.start()
    run._system.start()
    _install_hooks()
    return run


def finish(status: Optional[str] = None, exit_code: Optional[int] = None) -> Optional[str]:
    """Finishes the current run (see ``Run.finish``); returns its status, or None when there is no run."""
    run = _current
    return run.finish(status, exit_code) if run is not None else None


def _at_exit() -> None:
    run = _current
    if run is None or run.status is not None or run._pid != os.getpid():
        return
    if _signalled is not None:
        run.finish("interrupted")
    else:
        run.finish(exit_code=_exit_code)


def _install_hooks() -> None:
    """At exit the current run is sealed; the hooks below tell it how the program ended."""
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(_at_exit)

    previous_hook = sys.excepthook

    def excepthook(tp: Type[BaseException], value: BaseException, tb: Optional[TracebackType]) -> None:
        run = _current
        if run is not None and run.status is None:
            run._exc = value
            run._exc_printed = True  # printed below, into the console log while it is still captured
        previous_hook(tp, value, tb)

    sys.excepthook = excepthook

    # sys.exit(n) raises SystemExit, which reaches neither excepthook nor atexit with its code; remembering
    # the code lets a script that exits with an error seal its run as failed.
    previous_exit = sys.exit

    def exit_(code: Union[str, int, None] = None) -> Any:
        global _exit_code
        _exit_code = code if isinstance(code, int) else (0 if code is None else 1)
        previous_exit(code)

    sys.exit = exit_

    if threading.current_thread() is threading.main_thread():
        try:
            if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
                # A scheduler's SIGTERM would kill the process without atexit; exiting instead seals the run.
                def on_term(signum: int, frame: Any) -> None:
                    global _signalled
                    _signalled = "SIGTERM"
                    raise SystemExit(128 + signum)

                signal.signal(signal.SIGTERM, on_term)
        except (ValueError, OSError):  # pragma: no cover - not the main interpreter
            pass

    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_forget_in_child)


def _forget_in_child() -> None:
    # A forked worker (a DataLoader's) must neither write the parent's buffered rows nor seal its run.
    global _current, _forked
    _current = None
    _forked = True
