"""Code kept with a staged run: when no CLI is reachable and the run is staged in ``pending/``, the script
``sys.argv`` names (else the specimen's ``protocol.*`` files) and, in a dirty git tree, ``git diff HEAD``
and the names of untracked files are copied into the stage's ``code/`` as the run starts, so
``specimen adopt`` later seals the code as it ran, not as it is by then.

The rules are those of src/runner/code-kept.ts (``scriptOf``, ``protocolFiles``, ``currentCode``), which
keeps the code of every other run; this is the minimal copy a Python process without Node needs, and
python/tests/test_code_kept.py checks that both keep the same files for the same tree::

    kept = keep_code(stage_dir, [script], git_cwd=os.getcwd())
    kept   # {"dir": "code", "files": ["train.py", "git.diff"], "skipped": []} — the manifest's `code`
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

# src/format/layout.ts
CODE_DIR = "code"
CODE_GIT_DIFF_FILE = "git.diff"
CODE_UNTRACKED_FILE = "untracked.txt"
CODE_FILE_MAX_BYTES = 1024 * 1024
_DATA_DIRS = ("runs", "pending")  # run folders are data, not code


def script_of(argv: Sequence[str], cwd: str) -> Optional[Path]:
    """The script a command line names (``sys.argv[0]``, past an interpreter), or None (``-c``, Jupyter)."""
    if not argv:
        return None
    first = argv[1] if re.match(r"^python[0-9.]*(\.exe)?$", os.path.basename(argv[0])) and len(argv) > 1 else argv[0]
    if not first or first.startswith("-") or first.endswith("ipykernel_launcher.py"):
        return None
    file = Path(cwd, first).resolve()
    return file if file.is_file() else None


def protocol_files(specimen_dir: Path) -> List[Path]:
    """The specimen's ``protocol.*`` files, sorted."""
    try:
        names = os.listdir(specimen_dir)
    except OSError:
        return []
    return [specimen_dir / n for n in sorted(names) if re.match(r"^protocol\.[A-Za-z0-9]+$", n) and (specimen_dir / n).is_file()]


def _git(args: List[str], cwd: str) -> Optional[str]:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.decode("utf-8", "replace") if proc.returncode == 0 else None


def current_code(files: Sequence[Path], git_cwd: Optional[str]) -> Dict[str, Optional[bytes]]:
    """name → bytes (None when skipped: binary, or over CODE_FILE_MAX_BYTES), as keepCode would keep them."""
    out: Dict[str, Optional[bytes]] = {}
    for file in files:
        name = os.path.basename(file)
        if name in out or name in (CODE_GIT_DIFF_FILE, CODE_UNTRACKED_FILE) or not os.path.isfile(file):
            continue
        if os.path.getsize(file) > CODE_FILE_MAX_BYTES:
            out[name] = None
            continue
        data = Path(file).read_bytes()
        out[name] = None if b"\0" in data[:8192] else data  # git's rule for binary
    if git_cwd and shutil.which("git"):
        status = _git(["status", "--porcelain", "--untracked-files=no"], git_cwd)
        if status and status.strip():
            excludes = [f":(top,exclude,glob)**/{d}/**" for d in _DATA_DIRS]
            diff = _git(["diff", "HEAD", "--", ":(top)", *excludes], git_cwd)
            if diff:
                raw = diff.encode("utf-8")
                out[CODE_GIT_DIFF_FILE] = None if len(raw) > CODE_FILE_MAX_BYTES else raw
            untracked = _git(["ls-files", "--others", "--exclude-standard", "--full-name", "--", ":(top)", *excludes], git_cwd)
            if untracked and untracked.strip():
                out[CODE_UNTRACKED_FILE] = untracked.encode("utf-8")
    return out


def keep_code(run_dir: Path, files: Sequence[Path], git_cwd: Optional[str]) -> Dict[str, Any]:
    """Writes the code into ``run_dir/code/`` and returns the manifest's ``code`` field. Never raises."""
    kept: Dict[str, Any] = {"dir": CODE_DIR, "files": [], "skipped": []}
    try:
        code = current_code(files, git_cwd)
    except Exception as err:
        kept["skipped"].append({"file": "*", "reason": str(err)})
        return kept
    for name, data in code.items():
        if data is None:
            kept["skipped"].append({"file": name, "reason": f"binary or over {CODE_FILE_MAX_BYTES} bytes"})
            continue
        try:
            (run_dir / CODE_DIR).mkdir(exist_ok=True)
            tmp = run_dir / CODE_DIR / f".tmp-{name}"
            tmp.write_bytes(data)
            os.replace(tmp, run_dir / CODE_DIR / name)
            kept["files"].append(name)
        except Exception as err:
            kept["skipped"].append({"file": name, "reason": str(err)})
    return kept
