"""Numeric attention: vecmix against torch's fused SDPA kernel, the full matrix and the floor; and multi-head
attention against torch.nn.MultiheadAttention.

All contenders get the same Q, K, V (n queries and keys, d = 64, standard normal). torch
runs its fastest documented CPU path: ``scaled_dot_product_attention`` on 4-D inputs
``(batch, heads, n, d)`` (2-D inputs take its unfused math path), and
``nn.MultiheadAttention`` in inference mode with ``batch_first=True`` and
``need_weights=False``, on both of its paths (the fast path for one tensor as query, key
and value; the SDPA path otherwise), vecmix compared with the faster; the kernel each one
ran is read from torch's profiler and named in the results. torch gets as many threads as vecmix uses.
The floor is the two matrix products alone, (Q K^T) V, with no softmax at all.
"""

import contextlib
import os

import numpy as np

import vecmix
from vecmix._parallel import threads

from .timing import peak_bytes

SDPA = "torch SDPA, 4-D (fused)"
MHA = "torch nn.MultiheadAttention (fast path)"
MHA_SDPA = "torch nn.MultiheadAttention (SDPA path)"
MHAS = (MHA, MHA_SDPA)  # the module's two documented paths; vecmix is compared with the faster


def inputs(n, d, dtype, seed=0):
    """Q, K, V of shape (n, d) in the given dtype."""
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal((n, d)).astype(dtype) for _ in range(3))


def torch_or_none():
    """torch with as many threads as vecmix uses, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads())
    return torch


def four_d(torch, *arrays):
    """numpy (n, d) arrays as torch tensors of shape (1, 1, n, d), sharing memory: batch 1, one head."""
    return tuple(torch.from_numpy(x)[None, None] for x in arrays)  # (n, d) -> (1, 1, n, d)


def contenders(Q, K, V):
    """{name: zero-argument callable} for one set of inputs; torch only when it is installed."""
    found = {
        "vecmix attention": lambda: vecmix.attention(Q, K, V),
        "vecmix, numpy step": lambda: vecmix.attention(Q, K, V, backend="numpy"),
        "vecmix, weights=True (full matrix)": lambda: vecmix.attention(Q, K, V, weights=True),
        "floor: (Q K^T) V, no softmax": lambda: (Q @ K.T) @ V,  # (n, d) (d, n) -> (n, n); (n, n) (n, d)
    }
    torch = torch_or_none()
    if torch is not None:
        q, k, v = four_d(torch, Q, K, V)

        def sdpa():
            with torch.inference_mode():
                return torch.nn.functional.scaled_dot_product_attention(q, k, v)

        found[SDPA] = sdpa
    return found


def kernels_run(f):
    """The names of the aten operators that f() ran (torch's profiler), its own chatter on stderr silenced."""
    from torch.profiler import ProfilerActivity, profile

    with _stderr_silenced(), profile(activities=[ProfilerActivity.CPU]) as prof:
        f()
    return sorted({e.name for e in prof.events() if e.name.startswith("aten::")})


def sdpa_kernel(n, d, dtype):
    """(input shape, the aten kernel torch's SDPA ran) for the benchmark's own call, or None without torch."""
    torch = torch_or_none()
    if torch is None:
        return None
    q, k, v = four_d(torch, *inputs(n, d, dtype))
    with torch.inference_mode():
        ran = kernels_run(lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v))
    fused = [name for name in ran if "scaled_dot_product" in name and name != "aten::scaled_dot_product_attention"]
    return tuple(q.shape), ", ".join(fused) or "none named"


def multihead_inputs(n, d_model, h, dtype, seed=0):
    """X (n, d_model) and the projections of one torch MultiheadAttention (zero biases), as vecmix takes them.

    Returns (X, (W_q, W_k, W_v, W_o), module) with W_q, W_k, W_v (h, d_model, d_model / h)
    and W_o (d_model, d_model); module is None without torch (then the weights are drawn here).
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d_model)).astype(dtype)
    d_head = d_model // h
    torch = torch_or_none()
    if torch is None:
        W = [rng.standard_normal((d_model, d_model)).astype(dtype) / np.sqrt(d_model) for _ in range(4)]
        module = None
    else:
        torch.manual_seed(seed)
        module = torch.nn.MultiheadAttention(d_model, h, batch_first=True,
                                             dtype=getattr(torch, np.dtype(dtype).name)).eval()
        with torch.no_grad():  # vecmix's heads have no biases; the module's fast path needs them, so they are zeros
            module.in_proj_bias.zero_()
            module.out_proj.bias.zero_()
        W_in = module.in_proj_weight.detach().numpy()  # (3 d_model, d_model): rows [W_q^T; W_k^T; W_v^T]
        W = [W_in[i * d_model:(i + 1) * d_model].T for i in range(3)]  # each (d_model, d_model), x W
        W.append(module.out_proj.weight.detach().numpy().T)  # (d_model, d_model): [Z_1 ... Z_h] W_o
    heads = [np.ascontiguousarray(Wx.reshape(d_model, h, d_head).transpose(1, 0, 2))  # (d_model, h, d_head) ->
             for Wx in W[:3]]  # (h, d_model, d_head): head j takes columns j d_head .. (j + 1) d_head
    return X, (*heads, np.ascontiguousarray(W[3])), module


def multihead_contenders(X, weights, module):
    """{name: zero-argument callable}: vecmix.multihead_attention and torch's module on the same X and weights."""
    found = {"vecmix multihead_attention": lambda: vecmix.multihead_attention(X, X, *weights)[0]}
    if module is not None:
        import torch

        x = torch.from_numpy(X)[None]  # (n, d_model) -> (1, n, d_model): batch_first
        k, v = x.clone(), x.clone()  # keys and values that are not the query tensor: the module's general path

        def mha(key, value):
            def run():
                with torch.inference_mode():
                    return module(x, key, value, need_weights=False)[0]
            return run

        found[MHA] = mha(x, x)  # self-attention on one tensor: the fast path (_native_multi_head_attention)
        found[MHA_SDPA] = mha(k, v)  # otherwise: F.multi_head_attention_forward, which calls the fused SDPA kernel
    return found


def multihead_kernels(X, weights, module):
    """{path: the aten kernels nn.MultiheadAttention ran on it} (its fast path is _native_multi_head_attention)."""
    runs = multihead_contenders(X, weights, module)
    found = {}
    for path in MHAS:
        ran = kernels_run(runs[path])
        fused = [name for name in ran if "multi_head" in name
                 or ("scaled_dot_product" in name and name != "aten::scaled_dot_product_attention")]
        found[path] = ", ".join(fused) or "none named"
    return found


def multihead_agreement(X, weights, module):
    """max |vecmix - torch| over the outputs, relative to the largest output (None without torch)."""
    if module is None:
        return None
    runs = multihead_contenders(X, weights, module)
    mine = runs["vecmix multihead_attention"]()  # (n, d_model)
    return float(max(np.max(np.abs(mine - runs[path]()[0].numpy())) for path in MHAS) / np.max(np.abs(mine)))


def peak_memory(n, d):
    """{form: peak bytes} of the blocked and the full-matrix forms on (n, d) float64 inputs."""
    Q, K, V = inputs(n, d, np.float64)
    return {"blocked": peak_bytes(lambda: vecmix.attention(Q, K, V)),
            "full": peak_bytes(lambda: vecmix.attention(Q, K, V, weights=True))}


def agreement(n, d):
    """max |blocked - full| in float64, for the default step and for numpy's."""
    Q, K, V = inputs(n, d, np.float64)
    full = vecmix.attention(Q, K, V, weights=True)[0]
    return float(max(np.max(np.abs(vecmix.attention(Q, K, V, backend=b) - full)) for b in ("auto", "numpy")))


@contextlib.contextmanager
def _stderr_silenced():
    """File descriptor 2 sent to /dev/null (torch's profiler writes to it from C++, past sys.stderr)."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
