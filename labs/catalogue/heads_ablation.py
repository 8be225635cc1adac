"""Lab ``heads_ablation``: AIAYN Table 3, row (A), the number of heads at fixed size, retried at lab scale.

The paper varies h with d_k = d_v = d_model / h, "keeping the amount of computation constant",
and finds single-head attention 0.9 BLEU worse than the best setting, and quality dropping
off with too many heads (§6.2). Here one-layer Transformers learn a synthetic task on the CPU:
at each position t, the target is T[x_{t-o_1}, ..., x_{t-o_r}], a fixed random table of the
tokens at r offsets back. One head must encode the r tokens in one weighted average of values
(possible with unequal weights, but harder to learn); r heads can each fetch one. The
comparisons are fixed in advance and paired by seed: h = 1 and the largest h against the
paper's base h = 8, seed by seed (same initial weights, same batches). Training needs PyTorch
(the ``[torch]`` extra); it runs in one thread with fixed seeds, so a run repeats on one machine.
"""

import itertools
from dataclasses import dataclass
from functools import lru_cache
from typing import List

import numpy as np
from omegaconf import MISSING

from vecmix import VecmixError

from ..claims import Claim, fault, inputs
from ..config.inputs import read_positive_int, read_seed
from ..grading import Exercise, exact
from ..report import LabResult, Value
from ..report import figures as fig
from ..report.markdown import decimal, table

TITLE = "The number of heads at fixed size (Table 3, row (A)), on a synthetic task"
SOURCE = "AIAYN Table 3 (A), §6.2"
EMPIRICAL = True  # a trained experiment: its default verdicts are what training shows
BIT_STABLE = False  # torch's CPU kernels may round differently on another CPU: the gallery compares verdicts
INSTALL = 'pip install -e ".[torch]"'
MARGIN = 0.01  # "worse": in every seed, at least 1 point of held-out accuracy below the base h of the same seed
MAX_SIZE = 256  # d_model, vocabulary and length: a small model, trained on a CPU
MAX_STEPS = 20000
MAX_RUNS = 64  # head counts x seeds
TEST_SEQUENCES = 2048  # the held-out sequences every model is scored on
MAX_FLOATS = 2**28  # floats the models of one head count may hold at once in a forward pass (1 GB of float32)
DEFAULT_WORK = 300 * 3 * 64 * 8 * (12 * 32 * 32 + 6 * 32 + 2 * 8 * 32) * 5  # training_work of the default config
MAX_WORK = 16 * DEFAULT_WORK  # the default takes about 20 s on one CPU thread
MAX_STEP_CALLS = 16 * 300 * 5  # steps x head counts: the default's 1500, sixteen times over


@dataclass
class Config:
    """heads_ablation: the synthetic task, the model's fixed size, the head counts and seeds, the training budget."""

    name: str = "heads_ablation"
    vocabulary: int = MISSING  # V, the tokens of the task
    length: int = MISSING  # L, tokens per sequence
    offsets: List[int] = MISSING  # o_1..o_r: the target at t reads the tokens at t - o_i
    task_seed: int = MISSING  # draws the table T and the held-out sequences
    d_model: int = MISSING  # fixed: each of h heads has d_k = d_v = d_model / h
    heads: List[int] = MISSING
    base: int = MISSING  # the h the others are compared with, seed by seed (the paper's base model has h = 8)
    seeds: List[int] = MISSING  # each seed draws a model's initial weights and its training batches
    steps: int = MISSING
    batch: int = MISSING
    learning_rate: float = MISSING
    threads: int = MISSING  # torch's CPU threads while training (fixed, for repeatable runs)


COUNTER_CASES = {
    "same-size": fault("heads-counted-full-width"),
    "one-head-worse": inputs("a task that reads one token back: one head can fetch it, so several do no better",
                             "lab.offsets=[2]", "lab.heads=[1,8,32]"),
    "too-many-heads-worse": inputs("a task that reads one token back: 1, 8 and 32 heads all learn it",
                                   "lab.offsets=[2]", "lab.heads=[1,8,32]"),
}


def head_width(d_model, h):
    """d_k = d_v of each of h heads at fixed total size (Table 3 (A)): d_model / h.

    >>> head_width(512, 8)
    64
    """
    return d_model // h


def parameter_count(d_model, h, vocabulary, length):
    """The model's parameters: embeddings, W^Q, W^K, W^V (h heads of head_width), W^O, two LayerNorms, the
    feed-forward network (d_ff = 4 d_model) and the output layer, with their biases.

    >>> parameter_count(32, 1, 8, 8) == parameter_count(32, 4, 8, 8)
    True
    """
    d, w = d_model, head_width(d_model, h)
    return (vocabulary * d + length * d          # token and position embeddings
            + 3 * (d * h * w + h * w)            # W^Q, W^K, W^V and biases: d_model x (h d_k)
            + h * w * d + d                      # W^O: (h d_v) x d_model
            + 2 * 2 * d                          # two LayerNorms
            + d * 4 * d + 4 * d + 4 * d * d + d  # the feed-forward network
            + d * vocabulary + vocabulary)       # the output layer


def training_work(steps, seeds, batch, length, d_model, vocabulary, head_counts):
    """Multiply-adds of training, per token: the projections and the feed-forward layer (12 d_model^2), the output
    layer (vocabulary d_model) and the attention's scores and mixtures (2 length d_model), for every step, sequence,
    seed and head count (the backward pass costs about twice the forward, the same for every config).

    >>> training_work(300, 3, 64, 8, 32, 6, 5) == DEFAULT_WORK
    True
    """
    return steps * seeds * batch * length * (12 * d_model ** 2 + vocabulary * d_model + 2 * length * d_model) \
        * head_counts


def attention_multiply_adds(d_model, h, length):
    """Multiply-adds of the attention scores and mixtures of one sequence: h heads, L^2 pairs, d_k each, twice.

    >>> attention_multiply_adds(32, 1, 8) == attention_multiply_adds(32, 8, 8)
    True
    """
    return 2 * h * length * length * head_width(d_model, h)


def run(params):
    """Train one model per (head count, seed) and score each on held-out sequences.

    >>> r = run({"vocabulary": 4, "length": 4, "offsets": [1], "task_seed": 0, "d_model": 8, "heads": [1, 2],
    ...          "base": 2, "seeds": [0], "steps": 2, "batch": 4, "learning_rate": 0.01, "threads": 1})
    >>> [c.id for c in r.claims]
    ['same-size', 'one-head-worse', 'too-many-heads-worse']
    """
    s = _settings(params)
    counts = {h: parameter_count(s["d_model"], h, s["vocabulary"], s["length"]) for h in s["heads"]}
    flops = {h: attention_multiply_adds(s["d_model"], h, s["length"]) for h in s["heads"]}
    torch = _torch()
    scores = {(h, seed): score for h in s["heads"]  # (h, seed) -> (accuracy, perplexity, parameters in torch)
              for seed, score in _trained(training_key(s), h, s["seeds"], head_width).items()}
    accuracy = {h: [scores[h, seed][0] for seed in s["seeds"]] for h in s["heads"]}
    perplexity = {h: [scores[h, seed][1] for seed in s["seeds"]] for h in s["heads"]}
    base, many = s["base"], max(s["heads"])

    def worse(h):  # in every seed, h at least MARGIN below the base h of the same seed (same weights, same batches)
        return all(a <= b - MARGIN for a, b in zip(accuracy[h], accuracy[base]))

    def by_seed(*hs):
        return "; ".join(f"h = {h}: {' '.join(decimal(a) for a in accuracy[h])}" for h in hs)

    same = len(set(counts.values())) == 1 and len(set(flops.values())) == 1 and all(
        scores[h, seed][2] == counts[h] for h in s["heads"] for seed in s["seeds"])
    point = f"at least {decimal(MARGIN * 100, 0)} point of held-out accuracy"
    budget = f"at this training budget ({s['steps']} steps, learning rate {s['learning_rate']})"
    claims = [
        Claim("same-size", "every head count has the same size: d_k = d_v = d_model / h, so the parameters and the "
              "attention's multiply-adds do not depend on h (\"keeping the amount of computation constant\"; the "
              "softmax's exponentials, h L^2, do grow with h)", SOURCE,
              "one parameter count for every h, equal to the count of every trained torch model, and one "
              "multiply-add count", f"parameters {sorted(set(counts.values()))} (torch: "
              f"{sorted({scores[k][2] for k in scores})}), attention multiply-adds per sequence "
              f"{sorted(set(flops.values()))}", same, True),
        Claim("one-head-worse", f"single-head attention does worse than h = {base} heads, {budget}", SOURCE,
              f"in every seed, h = 1 {point} below h = {base} of the same seed",
              ("held-out accuracy by seed: " + by_seed(1, base)) if 1 in s["heads"] and base != 1
              else "lab.heads needs h = 1 beside the base", 1 in s["heads"] and base != 1 and worse(1), False),
        Claim("too-many-heads-worse", f"quality also drops off with too many heads: the largest h ({many}, d_k = "
              f"{head_width(s['d_model'], many)}) does worse than h = {base}, {budget}", SOURCE,
              f"in every seed, h = {many} {point} below h = {base} of the same seed",
              ("held-out accuracy by seed: " + by_seed(many, base)) if many > base
              else f"no h above the base {base} in lab.heads", many > base and worse(many), False),
    ]
    rows = [[h, head_width(s["d_model"], h), counts[h], " ".join(decimal(a) for a in accuracy[h]),
             decimal(float(np.median(accuracy[h]))), " ".join(decimal(p) for p in perplexity[h]),
             decimal(float(np.median(perplexity[h])))] for h in s["heads"]]
    figures = {"heads.svg": fig.line_panels(
        s["heads"], [("held-out accuracy", {f"seed {seed}": [scores[h, seed][0] for h in s["heads"]]
                                            for seed in s["seeds"]}),
                     ("held-out perplexity", {f"seed {seed}": [scores[h, seed][1] for h in s["heads"]]
                                              for seed in s["seeds"]})],
        "heads h (d_k = d_model / h)", log_x=True, xticks=[str(h) for h in s["heads"]],
        titles=[f"d_model = {s['d_model']}, offsets {s['offsets']}"] * 2)}
    values = [Value("heads", s["heads"]), Value("seeds", s["seeds"]), Value("parameters", [counts[h] for h in s["heads"]]),
              Value("accuracy", [accuracy[h] for h in s["heads"]]),
              Value("perplexity", [perplexity[h] for h in s["heads"]])]
    return LabResult("heads_ablation", TITLE, _intro(), _sections(s, rows, torch.__version__, reference_accuracies(_table(torch, s)[0].numpy())), claims, values, figures, _deviations(s))


def _settings(params):
    """The config's values, each refused in one line when it is not what training needs."""
    size = lambda key: read_positive_int(params[key], f"lab.{key}", maximum=MAX_SIZE)  # noqa: E731
    s = {"vocabulary": size("vocabulary"), "length": size("length"), "d_model": size("d_model"),
         "task_seed": read_seed(params["task_seed"], "lab.task_seed"),
         "steps": read_positive_int(params["steps"], "lab.steps", maximum=MAX_STEPS),
         "batch": read_positive_int(params["batch"], "lab.batch", maximum=4096),
         "threads": read_positive_int(params["threads"], "lab.threads", maximum=64)}
    for key, read in (("offsets", read_positive_int), ("heads", read_positive_int), ("seeds", read_seed)):
        if not isinstance(params[key], (list, tuple)) or not params[key]:
            raise VecmixError(f"lab.{key} = {params[key]!r} must be a list of at least one integer")
        s[key] = [read(x, f"lab.{key}[{i}]") for i, x in enumerate(params[key])]
        if len(set(s[key])) != len(s[key]):
            raise VecmixError(f"lab.{key} = {s[key]} repeats an entry")
    if max(s["offsets"]) >= s["length"]:
        raise VecmixError(f"lab.offsets = {s['offsets']} reaches back {max(s['offsets'])} tokens, but lab.length = "
                          f"{s['length']}: no position would have a target")
    if s["vocabulary"] < 2 or s["vocabulary"] ** len(s["offsets"]) > 10**6:
        raise VecmixError(f"lab.vocabulary = {s['vocabulary']} with {len(s['offsets'])} offsets: the task's table "
                          "needs 2 to 10^6 entries (vocabulary^offsets)")
    s["heads"] = sorted(s["heads"])
    for h in s["heads"]:
        if s["d_model"] % h:
            raise VecmixError(f"lab.heads has {h}, which does not divide lab.d_model = {s['d_model']}: heads of "
                              "size d_model / h keep the total fixed")
    if len(s["heads"]) * len(s["seeds"]) > MAX_RUNS:
        raise VecmixError(f"{len(s['heads'])} head counts x {len(s['seeds'])} seeds is {len(s['heads']) * len(s['seeds'])}"
                          f" trainings; at most {MAX_RUNS}")
    if max(s["seeds"] + [s["task_seed"]]) >= 2**32:
        key, value = next((f"lab.seeds[{i}]", x) for i, x in enumerate(s["seeds"])) if max(s["seeds"]) >= 2**32 \
            else ("lab.task_seed", s["task_seed"])
        raise VecmixError(f"{key} = {value} must be below 2^32 = {2**32}: torch's generators take it")
    S, L, d = len(s["seeds"]), s["length"], s["d_model"]
    held = S * max(s["batch"], TEST_SEQUENCES) * L * (12 * d + 2 * s["vocabulary"] + 3 * max(s["heads"]) * L)
    if held > MAX_FLOATS:  # the activations a forward pass keeps: projections, FFN, logits and h L x L weight maps
        raise VecmixError(f"lab.seeds, lab.length, lab.d_model, lab.vocabulary and the largest of lab.heads make the "
                          f"models of one head count hold about {held} floats at once; at most {MAX_FLOATS} (1 GB): "
                          "use fewer seeds, shorter sequences, fewer heads or a smaller model")
    work = training_work(s["steps"], S, s["batch"], L, d, s["vocabulary"], len(s["heads"]))
    if s["steps"] * len(s["heads"]) > MAX_STEP_CALLS:  # each step of each head count has a fixed cost too
        raise VecmixError(f"lab.steps = {s['steps']} for {len(s['heads'])} head counts is "
                          f"{s['steps'] * len(s['heads'])} training steps; at most {MAX_STEP_CALLS} (about 5 minutes "
                          "on one CPU thread, whatever the model's size)")
    if work > MAX_WORK:
        raise VecmixError(f"lab.steps={s['steps']}, {S} seeds, lab.batch={s['batch']}, lab.length={L}, lab.d_model={d}, "
                          f"lab.vocabulary={s['vocabulary']} and {len(s['heads'])} head counts need about {work:.2e} "
                          f"multiply-adds; at most {MAX_WORK:.2e} (about 5 minutes on one CPU thread; the default "
                          f"needs {DEFAULT_WORK:.2e}): train fewer steps or a smaller model")
    rate = params["learning_rate"]
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= 1:
        raise VecmixError(f"lab.learning_rate = {rate!r} must be a number in (0, 1]")
    s["learning_rate"] = float(rate)
    s["base"] = read_positive_int(params["base"], "lab.base")
    if s["base"] not in s["heads"]:
        raise VecmixError(f"lab.base = {s['base']} is not in lab.heads = {s['heads']}: the comparisons need it trained")
    s["offsets"], s["heads"], s["seeds"] = tuple(s["offsets"]), tuple(s["heads"]), tuple(s["seeds"])
    return s


def _torch():
    try:
        import torch
    except ImportError as exc:
        raise VecmixError(f"lab heads_ablation trains models with PyTorch, which is not installed ({exc}); install "
                          f"it with {INSTALL}") from exc
    return torch


def training_key(s):
    """The settings one training reads (all but the head counts and seeds), hashable: _trained's key."""
    return tuple((k, v) for k, v in sorted(s.items()) if k not in ("heads", "seeds", "base"))


@lru_cache(maxsize=64)
def _trained(settings, h, seeds, width):
    """{seed: (held-out accuracy, perplexity, parameters)} of the models with h heads, one per seed, trained side by
    side; remembered per process for the same settings, h, seeds and head-width function (tests and sweeps run the
    default experiment more than once)."""
    s = dict(settings)
    torch = _torch()
    threads = torch.get_num_threads()
    torch.set_num_threads(s["threads"])
    try:
        return _train(torch, s, h, seeds, width)
    finally:
        torch.set_num_threads(threads)


def reference_accuracies(T):
    """[a_0, ..., a_r]: the best expected accuracy of a predictor that knows k of the task's r input tokens (the
    best k; a_0 is the most frequent target, a_r = 1), computed exactly from the table T (r axes of V entries).

    >>> reference_accuracies(np.array([[0, 1], [1, 1]]))  # T[x_1, x_2]: the targets are 0, 1, 1, 1
    [0.75, 0.75, 1.0]
    """
    T = np.asarray(T)
    r, V = T.ndim, T.shape[0]
    out = []
    for k in range(r + 1):
        best = 0.0
        for kept in itertools.combinations(range(r), k):  # the axes the predictor knows
            rest = [a for a in range(r) if a not in kept]
            rows = np.moveaxis(T, list(kept) + rest, list(range(r))).reshape(V ** k, V ** (r - k))  # known x unknown
            hits = sum(int(np.bincount(row, minlength=V).max()) for row in rows)  # the most frequent target per row
            best = max(best, hits / T.size)
        out.append(best)
    return out


def _table(torch, s):
    """(T, the task seed's generator after drawing T): the table comes first, the held-out sequences after it."""
    generator = torch.Generator().manual_seed(s["task_seed"])
    V = s["vocabulary"]
    return torch.randint(0, V, (V,) * len(s["offsets"]), generator=generator), generator


def _task(torch, s):
    """The table T and a sampler of (tokens, targets); targets are -1 where t - max(offsets) < 0."""
    T, generator = _table(torch, s)
    V, L, offsets = s["vocabulary"], s["length"], s["offsets"]
    first = max(offsets)

    def sample(g, n):
        x = torch.randint(0, V, (n, L), generator=g)  # tokens: n x L
        y = torch.full((n, L), -1)
        y[:, first:] = T[tuple(x[:, first - o:L - o] for o in offsets)]  # y_t = T[x_{t-o_1}, ..., x_{t-o_r}]
        return x, y

    return sample, sample(generator, TEST_SEQUENCES)


def _initial(torch, seed, shapes):
    """One model's initial weights from its seed: embeddings N(0, 1) as nn.Embedding's, weights and biases
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as nn.Linear's, LayerNorm gains 1 and shifts 0."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for name, (shape, fan_in) in shapes.items():
        if name in ("E", "P"):
            out[name] = torch.randn(shape, generator=g)
        elif fan_in:
            out[name] = (torch.rand(shape, generator=g) * 2 - 1) / fan_in ** 0.5
        else:
            out[name] = torch.ones(shape) if name.startswith("gain") else torch.zeros(shape)
    return out


def _shapes(d_model, h, w, vocabulary, length):
    """{parameter: (shape, fan_in)} of one model with h heads of width w; fan_in 0 for embeddings and LayerNorms."""
    d, V, L = d_model, vocabulary, length
    return {"E": ((V, d), 0), "P": ((L, d), 0), "W_qkv": ((d, 3 * h * w), d), "b_qkv": ((3 * h * w,), d),
            "W_O": ((h * w, d), h * w), "b_O": ((d,), h * w), "gain1": ((d,), 0), "shift1": ((d,), 0),
            "W_1": ((d, 4 * d), d), "b_1": ((4 * d,), d), "W_2": ((4 * d, d), 4 * d), "b_2": ((d,), 4 * d),
            "gain2": ((d,), 0), "shift2": ((d,), 0), "W_U": ((d, V), d), "b_U": ((V,), d)}


def _forward(torch, p, x, h):
    """Logits of S stacked models (every parameter S x shape) on their own tokens x (S x n x L): a causal post-LN
    layer as in AIAYN §3.1, LayerNorm(x + MultiHead(x)) then LayerNorm(x + FFN(x)), and a linear output."""
    F = torch.nn.functional
    S, n, L = x.shape
    d, w = p["E"].shape[-1], p["W_O"].shape[1] // h

    def norm(y, gain, shift):  # S x n x L x d
        return F.layer_norm(y, (d,)) * gain[:, None, None] + shift[:, None, None]

    hidden = p["E"][torch.arange(S)[:, None, None], x] + p["P"][:, None]  # S x n x L x d
    qkv = torch.einsum("snld,sde->snle", hidden, p["W_qkv"]) + p["b_qkv"][:, None, None]  # S x n x L x 3hw
    q, k, v = qkv.reshape(S * n, L, 3, h, w).permute(2, 0, 3, 1, 4)  # 3 x Sn x h x L x w
    z = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # Sn x h x L x w, each row a mixture of v
    z = z.transpose(1, 2).reshape(S, n, L, h * w)  # the heads concatenated
    hidden = norm(hidden + torch.einsum("snle,sed->snld", z, p["W_O"]) + p["b_O"][:, None, None],
                  p["gain1"], p["shift1"])
    inner = torch.relu(torch.einsum("snld,sde->snle", hidden, p["W_1"]) + p["b_1"][:, None, None])  # S x n x L x 4d
    hidden = norm(hidden + torch.einsum("snle,sed->snld", inner, p["W_2"]) + p["b_2"][:, None, None],
                  p["gain2"], p["shift2"])
    return torch.einsum("snld,sdv->snlv", hidden, p["W_U"]) + p["b_U"][:, None, None]  # S x n x L x V


def _train(torch, s, h, seeds, width):
    """One model per seed, stacked on a leading axis S and trained in the same steps. Seed s draws the model's
    initial weights and its batches; the models share no parameter and Adam's update is elementwise, so each
    trains as if alone (each model's mean loss enters the sum once)."""
    F = torch.nn.functional
    shapes = _shapes(s["d_model"], h, width(s["d_model"], h), s["vocabulary"], s["length"])
    first = [_initial(torch, seed, shapes) for seed in seeds]
    p = {name: torch.stack([m[name] for m in first]).requires_grad_() for name in shapes}  # S x shape
    S = len(seeds)
    sample, (x_test, y_test) = _task(torch, s)
    optimiser = torch.optim.Adam(p.values(), lr=s["learning_rate"])
    batches = [torch.Generator().manual_seed(10**6 + seed) for seed in seeds]
    for _ in range(s["steps"]):
        x, y = (torch.stack(t) for t in zip(*(sample(g, s["batch"]) for g in batches)))  # S x batch x L each
        logits = _forward(torch, p, x, h).permute(0, 3, 1, 2)  # S x V x batch x L, as cross_entropy takes them
        losses = F.cross_entropy(logits, y, ignore_index=-1, reduction="none")  # S x batch x L
        loss = (losses.sum(dim=(1, 2)) / (y >= 0).sum(dim=(1, 2))).sum()  # each model's mean loss, summed
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    with torch.no_grad():
        logits = _forward(torch, p, x_test.expand(S, -1, -1), h)  # S x tests x L x V
        scored = y_test >= 0
        out = {}
        for i, seed in enumerate(seeds):
            accuracy = (logits[i].argmax(-1)[scored] == y_test[scored]).double().mean().item()
            loss = F.cross_entropy(logits[i][scored], y_test[scored]).item()
            out[seed] = (round(accuracy, 6), round(float(np.exp(loss)), 4), sum(t[i].numel() for t in p.values()))
    return out


def _intro():
    return ("*Retries* one experiment of \"Attention Is All You Need\" (Vaswani et al., 2017, arXiv:1706.03762) at lab "
            "scale: Table 3, row (A), the number of attention heads at a fixed model size. The paper trains on WMT "
            "2014 English-German and scores BLEU on newstest2013; this lab trains small one-layer Transformers on a "
            "synthetic task, a few seconds each on a CPU, and asks only the direction: does one head do worse than "
            "several, and do too many heads do worse again?")


def _sections(s, rows, version, references):
    offsets = ", ".join(f"x_{{t-{o}}}" for o in s["offsets"])
    return [
        "## The paper's numbers (Table 3, row (A))\n\n"
        "Base model, d_model = 512, dev set newstest2013; the base model itself has h = 8:\n\n"
        + table(["h", "d_k = d_v", "PPL (dev)", "BLEU (dev)"],
                [[1, 512, "5.29", "24.9"], [4, 128, "5.00", "25.5"], [8, 64, "4.92", "25.8"],
                 [16, 32, "4.91", "25.8"], [32, 16, "5.01", "25.4"]])
        + "\n\n§6.2: \"While single-head attention is 0.9 BLEU worse than the best setting, quality also drops off "
        "with too many heads.\"\n",
        "## The setup here\n\n"
        f"- **Task.** Sequences of {s['length']} tokens drawn uniformly from {s['vocabulary']}; at each position "
        f"$t \\geq {max(s['offsets'])}$ the target is $T[{offsets}]$ for a fixed random table $T$ (task seed "
        f"{s['task_seed']}). A model must fetch {len(s['offsets'])} tokens from fixed places behind it.\n"
        f"- **Model.** One causal Transformer layer (post-LN as in §3.1): learned token and position embeddings of "
        f"size d_model = {s['d_model']}; multi-head attention with h heads of d_k = d_v = {s['d_model']}/h; a "
        f"ReLU feed-forward layer of size {4 * s['d_model']}; a linear output over the {s['vocabulary']} tokens. "
        "No dropout, no label smoothing.\n"
        f"- **Training.** Adam, learning rate {s['learning_rate']}, {s['steps']} steps of {s['batch']} fresh "
        f"sequences, cross-entropy on the positions with a target; torch {version}, {s['threads']} thread(s). Seed "
        "s draws the initial weights and the batches, and the models of one seed train side by side (stacked on "
        "one axis, sharing no parameter). At fixed size every h has the same weight shapes, so for one seed every "
        "h starts from the same weights and sees the same batches: only the split of d_model into heads differs.\n"
        f"- **Scoring.** {TEST_SEQUENCES} held-out sequences (from the task seed): accuracy of the most likely token "
        "and perplexity exp(mean cross-entropy) over the positions with a target. What knowing part of the input "
        "is worth, exactly from the table T: " + "; ".join(
            f"{k} of the {len(s['offsets'])} tokens, at best {decimal(a)}" for k, a in enumerate(references))
        + f" (guessing uniformly: {decimal(1 / s['vocabulary'])}).\n"
        f"- **Verdicts.** Fixed before training and paired by seed: h = 1 and the largest h are each compared "
        f"with h = {s['base']} (the paper's base model), seed by seed; \"worse\" means at least "
        f"{decimal(MARGIN * 100, 0)} point of held-out accuracy below h = {s['base']} in every seed. With "
        f"{len(s['seeds'])} seeds, a difference that was pure chance would pass this rule at most once in "
        f"{2 ** len(s['seeds'])} (each seed at best a coin toss): a weak test, weaker still for the two claims "
        "together; more seeds make it stricter.\n",
        "## Results\n\n"
        + table(["h", "d_k", "parameters", "accuracy by seed", "median", "perplexity by seed", "median"], rows)
        + "\n\n![held-out accuracy and perplexity against h](figures/heads.svg)\n\n"
        "*Figure 1. Held-out accuracy and perplexity against the number of heads, one line per seed.*\n",
    ]


def _deviations(s):
    return [
        "Not the paper's experiment: a synthetic task, one layer instead of 6, d_model = "
        f"{s['d_model']} instead of 512, {s['steps']} steps instead of 100,000, accuracy and perplexity instead of "
        "BLEU. What carries over is the design of row (A): h varies while d_k = d_v = d_model / h keeps the "
        "parameters and multiply-adds fixed. The verdicts say which way this task goes at this budget, not how far "
        "the paper's would.",
        f"The heads are smaller than the paper's: d_k runs from {s['d_model']} down to "
        f"{head_width(s['d_model'], max(s['heads']))} here, from 512 down to 16 there (h = 1 to 32 gives the paper's "
        "ratios d_k / d_model, 1 to 1/32, at any d_model). A head with d_k = 1 compares positions by one number, so it can only rank them, a regime the "
        "paper never tested: the too-many-heads verdict is about it.",
        "The verdicts are about learning at a fixed budget, as the paper's are (100,000 steps for every row), not "
        "about what each h can represent: one head can encode three tokens in one weighted average (with unequal "
        "weights), and with a smaller learning rate and more steps it does. Try `python -m labs.reproduce "
        "lab=heads_ablation lab.learning_rate=0.001 lab.steps=5000 lab.heads=[1,8]` (a reviewer measured h = 1 at "
        "0.994 to 1.000) or `lab.steps=1000` (h = 32 at 0.979 to 1.000); with one offset, `lab.offsets=[2]`, every "
        "h learns the task and neither direction shows.",
        "torch's CPU kernels may round differently on another CPU or torch version, so the numbers may differ in the "
        "last places from the committed report; the gallery's staleness test compares this lab's claims and "
        "verdicts, not its bytes. With one thread and fixed seeds a run repeats exactly on one machine, and a "
        "seed's model trains to the same bits alone or stacked with other seeds.",
    ]


# Exercises: graded by pytest (python -m labs.exercises heads_ablation)

LAB = "heads_ablation"

EXERCISES = [
    Exercise(LAB, "head_size", "Table 3 (A) keeps the size fixed: with d_model = 512 and h = 16 heads, what is "
             "d_k = d_v?", exact(32, "d_k"), "32", wrong={"512": "not right", "8192": "not right"},
             hint="d_k = d_v = d_model / h.", source=SOURCE),
    Exercise(LAB, "projection_factor", "At fixed d_model, W^Q, W^K and W^V map d_model to h heads of d_model / h "
             "each. By what factor does their number of entries change from h = 1 to h = 32?",
             exact(1, "the factor"), "1", wrong={"32": "not right", "1/32": "not right"},
             hint="d_model x (h * d_model / h) = d_model x d_model, whatever h is.", source=SOURCE),
]
