"""The reading report: live verdicts from the labs, missing labs run or named, and the command line."""

import json
import subprocess
import sys
from pathlib import Path

from omegaconf import OmegaConf

from labs.read import compose_paper, render

ROOT = Path(__file__).resolve().parent.parent


def test_the_structure_of_the_paper_lab_and_a_row_per_claim():
    paper = OmegaConf.to_container(compose_paper("attention_is_all_you_need").paper)
    text = render(paper, ROOT / "reports")
    headings = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["Why this paper", "What to know first", "First pass", "Second pass: the objects to track",
                        "Math dependency map", "The model, as the paper specifies it", "Key claims and evidence",
                        "What this reading does not reproduce, and why", "What to reproduce",
                        "What has changed since publication", "Regenerate"]
    for lab in ("attention_basic", "masking", "multihead", "scaling", "multihead_cost", "positional_encoding",
                "cost_per_layer", "efficient_variants", "encoder_decoder", "additive_vs_dot", "training_schedule",
                "heads_ablation"):
        assert f"[`{lab}`](../{lab}/report.md)" in text
    model = text.split("## The model, as the paper specifies it")[1].split("## Key claims")[0]
    assert r"\mathrm{MultiHead}(Q, K, V)" in model and "### Architecture" in model and "### Training and decoding" in model
    assert "d_ff = 2048" in model and "| §3.4 |" in model and "beam size 4" in model
    elsewhere = text.split("### Not reproduced at lab scale")[1]
    for number in ("28.4 BLEU", "41.8 BLEU", "3.3 x 10^18", "24.9 BLEU", "91.3 F1"):
        assert number in elsewhere


def test_a_paper_without_a_specification_or_limits_has_neither_section():
    paper = OmegaConf.to_container(compose_paper("attention_is_not_only_a_weight").paper)
    text = render(paper, ROOT / "reports")
    assert "## The model, as the paper specifies it" not in text and "does not reproduce, and why" not in text


def test_labs_not_yet_run_are_run_and_unknown_ones_are_named(tmp_path):
    paper = OmegaConf.to_container(compose_paper("attention_is_all_you_need").paper)
    paper["claims"] = [{"section": "3.2.2", "statement": "cost", "lab": "multihead_cost"},
                       {"section": "9.9", "statement": "not a lab", "lab": "no_such_lab"}]
    text = render(paper, tmp_path)
    assert json.loads((tmp_path / "multihead_cost" / "results.json").read_text())["lab"] == "multihead_cost"
    assert "reproduced (3 of 3 checks)" in text and "Missing labs" in text and "no_such_lab" in text


def test_command_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "labs.read", "paper=attention_is_all_you_nee"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: there is no paper named 'attention_is_all_you_nee' (did you mean "
                                          "attention_is_all_you_need?)")


def test_three_verdict_kinds_are_counted_separately(tmp_path):
    """A claim whose check fails is "not reproduced"; one that needs the paper's data names no lab and is listed
    with its reason; the counts of the three kinds lead the table."""
    paper = OmegaConf.to_container(compose_paper("attention_is_all_you_need").paper)
    (tmp_path / "masking").mkdir()
    (tmp_path / "masking" / "results.json").write_text(json.dumps({
        "lab": "masking", "command": "python -m labs.reproduce lab=masking", "values": {},
        "claims": [{"id": "a", "verdict": "reproduced"}, {"id": "b", "verdict": "not reproduced"}]}))
    paper["claims"] = [{"section": "1", "statement": "first", "lab": "masking", "checks": ["a"]},
                       {"section": "2", "statement": "second", "lab": "masking", "checks": ["a", "b"]},
                       {"section": "3", "statement": "third", "lab": None, "checks": [],
                        "not_reproduced": "a corpus of 4.5M sentence pairs"}]
    text = render(paper, tmp_path)
    assert "Verdicts, counted by kind: 1 reproduced; 1 not reproduced; 1 not reproduced at lab scale." in text
    assert "| 1 | first | [`masking`](../masking/report.md) | `a` | reproduced (1 of 1 checks) |" in text
    assert "| **not reproduced** (1 of 2 checks) |" in text
    assert "| 3 | third | a corpus of 4.5M sentence pairs |" in text.split("### Not reproduced at lab scale")[1]


def test_a_check_the_lab_does_not_report_is_named(tmp_path):
    import pytest

    from vecmix import VecmixError

    paper = OmegaConf.to_container(compose_paper("attention_is_all_you_need").paper)
    (tmp_path / "masking").mkdir()
    (tmp_path / "masking" / "results.json").write_text(json.dumps({
        "lab": "masking", "command": "python -m labs.reproduce lab=masking", "values": {},
        "claims": [{"id": "a", "verdict": "reproduced"}]}))
    paper["claims"] = [{"section": "1", "statement": "first", "lab": "masking", "checks": ["nope"]}]
    with pytest.raises(VecmixError, match="names the check 'nope', which lab masking does not report; its claims "
                                          "are: a"):
        render(paper, tmp_path)


def test_a_claim_needs_a_lab_or_a_reason():
    import pytest

    from labs.config.schema import check_paper
    from labs.reproduce import compose_config
    from vecmix import VecmixError

    for override, message in (("+paper.claims.0.not_reproduced=data", "needs exactly one of lab"),
                              ("paper.claims.0.lab=null", "needs exactly one of lab")):
        cfg = compose_config("read", ["paper=attention_is_all_you_need", override])
        with pytest.raises(VecmixError, match=message):
            check_paper(cfg)
