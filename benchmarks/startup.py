"""Lab start-up: the whole ``python -m labs.reproduce lab=attention_basic`` against bare imports.

The baseline imports what any such lab needs, ``hydra, numpy, sympy, matplotlib.pyplot``,
and does nothing. Both commands run as fresh processes, alternately.
"""

import subprocess
import sys
import tempfile
import time

BASELINE = [sys.executable, "-c", "import hydra, numpy, sympy, matplotlib.pyplot"]


def commands(out_dir):
    """{name: argv} for the baseline and the lab (which writes its report under out_dir)."""
    return {
        "import hydra, numpy, sympy, matplotlib.pyplot": BASELINE,
        "python -m labs.reproduce lab=attention_basic": [sys.executable, "-m", "labs.reproduce", "lab=attention_basic",
                                                        f"hydra.run.dir={out_dir}/attention_basic"],
    }


def runners():
    """{name: zero-argument callable} that each run one command to completion (and fail loudly if it fails)."""
    out_dir = tempfile.mkdtemp(prefix="vecmix-startup-")

    def runner(argv):
        def run():
            start = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            return time.perf_counter() - start
        return run

    return {name: runner(argv) for name, argv in commands(out_dir).items()}
