"""Argument checks shared by the numeric and the exact paths (private)."""

import numpy as np

from .errors import VecmixError

FULLY_MASKED_POLICIES = ("raise", "zeros", "nan")


def check_qk(q_shape, k_shape):
    """Check that queries Q (..., n_q, d_k) and keys K (..., n_k, d_k) can be compared.

    >>> check_qk((1, 3), (3, 2))
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: query dimension 3 does not match key dimension 2: Q has shape (1, 3), K has shape (3, 2)
    """
    for name, shape in (("Q", q_shape), ("K", k_shape)):
        if len(shape) < 2:
            raise VecmixError(f"{name} must have at least 2 dimensions (rows of vectors), got shape {tuple(shape)}")
    if q_shape[-2] == 0:
        raise VecmixError(f"there are no queries (Q has shape {tuple(q_shape)})")
    if k_shape[-2] == 0:
        raise VecmixError(f"there are no keys (K has shape {tuple(k_shape)}): a mixture needs at least one value vector")
    if q_shape[-1] != k_shape[-1]:
        raise VecmixError(
            f"query dimension {q_shape[-1]} does not match key dimension {k_shape[-1]}: "
            f"Q has shape {tuple(q_shape)}, K has shape {tuple(k_shape)}"
        )


def check_qkv(q_shape, k_shape, v_shape):
    """Check that Q (..., n_q, d_k), K (..., n_k, d_k) and V (..., n_k, d_v) fit together.

    >>> check_qkv((1, 2), (3, 2), (3, 4))
    >>> check_qkv((1, 2), (3, 2), (2, 4))
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: K has 3 keys but V has 2 values: keys and values come in pairs (K has shape (3, 2), V has shape (2, 4))
    """
    check_qk(q_shape, k_shape)
    if len(v_shape) < 2:
        raise VecmixError(f"V must have at least 2 dimensions (rows of vectors), got shape {tuple(v_shape)}")
    if k_shape[-2] != v_shape[-2]:
        raise VecmixError(
            f"K has {k_shape[-2]} keys but V has {v_shape[-2]} values: keys and values come in pairs "
            f"(K has shape {tuple(k_shape)}, V has shape {tuple(v_shape)})"
        )


def check_policy(fully_masked):
    """Refuse an unknown policy for rows whose keys are all masked."""
    if fully_masked not in FULLY_MASKED_POLICIES:
        raise VecmixError(f"fully_masked={fully_masked!r} is not one of {', '.join(map(repr, FULLY_MASKED_POLICIES))}")


def fully_masked_error(rows):
    """The error for query rows that may attend to no key at all (``rows``: index tuples)."""
    shown = ", ".join(str(r[0] if len(r) == 1 else tuple(r)) for r in rows[:5])
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    return VecmixError(
        f"query row {shown}{more} has every key masked, so it has no mixture; "
        "unmask a key, or pass fully_masked='zeros' or 'nan' to choose an output for such rows"
    )


def broadcast_mask(mask, shape):
    """The boolean mask broadcast to ``shape`` (all True when mask is None).

    >>> broadcast_mask([True, False], (2, 2)).tolist()
    [[True, False], [True, False]]
    """
    if mask is None:
        return np.ones(shape, dtype=bool)
    m = np.asarray(mask)
    if m.dtype != bool:
        raise VecmixError(f"mask must be boolean (True = may attend), got dtype {m.dtype}")
    try:
        if np.broadcast_shapes(m.shape, tuple(shape)) != tuple(shape):
            raise ValueError
    except ValueError:
        raise VecmixError(
            f"mask of shape {m.shape} does not broadcast to the scores' shape {tuple(shape)} (..., n_q, n_k)"
        ) from None
    return np.broadcast_to(m, tuple(shape))
