"""Output folders that are checked before Hydra creates them, and removed again when a run is refused.

Hydra creates ``hydra.run.dir`` (or ``hydra.sweep.dir``) before the lab reads its config.
:class:`OutputFolders`, a Hydra callback registered in ``conf/config.yaml`` and
``conf/read.yaml``, runs first: it checks the config against the lab's schema, refuses a
folder that cannot hold a report (a file, a folder under a file, one that is not ours,
one this user cannot write to) and remembers which folders the run is about to create,
so that :func:`discard_created` can remove them, empty, when the run is refused. A
refused run leaves the tree as it found it.
"""

import contextlib
import os
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import OmegaConf

from vecmix import VecmixError

from .writer import MARKER, ReportFolderError, check_replaceable

_created = []  # the outermost folder that this process's run creates, if any


def check_folder(target, key, marker=MARKER, lab=None):
    """Refuse a ``target`` folder that cannot hold a report, and make it when it does not exist yet.

    Return the outermost folder this made (None when ``target`` existed), so that a refused
    run can remove it again. ``key`` is the config key that set it, for the message;
    ``marker``: an existing ``target`` is replaced whole, so it must be empty or hold that
    file (``results.json`` for a lab's report, ``multirun.yaml`` for a sweep; None for a
    folder that a run only adds a file to); ``lab``: an existing report must be of that lab.

    >>> check_folder("README.md/x", "hydra.run.dir")
    Traceback (most recent call last):
    ...
    labs.report.writer.ReportFolderError: hydra.run.dir = README.md/x: README.md is a file, not a folder; choose another folder
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> check_folder(root / "a" / "b", "hydra.run.dir") == root / "a", (root / "a" / "b").is_dir()
    (True, True)
    """
    target = Path(target)
    try:
        outermost, existing = None, target
        while not os.path.lexists(existing) and existing != existing.parent:
            outermost, existing = existing, existing.parent
        if existing.is_symlink() and not existing.exists():
            raise ReportFolderError(f"{key} = {target}: {existing} is a link to nothing; choose another folder")
        if not existing.is_dir():
            where = f"{existing} is a file" if existing != target else "it is a file"
            raise ReportFolderError(f"{key} = {target}: {where}, not a folder; choose another folder")
        if outermost is None and marker is not None:
            check_replaceable(target.absolute(), marker, key, lab)
        if not os.access(existing, os.W_OK | os.X_OK):
            raise ReportFolderError(f"{key} = {target}: cannot write to {existing} (permission denied); choose a "
                                    "folder you can write to")
        if outermost is not None:
            target.mkdir(parents=True, exist_ok=True)  # Hydra would make it next, with a traceback for any failure
    except OSError as exc:
        if isinstance(exc, ReportFolderError):
            raise
        raise ReportFolderError(f"{key} = {target}: cannot make this folder ({exc.strerror or exc}); choose "
                                "another folder") from None
    return outermost


GALLERY_EXTRAS = {"README.md", "multirun", "site"}  # what a gallery holds besides lab report folders


def check_papers_folder(papers):
    """Refuse a folder for reading reports that is not one: it must hold only reading reports (``*.md``), and its
    parent, where labs not yet run write their reports, only lab reports (and the gallery's index, sweeps, site).

    >>> check_papers_folder("conf")
    Traceback (most recent call last):
    ...
    labs.report.writer.ReportFolderError: hydra.run.dir = conf holds files that are not reading reports (config.yaml, lab, paper); choose an empty folder or a folder of reading reports, such as reports/papers
    >>> check_papers_folder("reports/papers")
    """
    papers = Path(papers)
    where = f"hydra.run.dir = {papers}"
    try:
        other = sorted(p.name for p in papers.iterdir() if not (p.is_file() and p.suffix == ".md")) \
            if papers.is_dir() else []
        gallery = papers.absolute().parent
        strays = sorted(p.name for p in gallery.iterdir() if p.name not in GALLERY_EXTRAS | {papers.absolute().name}
                        and not (p.is_dir() and (p / MARKER).is_file())) if gallery.is_dir() else []
    except OSError:
        return  # check_folder names what cannot be read or made
    if other:
        raise ReportFolderError(f"{where} holds files that are not reading reports ({', '.join(other[:3])}); choose "
                                "an empty folder or a folder of reading reports, such as reports/papers")
    if strays:
        raise ReportFolderError(f"{where}: its parent {gallery} is not a report gallery (it holds "
                                f"{', '.join(strays[:3])}), and labs not yet run write their reports there; choose a "
                                "folder inside a gallery, such as reports/papers")


def check_sweep(sweep):
    """Refuse a sweep whose jobs would not each get a folder of their own inside ``hydra.sweep.dir``.

    ``sweep`` is the ``hydra.sweep`` node; ``subdir`` is read as written, before Hydra resolves it per job.

    >>> check_sweep(OmegaConf.create({"subdir": "../out"}))
    Traceback (most recent call last):
    ...
    labs.report.writer.ReportFolderError: hydra.sweep.subdir = '../out' must name a folder inside hydra.sweep.dir that differs from job to job, such as ${hydra.job.num}_${lab.name}
    """
    subdir = str(sweep._get_node("subdir")._value())
    if Path(subdir).is_absolute() or ".." in Path(subdir).parts or "${hydra.job.num}" not in subdir:
        raise ReportFolderError(f"hydra.sweep.subdir = {subdir!r} must name a folder inside hydra.sweep.dir that "
                                "differs from job to job, such as ${hydra.job.num}_${lab.name}")


def discard_created():
    """Remove the folders that the refused run created, if they are still empty (never anything else).

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> _created[:] = [root / "a"]
    >>> (root / "a" / "b").mkdir(parents=True)
    >>> discard_created(); (root / "a").exists()
    False
    """
    for top in _created:
        for folder in sorted((p for p in [top, *top.rglob("*")] if p.is_dir()), key=lambda p: -len(p.parts)):
            if [p.name for p in folder.iterdir()] == ["multirun.yaml"]:
                (folder / "multirun.yaml").unlink()  # Hydra's record of a sweep whose jobs never started
            try:
                folder.rmdir()  # only an empty folder: anything another process wrote there stays
            except OSError:
                pass
    _created.clear()


class OutputFolders(Callback):
    """Hydra callback: check the config and the output folder before Hydra creates it.

    Hydra turns an exception raised in a callback into a warning and goes on, so a user
    error exits here, with its one line and status 2.
    """

    def on_run_start(self, config, **kwargs):
        with _exit_on_user_error():
            from ..config.schema import check_config, check_hydra_additions, check_paper

            check_hydra_additions(config)
            if "lab" in config:  # labs.reproduce: a lab's report replaces the folder
                task = OmegaConf.to_container(config.hydra.overrides.task, resolve=False)
                check_config(config, config.hydra.runtime.choices["lab"], task)
                folder = check_folder(config.hydra.run.dir, "hydra.run.dir", lab=config.lab.name)
            else:  # labs.read: a reading report is one file added to a folder of them, never a lab's report folder
                check_paper(config)
                check_papers_folder(config.hydra.run.dir)
                folder = check_folder(config.hydra.run.dir, "hydra.run.dir", marker=None)
            _remember(folder)

    def on_multirun_start(self, config, **kwargs):  # each job's config is checked when the job runs
        with _exit_on_user_error():
            check_sweep(config.hydra.sweep)
            if OmegaConf.select(config, "hydra.launcher.n_jobs") == 0:
                raise VecmixError("hydra.launcher.n_jobs = 0 runs no job; use a positive number, or -1 for "
                                  "one job per core")
            _remember(check_folder(config.hydra.sweep.dir, "hydra.sweep.dir", marker="multirun.yaml"))


@contextlib.contextmanager
def _exit_on_user_error():
    from ..config.errors import exit_if_user_error

    try:
        yield
    except Exception as exc:
        exit_if_user_error(exc)
        raise


def _remember(outermost):
    _created[:] = [outermost.absolute()] if outermost is not None else []
