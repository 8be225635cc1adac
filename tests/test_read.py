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
                        "Math dependency map", "Key claims and evidence", "What to reproduce",
                        "What has changed since publication", "Regenerate"]
    for lab in ("attention_basic", "masking", "multihead", "scaling", "multihead_cost", "positional_encoding",
                "cost_per_layer", "efficient_variants"):
        assert f"[`{lab}`](../{lab}/report.md)" in text


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
