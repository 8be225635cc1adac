"""Config schemas, registered with Hydra's ConfigStore.

Each lab's schema is the ``Config`` dataclass in its own module (``labs/catalogue/<lab>.py``);
the YAML file ``conf/lab/<lab>.yaml`` extends it (``schema/lab/<lab>``, a group of its own,
so that ``lab=`` lists only labs) and states only the values, so a misspelled key or a
value of the wrong type is refused by Hydra before a lab runs. Numbers are typed ``Any``
on purpose: a config may hold decimals (``0.2``) or fractions as strings (``1/3``), and
the lab reads each one as the exact number it spells, naming the key if it is not a number.
"""

import dataclasses
import re
import secrets
from dataclasses import dataclass, field
from typing import Any, List, Optional

from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep
from omegaconf import MISSING, OmegaConf

from vecmix import VecmixError

from ..catalogue import LABS
from .errors import suggest


@dataclass
class Config:
    """The top-level config: which lab, with its inputs under ``lab``."""

    lab: Any = MISSING


@dataclass
class PaperClaim:
    """One claim of a paper: the lab that checks it, or why it is not reproduced at lab scale."""

    section: str = MISSING  # where the paper makes it, e.g. "3.2.1"
    statement: str = MISSING
    lab: Optional[str] = None  # the lab whose report checks it
    checks: List[str] = field(default_factory=list)  # the ids of that lab's claims that decide it (none: all of them)
    not_reproduced: Optional[str] = None  # instead of a lab: what it would take (data, compute)


@dataclass
class PaperEquation:
    """One of the paper's equations, shown in its reading report."""

    section: str = MISSING  # where the paper gives it, e.g. "3.3, eq. (2)"
    name: str = MISSING
    tex: str = MISSING  # LaTeX, one display


@dataclass
class PaperFact:
    """One row of the paper's architecture or training setup, as the paper states it."""

    section: str = MISSING
    item: str = MISSING
    value: str = MISSING


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
    scope: str = ""  # what the verdicts hold for (another model, other data), shown above the claims
    reproduced_by: Optional[str] = None  # the lab that carries out "What to reproduce", if one does
    equations: List[PaperEquation] = field(default_factory=list)  # the model's equations, as the paper gives them
    architecture: List[PaperFact] = field(default_factory=list)  # the model's parts and sizes
    training: List[PaperFact] = field(default_factory=list)  # data, hardware, optimiser, regularisation, decoding
    limits: List[str] = field(default_factory=list)  # what the reading does not reproduce, and why


@dataclass
class ReadConfig:
    """The top-level config of `python -m labs.read`."""

    paper: Paper = MISSING


def register(labs=None):
    """Store the schemas where the YAML defaults lists find them (idempotent).

    ``labs``: the labs whose schemas are stored (default: every lab). A lab's schema is
    its module's ``Config``, so storing it imports the module: a command that runs one
    lab stores that one alone.

    >>> register(["attention_basic"])
    >>> "attention_basic.yaml" in ConfigStore.instance().list("schema/lab")
    True
    """
    store = ConfigStore.instance()
    store.store(name="config_schema", node=Config)
    # ${vecmix.unique:} in the sweep folder's name: cached per sweep (Hydra copies the cache to
    # every job, as for ${now:...}), different for two sweeps started in the same second.
    OmegaConf.register_new_resolver("vecmix.unique", lambda: secrets.token_hex(3), use_cache=True, replace=True)
    for name in LABS if labs is None else labs:
        store.store(group="schema/lab", name=name, node=LABS[name].Config)
    store.store(name="read_schema", node=ReadConfig)
    store.store(group="schema", name="paper", node=Paper)


def check_config(cfg, chosen, overrides=()):
    """Refuse what the schema lets through: keys added with ``+`` that the lab does not have, a changed name,
    and a flag given as anything but true or false.

    ``lab.name`` picks the code that runs and the default output folder, so it must be the
    lab chosen with ``lab=``; a key added with ``+lab.<key>=`` (or ``++``) that the lab's
    Config does not declare would be recorded and silently ignored; OmegaConf reads
    ``lab.causal=2`` as true, so the ``overrides`` as typed are checked for the flags.

    >>> from labs.reproduce import compose_lab
    >>> check_config(compose_lab("masking"), "masking")
    >>> check_config(compose_lab("attention_basic", ["+lab.queryx=1"]), "attention_basic")
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: lab.queryx is not a config key (did you mean lab.query?); the keys of lab are: lab.name, lab.query, lab.keys, lab.values, lab.d_k
    """
    extra = [key for key in cfg if key not in ("lab", "hydra")]
    if extra:
        raise VecmixError(f"{extra[0]} is not a config key{suggest(str(extra[0]), ['lab'])}; the only key is lab "
                          "(with its own keys lab.<key>)")
    fields = [f.name for f in dataclasses.fields(LABS[chosen].Config)]
    extra = [key for key in cfg.lab if key not in fields]
    if extra:
        raise VecmixError(f"lab.{extra[0]} is not a config key{suggest(str(extra[0]), fields, 'lab.')}; the keys of "
                          f"lab are: {', '.join('lab.' + f for f in fields)}")
    if cfg.lab.name != chosen:
        raise VecmixError(f"lab.name = {cfg.lab.name!r} but the lab chosen is {chosen}: choose a lab with "
                          "lab=<name>; lab.name cannot be changed")
    flags = {f"lab.{f.name}" for f in dataclasses.fields(LABS[chosen].Config) if f.type is bool}
    for text in overrides:
        override = OverridesParser.create().parse_override(text)
        if override.key_or_group in flags and not override.is_delete():
            value = override.value()
            if not all(isinstance(v, bool) for v in (value.list if isinstance(value, ChoiceSweep) else [value])):
                raise VecmixError(f"{override.key_or_group} = {text.split('=', 1)[1]} must be true or false")


_BARE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def check_paper(cfg):
    """Refuse a reading report's config that has keys the schema lacks, or a name that is not a bare file name.

    ``paper.name`` names the report's file and ``paper.claims[i].lab`` a lab's folder, so
    neither may hold a path (``../../escape``) or be empty.

    >>> from labs.read import compose_paper
    >>> check_paper(compose_paper("attention_is_all_you_need"))
    """
    fields = [f.name for f in dataclasses.fields(Paper)]
    extra = [key for key in cfg.paper if key not in fields]
    if extra:
        raise VecmixError(f"paper.{extra[0]} is not a config key{suggest(str(extra[0]), fields, 'paper.')}; the "
                          f"keys of paper are: {', '.join('paper.' + f for f in fields)}")
    if not cfg.paper.claims:
        raise VecmixError("paper.claims is empty: a reading report needs at least one claim")
    claim_fields = [f.name for f in dataclasses.fields(PaperClaim)]
    for i, claim in enumerate(cfg.paper.claims):
        extra = [key for key in claim if key not in claim_fields]
        if extra:
            raise VecmixError(f"paper.claims[{i}].{extra[0]} is not a config key"
                              f"{suggest(str(extra[0]), claim_fields, f'paper.claims[{i}].')}; the keys of a claim "
                              f"are: {', '.join(claim_fields)}")
        for key in ("section", "statement"):
            if not isinstance(claim[key], str) or not claim[key].strip():
                raise VecmixError(f"paper.claims[{i}].{key} is empty: every claim needs its {key}")
        for k, check in enumerate(claim.checks):
            if not isinstance(check, str) or not _BARE_NAME.fullmatch(check):
                raise VecmixError(f"paper.claims[{i}].checks[{k}] = {_shown_value(check)} must be a claim id of "
                                  "the lab (letters, digits, _ . -)")
        if (claim.lab is None) == (claim.not_reproduced is None):
            raise VecmixError(f"paper.claims[{i}] needs exactly one of lab (the lab that checks it) and "
                              "not_reproduced (why it is not reproduced at lab scale)")
        if claim.not_reproduced is not None and (claim.checks or not claim.not_reproduced.strip()):
            raise VecmixError(f"paper.claims[{i}].not_reproduced needs a reason, and no checks")
    for key, kind in (("equations", PaperEquation), ("architecture", PaperFact), ("training", PaperFact)):
        keys = [f.name for f in dataclasses.fields(kind)]
        for i, entry in enumerate(cfg.paper[key]):
            extra = [k for k in entry if k not in keys]
            if extra:
                raise VecmixError(f"paper.{key}[{i}].{extra[0]} is not a config key"
                                  f"{suggest(str(extra[0]), keys, f'paper.{key}[{i}].')}; the keys are: {', '.join(keys)}")
            for k in keys:
                if not isinstance(entry[k], str) or not entry[k].strip():
                    raise VecmixError(f"paper.{key}[{i}].{k} is empty: every entry needs its {k}")
                if k != "tex" and "\n" in entry[k]:  # a heading or a table row would break out of its place
                    raise VecmixError(f"paper.{key}[{i}].{k} holds a line break: it is one line of the report")
    for i, limit in enumerate(cfg.paper.limits):
        if not isinstance(limit, str):
            raise VecmixError(f"paper.limits[{i}] = {_shown_value(limit)} must be a sentence of text")
        if not limit.strip():
            raise VecmixError(f"paper.limits[{i}] is empty: say what is not reproduced, and why")
    names = [("paper.name", cfg.paper.name), *((f"paper.claims[{i}].lab", c.lab)
                                               for i, c in enumerate(cfg.paper.claims) if c.lab is not None)]
    if cfg.paper.reproduced_by is not None:
        names.append(("paper.reproduced_by", cfg.paper.reproduced_by))
    for key, name in names:
        if not isinstance(name, str) or not _BARE_NAME.fullmatch(name) or name in (".", ".."):
            raise VecmixError(f"{key} = {name!r} must be a bare name (letters, digits, _ . -), not a path")
        if key != "paper.name" and name not in LABS:
            raise VecmixError(f"{key} = {name!r} is not a lab{suggest(name, list(LABS))}; the labs are: "
                              f"{', '.join(LABS)}")


def _shown_value(value):
    """A config value as a user wrote it: a list or mapping as plain data, not OmegaConf's container."""
    if OmegaConf.is_config(value):
        value = OmegaConf.to_container(value)
    return repr(value)


def check_hydra_additions(cfg):
    """Refuse ``+hydra.<key>=...`` for a key that Hydra's own settings do not have (it would be ignored).

    Keys added inside a mapping of Hydra's (``+hydra.job.env_set.NAME=value``) are fine.
    """
    for text in cfg.hydra.overrides.hydra:
        override = OverridesParser.create().parse_override(text)
        if not (override.is_add() or override.is_force_add()):
            continue
        parent, _, leaf = override.key_or_group.rpartition(".")
        node = OmegaConf.select(cfg, parent) if parent else None
        schema = OmegaConf.get_type(node) if node is not None else None
        if schema is not None and dataclasses.is_dataclass(schema):
            names = [f.name for f in dataclasses.fields(schema)]
            if leaf not in names:
                close = suggest(leaf, names, parent + ".")
                raise VecmixError(f"{override.key_or_group} is not a Hydra setting{close}; Hydra would ignore it")
