"""Import what is needed when it is needed: the library stays pure, the CLI loads plotting only to plot."""

import subprocess
import sys

import pytest


def loaded_after(statement):
    """The top-level packages a fresh interpreter holds after running ``statement``."""
    code = f"{statement}; import sys; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    return set(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split())


@pytest.mark.parametrize("statement, absent", [
    ("import vecmix", {"matplotlib", "hydra", "omegaconf", "pandas", "torch", "numba", "threadpoolctl"}),
    ("import labs.reproduce", {"matplotlib", "pandas", "torch"}),
])
def test_nothing_heavy_is_imported_before_it_is_needed(statement, absent):
    assert not loaded_after(statement) & absent


def test_a_lab_command_loads_its_own_lab_alone(tmp_path):
    """The catalogue imports a lab's module when it is looked up: running one lab loads one (and what it shares)."""
    code = ("import sys; from labs import reproduce; "
            f"sys.argv = ['labs.reproduce', 'lab=masking', 'hydra.run.dir={tmp_path / 'run'}']; reproduce.cli(); "
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('labs.catalogue.'))))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    loaded = out.splitlines()[-1].split()
    assert [m for m in loaded if not m.split(".")[-1].startswith("_")] == ["labs.catalogue.masking"], loaded
