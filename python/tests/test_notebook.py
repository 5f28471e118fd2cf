"""The lab notebook from Python (sv.create_specimen, note, set_fields, conclude, run.note), against a real
vault and the built CLI: what each call stores is read back with `specimen show --json`."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import CLI, SPECIMEN, child_env, cli, cli_json, make_vault, script

import specimen_vault as sv


@pytest.fixture(autouse=True)
def _cli_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for k in [k for k in list(__import__("os").environ) if k.startswith("SPECIMEN_")]:
        monkeypatch.delenv(k)
    monkeypatch.setenv("SPECIMEN_CLI", " ".join(CLI))


def show(vault: Path, specimen_id: str) -> dict:
    return cli_json(vault, "show", specimen_id, "--json")


def test_a_planned_specimen_is_created_noted_edited_and_concluded(vault: Path) -> None:
    sid = sv.create_specimen(
        "warmup_probe",
        domain="training",
        method="fine_tuning",
        hypothesis="warmup removes the loss spike",
        expected="no spike above 2.0",
        tags=["sweep"],
        vault=vault,
    )
    assert sid == datetime.now(timezone.utc).strftime("%Y_%m_%d_") + "warmup_probe"
    shown = show(vault, sid)
    m = shown["manifest"]
    assert (shown["status"], m["hypothesis"], m["expected_results"], m["tags"]) == (
        "planned",
        "warmup removes the loss spike",
        "no spike above 2.0",
        ["sweep"],
    )

    sv.note(sid, "first attempt: spike at step 4000\n\n- lr 0.1", vault=vault)
    notes = show(vault, sid)["field_notes"]
    assert re.search(r"## \d{4}-\d\d-\d\d \d\d:\d\d UTC\n\nfirst attempt: spike at step 4000\n\n- lr 0.1\n", notes)

    sv.set_fields(sid, expected_results="no spike above 1.5", hypothesis=None, tags=["sweep", "warmup"], vault=vault)
    m = show(vault, sid)["manifest"]
    assert m["expected_results"] == "no spike above 1.5"
    assert not m.get("hypothesis")
    assert m["tags"] == ["sweep", "warmup"]

    sv.conclude(sid, "warmup removes the spike", vault=vault)
    shown = show(vault, sid)
    assert shown["status"] == "concluded" and shown["manifest"]["conclusion"] == "warmup removes the spike"


def test_a_whole_id_is_kept_and_an_active_status_given(vault: Path) -> None:
    assert sv.create_specimen("2025_03_04_given", domain="training", method="ablation_study", status="active", vault=vault) == "2025_03_04_given"
    assert show(vault, "2025_03_04_given")["status"] == "active"


def test_refusals_raise_specimen_error_with_the_cli_message(vault: Path) -> None:
    with pytest.raises(sv.SpecimenError) as err:
        sv.create_specimen(SPECIMEN, domain="training", method="fine_tuning", vault=vault)
    assert err.value.code == 4 and SPECIMEN in str(err.value) and not str(err.value).startswith("error:")
    with pytest.raises(sv.SpecimenError) as err:
        sv.create_specimen("x", domain="training", method="bogus", vault=vault)
    assert err.value.code == 2 and 'method "bogus" is not allowed' in str(err.value)
    with pytest.raises(sv.SpecimenError) as err:
        sv.note("2026_01_02_nope", "text", vault=vault)
    assert err.value.code == 3 and "not found" in str(err.value)
    with pytest.raises(sv.SpecimenError) as err:
        sv.set_fields(SPECIMEN, status="concluded", vault=vault)
    assert "conclusion" in str(err.value)
    assert show(vault, SPECIMEN)["status"] == "active"
    with pytest.raises(ValueError):
        sv.set_fields(SPECIMEN, vault=vault)
    assert "SpecimenError" in sv.__all__


def test_an_uncaught_refusal_prints_one_line_not_a_cli_traceback(vault: Path) -> None:
    r = script(vault, "import specimen_vault as sv\nsv.note('2026_01_02_nope', 'x')", check=False)
    assert r.returncode == 1
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("specimen_vault._notebook.SpecimenError: specimen:") and "not found" in last
    # No chained exception from the subprocess machinery.
    assert "During handling" not in r.stderr and "CalledProcessError" not in r.stderr


def test_no_cli_reachable_is_a_specimen_error(vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPECIMEN_CLI", "none")
    with pytest.raises(sv.SpecimenError, match="no `specimen` command line"):
        sv.note(SPECIMEN, "x", vault=vault)


def test_run_note_appends_to_the_runs_specimen_naming_the_run(vault: Path) -> None:
    script(vault, f"""
import specimen_vault as sv
with sv.init({SPECIMEN!r}) as run:
    run.note("loss spiked at step 40")
    print(run.run_id)
""")
    run_id = cli_json(vault, "show", SPECIMEN, "--json")["runs"][0]["run_id"]
    assert f"Run {run_id}: loss spiked at step 40\n" in show(vault, SPECIMEN)["field_notes"]


def test_run_note_works_under_specimen_run(vault: Path) -> None:
    (vault / "specimens" / SPECIMEN / "protocol.py").write_text(
        "import specimen_vault as sv\nrun = sv.init()\nrun.note('from the runner')\n"
    )
    cli(vault, "run", SPECIMEN, "--python", sys.executable, env=child_env())
    run_id = cli_json(vault, "show", SPECIMEN, "--json")["runs"][0]["run_id"]
    assert f"Run {run_id}: from the runner\n" in show(vault, SPECIMEN)["field_notes"]
