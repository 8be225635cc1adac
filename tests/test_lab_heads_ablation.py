"""Lab heads_ablation: the model's size for any h, its forward pass against a naive loop, causality, the task's
targets, the verdicts' rule on given scores, and bad values refused by name (training itself runs in the gallery's
and falsify's tests, on the default config)."""

import math
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from labs.catalogue import heads_ablation as lab
from labs.reproduce import build, compose_lab
from vecmix import VecmixError

SMALL = {"vocabulary": 4, "length": 5, "offsets": [1, 2], "task_seed": 3, "d_model": 8, "heads": [1, 2, 4],
         "base": 2, "seeds": [0, 1], "steps": 3, "batch": 4, "learning_rate": 0.01, "threads": 1}


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([4, 8, 12, 16, 32]), st.integers(2, 9), st.integers(2, 9), st.data())
def test_the_size_formula_counts_torch_modules_and_does_not_depend_on_h(d, V, L, data):
    h = data.draw(st.sampled_from([k for k in range(1, d + 1) if d % k == 0]))
    modules = [torch.nn.Embedding(V, d), torch.nn.Embedding(L, d), torch.nn.Linear(d, 3 * d), torch.nn.Linear(d, d),
               torch.nn.LayerNorm(d), torch.nn.LayerNorm(d), torch.nn.Linear(d, 4 * d), torch.nn.Linear(4 * d, d),
               torch.nn.Linear(d, V)]
    counted = sum(p.numel() for m in modules for p in m.parameters())
    assert lab.parameter_count(d, h, V, L) == counted == lab.parameter_count(d, 1, V, L)
    shapes = lab._shapes(d, h, lab.head_width(d, h), V, L)
    assert sum(math.prod(shape) for shape, _ in shapes.values()) == counted
    assert lab.attention_multiply_adds(d, h, L) == 2 * L * L * d


def naive_logits(p, i, x, h):
    """Model i of a stack on one sequence, position by position, head by head, with explicit sums."""
    P = {k: v[i].detach().double().numpy() for k, v in p.items()}
    d = P["E"].shape[1]
    w = d // h

    def norm(y, gain, shift):
        return (y - y.mean()) / math.sqrt(y.var() + 1e-5) * gain + shift

    X = np.array([P["E"][t] + P["P"][j] for j, t in enumerate(x)])
    out = []
    for t in range(len(x)):
        qkv = [X[j] @ P["W_qkv"] + P["b_qkv"] for j in range(t + 1)]  # keys and values up to t only
        z = []
        for head in range(h):
            q = qkv[t][head * w:(head + 1) * w]
            ks = [r[h * w + head * w:h * w + (head + 1) * w] for r in qkv]
            vs = [r[2 * h * w + head * w:2 * h * w + (head + 1) * w] for r in qkv]
            s = [sum(q[a] * k[a] for a in range(w)) / math.sqrt(w) for k in ks]
            e = [math.exp(v - max(s)) for v in s]
            z.extend(sum(e[j] / sum(e) * vs[j][a] for j in range(t + 1)) for a in range(w))
        y = norm(X[t] + np.array(z) @ P["W_O"] + P["b_O"], P["gain1"], P["shift1"])
        y = norm(y + np.maximum(y @ P["W_1"] + P["b_1"], 0) @ P["W_2"] + P["b_2"], P["gain2"], P["shift2"])
        out.append(y @ P["W_U"] + P["b_U"])
    return np.array(out)


@pytest.mark.parametrize("h", [1, 2, 4])
def test_the_stacked_forward_pass_is_each_model_alone_and_agrees_with_a_naive_loop(h):
    shapes = lab._shapes(8, h, lab.head_width(8, h), 5, 6)
    models = [lab._initial(torch, seed, shapes) for seed in (0, 1, 2)]
    p = {k: torch.stack([m[k] for m in models]).double() for k in shapes}
    x = torch.randint(0, 5, (3, 2, 6), generator=torch.Generator().manual_seed(h))  # S x n x L
    logits = lab._forward(torch, p, x, h)
    for i in range(3):
        alone = lab._forward(torch, {k: v[i:i + 1] for k, v in p.items()}, x[i:i + 1], h)[0]
        assert torch.allclose(alone, logits[i], atol=1e-12)
        for n in range(2):
            assert np.allclose(naive_logits(p, i, x[i, n].tolist(), h), logits[i, n].numpy(), atol=1e-9)


def test_a_position_depends_on_no_later_token():
    shapes = lab._shapes(8, 2, 4, 5, 6)
    p = {k: v[None].double() for k, v in lab._initial(torch, 0, shapes).items()}
    x = torch.randint(0, 5, (1, 1, 6), generator=torch.Generator().manual_seed(0))
    before = lab._forward(torch, p, x, 2)
    for t in range(6):
        changed = x.clone()
        changed[0, 0, t + 1:] = (changed[0, 0, t + 1:] + 1) % 5
        after = lab._forward(torch, p, changed, 2)
        assert torch.equal(after[0, 0, :t + 1], before[0, 0, :t + 1])
        assert t == 5 or not torch.equal(after[0, 0, t + 1:], before[0, 0, t + 1:])


def test_the_targets_read_the_table_at_the_offsets():
    settings_ = {"vocabulary": 5, "length": 9, "offsets": (1, 3), "task_seed": 4}
    sample, (x, y) = lab._task(torch, settings_)
    T = torch.randint(0, 5, (5, 5), generator=torch.Generator().manual_seed(4))  # the table comes first
    assert x.shape == y.shape == (lab.TEST_SEQUENCES, 9)
    for n in range(20):
        for t in range(9):
            assert y[n, t] == (T[x[n, t - 1], x[n, t - 3]] if t >= 3 else -1)


def fake(scores):
    """run() with given (accuracy by seed) per h instead of training."""
    def trained(task, h, seeds, width):
        d = dict(task)
        return {seed: (scores[h][i], 1.0, lab.parameter_count(d["d_model"], h, d["vocabulary"], d["length"]))
                for i, seed in enumerate(seeds)}
    return trained


@pytest.mark.parametrize("scores, one_worse, too_many", [  # accuracy by seed for h = 1, 2 (the base), 4
    ({1: [0.5, 0.6, 0.55], 2: [0.7, 0.8, 0.75], 4: [0.6, 0.62, 0.61]}, True, True),
    ({1: [0.5, 0.7, 0.55], 2: [0.71, 0.8, 0.75], 4: [0.9, 0.95, 0.99]}, True, False),  # 4 beats the base
    ({1: [0.5, 0.795, 0.55], 2: [0.7, 0.8, 0.75], 4: [0.6, 0.62, 0.61]}, False, True),  # seed 2: only 0.005 below
    ({1: [0.9, 0.9, 0.9], 2: [0.9, 0.9, 0.9], 4: [0.9, 0.9, 0.9]}, False, False),
    ({1: [0.2, 0.1, 0.3], 2: [0.25, 0.9, 0.9], 4: [0.1, 0.1, 0.1]}, True, True),  # ranges overlap, every pair apart
    ({1: [0.95, 0.1, 0.3], 2: [0.9, 0.9, 0.9], 4: [0.1, 0.1, 0.1]}, False, True),  # seed 1: h = 1 above the base
])
def test_worse_means_a_point_below_the_base_in_every_seed(monkeypatch, scores, one_worse, too_many):
    monkeypatch.setattr(lab, "_trained", fake(scores))
    claims = {c.id: c for c in lab.run(dict(SMALL, seeds=[0, 1, 2])).claims}
    assert claims["same-size"].holds
    assert (claims["one-head-worse"].holds, claims["too-many-heads-worse"].holds) == (one_worse, too_many)


def test_reference_accuracies_against_a_brute_force_count():
    T = np.random.default_rng(0).integers(0, 3, (3, 3, 3))
    refs = lab.reference_accuracies(T)
    assert refs[-1] == 1.0 and refs == sorted(refs)
    best_one = max(np.mean([np.bincount(np.take(T, a, axis=axis).ravel(), minlength=3).max() / 9 for a in range(3)])
                   for axis in range(3))
    assert math.isclose(refs[1], best_one) and math.isclose(refs[0], np.bincount(T.ravel()).max() / 27)


def test_a_small_run_trains_repeats_and_restores_torchs_threads():
    threads = torch.get_num_threads()
    first = lab.run(dict(SMALL, task_seed=11))
    lab._trained.cache_clear()
    again = lab.run(dict(SMALL, task_seed=11))
    assert [v.numeric for v in first.values] == [v.numeric for v in again.values]
    assert torch.get_num_threads() == threads
    accuracy = dict((v.name, v.numeric) for v in first.values)["accuracy"]
    assert all(0 <= a <= 1 for row in accuracy for a in row)


def test_without_torch_the_lab_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    lab._trained.cache_clear()
    with pytest.raises(VecmixError, match=r'trains models with PyTorch, which is not installed .*pip install -e "\.\[torch\]"'):
        lab.run(dict(SMALL, task_seed=12))


@pytest.mark.parametrize("overrides, message", [
    (["lab.heads=[1,3]"], "lab.heads has 3, which does not divide lab.d_model = 32"),
    (["lab.base=2"], r"lab.base = 2 is not in lab.heads = \[1, 4, 8, 16, 32\]"),
    (["lab.heads=[]"], r"lab.heads = \[\] must be a list of at least one integer"),
    (["lab.seeds=[0,0]"], r"lab.seeds = \[0, 0\] repeats an entry"),
    (["lab.offsets=[8]"], "lab.offsets = \\[8\\] reaches back 8 tokens, but lab.length = 8"),
    (["lab.vocabulary=1"], "the task's table needs 2 to 10\\^6 entries"),
    (["lab.learning_rate=0"], r"lab.learning_rate = 0.0 must be a number in \(0, 1\]"),
    (["lab.learning_rate=nan"], r"lab.learning_rate = nan must be a number in \(0, 1\]"),
    (["lab.d_model=1000"], "lab.d_model = 1000 is too large for this lab"),
    (["lab.seeds=[0,1,2,3,4,5,6,7,8,9,10,11,12,13]"], "5 head counts x 14 seeds is 70 trainings; at most 64"),
    (["lab.seeds=[4294967296]"], "lab.seeds\\[0\\] = 4294967296 must be below 2\\^32"),
    (["lab.d_model=1", "lab.heads=[1]", "lab.base=1", "lab.vocabulary=256", "lab.offsets=[1]", "lab.length=128",
      "lab.batch=2048", "lab.steps=20000", "lab.seeds=[0]"], "multiply-adds; at most"),
    (["lab.length=256", "lab.d_model=256", "lab.heads=[1]"], "hold about .* floats at once; at most 268435456"),
    (["lab.length=64", "lab.d_model=256", "lab.heads=[256]", "lab.seeds=[0]", "lab.batch=4096", "lab.steps=2"],
     "floats at once"),
    (["lab.steps=20000"], r"lab.steps = 20000 for 5 head counts is 100000 training steps; at most 24000"),
    (["lab.d_model=256", "lab.heads=[1]", "lab.base=1", "lab.steps=2000"],
     r"lab.steps=2000, 3 seeds, .* multiply-adds; at most .* \(about 5 minutes"),
    (["lab.offsets=[[1]]"], "lab.offsets\\[0\\] = \\[1\\] must be a positive integer"),
])
def test_bad_values_are_refused_by_name(overrides, message):
    with pytest.raises(VecmixError, match=message):
        build(compose_lab("heads_ablation", overrides))
