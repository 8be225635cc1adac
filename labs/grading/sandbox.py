"""Run one piece of grading work with limits that the math library cannot swallow.

SymPy catches exceptions raised inside its own loops, so a timer that raises an
exception does not stop it. Here the work runs in a forked child process: when it
overruns its time, the child is killed, and whatever SymPy was doing stops with it. The
child's address space is bounded too, so a memory bomb fails inside the child
(MemoryError) instead of filling the machine. A fork costs a few milliseconds.

Where fork is not available (Windows), the work runs in this process with no hard limit:
the bounds on the size of every number in an answer (labs.grading.answers) still apply.
"""

import multiprocessing
import os
import pickle

try:
    import resource
except ImportError:  # not on Windows
    resource = None

MEMORY_HEADROOM = 2 * 1024 ** 3  # bytes of address space a child may add to what it inherits


class TimeLimit(Exception):
    """The work ran past its time limit and was stopped."""


def run_limited(function, seconds):
    """``function()`` (whose result must pickle) in a forked child, killed after ``seconds``.

    >>> run_limited(lambda: 6 * 7, 5)
    42
    >>> import time
    >>> run_limited(lambda: time.sleep(10), 0.2)
    Traceback (most recent call last):
    ...
    labs.grading.sandbox.TimeLimit: stopped after 0.2 s
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        return function()
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(function, writer), daemon=True)
    child.start()
    writer.close()
    try:
        if not reader.poll(seconds):
            raise TimeLimit(f"stopped after {seconds:g} s")
        try:
            ok, value = reader.recv()
        except EOFError:  # the child died without an answer (killed by the system, out of memory)
            raise MemoryError("the check stopped without an answer (out of memory?)") from None
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        reader.close()
    if not ok:
        raise value
    return value


def _child(function, writer):
    """In the child: bound the address space, run the work, send (ok, result or exception) back."""
    if resource is not None:
        try:
            with open(f"/proc/{os.getpid()}/statm") as statm:
                inherited = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
            limit = inherited + MEMORY_HEADROOM
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (OSError, ValueError):
            pass  # no /proc (macOS) or a hard limit already lower: the time limit still holds
    try:
        result = (True, function())
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent, which decides
        result = (False, exc if _pickles(exc) else RuntimeError(f"{type(exc).__name__}: {exc}"))
    writer.send(result)
    writer.close()


def _pickles(exc):
    try:
        pickle.loads(pickle.dumps(exc))
        return True
    except Exception:  # noqa: BLE001
        return False
