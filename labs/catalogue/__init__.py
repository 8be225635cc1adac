"""The lab catalogue: one module per lab, found by name.

A lab is a module here (``labs/catalogue/<lab>.py``) and a YAML file (``conf/lab/<lab>.yaml``).
The module holds everything that is the lab's own:

* ``Config``: the dataclass schema of its config (``lab.<key>``);
* ``run(params)``: compute from the config's values, return a :class:`labs.report.LabResult`;
* ``COUNTER_CASES``: for every claim id, the :class:`labs.claims.CounterCase` that makes it fail;
* ``EXERCISES``: its exercises (:class:`labs.grading.Exercise`).

Modules whose names start with an underscore hold what several labs share; they are not labs.

>>> list(LABS)[:3]
['attention_basic', 'cost_per_layer', 'efficient_variants']
"""

import importlib
import pkgutil

LABS = {info.name: importlib.import_module(f"{__name__}.{info.name}")
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name)
        if not info.name.startswith("_")}
