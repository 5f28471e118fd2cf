"""Shared fixtures: a fresh vault with one specimen, the built CLI of this checkout, and helpers that run
scripts in a child interpreter (so exit, exceptions and signals behave as in a real ``python train.py``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

REPO = Path(__file__).resolve().parents[2]
PYTHON_DIR = REPO / "python"
MAIN_JS = REPO / "dist" / "cli" / "main.js"
NODE = shutil.which("node")
SPECIMEN = "2026_01_02_probe"


def pytest_configure(config: Any) -> None:
    if NODE is None or not MAIN_JS.is_file():
        raise pytest.UsageError(f"these tests need node and the built CLI at {MAIN_JS} (run `npm run build`)")


CLI = [str(NODE), str(MAIN_JS)]


def child_env(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECIMEN_")}
    env["PYTHONPATH"] = os.pathsep.join([str(PYTHON_DIR), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["SPECIMEN_CLI"] = " ".join(CLI)
    env["NO_COLOR"] = "1"
    env.update(extra)
    return env


def cli(vault: Path, *args: str, check: bool = True, env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [*CLI, "--vault", str(vault), *args], capture_output=True, text=True, env=env or child_env(), timeout=300
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"specimen {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    return proc


def cli_json(vault: Path, *args: str) -> Any:
    return json.loads(cli(vault, *args).stdout)


def script(vault: Path, code: str, check: bool = True, **env: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=vault, capture_output=True, text=True, env=child_env(**env), timeout=300
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"script exited {proc.returncode}:\n{proc.stderr}")
    return proc


def runs(vault: Path, specimen: str = SPECIMEN) -> List[Dict[str, Any]]:
    return cli_json(vault, "show", specimen, "--json")["runs"]


def run_manifest(vault: Path, run_id: str, specimen: str = SPECIMEN) -> Dict[str, Any]:
    import msgpack

    with open(vault / "specimens" / specimen / "runs" / run_id / "manifest.msgpack", "rb") as f:
        return msgpack.unpack(f)


def make_vault(root: Path, config: Optional[Dict[str, Any]] = None) -> Path:
    cli(root, "init", str(root), env=child_env())
    if config:
        (root / "specimen-vault.json").write_text(json.dumps({"format_version": 1, **config}))
    cli(root, "new", SPECIMEN, "--domain", "training", "--method", "fine_tuning")
    return root


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return make_vault(tmp_path / "vault")
