"""The package itself: version, public names, bad input, buffering, unknown specimens."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import specimen_vault as sv
from specimen_vault import _metrics
from conftest import REPO, SPECIMEN, script


def test_version_is_the_npm_package_version() -> None:
    package = json.loads((REPO / "package.json").read_text())
    assert sv.__version__ == package["version"]


def test_public_names_are_a_small_explicit_list() -> None:
    assert sv.__all__ == [
        "init", "log", "log_tensor", "finish", "Run", "SpecimenNotFound", "SpecimenError", "create_specimen",
        "note", "set_fields", "conclude", "VaultNotFound", "read_metrics", "RunNotFound", "write_tensor", "run_dir",
        "seed", "config", "specimen_id", "run_id", "__version__",
    ]
    for name in sv.__all__:
        assert getattr(sv, name) is not None
    assert (REPO / "python" / "specimen_vault" / "py.typed").is_file()


def read_lines(path: Path) -> list:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_rows_are_buffered_then_written_with_nan_and_backward_steps(tmp_path: Path) -> None:
    m = _metrics.MetricsFile(str(tmp_path / "m.jsonl"))
    m.append(("step", "loss"), (0, 1.5))
    m.append(("step", "loss"), (1, float("nan")))
    m.append(("step", "loss"), (0, float("inf")))  # a step going backwards is kept as logged
    m.append(("step", "ok", "flag", "name"), (2, -float("inf"), True, "x"))
    m.close()
    text = (tmp_path / "m.jsonl").read_text()
    assert "NaN" in text and "Infinity" in text  # the tokens the CLI reads back as numbers
    rows = [json.loads(line) for line in text.splitlines()]
    assert [r["step"] for r in rows] == [0, 1, 0, 2]
    assert math.isnan(rows[1]["loss"]) and rows[2]["loss"] == math.inf
    assert rows[3] == {"step": 2, "ok": -math.inf, "flag": True, "name": "x"}


def test_bad_values_and_names_are_dropped_with_one_warning(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _metrics._warned.clear()
    m = _metrics.MetricsFile(str(tmp_path / "m.jsonl"))
    for step in range(3):
        m.append(("step", "vec", "run_id", "", 7, "loss"), (step, [1, 2], "x", 1, 2, 0.5))
    m.close()
    assert read_lines(tmp_path / "m.jsonl") == [{"step": s, "loss": 0.5} for s in range(3)]
    err = capsys.readouterr().err
    assert err.count("'vec' must be a scalar") == 1
    assert err.count("'run_id' is added by the vault") == 1
    assert err.count("must not be empty") == 1
    assert err.count("got int 7") == 1


def test_numpy_scalars_become_numbers(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    m = _metrics.MetricsFile(str(tmp_path / "m.jsonl"))
    m.append(("a", "b", "c", "d"), (np.float32(0.5), np.int64(3), np.bool_(True), np.array(2.5)))
    m.append(("a", "b", "c", "d"), (np.float32("nan"), 1, False, 1.0))
    m.close()
    rows = read_lines(tmp_path / "m.jsonl")
    assert rows[0] == {"a": 0.5, "b": 3, "c": True, "d": 2.5}
    assert math.isnan(rows[1]["a"])


def test_io_failure_never_raises_and_is_counted(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _metrics._warned.clear()
    (tmp_path / "m.jsonl").mkdir()  # opening it for append fails
    m = _metrics.MetricsFile(str(tmp_path / "m.jsonl"))
    for step in range(5):
        m.append(("step",), (step,))
        m.flush()
    m.close()
    assert m.failures == 5
    assert capsys.readouterr().err.count("cannot write") == 1


def test_rows_reach_the_file_within_the_flush_interval_without_further_logging(tmp_path: Path) -> None:
    import time

    m = _metrics.MetricsFile(str(tmp_path / "m.jsonl"))
    m.append(("step",), (1,))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not (tmp_path / "m.jsonl").exists():
        time.sleep(0.02)
    assert read_lines(tmp_path / "m.jsonl") == [{"step": 1}]  # written by the background flush
    m.close()


def test_many_rows_round_trip(tmp_path: Path) -> None:
    # A rate sanity check: many rows through the fast path, every value exact (timing is the benchmark's).
    m = _metrics.MetricsFile(str(tmp_path / "m.jsonl"))
    n = 100_000
    for i in range(n):
        m.append(("step", "loss", "acc", "lr", "grad_norm"), (i, 1 / (i + 1), i * 1e-6, 0.001, 2.0**-i if i < 1000 else 0.0))
    m.close()
    rows = read_lines(tmp_path / "m.jsonl")
    assert len(rows) == n
    assert rows[12345] == {"step": 12345, "loss": 1 / 12346, "acc": 12345 * 1e-6, "lr": 0.001, "grad_norm": 0.0}
    assert rows[999]["grad_norm"] == 2.0**-999


def test_unknown_specimen_names_the_closest_and_how_to_create_one(vault: Path) -> None:
    r = script(vault, "import specimen_vault as sv\nsv.init('2026_01_02_prob')", check=False)
    assert r.returncode != 0
    assert "SpecimenNotFound" in r.stderr
    assert SPECIMEN in r.stderr and "specimen new 2026_01_02_prob" in r.stderr


def test_no_vault_says_what_to_do(tmp_path: Path) -> None:
    r = script(tmp_path, "import specimen_vault as sv\nsv.init('2026_01_02_probe')", check=False)
    assert "VaultNotFound" in r.stderr and "specimen init" in r.stderr


def test_vault_is_found_from_a_subdirectory_the_environment_or_the_argument(
    vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from specimen_vault._vault import find_vault_root

    monkeypatch.delenv("SPECIMEN_VAULT", raising=False)
    assert find_vault_root(cwd=vault / "specimens" / SPECIMEN) == vault.resolve()
    assert find_vault_root(vault=str(vault), cwd="/") == vault.resolve()
    monkeypatch.setenv("SPECIMEN_VAULT", str(vault))
    assert find_vault_root(cwd="/") == vault.resolve()


def test_log_without_a_run_explains(tmp_path: Path) -> None:
    r = script(tmp_path, "import specimen_vault as sv\nsv.log(loss=1.0)", check=False)
    assert "call sv.init('<specimen id>') first" in r.stderr
