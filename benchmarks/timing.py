"""Measuring: medians of repeated runs, interleaved rounds, log-log slopes, peak memory, the machine."""

import math
import os
import platform
import statistics
import time
import tracemalloc


def medians(candidates, rounds, block=1, warmup=True, pause=0.0):
    """{name: median seconds} for zero-argument callables, measured in rounds.

    Each round runs every candidate in turn: a pause of ``pause`` seconds, one untimed
    warm-up run (when ``warmup``), then ``block`` timed runs back to back. Rounds put every
    candidate under the same drifting background load, so their ratios are fair on a shared
    machine. The pause lets the previous candidate's thread pool go idle (torch's OpenMP
    threads and OpenBLAS's spin for a while after a call, and would slow whichever
    candidate runs next); the warm-up wakes the candidate's own.
    """
    times = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, f in candidates.items():
            time.sleep(pause)
            if warmup:
                f()
            for _ in range(block):
                start = time.perf_counter()
                f()
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def slope(sizes, seconds):
    """The least-squares slope of log(seconds) against log(size): cost grows like size**slope."""
    xs, ys = [math.log(s) for s in sizes], [math.log(t) for t in seconds]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def peak_bytes(f):
    """The peak of memory allocated while f() runs (numpy reports its buffers to tracemalloc)."""
    tracemalloc.start()
    try:
        f()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def machine():
    """A short description of this machine and the versions that matter."""
    import flint
    import numpy
    import sympy

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        import torch
        torch_version = f"{torch.__version__} ({torch.get_num_threads()} threads)"
    except ImportError:
        torch_version = "not installed"
    try:
        import numba
        numba_version = f"{numba.__version__} (the [fast] extra: vecmix's compiled step)"
    except ImportError:
        numba_version = "not installed (vecmix runs numpy's step)"
    from vecmix._parallel import threads

    blas = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]
    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "system": platform.platform(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "sympy": sympy.__version__,
        "python-flint": flint.__version__,
        "numba": numba_version,
        "threads": f"vecmix {threads()} (as numpy's BLAS, {blas.get('name')} {blas.get('version')}); torch the same",
        "torch": torch_version,
        "bytecode cache": "off here (PYTHONDONTWRITEBYTECODE is set); the start-up benchmark turns it on for both "
        "commands" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "on",
    }
