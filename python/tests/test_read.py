"""``sv.read_metrics``: a run's metrics back as a pyarrow Table (or polars / pandas), found the way
``specimen show`` finds it — the latest run with metrics by default, a named run, the legacy ``strata/``
run, a live run's flushed parts — with clear errors for an unknown run, metric or format."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import specimen_vault as sv
from conftest import SPECIMEN, child_env, runs, script

TWO_RUNS = f"""
import specimen_vault as sv
for lr in (0.1, 0.2):
    with sv.init({SPECIMEN!r}, config={{"lr": lr}}) as run:
        for step in range(50):
            run.log({{"loss": lr / (step + 1), "acc": step / 50}}, step=step)
"""


@pytest.fixture
def two_runs(vault: Path) -> Path:
    script(vault, TWO_RUNS)
    return vault


def test_reads_the_latest_run_by_default_and_a_named_one(two_runs: Path) -> None:
    first, last = [r["run_id"] for r in runs(two_runs)]
    table = sv.read_metrics(SPECIMEN, vault=two_runs)
    assert isinstance(table, pa.Table)
    assert table.column_names == ["step", "loss", "acc", "run_id"] and table.num_rows == 50
    assert table.column("run_id").unique().to_pylist() == [last]
    assert table.column("loss")[0].as_py() == pytest.approx(0.2)
    older = sv.read_metrics(SPECIMEN, run_id=first, vault=two_runs)
    assert older.column("loss")[0].as_py() == pytest.approx(0.1)
    assert older.column("run_id").unique().to_pylist() == [first]


def test_metrics_selects_columns_and_unknown_ones_are_named(two_runs: Path) -> None:
    table = sv.read_metrics(SPECIMEN, metrics=["loss"], vault=two_runs)
    assert table.column_names == ["step", "loss", "run_id"]
    assert table.column("step").to_pylist() == list(range(50))
    with pytest.raises(KeyError, match=r"no metric 'los'.*step, loss, acc"):
        sv.read_metrics(SPECIMEN, metrics=["los"], vault=two_runs)
    with pytest.raises(TypeError, match="list of column names"):
        sv.read_metrics(SPECIMEN, metrics="loss", vault=two_runs)  # type: ignore[arg-type]


def test_polars_and_pandas_and_an_unknown_format(two_runs: Path) -> None:
    df = sv.read_metrics(SPECIMEN, metrics=["acc"], vault=two_runs, as_="polars")
    assert isinstance(df, pl.DataFrame) and df.columns == ["step", "acc", "run_id"] and df.height == 50
    pdf = sv.read_metrics(SPECIMEN, vault=two_runs, as_="pandas")
    assert list(pdf.columns) == ["step", "loss", "acc", "run_id"] and float(pdf["acc"].iloc[-1]) == pytest.approx(0.98)
    with pytest.raises(ValueError, match="as_ must be one of 'pyarrow', 'polars', 'pandas'"):
        sv.read_metrics(SPECIMEN, vault=two_runs, as_="numpy")


def test_unknown_runs_and_specimens_say_what_to_do(two_runs: Path, tmp_path: Path) -> None:
    ids = {r["run_id"] for r in runs(two_runs)}
    first = runs(two_runs)[0]["run_id"]
    # One digit off the first run's ID, and not the other run's (two runs may start a second apart).
    near = next(first[:-1] + d for d in "0123456789" if first[:-1] + d not in ids)
    with pytest.raises(sv.RunNotFound, match=rf"did you mean .*'{first}'"):
        sv.read_metrics(SPECIMEN, run_id=near, vault=two_runs)
    with pytest.raises(sv.RunNotFound, match="not a run ID"):
        sv.read_metrics(SPECIMEN, run_id="../../etc", vault=two_runs)
    with pytest.raises(sv.SpecimenNotFound, match="did you mean"):
        sv.read_metrics(SPECIMEN + "x", vault=two_runs)
    with pytest.raises(sv.VaultNotFound):
        sv.read_metrics(SPECIMEN, vault=tmp_path)
    stub = two_runs / "specimens" / SPECIMEN / "runs" / "20200101_000000"
    stub.mkdir()
    (stub / ".remote-stub").write_text("{}")
    with pytest.raises(sv.RunNotFound, match="only on the remote; fetch it with `specimen pull"):
        sv.read_metrics(SPECIMEN, run_id="20200101_000000", vault=two_runs)


def test_a_specimen_without_runs_has_nothing_to_read(vault: Path) -> None:
    with pytest.raises(sv.RunNotFound, match="has no run with metrics yet"):
        sv.read_metrics(SPECIMEN, vault=vault)


def test_the_vault_is_found_from_the_working_directory(two_runs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPECIMEN_VAULT", raising=False)
    monkeypatch.chdir(two_runs / "specimens")
    assert sv.read_metrics(SPECIMEN).num_rows == 50


def test_legacy_strata_and_a_live_runs_parts(vault: Path) -> None:
    spec = vault / "specimens" / SPECIMEN
    (spec / "strata").mkdir()
    pq.write_table(pa.table({"step": [0, 1], "loss": [0.5, 0.25]}), spec / "strata" / "metrics.parquet")
    table = sv.read_metrics(SPECIMEN, run_id="strata", vault=vault)
    assert table.column_names == ["step", "loss", "run_id"]
    assert table.column("run_id").to_pylist() == ["strata", "strata"]
    # A streaming writer's flushed parts, the second gaining a column: read in part order, run_id last.
    live = spec / "runs" / "20990101_000000" / "metrics.parts"
    live.mkdir(parents=True)
    pq.write_table(pa.table({"step": [10, 11], "loss": [0.1, 0.2]}), live / "part-10.parquet")
    pq.write_table(pa.table({"step": [0, 1], "loss": [1.0, 0.9]}), live / "part-2.parquet")
    pq.write_table(pa.table({"step": [12], "loss": [0.3], "acc": [0.5]}), live / "part-11.parquet")
    table = sv.read_metrics(SPECIMEN, vault=vault)  # the latest run: the live one
    assert table.column("step").to_pylist() == [0, 1, 10, 11, 12]
    assert table.column_names == ["step", "loss", "acc", "run_id"]
    assert table.column("acc").to_pylist() == [None, None, None, None, 0.5]


def test_without_pyarrow_the_error_names_the_install(vault: Path, tmp_path: Path) -> None:
    # A child interpreter where importing pyarrow fails, as on a machine without it.
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "pyarrow").mkdir()
    (blocker / "pyarrow" / "__init__.py").write_text("raise ImportError('No module named pyarrow')\n")
    env = child_env()
    env["PYTHONPATH"] = f"{blocker}:{env['PYTHONPATH']}"
    code = f"import specimen_vault as sv\ntry:\n    sv.read_metrics({SPECIMEN!r}, vault={str(vault)!r})\nexcept ImportError as e:\n    print(e)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "pip install pyarrow" in out.stdout
    assert shutil.which("node") is not None  # the fixture's vault came from the CLI
