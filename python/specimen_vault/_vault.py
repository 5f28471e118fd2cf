"""Finding the vault and a specimen in it, the way the ``specimen`` command line does.

The vault is the ``vault`` argument, else ``$SPECIMEN_VAULT``, else the nearest ancestor of the working
directory holding ``specimens/`` or ``specimen-vault.json`` (see src/format/vault-config.ts)::

    root = find_vault_root()                    # raises VaultNotFound with what to do
    specimen_dir(root, "2026_01_02_probe")      # raises SpecimenNotFound naming the closest IDs
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import List, Optional, Union

SPECIMENS_DIR = "specimens"
CONFIG_FILE = "specimen-vault.json"

PathLike = Union[str, "os.PathLike[str]"]


class VaultNotFound(LookupError):
    """No vault at the given path, or none above the working directory."""


class SpecimenNotFound(LookupError):
    """The specimen ID names no directory under ``specimens/``; the message lists the closest IDs."""


def _is_vault(d: Path) -> bool:
    return (d / SPECIMENS_DIR).is_dir() or (d / CONFIG_FILE).is_file()


def find_vault_root(vault: Optional[PathLike] = None, cwd: Optional[PathLike] = None) -> Path:
    """The vault root: ``vault``, else ``$SPECIMEN_VAULT``, else the nearest ancestor of ``cwd`` that is one."""
    base = Path(cwd) if cwd is not None else Path.cwd()
    given = vault if vault is not None else (os.environ.get("SPECIMEN_VAULT") or None)
    if given is not None:
        root = (base / Path(given)).resolve()
        if not _is_vault(root):
            raise VaultNotFound(
                f"vault: {root} is not a vault (it holds neither {SPECIMENS_DIR}/ nor {CONFIG_FILE}); "
                f"create one with `specimen init {root}`"
            )
        return root
    d = base.resolve()
    while True:
        if _is_vault(d):
            return d
        if d.parent == d:
            raise VaultNotFound(
                f"vault: no vault in {base.resolve()} or above; pass vault=..., set SPECIMEN_VAULT, "
                "or create one with `specimen init DIR`"
            )
        d = d.parent


def specimen_ids(root: Path) -> List[str]:
    """IDs of the specimen directories of the vault at ``root``, sorted."""
    try:
        return sorted(e.name for e in os.scandir(root / SPECIMENS_DIR) if e.is_dir() and not e.name.startswith("."))
    except OSError:
        return []


def specimen_dir(root: Path, specimen_id: str) -> Path:
    """The directory of ``specimen_id`` in the vault at ``root``, or SpecimenNotFound naming the closest IDs."""
    if (
        not isinstance(specimen_id, str)
        or not specimen_id
        or specimen_id.startswith(".")
        or "/" in specimen_id
        or "\\" in specimen_id
    ):
        raise SpecimenNotFound(f"specimen: {specimen_id!r} is not a specimen ID (YYYY_MM_DD_descriptor)")
    d = root / SPECIMENS_DIR / specimen_id
    if d.is_dir():
        return d
    close = difflib.get_close_matches(specimen_id, specimen_ids(root), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise SpecimenNotFound(
        f"specimen: {specimen_id!r} not found in {root}{hint} "
        f"Create it with `specimen new {specimen_id} --domain training --method fine_tuning` "
        "(see `specimen new --help` for domains and methods)."
    )
