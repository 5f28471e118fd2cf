"""Runs from a plain ``python train.py``: sealed through the CLI at finish, at exit, on an exception, on
Ctrl+C; a killed process leaves an incomplete run that ``specimen adopt`` seals; without a CLI the run is
staged in ``pending/`` and sealed by ``specimen adopt`` or ``specimen index``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

from conftest import SPECIMEN, child_env, cli, cli_json, run_manifest, runs, script

TRAIN = f"""
import specimen_vault as sv
run = sv.init({SPECIMEN!r}, config={{"lr": 0.1, "layers": [4, 8]}}, seed=3, name="baseline", tags=["a", "b"], notes="first try")
for step in range(100):
    sv.log({{"loss": 1 / (step + 1), "acc": step / 100}}, step=step)
run.summary["best_acc"] = 0.99
"""


def start(vault: Path, code: str, **env: str) -> subprocess.Popen:
    """Starts ``code`` in a child interpreter and returns once it prints its first line."""
    p = subprocess.Popen(
        [sys.executable, "-c", code], cwd=vault, env=child_env(**env),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert p.stdout is not None and p.stdout.readline().strip() in ("ready", "logged")
    return p


def only_run(vault: Path) -> dict:
    [r] = runs(vault)
    return r


def metrics(vault: Path, run_id: str):
    return pq.read_table(vault / "specimens" / SPECIMEN / "runs" / run_id / "metrics.parquet")


def test_finish_seals_a_run_that_show_and_verify_accept(vault: Path) -> None:
    script(vault, TRAIN + "print(sv.finish())")
    r = only_run(vault)
    assert r["status"] == "succeeded" and r["seed"] == 3
    m = run_manifest(vault, r["run_id"])
    assert m["config"] == {"lr": 0.1, "layers": [4, 8]}
    assert (m["name"], m["tags"], m["notes"]) == ("baseline", ["a", "b"], "first try")
    assert m["summary"] == {"best_acc": 0.99}
    assert m["language"] == "python" and m["runtime"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert any(p.startswith("pyarrow==") for p in m["dependencies"]["python"]["pip_freeze"])
    table = metrics(vault, r["run_id"])
    assert table.num_rows == 100 and table.column_names == ["step", "loss", "acc", "run_id"]
    report = cli_json(vault, "verify", "--json")
    assert json.dumps(report).count("modified") >= 0
    assert cli(vault, "verify").returncode == 0


def test_a_script_that_just_ends_is_sealed_at_exit(vault: Path) -> None:
    script(vault, TRAIN)
    r = only_run(vault)
    assert r["status"] == "succeeded"
    assert run_manifest(vault, r["run_id"])["summary"] == {"best_acc": 0.99}


def test_the_context_manager_seals(vault: Path) -> None:
    script(vault, f"""
import specimen_vault as sv
with sv.init({SPECIMEN!r}) as run:
    run.log(step=0, loss=1.0)
assert run.status == "succeeded", run.status
assert run.seal_report is not None and run.seal_report["status"] == "succeeded"
""")
    assert only_run(vault)["status"] == "succeeded"


def test_an_uncaught_exception_seals_failed_with_the_traceback(vault: Path) -> None:
    r = script(vault, TRAIN + "\ndef train():\n    raise ValueError('diverged at step 100')\ntrain()\n", check=False)
    assert r.returncode == 1 and "diverged at step 100" in r.stderr
    run = only_run(vault)
    assert run["status"] == "failed"
    error = run_manifest(vault, run["run_id"])["error"]
    assert error["type"] == "ValueError" and error["message"] == "diverged at step 100"
    assert "in train" in error["traceback"] and "Traceback (most recent call last)" in error["traceback"]
    assert metrics(vault, run["run_id"]).num_rows == 100  # what was logged is kept


def test_the_console_is_kept_with_the_run_and_sealed(vault: Path) -> None:
    code = TRAIN + (
        "\nimport sys, logging\nprint('epoch 1 done')\nprint('héllo wörld', flush=True)\n"
        "logging.warning('lr is high')\nsys.stderr.write('progress 50%\\r')\n"
        "def train():\n    raise ValueError('diverged at step 100')\ntrain()\n"
    )
    r = script(vault, code, check=False)
    # The terminal still gets everything.
    assert "epoch 1 done" in r.stdout and "diverged at step 100" in r.stderr
    run = only_run(vault)
    run_dir = vault / "specimens" / SPECIMEN / "runs" / run["run_id"]
    out = (run_dir / "stdout.log").read_bytes().decode("utf-8")
    err = (run_dir / "stderr.log").read_bytes().decode("utf-8")  # bytes: read_text would turn \r into \n
    assert out == "epoch 1 done\nhéllo wörld\n"
    assert "WARNING:root:lr is high" in err and "progress 50%\r" in err
    assert "Traceback (most recent call last)" in err and "ValueError: diverged at step 100" in err
    files = run_manifest(vault, run["run_id"])["files"]
    assert "stdout.log" in json.dumps(files) and "stderr.log" in json.dumps(files)


def test_a_traceback_out_of_a_with_block_reaches_the_console_log(vault: Path) -> None:
    r = script(vault, f"""
import specimen_vault as sv
with sv.init({SPECIMEN!r}) as run:
    print("started")
    raise RuntimeError("boom")
""", check=False)
    assert r.returncode == 1
    run_dir = vault / "specimens" / SPECIMEN / "runs" / only_run(vault)["run_id"]
    err = (run_dir / "stderr.log").read_text(encoding="utf-8")
    assert err.count("RuntimeError: boom") == 1
    assert (run_dir / "stdout.log").read_text(encoding="utf-8") == "started\n"


def test_console_capture_can_be_turned_off(vault: Path) -> None:
    script(vault, TRAIN + "print('quiet')\n", SPECIMEN_CONSOLE="off")
    run_dir = vault / "specimens" / SPECIMEN / "runs" / only_run(vault)["run_id"]
    assert not (run_dir / "stdout.log").exists()


def test_system_metrics_are_sampled_into_system_parquet(vault: Path) -> None:
    # Busy until the sampler has written at least 5 samples and 1 s of CPU time went by, however loaded the
    # machine is (a wall-clock loop gets too few samples, or too little CPU, when the cores are shared).
    code = TRAIN + (
        "\nimport time\nbuf = bytearray(64 * 1024 * 1024)\nt, t0 = time.process_time(), time.time()\nsamples = run.dir / 'system.jsonl'\n"
        "while time.time() - t0 < 60 and (time.process_time() - t < 1.0 or not samples.exists()"
        " or samples.read_bytes().count(b'\\n') < 5):\n"
        "    sum(range(10000))\n"
    )
    script(vault, code, SPECIMEN_SYSTEM_INTERVAL="0.2")
    run_dir = vault / "specimens" / SPECIMEN / "runs" / only_run(vault)["run_id"]
    table = pq.read_table(run_dir / "system.parquet")
    assert table.num_rows >= 4
    assert {"time", "elapsed_s", "cpu_percent", "rss_bytes", "run_id"} <= set(table.column_names)
    rss = table.column("rss_bytes").to_pylist()
    assert max(rss) >= 64 * 1024 * 1024  # the 64 MiB buffer is resident
    cpu = [c for c in table.column("cpu_percent").to_pylist() if c is not None]
    assert cpu and max(cpu) > 10  # the busy loop
    elapsed = table.column("elapsed_s").to_pylist()
    assert elapsed == sorted(elapsed)
    manifest = run_manifest(vault, only_run(vault)["run_id"])
    assert "system.parquet" in json.dumps(manifest["files"])
    # Sealing records the peaks, which the catalog's `runs` shows as peak_rss_bytes / peak_gpu_memory_bytes.
    assert manifest["system"]["samples"] == table.num_rows
    assert manifest["system"]["peak_rss_bytes"] == max(rss)


def test_system_metrics_can_be_turned_off(vault: Path) -> None:
    script(vault, TRAIN, SPECIMEN_SYSTEM_INTERVAL="off")
    run_dir = vault / "specimens" / SPECIMEN / "runs" / only_run(vault)["run_id"]
    assert not (run_dir / "system.parquet").exists() and not (run_dir / "system.jsonl").exists()


def test_an_exception_inside_with_seals_failed(vault: Path) -> None:
    script(vault, f"""
import specimen_vault as sv
try:
    with sv.init({SPECIMEN!r}) as run:
        run.log(step=0, loss=1.0)
        raise RuntimeError("boom")
except RuntimeError:
    pass
print(run.status)
""")
    run = only_run(vault)
    assert run["status"] == "failed"
    assert run_manifest(vault, run["run_id"])["error"]["message"] == "boom"


def test_keyboard_interrupt_seals_interrupted(vault: Path) -> None:
    r = script(vault, TRAIN + "raise KeyboardInterrupt\n", check=False)
    assert r.returncode != 0
    assert only_run(vault)["status"] == "interrupted"


def test_sigint_while_training_seals_interrupted(vault: Path) -> None:
    p = start(vault, TRAIN + "print('ready', flush=True)\nimport time\nwhile True:\n    sv.log(loss=0.5)\n    time.sleep(0.01)\n")
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=120)
    assert only_run(vault)["status"] == "interrupted"


def test_sigterm_seals_interrupted(vault: Path) -> None:
    p = start(vault, TRAIN + "print('ready', flush=True)\nimport time\ntime.sleep(60)\n")
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=120)
    assert p.returncode == 128 + signal.SIGTERM
    [run] = runs(vault)
    assert run["status"] == "interrupted"
    assert metrics(vault, run["run_id"]).num_rows == 100


def test_sys_exit_with_an_error_code_seals_failed(vault: Path) -> None:
    r = script(vault, TRAIN + "import sys\nsys.exit(3)\n", check=False)
    assert r.returncode == 3
    run = only_run(vault)
    assert run["status"] == "failed" and run_manifest(vault, run["run_id"])["exit_code"] == 3


def test_a_killed_process_leaves_flushed_rows_in_an_incomplete_run_that_adopt_seals(vault: Path) -> None:
    code = f"""
import specimen_vault as sv, time
run = sv.init({SPECIMEN!r})
for step in range(500):
    sv.log({{"loss": 1 / (step + 1)}}, step=step)
time.sleep(0.5)  # longer than the flush interval, without logging
print("logged", flush=True)
time.sleep(60)
"""
    p = start(vault, code)
    p.send_signal(signal.SIGKILL)
    p.wait()
    run = only_run(vault)
    assert run["status"] == "incomplete"
    jsonl = vault / "specimens" / SPECIMEN / "runs" / run["run_id"] / "metrics.jsonl"
    assert len(jsonl.read_text().splitlines()) == 500  # every row logged before the pause
    report = cli_json(vault, "adopt", SPECIMEN, "--json")
    assert [a["run_id"] for a in report["adopted"]] == [run["run_id"]]
    after = only_run(vault)
    assert after["status"] == "interrupted"
    assert metrics(vault, run["run_id"]).num_rows == 500
    assert run_manifest(vault, run["run_id"])["adopted"]["reason"] == "writer gone before sealing"
    assert cli(vault, "verify").returncode == 0


def staged(vault: Path) -> list:
    pending = vault / "specimens" / SPECIMEN / "pending"
    return sorted(p for p in pending.iterdir()) if pending.exists() else []


def test_without_a_cli_the_run_is_staged_and_adopt_seals_it(vault: Path) -> None:
    r = script(vault, TRAIN + "import numpy as np\nrun.log_tensor('w', np.ones((2, 3), dtype=np.float32))\nraise ValueError('late')\n", check=False, SPECIMEN_CLI="none")
    assert "no `specimen` CLI found" in r.stderr and "specimen adopt" in r.stderr
    [stage] = staged(vault)
    assert {"begin.json", "finish.json", "metrics.jsonl", "w.npy"} <= {p.name for p in stage.iterdir()}
    assert runs(vault) == []
    out = cli(vault, "adopt").stdout
    assert f"as run" in out and "failed" in out
    assert staged(vault) == []
    run = only_run(vault)
    m = run_manifest(vault, run["run_id"])
    assert (m["status"], m["seeds"], m["name"], m["error"]["message"]) == ("failed", {"global": 3}, "baseline", "late")
    assert m["adopted"]["from"].startswith(f"specimens/{SPECIMEN}/pending/")
    assert m["artifacts"]["w"]["shape"] == [2, 3]
    assert metrics(vault, run["run_id"]).num_rows == 100
    assert cli(vault, "verify").returncode == 0


def test_without_a_cli_the_next_index_seals_the_staged_run(vault: Path) -> None:
    script(vault, TRAIN, SPECIMEN_CLI="none")
    assert len(staged(vault)) == 1
    r = cli(vault, "index")
    assert "adopted" in r.stderr
    assert only_run(vault)["status"] == "succeeded"
    import duckdb

    os.chdir(vault)
    with duckdb.connect(str(vault / "vault.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM exp_2026_01_02_probe").fetchone() == (100,)


def test_a_staged_run_still_being_written_is_left_alone(vault: Path) -> None:
    code = f"import specimen_vault as sv, time\nsv.init({SPECIMEN!r})\nsv.log(loss=1.0)\nprint('ready', flush=True)\ntime.sleep(60)\n"
    p = start(vault, code, SPECIMEN_CLI="none")
    try:
        report = cli_json(vault, "adopt", "--json")
        assert report["adopted"] == [] and "may still be running" in report["skipped"][0]["reason"]
    finally:
        p.kill()
        p.wait()
    assert len(cli_json(vault, "adopt", "--json")["adopted"]) == 1  # once its writer is gone


def test_a_second_init_finishes_the_first_run(vault: Path) -> None:
    script(vault, f"import specimen_vault as sv\na = sv.init({SPECIMEN!r})\nsv.log(x=1)\nb = sv.init({SPECIMEN!r})\nsv.log(x=2)\nassert a.status == 'succeeded'\n")
    assert [r["status"] for r in runs(vault)] == ["succeeded", "succeeded"]


def test_a_sweep_begins_and_seals_every_run_through_one_session(vault: Path) -> None:
    code = (
        "import specimen_vault as sv\nfrom specimen_vault import _cli\npids = set()\n"
        f"for i in range(5):\n    with sv.init({SPECIMEN!r}, config={{'i': i}}) as run:\n"
        "        for s in range(100):\n            run.log({'loss': 1 / (s + 1 + i)}, step=s)\n"
        "    pids.update(x.proc.pid for x in _cli._sessions.values())\n"
        "    assert run.status == 'succeeded' and run.seal_report['rows'] == 100, run.seal_report\n"
        "assert len(pids) == 1, pids\n"
    )
    script(vault, code)
    listed = runs(vault)
    assert [r["status"] for r in listed] == ["succeeded"] * 5
    # Distinct runs, each with its own config, sealed with its metrics summarized in the manifest.
    manifests = [run_manifest(vault, r["run_id"]) for r in listed]
    assert sorted(m["config"]["i"] for m in manifests) == [0, 1, 2, 3, 4]
    assert all(m["artifacts"]["metrics"]["rows"] == 100 for m in manifests)
    assert all(m["artifacts"]["metrics"]["summary"][0]["column"] == "loss" for m in manifests)


def test_without_the_session_command_each_run_calls_the_cli(vault: Path) -> None:
    script(vault, f"import specimen_vault as sv\nwith sv.init({SPECIMEN!r}) as r:\n    sv.log(x=1)\nassert r.status == 'succeeded'\n", SPECIMEN_SESSION="0")
    assert [r["status"] for r in runs(vault)] == ["succeeded"]


SWEEP = f"""
import specimen_vault as sv
for i in range(4):
    with sv.init({SPECIMEN!r}, config={{"i": i}}, seed=i{{durability}}) as run:
        for step in range(10):
            run.log({{"loss": 1 / (step + 1)}}, step=step)
"""


def test_durability_passes_through_the_session(vault: Path) -> None:
    # Batch mode (the default): a journal entry per batch, dropped by the flush when the session ends.
    script(vault, SWEEP.replace("{durability}", ""))
    journal = vault / ".specimen-journal"
    assert journal.is_dir() and list(journal.glob("*.json")) == []
    assert [r["status"] for r in runs(vault)] == ["succeeded"] * 4
    assert cli(vault, "verify").returncode == 0


def test_run_durability_writes_no_journal(vault: Path) -> None:
    script(vault, SWEEP.replace("{durability}", ', durability="run"'))
    assert not (vault / ".specimen-journal").exists()
    assert [r["status"] for r in runs(vault)] == ["succeeded"] * 4


def test_an_unknown_durability_is_refused(vault: Path) -> None:
    proc = script(vault, f"import specimen_vault as sv\nsv.init({SPECIMEN!r}, durability='sometimes')", check=False)
    assert proc.returncode != 0 and "durability must be 'run' or 'batch'" in proc.stderr
