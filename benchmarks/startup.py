"""Lab start-up: the whole ``python -m labs.reproduce lab=attention_basic`` against bare imports.

The baseline imports what any such lab needs, ``hydra, numpy, sympy, matplotlib.pyplot``,
and does nothing. The commands run as fresh processes, alternately, with Python's
bytecode cache on as a user's Python has it (``PYTHONDONTWRITEBYTECODE`` is removed from
their environment: the installed packages' modules are compiled already, and the lab's
own are compiled by the first run, in a temporary copy of the project, as on a user's
machine; without the cache, every start compiles them again: :func:`compile_seconds` says
how long that takes at most). One more
row gives the bare imports with the garbage-collector setting the lab's command uses
(``gc.freeze()``, see ``labs.config.cli.run_command``), for a like-for-like ratio.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .gallery import project_copy

IMPORTS = "import hydra, numpy, sympy, matplotlib.pyplot"
BASELINE = "import hydra, numpy, sympy, matplotlib.pyplot"
LAB = "python -m labs.reproduce lab=attention_basic"
FROZEN = "the imports, then gc.freeze()"


def commands(out_dir):
    """{name: (argv, environment)} for the baseline, the lab (which writes under out_dir) and the reference; run them
    in a copy of the project (:func:`runners`)."""
    cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    lab = [sys.executable, "-m", "labs.reproduce", "lab=attention_basic", f"hydra.run.dir={out_dir}/attention_basic"]
    return {
        BASELINE: ([sys.executable, "-c", IMPORTS], cached),
        LAB: (lab, cached),
        FROZEN: ([sys.executable, "-c", f"{IMPORTS}; import gc; gc.freeze()"], cached),
    }


def runners():
    """{name: zero-argument callable} that each run one command to completion (and fail loudly if it fails), in a
    temporary copy of the project, where the lab's bytecode cache is written."""
    out_dir, project = tempfile.mkdtemp(prefix="vecmix-startup-"), project_copy(("labs", "vecmix", "conf"))

    def runner(argv, env):
        def run():
            start = time.perf_counter()
            subprocess.run(argv, check=True, env=env, cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            return time.perf_counter() - start
        return run

    return {name: runner(argv, env) for name, (argv, env) in commands(out_dir).items()}


def compile_seconds():
    """Seconds to compile every module of labs/ and vecmix/ from source: what a start-up without a bytecode cache
    pays at most on top of the cached one."""
    root = Path(__file__).resolve().parents[1]
    sources = [(path, path.read_text()) for package in ("labs", "vecmix") for path in (root / package).rglob("*.py")]
    start = time.perf_counter()
    for path, text in sources:
        compile(text, str(path), "exec")
    return time.perf_counter() - start
