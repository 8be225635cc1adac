"""The committed gallery (reports/) must be what `python -m labs.gallery` makes now.

Each report is re-rendered with the package versions it records, so a newer numpy on
this machine does not make it stale; a change in the code, the configs or the numbers
does. SVG bytes also depend on the matplotlib version, so figures are compared byte
for byte only when it matches the recorded one. A trained experiment (BIT_STABLE = False)
may round differently on another CPU: its config, claims and verdicts must match instead.
A measured run (gallery.MEASURED) times real computations, so everything but its
measurements must match a fresh run.
"""

import json
import re
from importlib import metadata

import pytest

from labs import gallery
from labs.catalogue import LABS
from labs.read import PAPERS
from labs.report.frame import load_results

FIX = "regenerate it with `python -m labs.gallery` and commit the result"


def committed_files(name):
    folder = gallery.REPORTS / name
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def built():
    """Every lab rebuilt once, with the versions its committed report records."""
    out = {}
    for lab in LABS:
        env = gallery.committed_environment(lab)
        assert env is not None, f"reports/{lab}/ is missing: {FIX}"
        out[lab] = (env, *gallery.build_lab(lab, env))
    return out


@pytest.fixture(params=list(LABS))
def lab_files(request, built):
    return (request.param, *built[request.param])


def verdicts(results_json):
    """What must not change in a lab whose numbers are not bit-stable across machines (BIT_STABLE = False, a
    trained experiment): its config, and each claim's id, statement and verdict."""
    doc = json.loads(results_json)
    return doc["config"], [(c["id"], c["statement"], c["verdict"]) for c in doc["claims"]]


def test_gallery_reports_are_current(lab_files):
    lab, _, files, _ = lab_files
    committed = committed_files(lab)
    assert sorted(committed) == sorted(files), f"reports/{lab}/ has other files than a fresh run: {FIX}"
    if not getattr(LABS[lab], "BIT_STABLE", True):  # torch's float rounding may differ on another CPU
        assert verdicts(committed["results.json"]) == verdicts(files["results.json"]), \
            f"reports/{lab}/results.json has other claims or verdicts than a fresh run: {FIX}"
        return
    for name, data in files.items():
        if name == "results.json":
            assert same_results(json.loads(committed[name]), json.loads(data)), f"reports/{lab}/{name} is stale: {FIX}"
        elif not name.startswith("figures/"):
            assert committed[name] == data, f"reports/{lab}/{name} is stale: {FIX}"


def same_results(a, b):
    """results.json documents alike but for float noise between CPUs: an error of 7.8e-16 on one machine is 6.7e-16
    on another whose BLAS kernels sum in another order, and norm_analysis's Spearman correlations over the
    pretrained model's weights were seen to differ by 2e-5 relative between two machines with the same packages
    (report.md, which shows them to 3 digits and errors as "below 1e-13", is compared byte for byte). Floats agree
    within 1e-12 absolute or 1e-4 relative; everything else exactly.

    >>> same_results({"e": [7.77e-16, "x"]}, {"e": [6.66e-16, "x"]}), same_results({"e": 0.5}, {"e": 0.5001})
    (True, False)
    """
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_results(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_results(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-12 + 1e-4 * max(abs(a), abs(b))
    return type(a) is type(b) and a == b


def test_gallery_figures_are_current(lab_files):
    lab, env, files, _ = lab_files
    installed = metadata.version("matplotlib")
    if not getattr(LABS[lab], "BIT_STABLE", True):
        pytest.skip(f"reports/{lab} plots trained numbers, which may differ in the last places on another CPU")
    if env.get("matplotlib") != installed:
        pytest.skip(f"reports/{lab} was drawn with matplotlib {env.get('matplotlib')}, this is {installed}")
    committed = committed_files(lab)
    for name, data in files.items():
        if name.startswith("figures/"):
            assert committed[name] == data, f"reports/{lab}/{name} is stale: {FIX}"


def test_gallery_default_claims_are_all_reproduced(lab_files):
    """Every default claim holds, except in a lab that re-checks a paper's findings on another model (EMPIRICAL):
    there the verdicts are what the model shows, pinned by the committed results.json (checked above)."""
    lab, _, _, result = lab_files
    assert result.reproduced or getattr(LABS[lab], "EMPIRICAL", False), [c.id for c in result.claims if not c.holds]


@pytest.fixture(scope="module")
def measured():
    """Every measured run rebuilt once, with the versions its committed report records."""
    out = {}
    for folder in gallery.MEASURED:
        env = gallery.committed_environment(folder)
        assert env is not None, f"reports/{folder}/ is missing: {FIX}"
        out[folder] = gallery.build_measured(folder, env)
    return out


def without_measurements(name, data):
    """A file of a measured report with its measurements taken out: what must not change from run to run."""
    if name == "report.md":
        return re.sub(r"## Measured.*?(?=\n## )", "## Measured", data.decode(), flags=re.S)
    if name == "results.json":
        doc = json.loads(data)
        doc["values"] = {k: v for k, v in doc["values"].items() if not k.startswith("measured_")}
        return doc
    return data


@pytest.mark.parametrize("folder", list(gallery.MEASURED))
def test_measured_reports_are_current_but_for_their_measurements(folder, measured):
    files, result = measured[folder]
    committed = committed_files(folder)
    assert sorted(committed) == sorted(files), f"reports/{folder}/ has other files than a fresh run: {FIX}"
    assert "## Measured" in files["report.md"].decode() and "measured_seconds" in json.loads(files["results.json"])[
        "values"]
    for name, data in files.items():
        if not name.startswith("figures/"):
            assert without_measurements(name, committed[name]) == without_measurements(name, data), \
                f"reports/{folder}/{name} is stale: {FIX}"
    assert result.reproduced


def test_gallery_index_is_current():
    """The index is made from the committed reports' claims, which the tests above check are current."""
    papers = [(paper, gallery.paper_report(paper)[1]) for paper in PAPERS]
    claims = load_results(gallery.REPORTS, recursive=False)
    assert set(claims["run"]) == set(LABS) | set(gallery.MEASURED)
    assert (gallery.REPORTS / "README.md").read_text() == gallery.index(claims, papers), \
        f"reports/README.md is stale: {FIX}"


@pytest.mark.parametrize("paper", PAPERS)
def test_reading_reports_are_current(paper):
    name, _, text = gallery.paper_report(paper)
    assert (gallery.REPORTS / "papers" / name).read_text() == text, f"reports/papers/{name} is stale: {FIX}"
    rows = [r for r in text.split("## Key claims")[1].split("## What to reproduce")[0].splitlines() if "**" in r]
    assert all(getattr(LABS[re.search(r"\[`(\w+)`\]", r).group(1)], "EMPIRICAL", False) for r in rows), rows


def test_reports_print_no_rounding_noise():
    """Errors of a few units in the last place differ between CPUs: a report that printed one would be stale elsewhere."""
    noise = re.compile(r"\b\d\.\de-1[3-9]\b")
    for path in sorted(gallery.REPORTS.glob("*/report.md")):
        found = noise.findall(path.read_text())
        assert not found, f"{path.relative_to(gallery.REPORTS)} prints rounding errors {found}: use error_text"
