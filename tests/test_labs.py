"""The lab catalogue: each lab beyond its default config, its bad input, and the whole catalogue as one sweep.

(attention_basic has its own, longer file; the gallery test covers every default config.)
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from labs.catalogue import LABS
from labs.reproduce import build, compose_lab
from vecmix import VecmixError

ROOT = Path(__file__).resolve().parent.parent

NON_DEFAULT = {
    "vector_mixture": ["lab.query=[0,1]", "lab.keys=null", "lab.d_k=1"],
    "negative_weights": ["lab.weights=[0.6,-0.2,0.6]"],
    "redundant_values": ["lab.values=[[1,0,0],[0,1,2]]", "lab.replaced=[1,1,2]", "lab.combination=[2,1]",
                         "lab.shift=1/3"],
    "missing_direction": ["lab.values=[[1,0,0,0],[0,1,0,0],[2,-1,0,0]]", "lab.target=[0,0,1,1]"],
    "paper_lab": ["lab.d=5", "lab.m=6", "lab.seed=3"],
    "masking": ["lab.valid_length=3"],
    "multihead": ["lab.heads=3", "lab.d_head=1", "lab.causal=true"],
    "identifiability": ["lab.query_position=3", "lab.flat_values=[[0],[1],[2]]", "lab.extremes=[1,3]"],
    "weights_vs_importance": ["lab.values=[[0,0],[2,0],[-2,0],[0,20],[0,-20]]"],
    "scaling": ["lab.d_k=4", "lab.samples=5000", "lab.trials=100", "lab.seed=1"],
    "multihead_cost": ["lab.d_model=96", "lab.heads=12", "lab.n=7"],
    "positional_encoding": ["lab.d_model=1024", "lab.positions=300", "lab.offsets=[2,299]"],
    "efficient_variants": ["lab.n=7", "lab.d=3", "lab.window=1", "lab.block_size=2", "lab.seed=5"],
    "cost_per_layer": ["lab.d=64", "lab.n=16", "lab.measure=true", "lab.ns=[8,16]", "lab.ds=[4,8]", "lab.repeats=1"],
    "pretrained_heads": ["lab.layer=6", "lab.dropped_bias=key"],
    "training_schedule": ["lab.d_model=256", "lab.warmup_steps=100", "lab.steps=[1,50,400]", "lab.smoothing=1/4",
                          "lab.vocabulary=10"],
    "norm_analysis": ["lab.layers=[4,5,6]", "lab.sentences=['The cat sat on the mat, and the dog slept by the door.',"
                      "'She bought apples, oranges and bread at the market before noon.']"],
    "additive_vs_dot": ["lab.queries=4", "lab.keys=5", "lab.d_k=[8,512]", "lab.d_a=16", "lab.draws=30", "lab.seed=3"],
    "encoder_decoder": ["lab.memory=[[1,0,1],[0,1,1],[2,1,3]]", "lab.targets=[[1,1,0],[0,0,1],[2,0,0]]",
                        "lab.start=[0,1,0]", "lab.W_Q=[[1,0,0],[0,2,0],[0,0,1]]", "lab.W_K=[[1,1,0],[0,1,0],[0,0,1]]"],
    "heads_ablation": ["lab.heads=[1,2]", "lab.base=2", "lab.seeds=[5]", "lab.steps=3", "lab.batch=8", "lab.offsets=[1]",
                       "lab.d_model=8"],
}

BAD = {
    "vector_mixture": (["lab.weights=[0.5,0.5]"], "lab.weights has 2 numbers but there are 3 values"),
    "negative_weights": (["lab.weights=[0.2,0.5,0.3]"], "lab.weights = .* has no negative entry"),
    "redundant_values": (["lab.shift=0"], "lab.shift = 0 would give the same coefficient vector twice"),
    "missing_direction": (["lab.target=[1,1]"], "lab.target has 2 numbers but the values in lab.values live in R\\^3"),
    "paper_lab": (["lab.seed=-1"], "lab.seed = -1 must be a nonnegative integer"),
    "masking": (["lab.valid_length=9"], "lab.valid_length = 9 leaves no padding among the 5 tokens"),
    "multihead": (["lab.W_o=[[1]]"], "lab.W_o has 1 columns but the block adds its output to the tokens"),
    "identifiability": (["lab.query_position=0"], "lab.query_position = 0 must be a word position from 1 to 3"),
    "weights_vs_importance": (["lab.keys=[[1]]"], "lab.keys has 1 vectors but lab.values has 5"),
    "scaling": (["lab.samples=10"], "lab.samples = 10 is too few for a Monte Carlo check"),
    "multihead_cost": (["lab.heads=7"], "lab.d_model = 512 is not divisible by lab.heads = 7"),
    "positional_encoding": (["lab.base=1"], "lab.base = 1 must be a number larger than 1"),
    "efficient_variants": (["lab.n=2"], "lab.n = 2 is too small"),
    "cost_per_layer": (["lab.ns=[8]"], r"lab.ns = \[8\] needs at least two different sizes to fit a slope"),
    "pretrained_heads": (["lab.head=13"], r"lab.head = 13 is too large for this lab: at most 12 \(the model has 12\)"),
    "norm_analysis": (["lab.layers=[7]"], r"lab.layers\[0\] = 7 is too large for this lab: at most 6"),
    "training_schedule": (["lab.smoothing=1"], r"lab.smoothing = 1 must lie in \[0, 1\)"),
    "additive_vs_dot": (["lab.keys=2"], "lab.keys = 2 is too few"),
    "encoder_decoder": (["lab.targets=[[1,0,1]]"], "lab.targets has one output: give at least two"),
    "heads_ablation": (["lab.heads=[1,3]"], "lab.heads has 3, which does not divide lab.d_model = 32"),
}


def test_every_lab_but_the_foundation_has_a_case_here():
    assert set(NON_DEFAULT) == set(BAD) == set(LABS) - {"attention_basic"}


@pytest.mark.parametrize("lab", sorted(NON_DEFAULT))
def test_a_non_default_config_is_fully_reproduced(lab):
    files, result = build(compose_lab(lab, NON_DEFAULT[lab]), NON_DEFAULT[lab])
    failed = [(c.id, c.observed) for c in result.claims if not c.holds]
    assert not failed or getattr(LABS[lab], "EMPIRICAL", False)
    doc = json.loads(files["results.json"])
    assert doc["config"]["lab"]["name"] == lab and doc["command"].startswith(f"python -m labs.reproduce lab={lab} ")
    assert any(c.exact for c in result.claims)


@pytest.mark.parametrize("lab", sorted(BAD))
def test_bad_values_are_refused_by_name(lab):
    overrides, message = BAD[lab]
    with pytest.raises(VecmixError, match=message) as info:
        build(compose_lab(lab, overrides))
    assert "\n" not in str(info.value)


def test_the_whole_catalogue_runs_as_one_sweep(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "labs.reproduce", "-m", "lab=glob(*)",
                           f"hydra.sweep.dir={tmp_path}"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    jobs = sorted(p.name.split("_", 1)[1] for p in tmp_path.iterdir() if p.is_dir())
    assert jobs == sorted(LABS)
    for job in tmp_path.iterdir():
        if job.is_dir():
            doc = json.loads((job / "results.json").read_text())
            if not getattr(LABS[doc["lab"]], "EMPIRICAL", False):  # a paper's findings on another model may fail
                assert all(c["verdict"] == "reproduced" for c in doc["claims"]), job.name
