"""Finding and calling the ``specimen`` command line, which creates and seals runs (one implementation of the
vault format). Looked for, in order: ``$SPECIMEN_CLI`` (a command, e.g. ``node /opt/sv/dist/cli/main.js``;
``none`` means there is none), ``specimen`` on ``PATH``, and ``node <checkout>/dist/cli/main.js`` when this
package sits in a built checkout of the repository.

Runs are begun and sealed through one ``specimen session`` per interpreter, started on first use and kept
(JSON requests over its stdin and stdout), so a sweep of short runs pays Node's start-up once, not twice
per run; where the session cannot start or dies, each call runs the command once instead::

    cli = find_cli()                 # ['specimen'] or None
    out = call_cli(cli, ["--vault", root, "begin", "2026_01_02_probe", "--request", "-", "--json"], request)
    out = session_call(cli, "begin", {"vault": root, "specimen": "2026_01_02_probe", "request": request})
"""

from __future__ import annotations

import atexit
import json
import os
import shlex
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple


class CliError(RuntimeError):
    """The command line ran and refused (its exit code and message are kept)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


_found: Dict[Tuple[Optional[str], Optional[str]], Optional[List[str]]] = {}


def find_cli() -> Optional[List[str]]:
    """The command that runs the ``specimen`` CLI, or None when none is reachable.

    Looked up once per ``$SPECIMEN_CLI`` and ``$PATH`` (every ``init`` asks; a PATH search is a stat per
    directory).
    """
    key = (os.environ.get("SPECIMEN_CLI"), os.environ.get("PATH"))
    if key not in _found:
        _found[key] = _lookup_cli()
    found = _found[key]
    return list(found) if found is not None else None


def _lookup_cli() -> Optional[List[str]]:
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


class _Session:
    """One ``specimen session`` process: requests are written one at a time and answered in order."""

    def __init__(self, cli: List[str]) -> None:
        self.pid = os.getpid()
        self.proc = subprocess.Popen(
            [*cli, "session"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            bufsize=1,
            env={**os.environ, "NO_COLOR": "1"},
        )
        self.next_id = 0
        self.lock = threading.Lock()

    def call(self, op: str, payload: Dict[str, Any]) -> Any:
        with self.lock:
            self.next_id += 1
            request = {"id": self.next_id, "op": op, **payload}
            assert self.proc.stdin is not None and self.proc.stdout is not None
            self.proc.stdin.write(json.dumps(request, allow_nan=False) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        if not line:
            raise OSError("the specimen session ended")
        reply = json.loads(line)
        if not reply.get("ok"):
            raise CliError(f"`specimen {op}` failed: {reply.get('message')}", int(reply.get("code", 1)))
        return reply["result"]

    def close(self) -> None:
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            # The session flushes its batch (every run it sealed becomes durable), then ends.
            self.proc.wait(timeout=5)
        except Exception:
            self.proc.kill()


_sessions: Dict[Tuple[str, ...], _Session] = {}
_sessions_lock = threading.Lock()
_broken: set = set()


def _close_sessions() -> None:
    for session in list(_sessions.values()):
        if session.pid == os.getpid():
            session.close()
    _sessions.clear()


def _sessions_enabled(key: Tuple[str, ...]) -> bool:
    return os.environ.get("SPECIMEN_SESSION", "1").strip().lower() not in ("0", "no", "false", "off") and key not in _broken


def _session_for(key: Tuple[str, ...], cli: List[str]) -> _Session:
    with _sessions_lock:
        session = _sessions.get(key)
        if session is None or session.pid != os.getpid() or session.proc.poll() is not None:
            # A forked child starts its own: the parent's pipe is the parent's.
            if not _sessions:
                atexit.register(_close_sessions)
            session = _sessions[key] = _Session(cli)
        return session


def start_session(cli: List[str]) -> None:
    """Starts this interpreter's session now, without waiting for it, so that Node's start-up overlaps
    what the caller does before its first request; a session that cannot start is left to session_call."""
    key = tuple(cli)
    if _sessions_enabled(key):
        try:
            _session_for(key, cli)
        except Exception:
            pass


def session_call(cli: List[str], op: str, payload: Dict[str, Any], args: List[str], request: Optional[Any] = None) -> Any:
    """Runs ``op`` (begin or seal) through this interpreter's session, started on first use.

    Falls back to running the CLI once with ``args`` (and ``request`` on stdin) when the session cannot
    start or has died; CliError when the vault refused the request either way.
    """
    key = tuple(cli)
    if _sessions_enabled(key):
        session: Optional[_Session] = None
        try:
            session = _session_for(key, cli)
            return session.call(op, payload)
        except CliError:
            raise
        except Exception:
            # No session here (an old CLI without the command, a dead process): one command per call.
            _broken.add(key)
            _sessions.pop(key, None)
            if session is not None:
                try:
                    session.proc.kill()
                except Exception:
                    pass
    return call_cli(cli, args, request)
