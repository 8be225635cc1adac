"""The cost of the whole catalogue: ``python -m labs.gallery``, and every lab as one sweep through the joblib launcher.

Both run as fresh processes in a temporary copy of the project (``labs/``, ``vecmix/``,
``conf/``, ``reports/``), so that the committed gallery is never touched (its measured
run would change). The gallery runs every lab's default config, the measured run and the
reading reports in one process, one after another; the sweep runs the labs alone
(``lab=glob(*)``), as separate jobs on as many worker processes as there are cores.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COPIED = ("labs", "vecmix", "conf", "reports")


def project_copy(names=COPIED):
    """A temporary folder holding a copy of the project's folders ``names`` (its code, configs and gallery)."""
    folder = Path(tempfile.mkdtemp(prefix="vecmix-project-"))
    for name in names:
        shutil.copytree(ROOT / name, folder / name, ignore=shutil.ignore_patterns("site", "multirun", "__pycache__"))
    return folder


def commands(folder, labs=None):
    """{name: argv}: the gallery (None when ``labs`` picks a subset: the gallery has no subset) and the sweep."""
    jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    choice = "glob(*)" if labs is None else ",".join(labs)
    sweep = [sys.executable, "-m", "labs.reproduce", "-m", f"lab={choice}", "hydra/launcher=joblib",
             f"hydra.launcher.n_jobs={jobs}", f"hydra.sweep.dir={folder / 'sweep'}"]
    found = {f"python -m labs.reproduce -m 'lab={choice}' hydra/launcher=joblib hydra.launcher.n_jobs={jobs}": sweep}
    if labs is None:
        found = {"python -m labs.gallery": [sys.executable, "-m", "labs.gallery"], **found}
    return found


def runners(labs=None):
    """{name: zero-argument callable} that each run one command to completion in a fresh copy of the project."""
    def runner(name):
        def run():
            folder = project_copy()
            try:
                start = time.perf_counter()
                subprocess.run(commands(folder, labs)[name], cwd=folder, check=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
                return time.perf_counter() - start
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        return run

    return {name: runner(name) for name in commands(Path("."), labs)}


def catalogue_size():
    """How many labs the catalogue holds (the sweep's jobs)."""
    from labs.catalogue import LABS

    return len(LABS)
