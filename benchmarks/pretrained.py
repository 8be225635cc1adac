"""The pretrained model's forward pass: ``python -m benchmarks.pretrained [--quick] [--out PATH]``.

Issue 17's goal: vecmix's forward pass of all-MiniLM-L6-v2 (``vecmix.encoder.encode``, float64
in numpy) over a 20-token sentence takes under a second. Measured beside transformers'
``BertModel`` on the same weights, on its fastest documented path for this input (float32,
``torch.no_grad()``, the default SDPA attention, with as many threads as vecmix's BLAS), in
interleaved rounds; medians and their ratio. Loading the model (unzip, SHA-256, safetensors,
tokenizer) is timed too. Writes ``benchmarks/PRETRAINED.md`` (``--quick``: 3 rounds, a
temporary file unless ``--out`` is given). Needs the ``[model]`` extra.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .timing import machine, medians

SENTENCE = "The quick brown fox, which had been running all day, jumped over the lazy dog."  # 20 tokens
GOAL = 1.0  # seconds for the forward pass of a 20-token sentence


def contenders():
    """({name: callable}, n tokens, largest hidden-state difference) for the forward pass of SENTENCE."""
    import json

    import torch
    import transformers
    from safetensors.numpy import load

    from labs.catalogue import _minilm
    from vecmix._parallel import threads
    from vecmix.encoder import encode

    encoder, tokenizer = _minilm.load()
    ids, _ = _minilm.tokenize(tokenizer, SENTENCE, "sentence")
    files = _minilm.read_verified(_minilm.package_zip())
    config = transformers.BertConfig(**json.loads(files["config.json"]))
    net = transformers.BertModel(config, add_pooling_layer=False)
    net.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in load(files["model.safetensors"]).items()
                         if not k.startswith("pooler.")}, strict=False)
    net.eval()
    torch.set_num_threads(threads())
    batch = torch.tensor([ids])  # (1, n)

    def bert():
        with torch.no_grad():
            return net(batch).last_hidden_state

    error = float(np.abs(encode(encoder, ids).hidden[-1] - bert()[0].double().numpy()).max())
    return {"vecmix.encoder.encode (float64)": lambda: encode(encoder, ids),
            "transformers BertModel (float32, SDPA)": bert}, len(ids), error


def load_seconds(rounds):
    """The median time of loading the model from its zip (the loader's cache cleared each time)."""
    from labs.catalogue import _minilm

    times = []
    for _ in range(rounds):
        _minilm.load.cache_clear()
        start = time.perf_counter()
        _minilm.load()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pretrained", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds, a temporary output file")
    parser.add_argument("--out", help="where to write the results (default: benchmarks/PRETRAINED.md)")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else 21
    out = Path(args.out) if args.out else (Path(tempfile.mkdtemp()) / "PRETRAINED.md" if args.quick
                                           else Path(__file__).with_name("PRETRAINED.md"))
    print("loading the model", file=sys.stderr, flush=True)
    load = load_seconds(3 if args.quick else 5)
    candidates, n, error = contenders()
    print(f"forward pass, {n} tokens, {rounds} rounds", file=sys.stderr, flush=True)
    times = medians(candidates, rounds, block=3, pause=0.1)
    ours, theirs = times.values()
    info = machine()
    lines = ["# Pretrained model benchmark", "",
             f"Written by `python -m benchmarks.pretrained{' --quick' if args.quick else ''}`; medians of {rounds} "
             "interleaved rounds of 3 runs each. Absolute times depend on the machine; the ratio was measured in "
             "the same run.", "",
             "## Machine", "", "| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in info.items()), "",
             "## Forward pass of all-MiniLM-L6-v2", "",
             f"Sentence: \"{SENTENCE}\" ({n} tokens with [CLS] and [SEP]). Largest difference between the two "
             f"last hidden states: {error:.1e}.", "",
             "| contender | median | / BertModel |", "|---|---|---|",
             *(f"| {name} | {1000 * t:.1f} ms | {t / theirs:.2f}x |" for name, t in times.items()), "",
             "| target | measured | goal | met |", "|---|---|---|---|",
             f"| forward pass of a {n}-token sentence | {1000 * ours:.1f} ms | < {GOAL:g} s | "
             f"{'yes' if ours < GOAL else '**no**'} |",
             f"| loading the model (unzip, SHA-256, safetensors, tokenizer), not part of the goal | {load:.2f} s | "
             "(no goal) | n/a |", ""]
    out.write_text("\n".join(lines))
    print(f"results: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
