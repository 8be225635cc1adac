"""Numeric attention: vecmix's blocked online softmax against torch SDPA, the full matrix and the floor.

All contenders get the same Q, K, V (n queries and keys, d = 64, standard normal). The
floor is the two matrix products alone, (Q K^T) V, with no softmax at all.
"""

import numpy as np

import vecmix

from .timing import peak_bytes


def inputs(n, d, dtype, seed=0):
    """Q, K, V of shape (n, d) in the given dtype."""
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal((n, d)).astype(dtype) for _ in range(3))


def contenders(Q, K, V):
    """{name: zero-argument callable} for one set of inputs; torch only when it is installed."""
    found = {
        "vecmix attention (blocked)": lambda: vecmix.attention(Q, K, V),
        "vecmix attention, weights=True (full matrix)": lambda: vecmix.attention(Q, K, V, weights=True),
        "floor: (Q K^T) V, no softmax": lambda: (Q @ K.T) @ V,  # (n, d) (d, n) -> (n, n); (n, n) (n, d)
    }
    try:
        import torch
    except ImportError:
        return found
    tq, tk, tv = (torch.from_numpy(x) for x in (Q, K, V))
    with torch.no_grad():
        found["torch SDPA (CPU)"] = lambda: torch.nn.functional.scaled_dot_product_attention(tq, tk, tv)
    return found


def peak_memory(n, d):
    """{form: peak bytes} of the blocked and the full-matrix forms on (n, d) float64 inputs."""
    Q, K, V = inputs(n, d, np.float64)
    return {"blocked": peak_bytes(lambda: vecmix.attention(Q, K, V)),
            "full": peak_bytes(lambda: vecmix.attention(Q, K, V, weights=True))}


def agreement(n, d):
    """max |blocked - full| in float64."""
    Q, K, V = inputs(n, d, np.float64)
    return float(np.max(np.abs(vecmix.attention(Q, K, V) - vecmix.attention(Q, K, V, weights=True)[0])))
