"""Run a lab and write its report: ``python -m labs.reproduce lab=<name> [lab.<key>=<value> ...]``.

The Hydra app is a thin shell over :func:`reproduce`, which tests and notebooks call
with a config from :func:`compose_lab`:

>>> cfg = compose_lab("attention_basic", ["lab.d_k=4"])
>>> cfg.lab.d_k, list(cfg.lab.query)
(4, [1, 0])
"""

import os
import shlex
from collections.abc import Mapping
from pathlib import Path

import hydra
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import OmegaConf

from vecmix import VecmixError

from .catalogue import LABS
from .config.cli import run_cli, run_command, shows_or_reads_other_configs
from .config.errors import exit_if_user_error, suggest
from .config.schema import check_config, register
from .report.render import environment, render_json, render_markdown
from .report.sweep import record_failure
from .report.writer import write_folder

CONFIG_DIR = Path(__file__).resolve().parent.parent / "conf"


def compose_lab(lab, overrides=()):
    """The config of ``lab`` with ``overrides`` applied, composed as the command line would."""
    if lab not in LABS:
        raise VecmixError(f"there is no lab named {lab!r}{suggest(str(lab), list(LABS))}; choose one of: "
                          f"{', '.join(LABS)}")
    register([lab])
    cfg = compose_config("config", [f"lab={lab}", *overrides])
    check_config(cfg, lab, overrides)
    return cfg


def compose_config(name, overrides=()):
    """``conf/<name>.yaml`` composed with ``overrides``, outside a Hydra app or inside one (labs.read running a
    lab that has no report yet), where Hydra is already initialised with the same conf/ folder."""
    from hydra.core.global_hydra import GlobalHydra

    if GlobalHydra.instance().is_initialized():
        return compose(config_name=name, overrides=list(overrides))
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose(config_name=name, overrides=list(overrides))


def shell_word(word):
    """``word`` quoted for a POSIX shell; a word with unprintable characters (ESC, a right-to-left mark) in bash's
    $'...' form, with those characters escaped, so that the command recorded in a report is exact and readable.

    >>> print(shell_word("lab.d_k=2"), shell_word("lab.sentences=[it's]"), shell_word("a\x1bb"))
    lab.d_k=2 'lab.sentences=[it'"'"'s]' $'a\\x1bb'
    """
    if word.isprintable():
        return shlex.quote(word)
    escaped = "".join(c if c.isprintable() and c not in "\\'" else "\\" + c if c in "\\'" else
                      f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}" if ord(c) < 0x10000 else
                      f"\\U{ord(c):08x}" for c in word)
    return f"$'{escaped}'"


def build(cfg, overrides=(), env=None):
    """Run the lab that ``cfg`` names; return ({relative path: bytes} of its report folder, LabResult).

    ``overrides`` are the command-line overrides, recorded in the regeneration command;
    ``env`` replaces the recorded package versions (the gallery test re-renders with the
    versions the committed report was made with).

    >>> files, result = build(compose_lab("attention_basic"))
    >>> sorted(files)[2:], result.reproduced
    (['figures/mixture.svg', 'figures/weights.svg', 'report.md', 'results.json'], True)
    """
    from .report.figures import svg_bytes

    name = cfg.lab.name
    lab = LABS[name]
    result = lab.run(OmegaConf.to_container(cfg.lab, resolve=True))
    result.counter_cases = lab.COUNTER_CASES
    task = task_overrides(name, overrides)
    command = " ".join(shell_word(w) for w in ["python", "-m", "labs.reproduce", *task])
    env = env or environment()
    files = {
        "report.md": render_markdown(result, command, env).encode(),
        "results.json": render_json(result, command, OmegaConf.to_container(cfg, resolve=True), env).encode(),
        ".hydra/config.yaml": OmegaConf.to_yaml(cfg, resolve=True).encode(),
        ".hydra/overrides.yaml": OmegaConf.to_yaml(OmegaConf.create(task)).encode(),
    }
    files.update({f"figures/{file}": svg_bytes(fig) for file, fig in sorted(result.figures.items())})
    return files, result


def reproduce(cfg, out_dir, overrides=()):
    """Run the lab that ``cfg`` names and write its report folder to ``out_dir`` atomically.

    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "run"
    >>> reproduce(compose_lab("attention_basic", ["lab.query=[2,1]"]), out).reproduced, (out / "report.md").exists()
    (True, True)
    """
    files, result = build(cfg, overrides)
    write_folder(out_dir, files)
    return result


def task_overrides(lab, overrides=()):
    """The overrides that regenerate a report: the lab first, then the others as given.

    >>> task_overrides("attention_basic", ["lab.query=[0,1]", "lab=attention_basic"])
    ['lab=attention_basic', 'lab.query=[0,1]']
    """
    return [f"lab={lab}", *(o for o in overrides if not o.startswith("lab="))]


@hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")
def main(cfg):
    """Hydra entry point: run the lab into Hydra's output folder and say where the report is."""
    hc = HydraConfig.get()
    os.chdir(hc.runtime.cwd)  # with hydra.job.chdir=true Hydra moved into the report folder, which the run replaces
    out_dir = Path(hc.runtime.output_dir)
    task = OmegaConf.to_container(hc.overrides.task, resolve=False)  # as typed: ${...} left unresolved
    try:
        check_config(cfg, hc.runtime.choices["lab"], task)
        result = reproduce(cfg, out_dir, task)
    except Exception as exc:
        if hc.mode == RunMode.MULTIRUN:  # one job of a sweep: record the failure, let the others run
            record_failure(out_dir, task, exc)
            return
        exit_if_user_error(exc)  # exit here, before Hydra adds lines of its own
        raise
    report = out_dir / "report.md"
    shown = report.relative_to(Path.cwd()) if report.is_relative_to(Path.cwd()) else report
    failed = [c.id for c in result.claims if not c.holds]
    summary = f"{len(result.claims) - len(failed)} of {len(result.claims)} claims reproduced"
    print(f"{result.lab}: {summary}" + (f" (not reproduced: {', '.join(failed)})" if failed else ""))
    print(f"report: {shown}")


def register_schemas(args, chosen):
    """Store the schemas of the labs the command line runs: those it chooses, and the config's default lab when it
    chooses none or may sweep (a sweep composes the config without its sweeps first, and so does Hydra when an
    override sets ``hydra.mode``); every lab's when Hydra is to show or read configs
    (:func:`labs.config.cli.shows_or_reads_other_configs`)."""
    if shows_or_reads_other_configs(args):
        register()
        return
    may_sweep = args.multirun or any("hydra.mode" in override for override in args.overrides)
    register(sorted({*(chosen or []), *([default_lab()] if may_sweep or not chosen else [])}))


def default_lab():
    """The lab that ``conf/config.yaml`` runs when the command line chooses none.

    >>> default_lab()
    'attention_basic'
    """
    defaults = OmegaConf.load(CONFIG_DIR / "config.yaml").defaults
    return next(entry["lab"] for entry in defaults if isinstance(entry, Mapping) and "lab" in entry)


def cli():
    """The command line: Hydra's app, with one line (and exit status 2) for every user error."""
    run_cli(main, "lab", list(LABS), prepare=register_schemas)


if __name__ == "__main__":
    run_command(cli)
