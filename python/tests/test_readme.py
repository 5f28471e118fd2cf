"""The README's "Reading a vault from Python" snippets, run exactly as written against a vault holding a
Python run (metrics, a tensor series, an indexed catalog)."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import REPO, SPECIMEN, cli, make_vault, script


def readme_snippets() -> list:
    text = (REPO / "README.md").read_text()
    section = text.split("### Reading a vault from Python", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_the_readme_reads_run_exactly_as_shown(tmp_path: Path) -> None:
    snippets = readme_snippets()
    assert len(snippets) == 4
    vault = make_vault(tmp_path / "vault")
    script(vault, f"""
import numpy as np
import specimen_vault as sv
with sv.init({SPECIMEN!r}, config={{"lr": 0.01}}) as run:
    for step in range(30):
        sv.log({{"loss": 1 / (step + 1)}}, step=step)
        if step % 10 == 0:
            run.log_tensor("weights", np.full((3, 2), step, dtype=np.float32), step=step)
""")
    cli(vault, "index")
    checks = """
assert loss.columns == ["step", "loss", "run_id"] and loss.height == 30
assert table.num_rows == 30 and df.height == 30 and len(pdf) == 30
assert best[0][1] == 1 / 30 and statuses[0][1] == "succeeded"
assert weights.shape == (3, 3, 2) and steps.tolist() == [0, 10, 20] and float(last_checkpoint[0, 0]) == 20.0
assert manifest["status"] == "succeeded"
print("ok")
"""
    r = script(vault, "\n".join(snippets) + checks)
    assert r.stdout.strip().endswith("ok")


def test_the_readme_notebook_snippet_runs_as_shown(tmp_path: Path) -> None:
    text = (REPO / "README.md").read_text()
    section = text.split("### The lab notebook from Python", 1)[1].split("\n### ", 1)[0]
    snippets = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(snippets) == 1
    vault = make_vault(tmp_path / "vault")
    checks = """
import json, subprocess, os
shown = json.loads(subprocess.run([*os.environ["SPECIMEN_CLI"].split(), "show", sid, "--json"], capture_output=True, text=True, check=True).stdout)
assert shown["status"] == "concluded" and shown["manifest"]["expected_results"] == "no spike above 1.5"
assert shown["manifest"]["tags"] == ["warmup"] and f"Run {run.run_id}: no spike" in shown["field_notes"]
print("ok")
"""
    r = script(vault, snippets[0] + checks)
    assert r.stdout.strip().endswith("ok")
