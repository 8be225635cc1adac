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
    if q_shape[-1] == 0:
        raise VecmixError(f"d_k = 0: the queries and keys have no coordinates (Q has shape {tuple(q_shape)})")
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
    if v_shape[-1] == 0:
        raise VecmixError(f"d_v = 0: the values have no coordinates (V has shape {tuple(v_shape)})")
    for name, shape in (("Q", q_shape), ("K", k_shape), ("V", v_shape)):
        if 0 in shape[:-2]:
            raise VecmixError(f"{name} has shape {tuple(shape)}: a batch axis of length 0 holds no problem")


def real_array(name, x, *, empty_ok=False):
    """x as a float array of finite real numbers: float32 stays float32, any other real type becomes float64.

    Text, truth values, complex numbers, None, ragged lists, NaN and infinities are
    refused by name, and so are empty arrays unless ``empty_ok`` (the caller then says
    which axis is empty).

    >>> real_array("Q", [[1, 2]]).dtype
    dtype('float64')
    >>> real_array("K", [[1, 2], [3]])
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: K is ragged: its rows have different lengths
    >>> real_array("V", [[1, 0], [0, 1 + 5j]])
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: V holds complex numbers (V[1, 1] = (1+5j)): expected real numbers
    """
    if x is None:
        raise VecmixError(f"{name} is None: expected an array of numbers")
    if isinstance(x, (str, bytes)):
        raise VecmixError(f"{name} = {x!r} is text: expected an array of numbers")
    try:
        a = np.asarray(x)
    except (ValueError, TypeError):
        raise VecmixError(f"{name} is ragged: its rows have different lengths") from None
    if a.dtype.kind == "O":
        a = _object_array(name, a)
    what = {"b": "truth values (True/False)", "U": "text", "S": "text", "c": "complex numbers", "V": "raw bytes",
            "m": "time spans", "M": "dates"}.get(a.dtype.kind)
    if what:
        shown = ""
        if a.size:
            index = _first(a, a.imag != 0 if a.dtype.kind == "c" and (a.imag != 0).any() else np.ones(a.shape, bool))
            shown = f" ({_where(name, index)} = {a[index].item()!r})"
        raise VecmixError(f"{name} holds {what}{shown}: expected real numbers")
    if a.size == 0 and not empty_ok:
        raise VecmixError(f"{name} has shape {a.shape}: it holds no numbers")
    if not np.isfinite(a).all():
        index = _first(a, ~np.isfinite(a))
        raise VecmixError(f"{_where(name, index)} is {a[index]}: expected finite numbers")
    if a.dtype != np.float32:
        with np.errstate(over="ignore"):
            converted = a.astype(np.float64)  # integers, float16, long double
        if not np.isfinite(converted).all():
            index = _first(a, ~np.isfinite(converted))
            raise VecmixError(f"{_where(name, index)} = {safe_repr(a[index])} is beyond the float64 range")
        a = converted
    return a


def _object_array(name, a):
    """An array of Python objects (Fractions, SymPy numbers, None, ...) as float64, refusing non-real entries."""
    out = np.empty(a.shape, dtype=np.float64)
    for index, v in np.ndenumerate(a):
        if isinstance(v, (bool, np.bool_, str, bytes)) or v is None:
            raise VecmixError(f"{_where(name, index)} = {safe_repr(v)} is not a number: expected real numbers")
        if isinstance(v, (complex, np.complexfloating)):
            raise VecmixError(f"{_where(name, index)} = {v!r} is complex: expected real numbers")
        if isinstance(v, (list, tuple, np.ndarray)):
            raise VecmixError(f"{name} is ragged: its rows have different lengths")
        try:
            out[index] = float(v)
        except OverflowError:
            raise VecmixError(f"{_where(name, index)} = {safe_repr(v)} is beyond the float64 range") from None
        except (TypeError, ValueError):
            raise VecmixError(f"{_where(name, index)} = {safe_repr(v)} is not a real number") from None
    return out


def safe_repr(x, limit=80):
    """repr(x) for an error message, cut to ``limit`` characters; an integer too long to print is described.

    >>> safe_repr(10**5000)
    '<an integer of about 5001 digits>'
    """
    try:
        text = repr(x)
    except ValueError:  # Python refuses to print integers of more than 4300 digits
        return f"<an integer of about {int(abs(int(x)).bit_length() * 0.30103) + 1} digits>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _first(a, bad):
    """The index of the first True entry of ``bad`` (an empty tuple for a scalar)."""
    return tuple(int(i) for i in np.argwhere(bad)[0]) if a.ndim else ()


def _where(name, index):
    """'Q[0, 1]' for an entry of Q, 'Q' for a scalar."""
    return f"{name}[{', '.join(map(str, index))}]" if index else name


def real_scalar(name, x):
    """x as one finite real number (a Python float).

    >>> real_scalar("scale", 0.5), real_scalar("scale", -2)
    (0.5, -2.0)
    >>> real_scalar("scale", "big")
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: scale = 'big' must be a finite real number
    """
    if isinstance(x, np.ndarray) and x.ndim == 0:
        x = x[()]
    refused = VecmixError(f"{name} = {safe_repr(x)} must be a finite real number")
    if isinstance(x, (bool, np.bool_, str, bytes, complex, np.complexfloating, np.ndarray, list, tuple)) or x is None:
        raise refused
    try:
        value = float(x)  # ints, floats, Fractions, SymPy and mpmath reals
    except (TypeError, ValueError, OverflowError):
        raise refused from None
    if not np.isfinite(value):
        raise refused
    if value == 0 and x != 0:
        raise VecmixError(f"{name} = {safe_repr(x)} is too small for a float64: it would round to 0")
    return value


def check_flag(name, value):
    """Refuse a switch that is not True or False (1, 'yes' and None are not switches)."""
    if not isinstance(value, (bool, np.bool_)):
        raise VecmixError(f"{name} = {value!r} must be True or False")


def check_policy(fully_masked):
    """Refuse an unknown policy for rows whose keys are all masked."""
    if not isinstance(fully_masked, str) or fully_masked not in FULLY_MASKED_POLICIES:
        raise VecmixError(f"fully_masked = {fully_masked!r} must be one of the words "
                          f"{', '.join(map(repr, FULLY_MASKED_POLICIES))}")


def fully_masked_error(rows):
    """The error for query rows that may attend to no key at all (``rows``: index tuples)."""
    shown = ", ".join(str(r[0] if len(r) == 1 else tuple(r)) for r in rows[:5])
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    return VecmixError(
        f"query row {shown}{more} has every key masked, so it has no mixture; "
        "unmask a key, or pass fully_masked='zeros' or 'nan' to choose an output for such rows"
    )


def read_mask(mask):
    """The mask as a boolean array (True = may attend), refusing anything else by name.

    >>> read_mask([1, 0])
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: mask must be boolean (True = may attend), got dtype int64
    """
    if isinstance(mask, (str, bytes)):
        raise VecmixError(f"mask = {mask!r} is text: expected booleans (True = may attend)")
    try:
        m = np.asarray(mask)
    except (ValueError, TypeError):
        raise VecmixError("mask is ragged: its rows have different lengths") from None
    if m.dtype != bool:
        raise VecmixError(f"mask must be boolean (True = may attend), got dtype {m.dtype}")
    return m


def broadcast_mask(mask, shape):
    """The boolean mask broadcast to ``shape`` (all True when mask is None).

    >>> broadcast_mask([True, False], (2, 2)).tolist()
    [[True, False], [True, False]]
    """
    if mask is None:
        return np.ones(shape, dtype=bool)
    m = read_mask(mask)
    try:
        if np.broadcast_shapes(m.shape, tuple(shape)) != tuple(shape):
            raise ValueError
    except ValueError:
        raise VecmixError(
            f"mask of shape {m.shape} does not broadcast to the scores' shape {tuple(shape)} (..., n_q, n_k)"
        ) from None
    return np.broadcast_to(m, tuple(shape))
