"""The pretrained model: its loader (hashes, a missing extra), vecmix.encoder against transformers' BertModel and
against a naive loop, affine_coordinates, and the two labs that use it beyond their default configs."""

import importlib.util
import math
import zipfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from labs.catalogue import _minilm
from labs.reproduce import build, compose_lab
from vecmix import VecmixError, affine_coordinates
from vecmix.encoder import Encoder, EncoderLayer, encode, gelu, layer_norm, value_norms

if importlib.util.find_spec("all_minilm_l6_v2") is None:  # found, not imported: the package prints when imported
    pytest.skip("needs the [model] extra: pip install -e '.[model]'", allow_module_level=True)

SENTENCES = ["i love sushi",
             "When the train finally arrived, two hours late, the tired passengers (who had waited in the cold "
             "since dawn) cheered, grabbed their bags and hurried aboard; nobody complained!",
             "Copper is a soft, malleable metal with very high thermal and electrical conductivity."]


@pytest.fixture(scope="module")
def model():
    return _minilm.load()


@pytest.fixture(scope="module")
def bert():
    """transformers' BertModel with the same weights (eager attention, so that it returns its weights)."""
    torch = pytest.importorskip("torch", reason="the oracle needs torch (the [model] extra pins torch==2.13.0)")
    transformers = pytest.importorskip("transformers", reason="the oracle needs transformers (the [model] extra)")
    import json

    from safetensors.numpy import load

    files = _minilm.read_verified(_minilm.package_zip())
    config = transformers.BertConfig(**json.loads(files["config.json"]))
    config._attn_implementation = "eager"
    net = transformers.BertModel(config)
    state = {k: torch.from_numpy(v.copy()) for k, v in load(files["model.safetensors"]).items()}
    missing, unexpected = net.load_state_dict(state, strict=False)
    assert not missing and set(unexpected) <= {"embeddings.position_ids"}
    return torch, net.eval()


@pytest.mark.parametrize("dtype, tolerance", [("float32", 1e-5), ("float64", 1e-10)])
def test_the_forward_pass_agrees_with_bert_model(model, bert, dtype, tolerance):
    torch, net = bert
    encoder, tokenizer = model
    net = net.to(getattr(torch, dtype))
    for sentence in SENTENCES:
        ids, _ = _minilm.tokenize(tokenizer, sentence, "s")
        with torch.no_grad():
            out = net(torch.tensor([ids]), output_hidden_states=True, output_attentions=True)
        H = np.stack([h[0].double().numpy() for h in out.hidden_states])  # (L + 1, n, d_model)
        A = np.stack([a[0].double().numpy() for a in out.attentions])  # (L, H, n, n)
        ours = encode(encoder, ids)
        assert ours.hidden.shape == H.shape and ours.A.shape == A.shape
        assert np.abs(ours.hidden - H).max() <= tolerance, sentence
        assert np.abs(ours.A - A).max() <= tolerance, sentence


def test_every_head_is_a_mixture_of_its_own_values(model):
    encoder, tokenizer = model
    f = encode(encoder, _minilm.tokenize(tokenizer, SENTENCES[1], "s")[0])
    assert (f.A >= 0).all() and np.allclose(f.A.sum(axis=-1), 1, atol=1e-12, rtol=0)
    assert np.abs(f.Z - f.A @ f.V).max() <= 1e-12  # (L, H, n, n) @ (L, H, n, d_head)
    norms = value_norms(f.V[2], np.float64(encoder.layers[2].W_O))  # (H, n)
    h, j = 5, 7
    loop = np.linalg.norm(f.V[2, h, j] @ np.float64(encoder.layers[2].W_O)[h * 32:(h + 1) * 32])
    assert math.isclose(norms[h, j], loop, rel_tol=1e-12)


def _naive_encode(enc, ids):
    """The forward pass one token and one head at a time, with explicit sums (no vecmix.attention)."""
    n, H = len(ids), enc.heads
    X = [[enc.word[t][k] + enc.position[i][k] + enc.token_type[0][k] for k in range(enc.word.shape[1])]
         for i, t in enumerate(ids)]

    def norm(rows, gamma, beta):
        out = []
        for row in rows:
            mean = sum(row) / len(row)
            var = sum((x - mean) ** 2 for x in row) / len(row)
            out.append([(x - mean) / math.sqrt(var + enc.eps) * g + b for x, g, b in zip(row, gamma, beta)])
        return out

    def affine(rows, W, b):
        return [[sum(x * W[k][c] for k, x in enumerate(row)) + b[c] for c in range(W.shape[1])] for row in rows]

    X = norm(X, enc.gamma, enc.beta)
    hidden = [X]
    for lay in enc.layers:
        Q, K, V = affine(X, lay.W_Q, lay.b_Q), affine(X, lay.W_K, lay.b_K), affine(X, lay.W_V, lay.b_V)
        d = len(Q[0]) // H
        concat = [[0.0] * (H * d) for _ in range(n)]
        for h in range(H):
            cols = range(h * d, (h + 1) * d)
            for i in range(n):
                s = [sum(Q[i][c] * K[j][c] for c in cols) / math.sqrt(d) for j in range(n)]
                e = [math.exp(x - max(s)) for x in s]
                for c in cols:
                    concat[i][c] = sum(e[j] * V[j][c] for j in range(n)) / sum(e)
        Y = affine(concat, lay.W_O, lay.b_O)
        X = norm([[a + b for a, b in zip(x, y)] for x, y in zip(X, Y)], lay.gamma_1, lay.beta_1)
        F = affine([[0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in row] for row in affine(X, lay.W_1, lay.b_1)],
                   lay.W_2, lay.b_2)
        X = norm([[a + b for a, b in zip(x, y)] for x, y in zip(X, F)], lay.gamma_2, lay.beta_2)
        hidden.append(X)
    return np.array(hidden)


def _random_encoder(rng, d_model=4, heads=2, d_ff=6, layers=2, vocab=7):
    r = lambda *shape: rng.normal(size=shape)  # noqa: E731
    lay = lambda: EncoderLayer(r(d_model, d_model), r(d_model), r(d_model, d_model), r(d_model),  # noqa: E731
                               r(d_model, d_model), r(d_model), r(d_model, d_model), r(d_model), 1 + r(d_model) / 4,
                               r(d_model), r(d_model, d_ff), r(d_ff), r(d_ff, d_model), r(d_model),
                               1 + r(d_model) / 4, r(d_model))
    return Encoder(r(vocab, d_model), r(9, d_model), r(2, d_model), 1 + r(d_model) / 4, r(d_model),
                   tuple(lay() for _ in range(layers)), heads)


@pytest.mark.parametrize("seed", range(5))
def test_encode_agrees_with_a_naive_loop(seed):
    rng = np.random.default_rng(seed)
    enc = _random_encoder(rng)
    ids = list(rng.integers(0, 7, size=int(rng.integers(1, 8))))
    assert np.abs(encode(enc, ids).hidden - _naive_encode(enc, ids)).max() <= 1e-9


def test_encode_does_not_change_its_inputs():
    rng = np.random.default_rng(0)
    enc = _random_encoder(rng)
    before = [a.copy() for a in (enc.word, enc.layers[0].W_Q, enc.layers[1].b_V)]
    ids = np.array([1, 2, 3])
    encode(enc, ids)
    assert all(np.array_equal(a, b) for a, b in zip(before, (enc.word, enc.layers[0].W_Q, enc.layers[1].b_V)))
    assert ids.tolist() == [1, 2, 3]


@pytest.mark.parametrize("ids, message", [
    ([], r"ids must be a non-empty list of token ids, got shape \(0,\)"),
    ([1, 7], r"ids\[1\] = 7 is not an id in 0..6"),
    ([-1], r"ids\[0\] = -1 is not an id in 0..6"),
    ([0.5], "ids must hold integers, got float64"),
    ([[1, 2]], r"ids must be a non-empty list of token ids, got shape \(1, 2\)"),
    (list(range(7)) + [0, 1, 2], "ids has 10 tokens but the encoder has 9 positions"),
])
def test_bad_token_ids_are_refused_by_name(ids, message):
    with pytest.raises(VecmixError, match=message):
        encode(_random_encoder(np.random.default_rng(0)), ids)


def test_layer_norm_and_gelu():
    x = np.array([[1.0, 2.0, 3.0, 6.0]])
    y = layer_norm(x, np.ones(4), np.zeros(4), eps=0.0)
    assert math.isclose(y.mean(), 0, abs_tol=1e-15) and math.isclose((y ** 2).mean(), 1, rel_tol=1e-12)
    assert gelu(np.array([3.0]))[0] == pytest.approx(3 * 0.5 * (1 + math.erf(3 / math.sqrt(2))), rel=1e-15)


def test_affine_coordinates_are_exact_on_rational_floats():
    rng = np.random.default_rng(1)
    V = rng.integers(-8, 9, size=(5, 6)) / 8.0  # (n, d): dyadic, so V's floats are its rationals
    c = rng.dirichlet(np.ones(5), size=3)  # (k, n)
    exact = [[sum(Fraction(float(a)) * Fraction(float(v)) for a, v in zip(row, col)) for col in V.T] for row in c]
    Z = np.array([[float(x) for x in row] for row in exact])  # rounded once
    got, rank = affine_coordinates(V, Z)
    assert rank == 5 and np.abs(got - c).max() <= 1e-12
    assert np.array_equal(affine_coordinates(V, V)[0], np.eye(5))  # each value is its own one-hot weighting


@pytest.mark.parametrize("V, Z, message", [
    (np.zeros((3, 2)), np.zeros((1, 2)), "the 3 values have affine rank 1 < 3"),
    (np.eye(5)[:, :3], np.zeros((1, 3)), "the 5 values have affine rank 4 < 5"),
    (np.eye(2), np.zeros((1, 3)), r"must be matrices of the same width, got shapes \(2, 2\) and \(1, 3\)"),
    (np.array([[0.0, np.nan]]), np.zeros((1, 2)), "V"),
])
def test_affine_coordinates_refuse_what_they_cannot_read_back(V, Z, message):
    with pytest.raises(VecmixError, match=message):
        affine_coordinates(V, Z)


def test_a_tampered_zip_is_refused_by_name(tmp_path):
    good = _minilm.package_zip()
    bad = tmp_path / "model.zip"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as out:
        for name in _minilm.SHA256:
            data = src.read(name)
            out.writestr(name, data + b" " if name == "config.json" else data)
    with pytest.raises(VecmixError, match=r"config.json in .* has SHA-256 [0-9a-f]{16}\.\.\., not "
                                          r"953f9c0d463486b1\.\.\. of all-MiniLM-L6-v2 revision 1110a243fdf4: refused"):
        _minilm.read_verified(bad)
    (tmp_path / "empty.zip").write_bytes(b"not a zip")
    with pytest.raises(VecmixError, match="cannot read the model zip"):
        _minilm.read_verified(tmp_path / "empty.zip")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as out:
        out.writestr("config.json", b"{}")
    with pytest.raises(VecmixError, match="lacks model.safetensors, tokenizer.json: it is not the all-MiniLM-L6-v2"):
        _minilm.read_verified(tmp_path / "other.zip")


def test_without_the_extra_the_labs_name_the_install_command(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "all_minilm_l6_v2"
                        else real(name, *a))
    _minilm.load.cache_clear()
    try:
        with pytest.raises(VecmixError, match=r"needs the pretrained model of the \[model\] extra \(all-minilm-l6-v2"
                                              r"-model not installed\): pip install -e \"\.\[model\]\""):
            build(compose_lab("pretrained_heads"))
    finally:
        _minilm.load.cache_clear()


def test_one_layer_and_one_head():
    files, result = build(compose_lab("pretrained_heads", ["lab.layer=3", "lab.head=12"]))
    claims = {c.id: c for c in result.claims}
    assert "1 head x 2 sentences" in claims["heads-are-mixtures"].observed
    assert "affine rank 6 (exact) in the 1 head" in claims["weights-read-back"].observed
    assert "in 1 of 1 heads" in claims["other-weightings"].observed
    assert "L3 H12" in files["report.md"].decode()
    assert result.reproduced, [(c.id, c.observed) for c in result.claims if not c.holds]


@pytest.mark.parametrize("lab, overrides, message", [
    ("pretrained_heads", ["lab.layer=7"], r"lab.layer = 7 is too large for this lab: at most 6 \(the model has 6\)"),
    ("pretrained_heads", ["lab.head=0"], "lab.head = 0 must be a positive integer"),
    ("pretrained_heads", ["lab.dropped_bias=value"], "lab.dropped_bias = 'value' must be one of key, query"),
    ("pretrained_heads", ["lab.sentences=[]"], "lab.sentences is empty"),
    ("pretrained_heads", ["lab.sentences=['  ']"], r"lab.sentences\[0\] = '  ' must be a non-empty sentence"),
    ("pretrained_heads", ["lab.sentences=[" + "word " * 70 + "]"], r"lab.sentences\[0\] has 72 tokens"),
    ("pretrained_heads", ["lab.sentences=['...']"], None),
    ("norm_analysis", ["lab.layers=[0]"], r"lab.layers\[0\] = 0 must be a positive integer"),
    ("norm_analysis", ["lab.layers=[]"], "lab.layers is empty"),
    ("norm_analysis", ["lab.layers=[2,9]"], r"lab.layers\[1\] = 9 is too large for this lab: at most 6"),
])
def test_bad_values_are_refused_by_name(lab, overrides, message):
    if message is None:  # punctuation alone is a sentence the model reads: it runs
        build(compose_lab(lab, overrides))
        return
    with pytest.raises(VecmixError, match=message) as info:
        build(compose_lab(lab, overrides))
    assert "\n" not in str(info.value)


def test_norm_analysis_on_layers_four_and_five_finds_the_negative_correlation():
    result = build(compose_lab("norm_analysis", ["lab.layers=[4,5]"]))[1]
    claims = {c.id: c for c in result.claims}
    assert claims["weights-norms-negative"].holds and not claims["punctuation-large-weights"].holds
    assert result.values[0].numeric == [4, 5]


def test_erf_is_as_accurate_as_math_erf():
    from vecmix.encoder import erf

    xs = np.concatenate([np.linspace(-8, 8, 400_001), np.geomspace(1e-300, 30, 20_001),
                         -np.geomspace(1e-300, 30, 20_001), [0.46875, 4.0, np.nextafter(4.0, 5.0), 1e308]])
    ref = np.array([math.erf(v) for v in xs])
    ulps = np.abs(erf(xs) - ref) / np.spacing(np.abs(ref))
    assert ulps.max() <= 4, xs[ulps.argmax()]
    assert erf(np.array([np.inf, -np.inf])).tolist() == [1.0, -1.0] and np.isnan(erf(np.array([np.nan]))[0])


def test_the_pretrained_benchmark_runs_and_meets_its_goal_on_record(tmp_path):
    """Quick mode writes every section; the committed PRETRAINED.md is a full run that states the goal."""
    pytest.importorskip("transformers", reason="the baseline needs transformers (the [model] extra)")
    from benchmarks import pretrained

    out = tmp_path / "PRETRAINED.md"
    assert pretrained.main(["--quick", "--out", str(out)]) == 0
    text = out.read_text()
    assert "| forward pass of a 20-token sentence |" in text and "transformers BertModel (float32, SDPA)" in text
    committed = Path(pretrained.__file__).with_name("PRETRAINED.md").read_text()
    assert "--quick" not in committed.split("\n", 3)[2]
    assert "| forward pass of a 20-token sentence |" in committed and "| < 1 s | yes |" in committed
