"""Config schemas, registered with Hydra's ConfigStore.

Each lab's schema is the ``Config`` dataclass in its own module (``labs/catalogue/<lab>.py``);
the YAML file ``conf/lab/<lab>.yaml`` extends it (``schema/lab/<lab>``, a group of its own,
so that ``lab=`` lists only labs) and states only the values, so a misspelled key or a
value of the wrong type is refused by Hydra before a lab runs. Numbers are typed ``Any``
on purpose: a config may hold decimals (``0.2``) or fractions as strings (``1/3``), and
the lab reads each one as the exact number it spells, naming the key if it is not a number.
"""

import secrets
from dataclasses import dataclass
from typing import Any, List

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, OmegaConf

from ..catalogue import LABS


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
    for name, module in LABS.items():
        store.store(group="schema/lab", name=name, node=module.Config)
    store.store(name="read_schema", node=ReadConfig)
    store.store(group="schema", name="paper", node=Paper)
