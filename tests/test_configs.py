"""Every lab config has a schema, composes, and refuses unknown keys and wrong types."""

import sys

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from labs.catalogue import LABS
from labs.reproduce import CONFIG_DIR, compose_lab


def test_every_lab_config_has_a_schema_and_the_group_lists_only_labs():
    assert {p.stem for p in (CONFIG_DIR / "lab").glob("*.yaml")} == set(LABS)


@pytest.mark.parametrize("lab", sorted(LABS))
def test_every_lab_config_composes_with_its_name(lab):
    assert compose_lab(lab).lab.name == lab


@pytest.mark.parametrize(
    "override, cause",
    [
        ("lab.d_kk=1", "Key 'd_kk' not in 'Config'"),
        ("lab.d_k=abc", "could not be converted to Integer"),
        ("lab.query=abc", "ListConfig"),
        ("lab.keys=[1,2]", "ListConfig"),
    ],
)
def test_unknown_keys_and_wrong_types_are_refused(override, cause):
    with pytest.raises(ConfigCompositionException) as info:
        compose_lab("attention_basic", [override])
    assert cause in f"{info.value} {info.value.__cause__}"


def test_a_misspelled_lab_is_refused():
    with pytest.raises(Exception, match="there is no lab named 'attention_basik' \\(did you mean attention_basic\\?\\)"):
        compose_lab("attention_basik")


def test_no_config_sets_hydra_mode():
    """labs.config.cli.one_composition skips Hydra's composition that only reads hydra.mode: no config may set it."""
    for path in CONFIG_DIR.rglob("*.yaml"):
        assert "mode" not in (OmegaConf.load(path).get("hydra") or {}), path
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        for lab in ("attention_basic", "masking"):
            assert compose("config", [f"lab={lab}"], return_hydra_config=True).hydra.mode is None


def test_the_command_composes_once(monkeypatch, tmp_path):
    from hydra._internal.hydra import Hydra

    from labs import reproduce

    calls = []
    real = Hydra.compose_config
    monkeypatch.setattr(Hydra, "compose_config", lambda self, *a, **k: calls.append(k.get("run_mode")) or real(
        self, *a, **k))
    for extra, composed in (([], 1), (["hydra.mode=RUN"], 2)):  # an override naming the mode: Hydra's own way
        calls.clear()
        monkeypatch.setattr(sys, "argv", ["labs.reproduce", "lab=scaling", f"hydra.run.dir={tmp_path / 'run'}", *extra])
        reproduce.cli()
        assert len(calls) == composed, calls
    assert (tmp_path / "run" / "report.md").exists()
