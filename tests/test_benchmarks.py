"""The benchmarks run (quick mode, as a smoke test), and the README quotes the committed results."""

import re
from pathlib import Path

import pytest

from benchmarks import exact
from benchmarks.run import main

ROOT = Path(__file__).resolve().parents[1]


def first_table(text, heading):
    """The rows of the first table after ``heading``."""
    rows = []
    for line in text.split(heading, 1)[1].splitlines():
        if line.startswith("|"):
            rows.append(line)
        elif rows:
            break
    return rows


def test_quick_run_writes_every_section_and_calls_sdpa_with_4d_inputs(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    real, shapes = torch.nn.functional.scaled_dot_product_attention, []

    def spy(q, k, v, *args, **kwargs):  # the benchmark's baseline must take torch's fused path: 4-D inputs
        shapes.append((tuple(q.shape), tuple(k.shape), tuple(v.shape)))
        return real(q, k, v, *args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", spy)
    out = tmp_path / "RESULTS.md"
    assert main(["--quick", "--out", str(out)]) == 0
    text = out.read_text()
    for heading in ("## Machine", "## Targets", "## Exact span algebra", "## Numeric attention",
                    "## Multi-head attention", "## Lab start-up", "## The whole catalogue"):
        assert heading in text
    rows = first_table(text, "## Targets")
    assert len(rows) >= 6 and all(row.endswith(("| yes |", "| **no** |", "| n/a |")) for row in rows[2:])
    assert re.search(r"Growth .*\n\n- vecmix: -?\d+\.\d\d \(m = d = 16, 32\)", text)
    # every call 4-D (batch 1): the attention benchmark's with one head, MultiheadAttention's SDPA path with its h heads
    assert shapes and all(len(shape) == 4 and shape[0] == 1 for call in shapes for shape in call), shapes
    assert ((1, 1, 256, 64),) * 3 in shapes
    for dtype in ("float64", "float32"):  # the kernel that ran is named, and it is the fused one
        assert (f"torch SDPA, {dtype}: inputs of shape (1, 1, 256, 64), kernel "
                "`aten::_scaled_dot_product_flash_attention_for_cpu`") in text
    assert "`aten::_native_multi_head_attention`" in text  # nn.MultiheadAttention took its fast path
    assert "4. `python -m labs.reproduce -m 'lab=attention_basic' hydra/launcher=joblib" in text


def test_every_contender_answers_the_same():
    V, z = exact.inputs(10, seed=3)
    mine, flint, sympy = exact.with_vecmix(V, z), exact.with_flint(V, z), exact.with_domainmatrix(V, z)
    assert mine[0] is flint[0] is True and sympy[0]
    assert mine[1] == flint[1] == sympy[1] == exact.with_matrix_rank(V, z)


def test_readme_quotes_the_committed_results():
    results = (ROOT / "benchmarks" / "RESULTS.md").read_text()
    assert "--quick" not in results.split("\n", 3)[2], "RESULTS.md must come from a full run: python -m benchmarks.run"
    readme = (ROOT / "README.md").read_text()
    assert first_table(readme, "## Performance") == first_table(results, "## Targets"), \
        "README's targets table differs from benchmarks/RESULTS.md: copy it over"



def test_the_heads_benchmark_times_the_lab_and_its_trainings(tmp_path):
    pytest.importorskip("torch")
    from benchmarks import heads

    out = tmp_path / "HEADS.md"
    assert heads.main(["--quick", "--out", str(out)]) == 0
    text = out.read_text()
    assert "| the lab, end to end (lab.run: training, scoring, figure) |" in text
    assert re.search(r"side by side takes \d+\.\d\dx the time", text)
    assert re.search(r"\| the heads experiment, end to end \| \d+\.\d s \| < 300 s \| yes \|", text)
