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

from .writer import ReportFolderError, check_replaceable

_created = []  # the outermost folder that this process's run creates, if any


def check_folder(target, key, replaced=True):
    """Refuse a ``target`` folder that cannot hold a report; return the outermost folder a run would create.

    ``key`` is the config key that set it, for the message; ``replaced``: the run replaces the
    whole folder (a lab's report), so an existing one must be an earlier report. None when
    ``target`` exists.

    >>> check_folder("README.md/x", "hydra.run.dir")
    Traceback (most recent call last):
    ...
    labs.report.writer.ReportFolderError: hydra.run.dir = README.md/x: README.md is a file, not a folder; choose another folder
    >>> check_folder("reports/no/such/folder", "hydra.run.dir")
    PosixPath('reports/no')
    """
    target = Path(target)
    outermost, existing = None, target
    while not existing.exists() and existing != existing.parent:
        outermost, existing = existing, existing.parent
    if not existing.is_dir():
        where = f"{existing} is a file" if existing != target else "it is a file"
        raise ReportFolderError(f"{key} = {target}: {where}, not a folder; choose another folder")
    if outermost is None and replaced:
        check_replaceable(target.absolute())
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ReportFolderError(f"{key} = {target}: cannot write to {existing} (permission denied); choose a folder "
                                "you can write to")
    return outermost


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
            lab = "lab" in config  # labs.reproduce; labs.read writes one file into a folder of papers
            if lab:
                from ..config.schema import check_config

                task = OmegaConf.to_container(config.hydra.overrides.task, resolve=False)
                check_config(config, config.hydra.runtime.choices["lab"], task)
            _remember(check_folder(OmegaConf.select(config, "hydra.run.dir"), "hydra.run.dir", replaced=lab))

    def on_multirun_start(self, config, **kwargs):  # each job's config is checked when the job runs
        with _exit_on_user_error():
            _remember(check_folder(OmegaConf.select(config, "hydra.sweep.dir"), "hydra.sweep.dir"))


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
