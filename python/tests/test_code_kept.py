"""Code kept by a run staged in pending/ (no CLI): copied when the run starts, so `specimen adopt` seals the
script as it ran; and the Python copy of the rules (specimen_vault/_code.py) keeps exactly what the CLI's
keepCode (src/runner/code-kept.ts, built) keeps for the same tree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import NODE, REPO, SPECIMEN, child_env, cli, make_vault, run_manifest, runs

from specimen_vault import _code


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=cwd, check=True, capture_output=True)


def ts_keep_code(run_dir: Path, files: list, git_cwd: Path) -> dict:
    code = (
        f"import {{ keepCode, keptCodeField }} from {json.dumps(str(REPO / 'dist' / 'runner' / 'code-kept.js'))};"
        f"const kept = await keepCode({json.dumps(str(run_dir))}, {{ files: {json.dumps([str(f) for f in files])}, gitCwd: {json.dumps(str(git_cwd))} }});"
        "console.log(JSON.stringify(keptCodeField(kept)));"
    )
    out = subprocess.run([str(NODE), "--input-type=module", "-e", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def kept_files(run_dir: Path) -> dict:
    d = run_dir / "code"
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())} if d.is_dir() else {}


def test_python_and_the_cli_keep_the_same_files_for_the_same_tree(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "specimens" / SPECIMEN / "runs" / "r1").mkdir(parents=True)
    (repo / "specimens" / SPECIMEN / "pending" / "s1").mkdir(parents=True)
    (repo / "train.py").write_text("lr = 0.1\n")
    (repo / "notes.txt").write_text("tracked\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "first")
    (repo / "train.py").write_text("lr = 0.2  # changed, not committed\n")
    (repo / "new_module.py").write_text("x = 1\n")                          # untracked
    (repo / "weights.bin").write_bytes(b"\x00\x01" * 100)                    # binary
    (repo / "big.txt").write_text("a" * (_code.CODE_FILE_MAX_BYTES + 1))     # over 1 MiB
    (repo / "specimens" / SPECIMEN / "runs" / "r1" / "metrics.jsonl").write_text("{}\n")      # data
    (repo / "specimens" / SPECIMEN / "pending" / "s1" / "begin.json").write_text("{}\n")      # data
    files = [repo / "train.py", repo / "weights.bin", repo / "big.txt", repo / "train.py"]

    py_dir, ts_dir = tmp_path / "py", tmp_path / "ts"
    py_dir.mkdir()
    ts_dir.mkdir()
    py = _code.keep_code(py_dir, files, str(repo))
    ts = ts_keep_code(ts_dir, files, repo)
    assert py == ts
    assert py["files"] == ["train.py", "git.diff", "untracked.txt"]
    assert {s["file"] for s in py["skipped"]} == {"weights.bin", "big.txt"}
    assert kept_files(py_dir) == kept_files(ts_dir)
    untracked = kept_files(py_dir)["untracked.txt"].decode()
    assert "new_module.py" in untracked and "runs/" not in untracked and "pending/" not in untracked
    assert b"lr = 0.2" in kept_files(py_dir)["git.diff"]

    # A clean tree: the files alone, git asked nothing more.
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "second")
    py_dir2, ts_dir2 = tmp_path / "py2", tmp_path / "ts2"
    py_dir2.mkdir()
    ts_dir2.mkdir()
    assert _code.keep_code(py_dir2, [repo / "train.py"], str(repo)) == ts_keep_code(ts_dir2, [repo / "train.py"], repo)
    assert list(kept_files(py_dir2)) == ["train.py"]


def test_a_staged_run_keeps_its_script_as_it_ran_not_as_it_is_when_adopted(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "vault")
    train = vault / "train.py"
    train.write_text(
        f"import specimen_vault as sv\nwith sv.init({SPECIMEN!r}) as run:\n    run.log({{'loss': 0.5}}, step=0)\n# version 1\n"
    )
    r = subprocess.run([sys.executable, str(train)], cwd=vault, capture_output=True, text=True, env=child_env(SPECIMEN_CLI="none"))
    assert r.returncode == 0, r.stderr
    stage = next((vault / "specimens" / SPECIMEN / "pending").iterdir())
    assert (stage / "code" / "train.py").read_text().endswith("# version 1\n")

    train.write_text(train.read_text().replace("# version 1", "# version 2, edited before adoption"))
    cli(vault, "adopt", SPECIMEN)
    run_id = runs(vault)[0]["run_id"]
    kept = vault / "specimens" / SPECIMEN / "runs" / run_id / "code" / "train.py"
    assert kept.read_text().endswith("# version 1\n")
    m = run_manifest(vault, run_id)
    assert m["code"] == {"dir": "code", "files": ["train.py"], "skipped": []}
    assert "code/train.py" in m["files"]  # hashed with the run
    verify = cli(vault, "verify", SPECIMEN, check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr
