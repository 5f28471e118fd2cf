"""The lab notebook from Python: create a planned specimen, append field notes, edit its hypothesis, expected
results and status, and conclude it. Every call runs the ``specimen`` command line (``specimen new``, ``note``,
``set``, ``conclude``), so the notebook format has one implementation, in TypeScript (src/storage/notebook.ts);
a refusal raises ``SpecimenError`` with the command line's own message::

    sid = create_specimen("lr_sweep", domain="training", method="fine_tuning",
                          hypothesis="warmup removes the loss spike", expected="no spike above 2.0")
    note(sid, "spike at step 4000 in the first attempt")
    set_fields(sid, expected_results="no spike above 1.5", tags=["sweep", "warmup"])
    conclude(sid, "warmup removes the spike; loss stays below 1.2")
"""

from __future__ import annotations

import os
import re
import subprocess
from datetime import datetime, timezone
from typing import Any, Iterable, List, Optional

from ._cli import find_cli
from ._vault import PathLike, find_vault_root

_ID = re.compile(r"^\d{4}_\d{2}_\d{2}_")


class SpecimenError(RuntimeError):
    """The ``specimen`` command line refused a notebook request (or none is reachable).

    ``str(err)`` is the command line's message (``specimen: "2026_01_02_x" not found``); ``code`` its exit
    code (2 bad input, 3 not found, 4 conflict, 5 disk full; None when no command line could be run).
    """

    def __init__(self, message: str, code: Optional[int] = None) -> None:
        super().__init__(message)
        self.code = code


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


_UNSET: Any = _Unset()


def _specimen(vault: Optional[PathLike], args: List[str], stdin: Optional[str] = None) -> str:
    """Runs ``specimen --vault ROOT ARGS…`` and returns its stdout; SpecimenError with its message otherwise."""
    root = find_vault_root(vault)
    cli = find_cli()
    if cli is None:
        raise SpecimenError(
            "no `specimen` command line found ($SPECIMEN_CLI, PATH, or a built checkout); "
            "the notebook is edited through it"
        )
    try:
        proc = subprocess.run(
            [*cli, "--vault", str(root), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "NO_COLOR": "1"},
        )
    except (OSError, subprocess.SubprocessError) as err:
        raise SpecimenError(f"cannot run the `specimen` command line ({err})") from None
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        message = "\n".join(ln[len("error: ") :] if ln.startswith("error: ") else ln for ln in lines)
        raise SpecimenError(message or f"`specimen {args[0]}` exited {proc.returncode}", proc.returncode)
    return proc.stdout


def create_specimen(
    descriptor: str,
    *,
    domain: str,
    method: str,
    hypothesis: Optional[str] = None,
    expected: Optional[str] = None,
    status: str = "planned",
    tags: Optional[Iterable[str]] = None,
    model: Optional[str] = None,
    description: Optional[str] = None,
    vault: Optional[PathLike] = None,
) -> str:
    """Creates a specimen (``specimen new``) and returns its ID.

    ``descriptor`` is the part after the date (``"lr_sweep"`` becomes ``2026_01_02_lr_sweep`` with today's
    UTC date) or a whole ID. ``status`` is ``planned`` (the default: recorded before it runs, it becomes
    ``active`` with its first run) or ``active``. Raises SpecimenError (e.g. an ID that exists, a method the
    domain does not allow) with the command line's message.

    Example::

        sid = sv.create_specimen("lr_sweep", domain="training", method="fine_tuning",
                                 hypothesis="warmup removes the spike", expected="loss < 2 throughout")
    """
    specimen_id = descriptor if _ID.match(descriptor) else datetime.now(timezone.utc).strftime("%Y_%m_%d_") + descriptor
    args = ["new", specimen_id, "--domain", domain, "--method", method, "--status", status]
    for flag, value in (("--hypothesis", hypothesis), ("--expected", expected), ("--model", model),
                        ("--description", description)):
        if value is not None:
            args += [flag, value]
    if tags is not None:
        args += ["--tags", ",".join(str(t) for t in tags)]
    _specimen(vault, args)
    return specimen_id


def note(specimen_id: str, text: str, *, vault: Optional[PathLike] = None) -> None:
    """Appends a dated entry (``## YYYY-MM-DD HH:MM UTC``) to the specimen's field notes (``specimen note``).

    Example::

        sv.note("2026_01_02_lr_sweep", "loss spiked at step 4000")
    """
    _specimen(vault, ["note", specimen_id, "-"], stdin=text)


def set_fields(
    specimen_id: str,
    *,
    hypothesis: Optional[str] = _UNSET,
    expected_results: Optional[str] = _UNSET,
    conclusion: Optional[str] = _UNSET,
    description: Optional[str] = _UNSET,
    status: Optional[str] = _UNSET,
    tags: Optional[Iterable[str]] = _UNSET,
    vault: Optional[PathLike] = None,
) -> None:
    """Edits the specimen's notebook fields in one atomic rewrite (``specimen set``); only those given change.

    ``None`` clears a text field; ``tags`` replaces the tags. ``status`` is ``planned`` (only before any
    run), ``active``, ``concluded`` (needs a conclusion), ``archived`` or ``deprecated``. Raises SpecimenError
    with the command line's message when a value is refused (nothing is changed then).

    Example::

        sv.set_fields(sid, hypothesis="layer 6 encodes syntax", status="active")
    """
    fields = {
        "hypothesis": hypothesis,
        "expected_results": expected_results,
        "conclusion": conclusion,
        "description": description,
        "status": status,
        "tags": tags,
    }
    assignments = []
    for key, value in fields.items():
        if value is _UNSET:
            continue
        if key == "tags":
            value = ",".join(str(t) for t in (value or []))
        assignments.append(f"{key}={'' if value is None else value}")
    if not assignments:
        raise ValueError("set_fields: give at least one field, e.g. set_fields(sid, hypothesis='…')")
    _specimen(vault, ["set", specimen_id, *assignments])


def conclude(specimen_id: str, text: str, *, vault: Optional[PathLike] = None) -> None:
    """Records the conclusion and marks the specimen ``concluded`` (``specimen conclude``).

    Example::

        sv.conclude(sid, "warmup removes the spike")
    """
    _specimen(vault, ["conclude", specimen_id, "-"], stdin=text)
