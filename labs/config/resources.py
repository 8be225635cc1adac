"""What a run needs, checked before it starts: memory against what this machine has, and progress while it runs.

A lab whose sizes come from its config (``d_k``, ``samples``, ``n``, ``d_model``, ...)
estimates the memory its largest arrays take and calls :func:`check_memory` before it
allocates anything, so that an impossible run is refused in one line that says how much
it would need. Its long loops go through :func:`progress`, a tqdm bar on stderr that
appears only after a couple of seconds and only on a terminal, so a user can tell work
from a hang and a log or a test sees nothing.
"""

import os
import resource
import sys

from vecmix import VecmixError

FLOAT = 8  # bytes per float64
PROGRESS_DELAY = 2.0  # seconds before a bar appears: short runs stay quiet


def available_memory():
    """Bytes this process can still allocate: the least of free memory, the cgroup's limit and RLIMIT_AS.

    >>> available_memory() > 0
    True
    """
    limits = []
    try:
        with open("/proc/meminfo") as meminfo:
            fields = dict(line.split(":", 1) for line in meminfo)
        limits.append(int(fields["MemAvailable"].split()[0]) * 1024)
    except (OSError, KeyError, ValueError):
        limits.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    try:
        with open("/sys/fs/cgroup/memory.max") as cap, open("/sys/fs/cgroup/memory.current") as used:
            text = cap.read().strip()
            if text != "max":
                limits.append(int(text) - int(used.read()))
    except (OSError, ValueError):
        pass
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        limits.append(soft - _address_space())
    return max(min(limits), 0)


def check_memory(lab, *terms):
    """Refuse a run whose largest arrays cannot fit in the memory this machine has free.

    Each term is (bytes, {config key: value}) for one group of arrays and the keys that size
    it; the message names the keys of the largest term.

    >>> check_memory("scaling", (10**15, {"lab.d_k": 10**6, "lab.samples": 20000}), (10**3, {"lab.trials": 200}))
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: scaling with lab.d_k = 1000000, lab.samples = 20000 needs about 909 TiB of memory, and this machine has ... available: lower lab.d_k or lab.samples
    """
    needed = sum(n for n, _ in terms)
    free = available_memory()
    if needed > free:
        sizes = max(terms, key=lambda term: term[0])[1]
        given = ", ".join(f"{key} = {value}" for key, value in sizes.items())
        raise VecmixError(f"{lab} with {given} needs about {size_text(needed)} of memory, and this machine has "
                          f"{size_text(free)} available: lower {' or '.join(sizes)}")


def size_text(n):
    """Bytes as people say them.

    >>> size_text(149 * 2**30), size_text(1536), size_text(10**40)
    ('149 GiB', '1.5 KiB', '8.27e+15 YiB')
    """
    units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]
    n, unit = float(n), 0
    while n >= 1024 and unit < len(units) - 1:
        n, unit = n / 1024, unit + 1
    return f"{n:.3g} {units[unit]}"


def progress(iterable, description, total=None):
    """``iterable``, with a progress bar on stderr when it runs long on a terminal (tqdm; silent otherwise).

    >>> list(progress(range(3), "steps"))
    [0, 1, 2]
    """
    from tqdm import tqdm

    return tqdm(iterable, desc=description, total=total, file=sys.stderr, delay=PROGRESS_DELAY, leave=False,
                disable=not sys.stderr.isatty(), dynamic_ncols=True)


def _address_space():
    """Bytes of address space this process already uses (what RLIMIT_AS counts)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
