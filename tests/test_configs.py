"""Every lab config has a schema, composes, and refuses unknown keys and wrong types."""

import pytest
from hydra.errors import ConfigCompositionException

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
