"""Config schemas: one dataclass per lab, registered with Hydra's ConfigStore.

The YAML files in ``conf/lab/`` extend these schemas (``schema/lab/<name>``, a group of
its own, so that ``lab=`` lists only labs) and state only the values, so a
misspelled key or a value of the wrong type is refused by Hydra before a lab runs.
Numbers are typed ``Any`` on purpose: a config may hold decimals (``0.2``) or
fractions as strings (``1/3``), and the lab reads each one as the exact number it
spells, naming the key if it is not a number.
"""

from dataclasses import dataclass
from typing import Any, List, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING


@dataclass
class AttentionBasic:
    """attention_basic: one query against m key-value pairs."""

    name: str = "attention_basic"
    query: List[Any] = MISSING  # q, a list of d_k numbers
    keys: List[List[Any]] = MISSING  # k_1..k_m, each a list of d_k numbers
    values: List[List[Any]] = MISSING  # v_1..v_m, each a list of d numbers
    d_k: Optional[int] = None  # the d_k in 1/sqrt(d_k); None: the dimension of the keys


@dataclass
class Config:
    """The top-level config: which lab, with its inputs under ``lab``."""

    lab: Any = MISSING


LABS = {"attention_basic": AttentionBasic}


def register():
    """Store the schemas where the YAML defaults lists find them (idempotent).

    >>> register()
    >>> "attention_basic.yaml" in ConfigStore.instance().list("schema/lab")
    True
    """
    store = ConfigStore.instance()
    store.store(name="config_schema", node=Config)
    for name, node in LABS.items():
        store.store(group="schema/lab", name=name, node=node)
