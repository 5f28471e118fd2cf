"""What Python runs write opens in the real libraries: pyarrow, polars, pandas and duckdb read the metrics
and the catalog, zarr-python 3.x reads v3 tensors, Debian's zarr-python 2.x reads v2 tensors (the default
for Python runs), msgpack reads the manifests."""

from __future__ import annotations

import json
import math
import os
import subprocess
from pathlib import Path

import pytest

from conftest import SPECIMEN, cli, make_vault, runs, script

DEBIAN_PYTHON = "/usr/bin/python3"

TRAIN = f"""
import numpy as np
import specimen_vault as sv
with sv.init({SPECIMEN!r}, config={{"lr": 0.1}}) as run:
    for step in range(20):
        sv.log({{"loss": float("nan") if step == 3 else 1 / (step + 1), "ok": step % 2 == 0, "phase": "train"}}, step=step)
    run.log_tensor("emb", np.arange(24, dtype=np.float32).reshape(4, 6))
    for step in (100, 200):
        run.log_tensor("weights", np.full((2, 3), step, dtype=np.int16), step=step)
"""


def run_dir_of(vault: Path) -> Path:
    [run] = runs(vault)
    return vault / "specimens" / SPECIMEN / "runs" / run["run_id"]


@pytest.fixture(scope="module")
def v2_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    vault = make_vault(tmp_path_factory.mktemp("v2") / "vault")
    script(vault, TRAIN)
    cli(vault, "index")
    return vault


def test_metrics_read_in_pyarrow_polars_and_pandas(v2_run: Path) -> None:
    import pandas as pd
    import polars as pl
    import pyarrow.parquet as pq

    f = run_dir_of(v2_run) / "metrics.parquet"
    table = pq.read_table(f)
    assert [str(t) for t in table.schema.types] == ["int64", "double", "bool", "string", "string"]
    assert table.column_names == ["step", "loss", "ok", "phase", "run_id"]
    df = pl.read_parquet(f)
    assert df.height == 20 and math.isnan(df["loss"][3]) and df["ok"].to_list()[:2] == [True, False]
    pdf = pd.read_parquet(f)
    assert pdf["step"].tolist() == list(range(20)) and set(pdf["phase"]) == {"train"}


def test_the_catalog_reads_in_duckdb(v2_run: Path) -> None:
    import duckdb

    cwd = os.getcwd()
    os.chdir(v2_run)  # the catalog's paths are relative to the vault root
    try:
        with duckdb.connect("vault.duckdb", read_only=True) as con:
            assert con.execute("SELECT specimen_id, run_count FROM catalog").fetchall() == [(SPECIMEN, 1)]
            assert con.execute("SELECT status, json_extract(config, '$.lr')::DOUBLE FROM runs").fetchall() == [("succeeded", 0.1)]
            assert con.execute(f"SELECT count(*), max(step) FROM exp_{SPECIMEN}").fetchone() == (20, 19)
            assert con.execute("SELECT count(*) FROM metrics WHERE metric = 'loss'").fetchone() == (20,)
    finally:
        os.chdir(cwd)


def test_manifests_read_in_msgpack(v2_run: Path) -> None:
    import msgpack

    d = run_dir_of(v2_run)
    with open(d / "manifest.msgpack", "rb") as f:
        m = msgpack.unpack(f)
    assert m["status"] == "succeeded" and m["config"] == {"lr": 0.1}
    assert set(m["artifacts"]) >= {"metrics", "emb", "weights", "weights.steps"}
    with open(d.parents[1] / "manifest.msgpack", "rb") as f:
        assert msgpack.unpack(f)["specimen_id"] == SPECIMEN


def test_v2_tensors_read_in_zarr_python_3(v2_run: Path) -> None:
    import numpy as np
    import zarr

    assert int(zarr.__version__.split(".")[0]) >= 3
    d = run_dir_of(v2_run)
    assert (d / "emb.zarr" / ".zarray").is_file()
    emb = zarr.open_array(str(d / "emb.zarr"), mode="r")
    np.testing.assert_array_equal(emb[:], np.arange(24, dtype=np.float32).reshape(4, 6))
    w = zarr.open_array(str(d / "weights.zarr"), mode="r")
    assert w.shape == (2, 2, 3) and w[1, 0, 0] == 200
    assert zarr.open_array(str(d / "weights.steps.zarr"), mode="r")[:].tolist() == [100, 200]


def debian_zarr() -> bool:
    ok = subprocess.run([DEBIAN_PYTHON, "-c", "import zarr, numpy"], capture_output=True).returncode == 0
    if not ok and os.environ.get("CI"):
        pytest.fail(f"{DEBIAN_PYTHON} cannot import zarr 2.x and numpy; CI must install python3-zarr python3-numpy")
    return ok


def test_v2_tensors_read_in_debians_zarr_python_2(v2_run: Path) -> None:
    if not debian_zarr():
        pytest.skip(f"{DEBIAN_PYTHON} has no zarr (apt-get install python3-zarr python3-numpy)")
    d = run_dir_of(v2_run)
    out = subprocess.run(
        [DEBIAN_PYTHON, "-c", "import sys, json, zarr; a = zarr.open(sys.argv[1], mode='r'); w = zarr.open(sys.argv[2], mode='r');"
         "print(json.dumps([zarr.__version__, a[:].ravel().tolist(), list(w.shape), w[:].ravel().tolist()]))",
         str(d / "emb.zarr"), str(d / "weights.zarr")],
        capture_output=True, text=True, check=True,
    )
    version, emb, shape, weights = json.loads(out.stdout)
    assert version.startswith("2.")
    assert emb == [float(i) for i in range(24)] and shape == [2, 2, 3] and weights == [100] * 6 + [200] * 6


def test_v3_tensors_when_the_vault_asks_read_in_zarr_python_3(tmp_path: Path) -> None:
    import numpy as np
    import zarr

    vault = make_vault(tmp_path / "vault", {"python": {"zarr_format": 3}})
    script(vault, TRAIN)
    d = run_dir_of(vault)
    assert (d / "emb.zarr" / "zarr.json").is_file()
    emb = zarr.open_array(str(d / "emb.zarr"), mode="r")
    assert emb.metadata.zarr_format == 3
    np.testing.assert_array_equal(emb[:], np.arange(24, dtype=np.float32).reshape(4, 6))
    assert zarr.open_array(str(d / "weights.steps.zarr"), mode="r")[:].tolist() == [100, 200]
