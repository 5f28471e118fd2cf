"""Finding and calling the ``specimen`` command line, which creates and seals runs (one implementation of the
vault format). Looked for, in order: ``$SPECIMEN_CLI`` (a command, e.g. ``node /opt/sv/dist/cli/main.js``;
``none`` means there is none), ``specimen`` on ``PATH``, and ``node <checkout>/dist/cli/main.js`` when this
package sits in a built checkout of the repository::

    cli = find_cli()                 # ['specimen'] or None
    out = call_cli(cli, ["--vault", root, "begin", "2026_01_02_probe", "--request", "-", "--json"], request)
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any, List, Optional


class CliError(RuntimeError):
    """The command line ran and refused (its exit code and message are kept)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def find_cli() -> Optional[List[str]]:
    """The command that runs the ``specimen`` CLI, or None when none is reachable."""
    env = os.environ.get("SPECIMEN_CLI")
    if env is not None:
        if env.strip().lower() in ("", "none", "0", "false"):
            return None
        cmd = shlex.split(env)
        return cmd if cmd and shutil.which(cmd[0]) else None
    found = shutil.which("specimen")
    if found:
        return [found]
    main = Path(__file__).resolve().parents[2] / "dist" / "cli" / "main.js"
    node = shutil.which("node")
    if node and main.is_file():
        return [node, str(main)]
    return None


def call_cli(cli: List[str], args: List[str], request: Optional[Any] = None, timeout: float = 300) -> Any:
    """Runs the CLI with ``args`` (JSON ``request`` on stdin) and returns its JSON output; CliError on failure."""
    proc = subprocess.run(
        [*cli, *args],
        input=None if request is None else json.dumps(request, allow_nan=False),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1"},
    )
    if proc.returncode != 0:
        command = args[2] if args[:1] == ["--vault"] and len(args) > 2 else args[0]
        message = proc.stderr.strip() or f"exit code {proc.returncode}"
        raise CliError(f"`specimen {command}` failed: {message}", proc.returncode)
    return json.loads(proc.stdout)
