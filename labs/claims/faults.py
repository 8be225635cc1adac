"""Plausible wrong versions of vecmix functions (and of a lab's own derivation), injected to show that claims notice them.

A claim that holds for every valid input (an identity such as "each row of A sums to 1")
cannot be shown false by other inputs; its counter-case is the implementation fault it
guards against. Each :class:`Fault` replaces one function of vecmix, wherever a module
holds it (``from vecmix import attention`` binds the name in the lab's own module too),
for the duration of :func:`injected`.

>>> import vecmix
>>> with injected(FAULTS["softmax-unnormalised"]):
...     bool(vecmix.softmax([0.0, 0.0]).sum() == 2.0)
True
>>> float(vecmix.softmax([0.0, 0.0]).sum())
1.0
"""

import dataclasses
import importlib
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy as sp


@dataclass(frozen=True)
class Fault:
    """A wrong version of ``target`` (``"module:attribute"``): ``make(original)`` returns the replacement."""

    name: str
    target: str
    make: Callable
    description: str


@contextmanager
def injected(fault):
    """Replace the fault's target everywhere it is bound while the block runs; restore it after."""
    module_name, _, path = fault.target.partition(":")
    owner = importlib.import_module(module_name)
    *parents, attribute = path.split(".")
    for name in parents:  # a method: patch it on its class, once
        owner = getattr(owner, name)
    original = getattr(owner, attribute)
    replacement = fault.make(original)
    if parents:
        places = [(owner, attribute)]
    else:  # a function: every module that bound it by name
        places = [(m, key) for m in list(sys.modules.values()) if m is not None
                  for key, value in list(vars(m).items()) if value is original]
    for place, key in places:
        setattr(place, key, replacement)
    try:
        yield
    finally:
        for place, key in places:
            setattr(place, key, original)


# --- numeric softmax and attention (vecmix.attention) ---------------------------------------

def _masked_exp(s, allowed, shift_axis=-1):
    with np.errstate(all="ignore"):
        top = np.max(s, axis=shift_axis, keepdims=True, where=allowed, initial=-np.inf)
        return np.where(allowed, np.exp(s - np.where(np.isfinite(top), top, 0.0)), 0.0)


def _softmax_unnormalised(original):
    return lambda s, allowed, fully_masked: _masked_exp(s, allowed)


def _softmax_wrong_axis(original):
    def softmax(s, allowed, fully_masked):
        e = _masked_exp(s, allowed, shift_axis=-2 if s.ndim > 1 else -1)
        return e / e.sum(axis=-2 if s.ndim > 1 else -1, keepdims=True)
    return softmax


def _softmax_no_shift(original):
    def softmax(s, allowed, fully_masked):
        with np.errstate(all="ignore"):
            e = np.where(allowed, np.exp(s), 0.0)
            return e / e.sum(axis=-1, keepdims=True)
    return softmax


def _mask_after_softmax(original):
    return lambda s, allowed, fully_masked: original(s, np.ones_like(allowed), fully_masked) * allowed


def _online_unnormalised(original):
    def online(Q, K, V, ok, causal, first, block_size, scale=None, fold=None):
        acc, l = original(Q, K, V, ok, causal, first, block_size, scale=scale, fold=fold)
        return acc * l[:, np.newaxis], l
    return online


def _online_no_rescale(original):
    """The blocked softmax without the correction e^(m_old - m_new): earlier blocks keep their old scale."""
    def online(Q, K, V, ok, causal, first, block_size, scale=None, fold=None):
        if scale is not None:  # scores near the float range: scaled here, as the original would
            Q = Q * scale
        b_q, n_k = Q.shape[0], K.shape[0]
        l, acc = np.zeros(b_q, Q.dtype), np.zeros((b_q, V.shape[1]), Q.dtype)
        stop = min(n_k, first + b_q) if causal else n_k
        for start in range(0, stop, block_size):
            keys = slice(start, min(start + block_size, stop))
            S = Q @ K[keys].T  # (b_q, b_k)
            allowed = np.ones(S.shape, bool) if ok is None else ok[:, keys].copy()
            if causal:
                allowed &= np.arange(keys.start, keys.stop) <= np.arange(first, first + b_q)[:, np.newaxis]
            e = _masked_exp(S, allowed)  # each block shifted by its own maximum, never rescaled
            l += e.sum(axis=1)
            acc += e @ V[keys]
        return np.divide(acc, l[:, np.newaxis], out=acc, where=l[:, np.newaxis] > 0), l
    return online


def _default_scale(scale_of_d_k):
    def make(original):
        def prepare(Q, K, V, scale, fully_masked):
            return original(Q, K, V, scale_of_d_k(np.shape(Q)[-1]) if scale is None else scale, fully_masked)
        return prepare
    return make


# --- masks (vecmix._checks, vecmix.attention, vecmix.exact) ---------------------------------

def _mask_inverted(original):
    return lambda mask, shape: original(None if mask is None else ~np.asarray(mask, dtype=bool), shape)


def _mask_ignored(original):
    return lambda mask, shape: original(None, shape)


def _causal_shifted(original):
    """causal=True lets query i see key i + 1 too (an off-by-one in the triangle)."""
    def attend(Q, K, V, *args, causal=False, mask=None, **kwargs):
        if not causal:
            return original(Q, K, V, *args, mask=mask, **kwargs)
        n_q, n_k = (np.shape(Q)[-2] if np.ndim(Q) > 1 else 1), np.shape(K)[-2]
        shifted = np.tri(n_q, n_k, k=1, dtype=bool)
        mask = shifted if mask is None else np.asarray(mask, dtype=bool) & shifted
        return original(Q, K, V, *args, mask=mask, **kwargs)
    return attend


def _mixes_keys(original):
    """The output mixes the keys instead of the values (where their shapes allow)."""
    def attend(Q, K, V, *args, **kwargs):
        return original(Q, K, K if np.shape(K) == np.shape(V) else V, *args, **kwargs)
    return attend


# --- exact twins (vecmix.exact) ---------------------------------------------------------------

def _exact_unnormalised(original):
    def exponentials(s, allowed, fully_masked, row):
        e, _ = original(s, allowed, fully_masked, row)
        return e, sp.Integer(1)
    return exponentials


def _exact_negated(original):
    return lambda s, allowed, fully_masked, row: original([-v for v in s], allowed, fully_masked, row)


def _exact_scale_missing(original):
    return lambda Q, K, *, scale=None: original(Q, K, scale=1 if scale is None else scale)


def _exact_mask_after_softmax(original):
    def exponentials(s, allowed, fully_masked, row):
        if not any(allowed):
            return original(s, allowed, fully_masked, row)
        e, total = original(s, [True] * len(s), fully_masked, row)
        return [x if ok else sp.Integer(0) for x, ok in zip(e, allowed)], total
    return exponentials


# --- span and hull (vecmix.span, vecmix.hull) -------------------------------------------------

def _in_span_always(original):
    return lambda V, z, elimination=None: True


def _in_span_first_normal(original):
    def in_span(V, z, elimination=None):
        from vecmix.span import eliminate, is_zero

        E = elimination or eliminate(V)
        z = E._target(z)
        return all(is_zero(x) for x in E._conditions(z, all(v.is_Rational for v in z))[:1])
    return in_span


def _null_space_sign(original):
    """The dependencies with the wrong sign on the pivot entries (c_p = +R[i, f] / den)."""
    def eliminate(V):
        E = original(V)
        flipped = tuple(sp.Matrix([x if j not in E.pivots else -x for j, x in enumerate(c)]) for c in E.null_space)
        return dataclasses.replace(E, null_space=flipped)
    return eliminate


def _null_space_empty(original):
    return lambda V: dataclasses.replace(original(V), null_space=())


def _complement_missing(original):
    return lambda V: dataclasses.replace(original(V), complement=(), _normals=[])


def _hull_ignores_signs(original):
    def in_hull(V, z):
        from vecmix import affine_solution_set

        S = affine_solution_set(V, z)
        return (True, S.particular) if S.consistent else (False, None)
    return in_hull


def _hull_one_basis(original):
    """The hull test that looks only at the first set of affine coordinates, never at other subsets."""
    def in_hull(V, z):
        from vecmix import affine_solution_set, is_nonnegative

        S = affine_solution_set(V, z)
        inside = S.consistent and all(is_nonnegative(c) for c in S.particular)
        return (True, S.particular) if inside else (False, None)
    return in_hull


def _affine_without_sum(original):
    def affine_solution_set(V, z):
        from vecmix import solution_set

        return solution_set(V, z)
    return affine_solution_set


def _distance_squared(original):
    return lambda V, z: original(V, z) ** 2


def _solutions_without_directions(original):
    def solution_set(V, z, elimination=None):
        return dataclasses.replace(original(V, z, elimination), directions=())
    return solution_set


# --- multi-head (vecmix.multihead) ------------------------------------------------------------

def _reverse_blocks(W_o, h, exact):
    """W_o with its h row blocks in reverse order: the same as concatenating the heads in reverse."""
    if exact:
        from vecmix import as_exact

        W_o = as_exact(W_o, "W_o")
        size = W_o.rows // h
        return sp.Matrix.vstack(*[W_o[j * size:(j + 1) * size, :] for j in reversed(range(h))])
    return np.concatenate(np.split(np.asarray(W_o, dtype=float), h)[::-1])


def _heads_reversed(exact):
    def make(original):
        def multihead(X_q, X_kv, W_q, W_k, W_v, W_o, **kwargs):
            return original(X_q, X_kv, W_q, W_k, W_v, _reverse_blocks(W_o, len(W_v), exact), **kwargs)
        return multihead
    return make


def _heads_share_projections(original):
    def multihead(X_q, X_kv, W_q, W_k, W_v, W_o, **kwargs):
        same = lambda Ws: [Ws[0]] * len(Ws)  # noqa: E731
        return original(X_q, X_kv, same(W_q), same(W_k), same(W_v), W_o, **kwargs)
    return multihead


def _head_scale_d_model(original):
    """Each head scaled by 1/sqrt(d_model) instead of 1/sqrt(its own d_k)."""
    def multihead(X_q, X_kv, W_q, W_k, W_v, W_o, **kwargs):
        W_q = np.asarray(W_q, dtype=float)  # (h, d_model, d_k)
        d_model, d_k = W_q.shape[1], W_q.shape[2]
        return original(X_q, X_kv, W_q * np.sqrt(d_k / d_model), W_k, W_v, W_o, **kwargs)  # q . k scaled too
    return multihead


# --- the scaling lab's derivation (labs.catalogue.scaling) ----------------------------------

def _moments_cross_terms_as_diagonal(original):
    """E[(q . k)^2] with E[q_i q_j] = sigma^2 + mu^2 for i != j too: all d_k^2 terms treated as the diagonal ones."""
    def moments():
        from labs.catalogue.scaling import d, mu, sigma2

        mean = d * mu**2
        square = d**2 * (sigma2 + mu**2) ** 2
        return mean, square, sp.expand(square - mean**2)
    return moments


# --- the encoder's value side (vecmix.encoder) ------------------------------------------------

def _contributions_are_weights(original):
    """||f(x_j)|| = 1 for every token: each contribution's length is its weight, as attention viewers draw it."""
    def value_norms(V, W_O):
        return np.ones(np.shape(original(V, W_O)))
    return value_norms


def _brackets_are_punctuation(original):
    """A token counts as punctuation when any of its characters is one: [CLS] and [SEP] (brackets) among them."""
    import unicodedata

    def token_class(token):
        if any(unicodedata.category(c).startswith("P") for c in token):
            return "punctuation"
        return original(token)
    return token_class


def _cls_sep_swapped(original):
    """[CLS] counted as [SEP] and [SEP] as [CLS] (ids 101 and 102 read the wrong way round)."""
    def token_class(token):
        return {"cls": "sep", "sep": "cls"}.get(original(token), original(token))
    return token_class


# --- the training lab's formulas (labs.catalogue.training_schedule) -------------------------

def _schedule_exponent(which):
    """The schedule with one exponent mistyped: warmup^-1 for warmup^-1.5, or step^-1 for step^-0.5."""
    def make(original):
        def learning_rate(s, d_model, warmup):
            s, warmup = sp.sympify(s), sp.sympify(warmup)
            fall = s ** (-1 if which == "decay" else sp.Rational(-1, 2))
            rise = s * warmup ** (-1 if which == "warmup" else sp.Rational(-3, 2))
            return d_model ** sp.Rational(-1, 2) * sp.Min(fall, rise)
        return learning_rate
    return make


def _smoothing_keeps_the_one_hot(original):
    """q = onehot + epsilon u: the smoothing adds the uniform part but forgets to take it from the true class."""
    def smoothed_target(epsilon, K):
        return 1 + epsilon / K, epsilon / K
    return smoothed_target


# --- the additive lab's scorer (labs.catalogue.additive_vs_dot) --------------------------------

def _additive_without_tanh(original):
    """e = w^T (W_q q + W_k k): the hidden layer without its tanh, linear and unbounded in q and k."""
    def additive_scores(Q, K, W_q, W_k, w):
        Q, K = np.asanyarray(Q, dtype=float), np.asanyarray(K, dtype=float)
        from labs.catalogue.additive_vs_dot import _project

        P_q = _project(Q, np.asarray(W_q, dtype=float).T)  # (..., n, d_k) @ (d_k, d_a) -> (..., n, d_a)
        P_k = _project(K, np.asarray(W_k, dtype=float).T)  # (..., m, d_k) @ (d_k, d_a) -> (..., m, d_a)
        return (P_q[..., :, np.newaxis, :] + P_k[..., np.newaxis, :, :]) @ np.asanyarray(w, dtype=float)
    return additive_scores


def _additive_projects_per_pair(original):
    """The same scores, with the concatenation [q; k] projected once for every (query, key) pair."""
    def additive_scores(Q, K, W_q, W_k, w):
        Q, K = np.asanyarray(Q, dtype=float), np.asanyarray(K, dtype=float)
        n, m = Q.shape[-2], K.shape[-2]
        batch = np.broadcast_shapes(Q.shape[:-2], K.shape[:-2])
        pairs = np.concatenate([np.broadcast_to(Q[..., :, np.newaxis, :], (*batch, n, m, Q.shape[-1])),
                                np.broadcast_to(K[..., np.newaxis, :, :], (*batch, n, m, K.shape[-1]))],
                               axis=-1).view(type(Q))  # (..., n, m, 2 d_k), kept counted where Q is
        W = np.concatenate([np.asarray(W_q, dtype=float), np.asarray(W_k, dtype=float)], axis=1).T  # (2 d_k, d_a)
        from labs.catalogue.additive_vs_dot import _project

        H = np.tanh(_project(pairs, W))  # (..., n, m, 2 d_k) @ (2 d_k, d_a) -> (..., n, m, d_a)
        return H @ np.asanyarray(w, dtype=float)  # (..., n, m, d_a) @ (d_a,) -> (..., n, m)
    return additive_scores


def _heads_counted_full_width(original):
    def parameter_count(d_model, h, vocabulary, length):
        return original(d_model, h, vocabulary, length) + 4 * d_model * (h * d_model - d_model) + 3 * (h - 1) * d_model
    return parameter_count


_FAULTS = [
    Fault("softmax-unnormalised", "vecmix.attention:_softmax", _softmax_unnormalised,
          "the numeric softmax forgets to divide by the sum of the exponentials"),
    Fault("softmax-wrong-axis", "vecmix.attention:_softmax", _softmax_wrong_axis,
          "the numeric softmax normalises each column (over the queries) instead of each row"),
    Fault("softmax-no-max-shift", "vecmix.attention:_softmax", _softmax_no_shift,
          "the numeric softmax exponentiates the raw scores, without subtracting the row maximum"),
    Fault("mask-after-softmax", "vecmix.attention:_softmax", _mask_after_softmax,
          "the numeric softmax runs over every key and zeroes the masked weights afterwards, without renormalising"),
    Fault("online-unnormalised", "vecmix.attention:_online", _online_unnormalised,
          "blocked attention forgets the final division by the softmax denominator"),
    Fault("online-no-rescale", "vecmix.attention:_online", _online_no_rescale,
          "blocked attention never rescales earlier blocks when a larger score arrives"),
    Fault("scale-missing", "vecmix.attention:_prepare", _default_scale(lambda d_k: 1.0),
          "numeric attention leaves the scores unscaled by default (no 1/sqrt(d_k))"),
    Fault("scale-over-d_k", "vecmix.attention:_prepare", _default_scale(lambda d_k: 1.0 / d_k),
          "numeric attention scales by 1/d_k instead of 1/sqrt(d_k) by default"),
    Fault("exact-scale-missing", "vecmix.exact:exact_scores", _exact_scale_missing,
          "the exact scores leave out the default 1/sqrt(d_k)"),
    Fault("exact-softmax-unnormalised", "vecmix.exact:_exponentials", _exact_unnormalised,
          "the exact softmax forgets to divide by the sum of the exponentials"),
    Fault("exact-softmax-negated", "vecmix.exact:_exponentials", _exact_negated,
          "the exact softmax exponentiates -s instead of s"),
    Fault("exact-mask-after-softmax", "vecmix.exact:_exponentials", _exact_mask_after_softmax,
          "the exact softmax normalises over every key and zeroes the masked weights afterwards"),
    Fault("mask-inverted", "vecmix._checks:broadcast_mask", _mask_inverted,
          "a given mask is read the wrong way round (True = hidden)"),
    Fault("mask-ignored", "vecmix._checks:broadcast_mask", _mask_ignored,
          "a given mask is ignored: every key stays visible"),
    Fault("causal-shifted", "vecmix.attention:attention", _causal_shifted,
          "numeric causal attention lets position t see key t + 1 (an off-by-one triangle)"),
    Fault("exact-causal-shifted", "vecmix.exact:exact_attention", _causal_shifted,
          "exact causal attention lets position t see key t + 1 (an off-by-one triangle)"),
    Fault("mixes-keys", "vecmix.attention:attention", _mixes_keys,
          "numeric attention mixes the keys instead of the values"),
    Fault("exact-mixes-keys", "vecmix.exact:exact_attention", _mixes_keys,
          "exact attention mixes the keys instead of the values"),
    Fault("in-span-always", "vecmix.span:in_span", _in_span_always,
          "the span test answers yes for every vector"),
    Fault("in-span-first-normal", "vecmix.span:in_span", _in_span_first_normal,
          "the span test checks only the first vector of the orthogonal complement"),
    Fault("null-space-sign", "vecmix.span:eliminate", _null_space_sign,
          "the null space has the wrong sign on the basis entries of each dependency"),
    Fault("null-space-empty", "vecmix.span:eliminate", _null_space_empty,
          "the elimination reports no dependencies among the values"),
    Fault("complement-missing", "vecmix.span:eliminate", _complement_missing,
          "the elimination reports no orthogonal complement (every vector looks reachable)"),
    Fault("solutions-without-directions", "vecmix.span:solution_set", _solutions_without_directions,
          "the solution set keeps its particular solution and drops the free directions"),
    Fault("hull-ignores-signs", "vecmix.hull:in_hull", _hull_ignores_signs,
          "the hull test accepts any affine combination, negative weights included"),
    Fault("hull-one-basis", "vecmix.hull:in_hull", _hull_one_basis,
          "the hull test looks at one set of affine coordinates and never tries other subsets of the values"),
    Fault("affine-without-sum", "vecmix.hull:affine_solution_set", _affine_without_sum,
          "affine coordinates solved without the condition that the weights sum to 1"),
    Fault("distance-squared", "vecmix.hull:distance_to_span", _distance_squared,
          "the distance to the span is returned squared"),
    Fault("heads-reversed", "vecmix.multihead:multihead_attention", _heads_reversed(False),
          "numeric multi-head attention concatenates the heads in reverse order"),
    Fault("exact-heads-reversed", "vecmix.multihead:exact_multihead_attention", _heads_reversed(True),
          "exact multi-head attention concatenates the heads in reverse order"),
    Fault("heads-share-projections", "vecmix.multihead:multihead_attention", _heads_share_projections,
          "numeric multi-head attention uses the first head's projections for every head"),
    Fault("head-scale-d_model", "vecmix.multihead:multihead_attention", _head_scale_d_model,
          "numeric multi-head attention scales each head by 1/sqrt(d_model) instead of 1/sqrt(d_head)"),
    Fault("moments-cross-terms-as-diagonal", "labs.catalogue.scaling:moments", _moments_cross_terms_as_diagonal,
          "the scaling lab derives E[(q . k)^2] with E[q_i q_j] = sigma^2 + mu^2 for i != j too (the lab's own "
          "derivation, not vecmix)"),
    Fault("contributions-are-weights", "vecmix.encoder:value_norms", _contributions_are_weights,
          "the encoder's value norms ||v_j W_O^h|| are all 1, so each contribution is its weight alone"),
    Fault("brackets-are-punctuation", "labs.catalogue.norm_analysis:token_class", _brackets_are_punctuation,
          "the norm analysis counts a token as punctuation when any of its characters is one, so [CLS] and [SEP] "
          "(brackets) count as punctuation (the lab's own classification, not vecmix)"),
    Fault("schedule-warmup-exponent", "labs.catalogue.training_schedule:learning_rate", _schedule_exponent("warmup"),
          "the training lab's schedule with warmup_steps^-1 for warmup_steps^-1.5 (the lab's own formula)"),
    Fault("additive-without-tanh", "labs.catalogue.additive_vs_dot:additive_scores", _additive_without_tanh,
          "the additive lab's scorer leaves out the tanh: w^T (W_q q + W_k k), unbounded in q and k (the lab's own "
          "scorer)"),
    Fault("additive-projects-per-pair", "labs.catalogue.additive_vs_dot:additive_scores", _additive_projects_per_pair,
          "the additive lab's scorer projects the concatenation [q; k] once for every (query, key) pair instead of "
          "each query and each key once: the same scores for n m (2 d_k d_a + d_a) multiply-adds (the lab's own "
          "scorer)"),
    Fault("schedule-decay-exponent", "labs.catalogue.training_schedule:learning_rate", _schedule_exponent("decay"),
          "the training lab's schedule with step^-1 for step^-0.5 (the lab's own formula)"),
    Fault("smoothing-keeps-the-one-hot", "labs.catalogue.training_schedule:smoothed_target",
          _smoothing_keeps_the_one_hot, "the training lab's smoothed target keeps the whole one-hot and adds "
          "epsilon u to it (the lab's own formula)"),
    Fault("cls-sep-swapped", "labs.catalogue.norm_analysis:token_class", _cls_sep_swapped,
          "the norm analysis counts [CLS] as [SEP] and [SEP] as [CLS] (the lab's own classification, not vecmix)"),
    Fault("cross-reads-decoder", "labs.catalogue.encoder_decoder:memory_for", lambda original: lambda H, D: D,
          "the decoder's cross-attention projects its keys and values from the decoder's own states instead of the "
          "encoder's output (the lab's own wiring)"),
    Fault("cross-attention-causal", "labs.catalogue.encoder_decoder:cross_mask",
          lambda original: lambda n, m: np.tri(n, m, dtype=bool),
          "the decoder's cross-attention applies the causal mask, so decoder position t sees input positions up to t "
          "only (the lab's own mask)"),
    Fault("heads-counted-full-width", "labs.catalogue.heads_ablation:parameter_count", _heads_counted_full_width,
          "the heads ablation counts W^Q, W^K, W^V and W^O as if every head had d_k = d_model, as a model that did "
          "not split d_model would have (the lab's own count)"),
]
FAULTS = {f.name: f for f in _FAULTS}
