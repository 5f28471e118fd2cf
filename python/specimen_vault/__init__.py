"""Specimen Vault helper for protocols run by ``specimen run``. Standard library only.

    import specimen_vault as sv
    for step in range(100):
        sv.log(step=step, loss=1 / (step + 1))
    sv.write_tensor("weights", numpy_array)   # needs numpy; saved as .npy, stored as Zarr after the run
    sv.run_dir()                              # the run directory

``log`` appends one JSON line per call to ``$SPECIMEN_RUN_DIR/metrics.jsonl`` and flushes it, so a crash
loses nothing already logged; the runner turns the file into ``metrics.parquet`` when the protocol ends.
NaN and infinities are written as the tokens ``NaN``, ``Infinity`` and ``-Infinity``, which the runner reads back.
"""

import json
import os
import re

__all__ = ["log", "write_tensor", "run_dir", "seed", "config", "specimen_id", "run_id"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")
_metrics_file = None


def run_dir():
    """Directory of the current run (``$SPECIMEN_RUN_DIR``), or the working directory outside ``specimen run``."""
    return os.environ.get("SPECIMEN_RUN_DIR", os.getcwd())


def seed(default=0):
    """The run's seed (``$SPECIMEN_SEED``) as an int."""
    value = os.environ.get("SPECIMEN_SEED")
    return int(value) if value not in (None, "") else default


def config():
    """The run's configuration (``$SPECIMEN_CONFIG``, JSON) as a dict."""
    return json.loads(os.environ.get("SPECIMEN_CONFIG") or "{}")


def specimen_id():
    return os.environ.get("SPECIMEN_ID")


def run_id():
    return os.environ.get("SPECIMEN_RUN_ID")


def _plain(value):
    # numpy scalars and other number-likes become Python numbers; everything else must be JSON-able.
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (list, tuple)):
        raise TypeError("specimen_vault.log: values must be scalars, got a sequence")
    return float(value)


def log(**metrics):
    """Append one row of metrics, e.g. ``log(step=10, loss=0.25, accuracy=0.9)``."""
    global _metrics_file
    if not metrics:
        raise ValueError("specimen_vault.log: give at least one metric, e.g. log(step=0, loss=1.0)")
    row = {k: _plain(v) for k, v in metrics.items()}
    if _metrics_file is None:
        _metrics_file = open(os.path.join(run_dir(), "metrics.jsonl"), "a", encoding="utf-8")
    _metrics_file.write(json.dumps(row, allow_nan=True) + "\n")
    _metrics_file.flush()


def write_tensor(name, array):
    """Save ``array`` (numpy) as ``<name>.npy`` in the run; the runner stores it as the Zarr array ``<name>.zarr``."""
    if not _NAME.match(name) or ".." in name:
        raise ValueError(
            "specimen_vault.write_tensor: name %r must be letters, digits, '_', '-' or '.', without '..'" % (name,)
        )
    try:
        import numpy as np
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise RuntimeError("specimen_vault.write_tensor needs numpy (pip install numpy)") from err
    path = os.path.join(run_dir(), name + ".npy")
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        np.save(f, np.ascontiguousarray(array))
    os.replace(tmp, path)
    return path


