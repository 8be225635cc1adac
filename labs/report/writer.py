"""Write a report folder all at once: build it beside the target, then rename it into place.

A run that fails half-way leaves the previous report complete and untouched; two runs
that finish together leave one complete report, never a mix of both. The staging folders
carry the writer's process id, so a later write removes those of a run that was killed
(``kill -9``) before it could clean up, and leaves those of a run still writing.
"""

import json
import os
import shutil
import tempfile
from pathlib import Path

MARKER = "results.json"  # a folder holding this (or nothing) is a report folder we may replace
_ATTEMPTS = 20


class ReportFolderError(OSError):
    """The target exists but is not a report folder, so it is not ours to replace."""


def write_folder(target, files, marker=MARKER):
    """Atomically make ``target`` hold exactly ``files`` ({relative path: bytes}).

    An existing ``target`` is replaced only when it is empty or holds ``marker`` (a report
    folder holds ``results.json``; the HTML site, ``index.html``).

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> write_folder(root / "lab", {"results.json": b"{}", "figures/a.svg": b"<svg/>"})
    >>> sorted(p.relative_to(root / "lab").as_posix() for p in (root / "lab").rglob("*") if p.is_file())
    ['figures/a.svg', 'results.json']
    """
    target = Path(target).absolute()
    check_replaceable(target, marker)
    staging = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_abandoned(target)
        staging = Path(tempfile.mkdtemp(prefix=_prefix(target), suffix=".new", dir=target.parent))
        staging.chmod(0o755)  # mkdtemp makes it private; a report folder is not
        for rel, data in files.items():
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        _swap_into_place(staging, target)
    except OSError as exc:
        raise _unwritable(exc, target) from exc
    finally:
        if staging is not None and staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _prefix(target):
    return f".{target.name}.{os.getpid()}."


def _unwritable(exc, target):
    """A ReportFolderError for an OSError met while writing ``target`` (a full disk, a read-only folder)."""
    if isinstance(exc, ReportFolderError):
        return exc
    return ReportFolderError(f"cannot write the report to {target}: {exc.strerror or exc} "
                             f"({exc.filename or target}); choose another folder")


def _remove_abandoned(target):
    """Remove the staging folders and files of runs into ``target`` whose process no longer exists."""
    for path in target.parent.glob(f".{target.name}.*"):
        pid = path.name[len(target.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _swap_into_place(staging, target):
    """Rename staging to target, moving an existing target aside first; the last writer wins a race."""
    for _ in range(_ATTEMPTS):
        old = Path(tempfile.mkdtemp(prefix=_prefix(target), suffix=".old", dir=target.parent))
        try:
            try:
                os.replace(target, old / "previous")  # the current report, if any, out of the way
            except FileNotFoundError:
                pass
            try:
                os.rename(staging, target)
                return
            except OSError:  # another run put its report there in between: move it aside too
                continue
        finally:
            shutil.rmtree(old, ignore_errors=True)
    raise ReportFolderError(f"could not move the new report into {target} after {_ATTEMPTS} attempts")


KINDS = {MARKER: "report", "index.html": "site", "multirun.yaml": "sweep"}  # marker file -> what it marks


def check_replaceable(target, marker=MARKER, key=None, lab=None):
    """Refuse to replace a folder that is not an empty one or an earlier one of its kind (holding ``marker``),
    that holds the cwd, or, when ``lab`` is given, that holds another lab's report.

    ``key`` names the setting that chose ``target``, for the message.
    """
    where, kind = (f"{key} = {target}" if key else str(target)), KINDS.get(marker, "report")
    if not target.exists() and not target.is_symlink():
        return
    if target.is_symlink():
        raise ReportFolderError(f"{where} is a link; give the folder itself, or another one")
    if target.is_file():  # (not "not is_dir()": another run may be swapping its report in right now)
        raise ReportFolderError(f"{where} exists and is not a folder; choose another output folder")
    cwd = Path.cwd().absolute()
    if target == cwd or target in cwd.parents:
        raise ReportFolderError(f"{where} holds the current folder; choose a folder of its own for the {kind}")
    try:
        entries = [p.name for p in target.iterdir() if p.name != ".hydra"]
    except FileNotFoundError:  # another run is swapping its report in right now
        return
    if entries and marker not in entries:
        raise ReportFolderError(f"{where} holds files that are not a vecmix {kind} ({', '.join(sorted(entries)[:3])}); "
                                f"choose an empty folder or an earlier {kind}'s folder")
    if lab is not None and entries:
        other = _lab_of(target / MARKER)
        if other != lab:
            held = f"the report of lab {other}" if other else "a results.json that is not a vecmix report's"
            raise ReportFolderError(f"{where} holds {held}; choose another folder for lab {lab}, so that it is "
                                    "not lost")


def _lab_of(results):
    try:
        lab = json.loads(results.read_text())["lab"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return lab if isinstance(lab, str) else None


def write_file(path, data):
    """Write one file atomically: a temporary file beside it, then a rename.

    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "a" / "report.md"
    >>> write_file(target, b"# hello")
    >>> target.read_bytes()
    b'# hello'
    """
    path = Path(path)
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_abandoned(path)
        handle, temporary = tempfile.mkstemp(prefix=_prefix(path), dir=path.parent)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as exc:
        raise _unwritable(exc, path) from exc
    finally:
        if temporary is not None and os.path.exists(temporary):
            os.remove(temporary)
