"""Reading a run's metrics back into Python: ``read_metrics`` finds the run the way ``specimen show`` and the
library's ``readMetrics`` do and returns its metrics as a pyarrow Table (or a polars / pandas DataFrame).

pyarrow is needed only here, and only when called, so the package keeps no required dependency::

    table = sv.read_metrics("2026_01_02_probe")                          # latest run with metrics
    loss = sv.read_metrics("2026_01_02_probe", run_id="20260102_101500", metrics=["loss"])
    df = sv.read_metrics("2026_01_02_probe", as_="polars")

Where a run lives is plain directory layout (docs/format.md): ``runs/<run_id>/`` (run IDs sort by time,
``_002``-style suffixes after the bare ID) and the legacy ``strata/`` run, listed first. Its metrics are
``metrics.parquet`` once sealed, else the ``metrics.parts/part-N.parquet`` a streaming writer has flushed.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

from ._vault import PathLike, find_vault_root, specimen_dir

RUNS_DIR = "runs"
LEGACY_RUN_ID = "strata"
METRICS_FILE = "metrics.parquet"
PARTS_DIR = "metrics.parts"
REMOTE_STUB_FILE = ".remote-stub"
_RUN_ID = re.compile(r"^\d{8}_\d{6}(?:_\d{3,})?$")
_RUN_ID_PARTS = re.compile(r"^(\d{8}_\d{6})(?:_(\d+))?$")
_PART = re.compile(r"^part-(\d+)\.parquet$")
_FORMATS = ("pyarrow", "polars", "pandas")

__all__ = ["read_metrics", "RunNotFound"]


class RunNotFound(LookupError):
    """The run ID names no run of the specimen, or the run has no metrics to read; the message says which."""


def _run_sort_key(run_id: str) -> Tuple[str, int]:
    # Time order, as src/format/ids.ts compareRunIds: the time part, then the collision suffix, a bare ID
    # before the suffixed ones started in the same second.
    m = _RUN_ID_PARTS.match(run_id)
    if not m:
        return ("", 0)
    return (m.group(1), int(m.group(2)) if m.group(2) else 0)


def _run_dirs(spec_dir: Path) -> List[Tuple[str, Path]]:
    """(run_id, directory) of every run, legacy ``strata/`` first, then ``runs/*`` in time order."""
    out: List[Tuple[str, Path]] = []
    if (spec_dir / LEGACY_RUN_ID).is_dir():
        out.append((LEGACY_RUN_ID, spec_dir / LEGACY_RUN_ID))
    try:
        entries = [e for e in os.scandir(spec_dir / RUNS_DIR) if e.is_dir() and _RUN_ID.match(e.name)]
    except OSError:
        entries = []
    for e in sorted(entries, key=lambda e: _run_sort_key(e.name)):
        out.append((e.name, Path(e.path)))
    return out


def _metrics_files(run_dir: Path) -> List[Path]:
    """The run's metrics files: ``metrics.parquet``, else its flushed parts in order; [] when it has none."""
    sealed = run_dir / METRICS_FILE
    if sealed.is_file():
        return [sealed]
    try:
        parts = [(int(m.group(1)), e.path) for e in os.scandir(run_dir / PARTS_DIR) if (m := _PART.match(e.name))]
    except OSError:
        return []
    return [Path(p) for _, p in sorted(parts)]


def _import_pyarrow() -> Any:
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet as pq
    except ImportError as err:
        raise ImportError(
            "specimen_vault.read_metrics needs pyarrow, which is not installed: pip install pyarrow"
        ) from err
    return pq


def read_metrics(
    specimen_id: str,
    run_id: Optional[str] = None,
    metrics: Optional[Sequence[str]] = None,
    vault: Optional[PathLike] = None,
    *,
    as_: str = "pyarrow",
) -> Any:
    """The metrics of one run as a table: one row per logged step, its metric columns, and ``run_id`` last.

    Args:
        specimen_id: the specimen, e.g. ``"2026_01_02_probe"``.
        run_id: the run (``"20260102_101500"``, or ``"strata"`` for a legacy run); by default the latest run
            that has metrics, as ``specimen show`` picks it.
        metrics: only these metric columns (plus ``step`` and ``wall_time`` where present, and ``run_id``),
            in the order given; by default every column.
        vault: the vault root; else ``$SPECIMEN_VAULT``, else the nearest vault above the working directory.
        as_: ``"pyarrow"`` (a ``pyarrow.Table``, the default), ``"polars"`` or ``"pandas"`` (a DataFrame; that
            library must be installed).

    Raises:
        ImportError: pyarrow (or the library ``as_`` names) is not installed.
        VaultNotFound, SpecimenNotFound: as ``sv.init``.
        RunNotFound: no such run (the closest run IDs are named), or it has no metrics yet (a run only the
            remote holds says to ``specimen pull`` it).
        KeyError: a name in ``metrics`` is not a column of the run; the message lists the columns.
        ValueError: ``as_`` is not one of the three formats.

    A run still being written yields the rows its writer has flushed so far.
    """
    if as_ not in _FORMATS:
        raise ValueError(f"read_metrics: as_ must be one of {', '.join(map(repr, _FORMATS))}, got {as_!r}")
    if metrics is not None and (isinstance(metrics, str) or not all(isinstance(m, str) for m in metrics)):
        raise TypeError("read_metrics: metrics must be a list of column names, e.g. metrics=['loss']")
    pq = _import_pyarrow()
    root = find_vault_root(vault)
    spec_dir = specimen_dir(root, specimen_id)
    if run_id is not None:
        if not isinstance(run_id, str) or not (run_id == LEGACY_RUN_ID or _RUN_ID.match(run_id)):
            raise RunNotFound(f"run: {run_id!r} is not a run ID (YYYYMMDD_HHMMSS, or 'strata')")
        run_dir = spec_dir / (LEGACY_RUN_ID if run_id == LEGACY_RUN_ID else os.path.join(RUNS_DIR, run_id))
        if not run_dir.is_dir():
            known = [r for r, _ in _run_dirs(spec_dir)]
            close = difflib.get_close_matches(run_id, known, n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise RunNotFound(f"run: {run_id!r} is not a run of {specimen_id}{hint} (`specimen show {specimen_id}` lists them)")
        files = _metrics_files(run_dir)
        if not files:
            if (run_dir / REMOTE_STUB_FILE).exists():
                raise RunNotFound(
                    f"run {specimen_id}/{run_id} is only on the remote; fetch it with `specimen pull {specimen_id}`"
                )
            raise RunNotFound(f"run {specimen_id}/{run_id} has no metrics (yet)")
    else:
        files = []
        for rid, d in reversed(_run_dirs(spec_dir)):
            files = _metrics_files(d)
            if files:
                run_id = rid
                break
        if not files:
            raise RunNotFound(f"specimen {specimen_id} has no run with metrics yet")
    assert run_id is not None
    table = _read_files(pq, files, metrics)
    if "run_id" not in table.column_names:
        import pyarrow as pa

        table = table.append_column("run_id", pa.array([run_id] * table.num_rows, pa.string()))
    elif table.column_names[-1] != "run_id":
        # Parts gain columns as a run goes on; keep run_id last, as the sealed file has it.
        names = [c for c in table.column_names if c != "run_id"] + ["run_id"]
        table = table.select(names)
    if as_ == "polars":
        import polars as pl

        return pl.from_arrow(table)
    if as_ == "pandas":
        return table.to_pandas()
    return table


def _read_files(pq: Any, files: List[Path], metrics: Optional[Sequence[str]]) -> Any:
    import pyarrow as pa

    # ParquetFile, not read_table: read_table loads pyarrow.dataset on first use, seconds for a few ms of reading.
    handles = [pq.ParquetFile(f) for f in files]
    schemas = [h.schema_arrow for h in handles]
    present: List[str] = []
    for s in schemas:
        present.extend(n for n in s.names if n not in present)
    columns: Optional[List[str]] = None
    if metrics is not None:
        missing = [m for m in metrics if m not in present]
        if missing:
            shown = [c for c in present if c != "run_id"]
            raise KeyError(
                f"read_metrics: no metric {', '.join(map(repr, missing))} in this run; its columns are {', '.join(shown)}"
            )
        columns = [c for c in ("step", "wall_time") if c in present and c not in metrics] + list(metrics)
        columns += ["run_id"] if "run_id" in present else []
    try:
        # One thread: a run's metrics file is small, and starting the thread pool costs more than decoding it.
        tables = [
            h.read(columns=[c for c in columns if c in s.names] if columns else None, use_threads=False)
            for h, s in zip(handles, schemas)
        ]
    finally:
        for h in handles:
            h.close()
    if len(tables) == 1:
        return tables[0]
    return pa.concat_tables(tables, promote_options="default")
