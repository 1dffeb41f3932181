"""The output directory: never remove what export did not write, and swap the package in whole.

Rules (the export contract: never touch a file that is not ours):
- DIR missing or empty: the package is written there.
- DIR holding an earlier export that is unchanged (its model_card.json lists its files with
  their sha256, and every one still matches): that export's files are replaced; any other
  file in DIR (notes, other Triton models beside ours) stays.
- anything else: refused, unless `force`, which replaces only the files the new package
  writes (the five paths of `package_files`) and leaves every other file alone.

The package is built in a hidden sibling `.DIR.tmp-<hex>`; the files it replaces are moved
to `.DIR.old-<hex>` first and brought back if anything fails, Ctrl-C included. A process
killed outright (SIGKILL, power loss) can leave those siblings behind: the next export into
the same DIR removes the ones older than `STALE_AFTER_S`, by their exact name pattern only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from export.errors import ExportError

__all__ = [
    "CARD",
    "OutDir",
    "STALE_AFTER_S",
    "earlier_export_files",
    "package_files",
    "prepare_out_dir",
    "sha256",
    "staged",
]

CARD = "model_card.json"
# A staging folder lives for the seconds between tracing and renaming (training happens
# before it exists); one untouched for 15 minutes belongs to a process that was killed.
STALE_AFTER_S = 15 * 60
_SIBLING = re.compile(r"\.(?P<name>.+)\.(?:tmp|old|probe)-[0-9a-f]{8,12}")


def package_files(name: str) -> tuple[str, ...]:
    """The relative paths a package named `name` writes, the card last.

    >>> package_files("nw")[-2:]
    ('model_repository/nw/1/model.onnx', 'model_card.json')
    """
    triton = f"model_repository/{name}"
    return ("model.onnx", "train.csv", f"{triton}/config.pbtxt", f"{triton}/1/model.onnx", CARD)


def not_ours_message(target: Path) -> str:
    return (
        f"{target} is not empty and is not an earlier export: choose another --out, or add "
        "--force to replace only the package's files"
    )


@dataclass(frozen=True)
class OutDir:
    """Where a package goes and which files already there it may replace."""

    target: Path  # absolute
    replace: tuple[str, ...]  # relative paths inside target that the new package replaces
    stale_removed: tuple[str, ...]  # names of stale siblings removed on the way

    def stale_note(self) -> str | None:
        """One line about removed leftovers of an interrupted export, or None."""
        if not self.stale_removed:
            return None
        return (
            f"removed {len(self.stale_removed)} stale folder(s) left beside {self.target} by an "
            f"interrupted export: {', '.join(self.stale_removed)}"
        )


def prepare_out_dir(
    out_dir: str | os.PathLike, name: str = "nw_attention", force: bool = False
) -> OutDir:
    """Check that a package named `name` may be written to out_dir; say what it replaces.

    >>> prepare_out_dir("/dev/null/model")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    export.errors.ExportError: cannot create ... /dev/null is a file, not a directory; ...

    Also removes stale staging folders of earlier, killed exports of the same DIR (see the
    module docstring). Raises ExportError, changing nothing else, when DIR cannot be used.
    """
    if not isinstance(out_dir, (str, os.PathLike)) or not str(out_dir).strip():
        raise ExportError(f"the output directory must be a path, got {out_dir!r}")
    target = Path(os.path.abspath(os.path.expanduser(os.fspath(out_dir))))
    parent = target.parent
    existing = next(up for up in (parent, *parent.parents) if up.exists())
    if not existing.is_dir():
        raise ExportError(
            f"cannot create the output directory's parent {parent}: {existing} is a file, "
            "not a directory; choose another --out"
        )
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(
            f"cannot create {parent}: {exc.strerror}; choose a writable --out"
        ) from None
    replace = _replaceable(target, package_files(name), force)
    probe = _sibling(target, "probe")
    try:  # can we create (and so later rename) entries here?
        probe.mkdir()
        probe.rmdir()
    except OSError as exc:
        raise ExportError(
            f"cannot write in {parent}: {exc.strerror}; choose a writable --out"
        ) from None
    return OutDir(target=target, replace=replace, stale_removed=_remove_stale(target))


def earlier_export_files(target: Path) -> tuple[str, ...] | None:
    """The files of an unchanged earlier export in target (card included), else None.

    Unchanged means: model_card.json parses, lists its files by relative path and sha256,
    and every listed file is a regular file with that sha256 today.
    """
    try:
        files = json.loads((target / CARD).read_text(encoding="utf-8"))["files"]
        listed = [(str(f["path"]), str(f["sha256"])) for f in files.values()]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    for rel, digest in listed:
        path = PurePosixPath(rel)
        if path.is_absolute() or ".." in path.parts or not path.parts:
            return None
        full = target / path
        if full.is_symlink() or not full.is_file() or sha256(full) != digest:
            return None
    return (*(rel for rel, _ in listed), CARD)


def _replaceable(target: Path, writes: tuple[str, ...], force: bool) -> tuple[str, ...]:
    if not (target.exists() or target.is_symlink()):
        return ()
    if target.is_symlink() or not target.is_dir():
        raise ExportError(f"{target} exists and is not a directory: choose another --out")
    for rel in writes:  # nothing of the user's may sit where the package puts a file or folder
        for up in [*PurePosixPath(rel).parents][:-1]:
            if (target / up).exists() and not (target / up).is_dir():
                raise ExportError(
                    f"{target / up} is a file where the package needs a folder: move it "
                    "away or choose another --out"
                )
        full = target / rel
        if full.is_dir() and not full.is_symlink():
            raise ExportError(
                f"{full} is a folder where the package writes a file: move it away or "
                "choose another --out"
            )
    present = {rel for rel in writes if (target / rel).exists() or (target / rel).is_symlink()}
    earlier = earlier_export_files(target)
    ours = set(earlier or ())
    if not force and (present - ours or (earlier is None and any(target.iterdir()))):
        raise ExportError(not_ours_message(target))
    return tuple(dict.fromkeys([*(earlier or ()), *sorted(present)]))


@contextlib.contextmanager
def staged(out: OutDir) -> Iterator[Path]:
    """Yield an empty staging folder beside out.target; on success move its files into place.

    Everything written under the staging folder replaces the files of `out.replace`; on any
    failure, Ctrl-C included, the folder is removed and out.target is as it was.
    """
    tmp = _sibling(out.target, "tmp")
    try:
        tmp.mkdir()  # not mkdtemp: that would make the package private (mode 0700)
    except OSError as exc:
        raise ExportError(f"cannot write in {out.target.parent}: {exc.strerror}") from None
    try:
        yield tmp
        _install(tmp, out)
    except OSError as exc:
        raise ExportError(
            f"writing the export to {out.target} failed: {exc.strerror or exc}; nothing was "
            "changed there. Check free disk space and permissions"
        ) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _install(tmp: Path, out: OutDir) -> None:
    """Move the staged files into out.target; the replaced ones go back if anything fails."""
    target = out.target
    if not target.exists():
        os.rename(tmp, target)  # one rename: the package appears whole or not at all
        return
    new = sorted(
        (p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file()),
        key=lambda rel: rel == CARD,  # the card last: a half-swapped DIR is never "ours"
    )
    old = _sibling(target, "old")
    old.mkdir()
    moved_old: list[str] = []
    moved_new: list[str] = []
    try:
        for rel in sorted(out.replace, key=lambda rel: rel != CARD):  # the old card first
            if (target / rel).exists() or (target / rel).is_symlink():
                (old / rel).parent.mkdir(parents=True, exist_ok=True)
                os.rename(target / rel, old / rel)
                moved_old.append(rel)
        for rel in new:
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            os.rename(tmp / rel, target / rel)
            moved_new.append(rel)
    except BaseException:
        for rel in reversed(moved_new):
            with contextlib.suppress(OSError):
                os.rename(target / rel, tmp / rel)
        _prune_empty(target, moved_new)
        for rel in reversed(moved_old):
            with contextlib.suppress(OSError):
                (target / rel).parent.mkdir(parents=True, exist_ok=True)
                os.rename(old / rel, target / rel)
        if not any((old / rel).exists() for rel in moved_old):
            shutil.rmtree(old, ignore_errors=True)
        raise
    _prune_empty(target, [rel for rel in moved_old if rel not in moved_new])
    shutil.rmtree(old, ignore_errors=True)


def _prune_empty(target: Path, rels: list[str]) -> None:
    """Remove folders under target left empty by moving rels away (never target itself)."""
    for rel in rels:
        for up in [*PurePosixPath(rel).parents][:-1]:
            try:
                (target / up).rmdir()  # fails, as it should, while anything is inside
            except OSError:
                break


def _remove_stale(target: Path) -> tuple[str, ...]:
    """Remove `.NAME.tmp-*`, `.NAME.old-*`, `.NAME.probe-*` folders untouched for a while."""
    removed = []
    now = time.time()
    for entry in sorted(target.parent.iterdir()):
        match = _SIBLING.fullmatch(entry.name)
        if not match or match["name"] != target.name:
            continue
        if entry.is_symlink() or not entry.is_dir():
            continue
        try:
            newest = max(p.lstat().st_mtime for p in [entry, *entry.rglob("*")])
        except OSError:
            continue
        if now - newest > STALE_AFTER_S:
            shutil.rmtree(entry, ignore_errors=True)
            if not entry.exists():
                removed.append(entry.name)
    return tuple(removed)


def _sibling(target: Path, kind: str) -> Path:
    return target.with_name(f".{target.name}.{kind}-{uuid.uuid4().hex[:12]}")


def sha256(path: Path) -> str:
    """The file's sha256, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
