"""Specimen Vault for Python: log metrics and tensors from a training loop into sealed, hashed runs.

Pure Python, no required dependency (numpy for tensors). Runs are created and sealed by the ``specimen``
command line, so the vault format has one implementation; this package writes JSON lines and ``.npy``.

    import specimen_vault as sv

    with sv.init("2026_01_02_probe", config={"lr": 0.1}, seed=3, tags=["baseline"]) as run:
        for step in range(1000):
            sv.log({"loss": 1 / (step + 1), "acc": step / 1000}, step=step)
        run.log_tensor("weights", weights, step=1000)    # numpy; a series of checkpoints
        run.summary["best_acc"] = 0.999
    # sealed: succeeded (an exception → failed with its traceback; Ctrl+C → interrupted)

The same calls work in a plain ``python train.py`` (sealed at exit), in Jupyter and under
``specimen run`` (attached to the runner's run). The helpers of earlier protocols keep working::

    sv.log(step=step, loss=loss)            # NaN and infinities are kept
    sv.write_tensor("embeddings", emb)       # .npy in the run, stored as Zarr when it is sealed
    sv.run_dir(), sv.seed(), sv.config(), sv.specimen_id(), sv.run_id()

The lab notebook goes through the CLI too (``SpecimenError`` carries its message)::

    sid = sv.create_specimen("lr_sweep", domain="training", method="fine_tuning", hypothesis="…", expected="…")
    sv.note(sid, "spike at step 4000")          # run.note("…") for the current run's specimen
    sv.set_fields(sid, expected_results="…", tags=["sweep"])
    sv.conclude(sid, "warmup removes the spike")

Reading a run back (needs pyarrow)::

    table = sv.read_metrics("2026_01_02_probe", metrics=["loss"])    # latest run; as_="polars" / "pandas"
"""

from __future__ import annotations

import os
from typing import Any, Dict, Mapping, Optional

from . import _run
from ._notebook import SpecimenError, conclude, create_specimen, note, set_fields
from ._read import RunNotFound, read_metrics
from ._run import Run, finish, init
from ._vault import SpecimenNotFound, VaultNotFound
from ._version import __version__

__all__ = [
    "init",
    "log",
    "log_tensor",
    "finish",
    "Run",
    "SpecimenNotFound",
    "SpecimenError",
    "create_specimen",
    "note",
    "set_fields",
    "conclude",
    "VaultNotFound",
    "read_metrics",
    "RunNotFound",
    "write_tensor",
    "run_dir",
    "seed",
    "config",
    "specimen_id",
    "run_id",
    "__version__",
]


def _run_for_logging(what: str) -> Run:
    run = _run.current_run()
    if run is not None:
        return run
    if os.environ.get("SPECIMEN_RUN_DIR") and os.environ.get("SPECIMEN_ID"):
        return init()  # a protocol under `specimen run` that never called init()
    raise RuntimeError(f"specimen_vault.{what}: no run; call sv.init('<specimen id>') first, or run under `specimen run`")


def log(data: Optional[Mapping[str, Any]] = None, /, *, step: Optional[int] = None, **metrics: Any) -> None:
    """Logs one row into the current run: ``sv.log({"loss": 0.3}, step=10)`` or ``sv.log(step=10, loss=0.3)``.

    See ``Run.log``. Raises RuntimeError only when there is no run at all (call ``sv.init`` first).
    """
    _run_for_logging("log").log(data, step=step, **metrics)


def log_tensor(name: str, array: Any, step: Optional[int] = None) -> None:
    """Saves an array into the current run: ``sv.log_tensor("w", w, step=1000)``. See ``Run.log_tensor``."""
    _run_for_logging("log_tensor").log_tensor(name, array, step=step)


def run_dir() -> str:
    """Directory of the current run (``$SPECIMEN_RUN_DIR`` under ``specimen run``), else the working directory."""
    run = _run.current_run()
    if run is not None:
        return str(run.dir)
    return os.environ.get("SPECIMEN_RUN_DIR", os.getcwd())


def seed(default: int = 0) -> int:
    """The run's seed (``init``'s or ``$SPECIMEN_SEED``) as an int, else ``default``."""
    run = _run.current_run()
    if run is not None and run.seed is not None:
        return run.seed
    value = os.environ.get("SPECIMEN_SEED")
    return int(value) if value not in (None, "") else default


def config() -> Dict[str, Any]:
    """The run's configuration (``init``'s, or ``$SPECIMEN_CONFIG``) as a dict."""
    run = _run.current_run()
    if run is not None:
        return run.config
    return _run._env_json("SPECIMEN_CONFIG")


def specimen_id() -> Optional[str]:
    """ID of the current run's specimen (``$SPECIMEN_ID`` under ``specimen run``)."""
    run = _run.current_run()
    return run.specimen_id if run is not None else os.environ.get("SPECIMEN_ID")


def run_id() -> Optional[str]:
    """ID of the current run (``$SPECIMEN_RUN_ID`` under ``specimen run``; None while staged)."""
    run = _run.current_run()
    return run.run_id if run is not None else os.environ.get("SPECIMEN_RUN_ID")


def write_tensor(name: str, array: Any) -> str:
    """Saves ``array`` (numpy) as ``<name>.npy`` in the run; sealing stores it as the Zarr array ``<name>.zarr``.

    Unlike ``log_tensor`` this raises ValueError for a bad name and RuntimeError without numpy, as it always
    has. Returns the path written.
    """
    if not _run._NAME.match(name) or ".." in name:
        raise ValueError(
            "specimen_vault.write_tensor: name %r must be letters, digits, '_', '-' or '.', without '..'" % (name,)
        )
    try:
        import numpy as np
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise RuntimeError("specimen_vault.write_tensor needs numpy (pip install numpy)") from err
    path = os.path.join(run_dir(), name + ".npy")
    tmp = path + ".tmp"
    try:
        with open(tmp, "wb") as f:
            np.save(f, np.ascontiguousarray(array))
        os.replace(tmp, path)
    except OSError as err:
        run = _run.current_run()
        if run is not None:
            run._full.note(err, "tensor", path)  # the run is sealed failed, saying the disk is full
        raise
    return path
