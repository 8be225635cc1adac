"""Config schemas: one dataclass per lab, registered with Hydra's ConfigStore.

The YAML files in ``conf/lab/`` extend these schemas (``schema/lab/<name>``, a group of
its own, so that ``lab=`` lists only labs) and state only the values, so a
misspelled key or a value of the wrong type is refused by Hydra before a lab runs.
Numbers are typed ``Any`` on purpose: a config may hold decimals (``0.2``) or
fractions as strings (``1/3``), and the lab reads each one as the exact number it
spells, naming the key if it is not a number.
"""

from dataclasses import dataclass, field
from typing import Any, List, Optional

import secrets

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, OmegaConf


@dataclass
class AttentionBasic:
    """attention_basic: one query against m key-value pairs."""

    name: str = "attention_basic"
    query: List[Any] = MISSING  # q, a list of d_k numbers
    keys: List[List[Any]] = MISSING  # k_1..k_m, each a list of d_k numbers
    values: List[List[Any]] = MISSING  # v_1..v_m, each a list of d numbers
    d_k: Optional[int] = None  # the d_k in 1/sqrt(d_k); None: the dimension of the keys


@dataclass
class VectorMixture:
    """vector_mixture: m values mixed by pooling, by given weights and by attention."""

    name: str = "vector_mixture"
    values: List[List[Any]] = MISSING  # v_1..v_m
    weights: List[Any] = MISSING  # a, the given mixture weights
    query: List[Any] = MISSING  # q, for the attention scheme
    keys: Optional[List[List[Any]]] = None  # None: the values are their own keys
    d_k: Optional[int] = None


@dataclass
class NegativeWeights:
    """negative_weights: the values mixed with weights that have a negative entry."""

    name: str = "negative_weights"
    values: List[List[Any]] = MISSING  # v_1..v_m
    weights: List[Any] = MISSING  # a, with at least one negative entry
    convex_weights: List[Any] = MISSING  # an average-like mixture of the same values, to compare


@dataclass
class RedundantValues:
    """redundant_values: independent values plus one that is their combination."""

    name: str = "redundant_values"
    values: List[List[Any]] = MISSING  # v_1..v_k, linearly independent
    combination: List[Any] = MISSING  # the redundant value is sum_j combination_j v_j
    weights: List[Any] = MISSING  # a coefficient vector for all k + 1 values
    shift: Any = 1  # t: the second coefficient vector is weights + t * (combination, -1)


@dataclass
class MissingDirection:
    """missing_direction: values spanning a proper subspace, a target off it, and attention outputs."""

    name: str = "missing_direction"
    values: List[List[Any]] = MISSING  # v_1..v_m in R^d, spanning less than R^d
    target: List[Any] = MISSING  # a vector with a component off their span
    keys: List[List[Any]] = MISSING  # k_1..k_m
    queries: List[List[Any]] = MISSING  # several queries, one attention output each


@dataclass
class PaperLab:
    """paper_lab: 001 §7 in R^d, inputs drawn from a seed unless given."""

    name: str = "paper_lab"
    d: int = 4  # dimension of the query, keys and values
    m: int = 3  # number of key-value pairs
    seed: int = 0  # draws the inputs that are not given
    query: Optional[List[Any]] = None
    keys: Optional[List[List[Any]]] = None
    values: Optional[List[List[Any]]] = None
    d_k: Optional[int] = None


@dataclass
class Masking:
    """masking: token embeddings attending to each other under padding and causal masks."""

    name: str = "masking"
    tokens: List[str] = MISSING  # one label per position
    embeddings: List[List[Any]] = MISSING  # one vector per token: the queries, keys and values
    valid_length: Optional[int] = None  # tokens after this are padding; None: no padding


@dataclass
class Multihead:
    """multihead: h heads with explicit projections over token embeddings."""

    name: str = "multihead"
    tokens: List[str] = MISSING
    embeddings: List[List[Any]] = MISSING  # X, one row per token (n, d_model)
    heads: int = 2  # h
    d_head: int = 2  # size of each head's queries, keys and values
    seed: int = 0  # draws the projections that are not given
    causal: bool = False
    W_q: Optional[List[List[List[Any]]]] = None  # per head (d_model, d_head)
    W_k: Optional[List[List[List[Any]]]] = None
    W_v: Optional[List[List[List[Any]]]] = None
    W_o: Optional[List[List[Any]]] = None  # (h * d_head, d_model)


@dataclass
class Identifiability:
    """identifiability: one sentence, embedded twice (weights recoverable, and not)."""

    name: str = "identifiability"
    words: List[str] = MISSING  # the sentence, one word per value
    values: List[List[Any]] = MISSING  # embeddings that are affinely independent (m <= d + 1)
    flat_values: List[List[Any]] = MISSING  # the same words in fewer dimensions (m > d + 1)
    query_word: int = 1  # the word under consideration: q = its value, keys = values


@dataclass
class WeightsVsImportance:
    """weights_vs_importance: one query; each key removed in turn."""

    name: str = "weights_vs_importance"
    query: List[Any] = MISSING
    keys: List[List[Any]] = MISSING
    values: List[List[Any]] = MISSING
    d_k: Optional[int] = None


@dataclass
class Scaling:
    """scaling: the variance of q . k against d_k, and softmax saturation (AIAYN §3.2.1)."""

    name: str = "scaling"
    d_k: int = 64  # the dimension checked by Monte Carlo (sweep it: -m lab=scaling lab.d_k=4,16,64)
    n_keys: int = 16  # keys per query in the saturation measurements
    samples: int = 20000  # Monte Carlo pairs
    trials: int = 200  # random queries per point of the saturation curves
    seed: int = 0


@dataclass
class MultiheadCost:
    """multihead_cost: multiply-adds of h heads of size d_model/h against one full head (AIAYN §3.2.2)."""

    name: str = "multihead_cost"
    d_model: int = 512
    heads: int = 8
    n: int = 128  # sequence length


@dataclass
class PositionalEncoding:
    """positional_encoding: PE(pos + k) = M_k PE(pos) (AIAYN §3.5)."""

    name: str = "positional_encoding"
    d_model: int = 512
    base: float = 10000.0
    positions: int = 128  # positions 0..positions-1 checked and drawn
    offsets: List[int] = field(default_factory=lambda: [1, 5, 50])


@dataclass
class EfficientVariants:
    """efficient_variants: blocked, sliding-window, linear and graph attention (001 §8)."""

    name: str = "efficient_variants"
    n: int = 10  # tokens
    d: int = 4  # their dimension
    window: int = 2  # sliding-window radius
    block_size: int = 4  # keys per block of the online softmax
    seed: int = 0


@dataclass
class CostPerLayer:
    """cost_per_layer: Table 1 of AIAYN, counted exactly; measured times on request."""

    name: str = "cost_per_layer"
    d: int = 512  # representation dimension
    n: int = 128  # sequence length for the worked comparison
    measure: bool = False  # time numpy layers too (the report then differs run to run)
    ns: List[int] = field(default_factory=lambda: [64, 128, 256, 512, 1024])  # lengths timed at d
    ds: List[int] = field(default_factory=lambda: [32, 64, 128, 256, 512])  # dimensions timed at n
    repeats: int = 5


@dataclass
class Config:
    """The top-level config: which lab, with its inputs under ``lab``."""

    lab: Any = MISSING


@dataclass
class PaperClaim:
    """One claim of a paper and the lab that checks it."""

    section: str = MISSING  # where the paper makes it, e.g. "3.2.1"
    statement: str = MISSING
    lab: str = MISSING  # the lab whose report checks it


@dataclass
class Paper:
    """A paper's reading report: prose in the structure of the paper lab 001, claims checked by labs."""

    name: str = MISSING
    title: str = MISSING
    citation: str = MISSING
    why: str = MISSING
    know_first: List[str] = MISSING
    first_pass: str = MISSING
    second_pass: List[str] = MISSING
    dependency_map: str = MISSING
    claims: List[PaperClaim] = MISSING
    reproduce: List[str] = MISSING
    changed: str = MISSING


@dataclass
class ReadConfig:
    """The top-level config of `python -m labs.read`."""

    paper: Paper = MISSING


LABS = {"attention_basic": AttentionBasic, "vector_mixture": VectorMixture,
        "negative_weights": NegativeWeights, "redundant_values": RedundantValues,
        "missing_direction": MissingDirection, "paper_lab": PaperLab,
        "masking": Masking, "multihead": Multihead,
        "identifiability": Identifiability, "weights_vs_importance": WeightsVsImportance,
        "scaling": Scaling, "multihead_cost": MultiheadCost,
        "positional_encoding": PositionalEncoding, "efficient_variants": EfficientVariants,
        "cost_per_layer": CostPerLayer}


def register():
    """Store the schemas where the YAML defaults lists find them (idempotent).

    >>> register()
    >>> "attention_basic.yaml" in ConfigStore.instance().list("schema/lab")
    True
    """
    store = ConfigStore.instance()
    store.store(name="config_schema", node=Config)
    # ${vecmix.unique:} in the sweep folder's name: cached per sweep (Hydra copies the cache to
    # every job, as for ${now:...}), different for two sweeps started in the same second.
    OmegaConf.register_new_resolver("vecmix.unique", lambda: secrets.token_hex(3), use_cache=True, replace=True)
    for name, node in LABS.items():
        store.store(group="schema/lab", name=name, node=node)
    store.store(name="read_schema", node=ReadConfig)
    store.store(group="schema", name="paper", node=Paper)
