"""Independent blocks of work on several threads, each thread's BLAS calls on one core (private).

numpy releases the GIL in its matrix products and element-wise loops (and the compiled
kernels of :mod:`vecmix._fused` release it too), so blocks of queries can run on Python
threads side by side. Each block's products are small; run on BLAS's own threads as
well, they would oversubscribe the cores (measured: twice as slow), so while the blocks
run, BLAS is held to one thread with threadpoolctl. vecmix uses as many threads as numpy's
BLAS is allowed (``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` or threadpoolctl's
``threadpool_limits`` set it), so the usual settings govern vecmix too.

threadpoolctl's limit is process-wide. While a parallel section runs, BLAS calls made by
other threads of the process run on one thread too, and another thread that enters
threadpoolctl's own ``threadpool_limits`` meanwhile may restore the wrong count when it
leaves (threadpoolctl's caveat: its limits are not thread-safe). A program that calls
BLAS from several threads of its own should hold vecmix to one thread
(``threadpool_limits(1)`` around its calls, or ``OPENBLAS_NUM_THREADS=1``); vecmix then
starts no threads and changes no setting.
"""

import os
import threading

import numpy as np

__all__ = ["map_blocks"]

MIN_WORK = 1 << 22  # multiply-adds below which one thread is faster than starting several
_lock = threading.Lock()  # one parallel section at a time: BLAS's thread limit is process-wide
_controller = None


def _blas():
    """The threadpoolctl controller of the BLAS libraries loaded now (made once, on first use)."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController().select(user_api="blas")
    return _controller


def threads():
    """How many threads vecmix may use: what numpy's BLAS may use, at most the cores this process may run on.

    >>> threads() >= 1
    True
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    allowed = [lib.num_threads for lib in _blas().lib_controllers]
    return max(1, min(cores, max(allowed, default=1)))


def map_blocks(f, blocks, work):
    """Call ``f(block)`` for every block (results are left to ``f``), on threads when ``work`` multiply-adds
    are enough to pay for them; an exception in any block is raised here.

    Each call runs under the caller's ``np.errstate`` (numpy 1.x keeps it per thread, so the
    threads would not otherwise see it). After an exception in one block, the blocks not yet
    started are cancelled.

    >>> done = []
    >>> map_blocks(done.append, [1, 2, 3], work=0)
    >>> done
    [1, 2, 3]
    """
    blocks = list(blocks)
    n = 1 if work < MIN_WORK or len(blocks) < 2 else min(len(blocks), threads())
    if n == 1:
        for block in blocks:
            f(block)
        return
    from concurrent.futures import ThreadPoolExecutor  # imported here: it costs a lab's start-up 30 ms

    errors = np.geterr()

    def run(block):
        with np.errstate(**errors):
            f(block)

    with _lock, _blas().limit(limits=1), ThreadPoolExecutor(n, thread_name_prefix="vecmix") as pool:
        futures = [pool.submit(run, block) for block in blocks]
        try:
            for future in futures:
                future.result()
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
