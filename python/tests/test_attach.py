"""Under ``specimen run`` the package attaches to the runner's run: the runner seals it, ``--set`` and
``--seed`` win over ``init``'s values, the summary and a traceback still land in the manifest."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import SPECIMEN, cli, run_manifest, runs

TRAIN = f"""
import specimen_vault as sv
import numpy as np
run = sv.init({SPECIMEN!r}, config={{"lr": 0.1, "batch": 32}}, seed=9, name="attached", tags=["t"])
assert run.mode == "attached", run.mode
print("config", sorted(run.config.items()), "seed", run.seed, "dir", run.dir == __import__("pathlib").Path(sv.run_dir()))
for step in range(50):
    run.log({{"loss": 1 / (step + 1)}}, step=step)
for step in (10, 20):
    run.log_tensor("w", np.full((2, 2), step, dtype=np.float32), step=step)
run.summary["final"] = 0.02
"""


def write_script(vault: Path, code: str) -> Path:
    p = vault / "train.py"
    p.write_text(code)
    return p


def test_attaches_to_the_runners_run(vault: Path) -> None:
    train = write_script(vault, TRAIN)
    r = cli(vault, "run", SPECIMEN, "--seed", "4", "--set", "lr=0.5", "--", sys.executable, str(train))
    assert "config [('batch', 32), ('lr', 0.5)] seed 4 dir True" in r.stdout
    [run] = runs(vault)
    assert run["status"] == "succeeded"
    m = run_manifest(vault, run["run_id"])
    assert m["config"] == {"lr": 0.5}  # what the runner passed
    assert m["protocol_config"] == {"lr": 0.1, "batch": 32} and m["protocol_seeds"] == {"global": 9}
    assert m["summary"] == {"final": 0.02}
    assert (m["name"], m["tags"]) == ("attached", ["t"])
    assert m["artifacts"]["metrics"]["rows"] == 50
    assert m["artifacts"]["w"]["shape"] == [2, 2, 2] and m["artifacts"]["w.steps"]["shape"] == [2]
    assert m["artifacts"]["w"]["zarr_format"] == 2  # the vault's default for Python runs
    assert "finish.json" not in m["files"]


def test_a_failure_under_the_runner_keeps_the_traceback(vault: Path) -> None:
    train = write_script(vault, TRAIN + "raise ValueError('bad batch')\n")
    r = cli(vault, "run", SPECIMEN, "--", sys.executable, str(train), check=False)
    assert r.returncode == 1
    [run] = runs(vault)
    assert run["status"] == "failed"
    m = run_manifest(vault, run["run_id"])
    assert m["error"]["message"] == "bad batch"
    assert m["summary"] == {"final": 0.02}
    stderr_log = vault / "specimens" / SPECIMEN / "runs" / run["run_id"] / "stderr.log"
    assert "ValueError: bad batch" in stderr_log.read_text()


def test_old_protocols_keep_working(vault: Path) -> None:
    (vault / "specimens" / SPECIMEN / "protocol.py").write_text(
        "import numpy as np\nimport specimen_vault as sv\n"
        "for step in range(10):\n    sv.log(step=step, loss=np.float32(1.0 / (step + 1)), lr=0.1 if step < 5 else 0.05)\n"
        "sv.write_tensor('w', np.arange(12, dtype=np.int16).reshape(3, 4))\n"
        "print(sv.seed(), sv.config(), sv.specimen_id(), sv.run_id() is not None)\n"
    )
    r = cli(vault, "run", SPECIMEN, "--seed", "5", "--set", "k=1", "--python", sys.executable)
    assert f"5 {{'k': 1}} {SPECIMEN} True" in r.stdout
    [run] = runs(vault)
    m = run_manifest(vault, run["run_id"])
    assert m["status"] == "succeeded" and m["artifacts"]["metrics"]["rows"] == 10
    assert m["artifacts"]["w"]["shape"] == [3, 4]


def test_a_status_given_to_finish_counts_under_the_runner(vault: Path) -> None:
    train = write_script(vault, TRAIN + "sv.finish('failed')\n")
    r = cli(vault, "run", SPECIMEN, "--", sys.executable, str(train), check=False)
    assert r.returncode == 1 and "failed (exit 0" in r.stderr
    [run] = runs(vault)
    assert run["status"] == "failed"
