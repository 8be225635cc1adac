"""The lab catalogue: one module per lab, found by name.

A lab is a module here (``labs/catalogue/<lab>.py``) and a YAML file (``conf/lab/<lab>.yaml``).
The module holds everything that is the lab's own:

* ``Config``: the dataclass schema of its config (``lab.<key>``);
* ``run(params)``: compute from the config's values, return a :class:`labs.report.LabResult`;
* ``COUNTER_CASES``: for every claim id, the :class:`labs.claims.CounterCase` that makes it fail;
* ``EXERCISES``: its exercises (:class:`labs.grading.Exercise`).

Modules whose names start with an underscore hold what several labs share; they are not labs.
A lab's module is imported when it is first looked up, so that running one lab loads one.

>>> list(LABS)[:3]
['additive_vs_dot', 'attention_basic', 'cost_per_layer']
>>> "masking" in LABS, LABS["masking"].__name__
(True, 'labs.catalogue.masking')
"""

import importlib
import pkgutil
from collections.abc import Mapping


class Catalogue(Mapping):
    """The lab modules by name, in alphabetical order; each module is imported on first lookup."""

    def __init__(self, package, path):
        self._package = package
        self._names = sorted(info.name for info in pkgutil.iter_modules(path) if not info.name.startswith("_"))

    def __getitem__(self, name):
        if name not in self._names:
            raise KeyError(name)
        return importlib.import_module(f"{self._package}.{name}")

    def __contains__(self, name):  # a name is looked up without importing its module
        return name in self._names

    def __iter__(self):
        return iter(self._names)

    def __len__(self):
        return len(self._names)


LABS = Catalogue(__name__, __path__)
