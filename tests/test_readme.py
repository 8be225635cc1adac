"""The README's Python examples run as written, and its quick start is what CI runs."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
ROOT = README.parent


def blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)


@pytest.mark.parametrize("code", blocks("python"))
def test_python_examples_run(code, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # examples that write a report write it here
    exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out.strip()


def test_ci_runs_the_second_quick_start_command():
    commands = [b.strip() for b in blocks("bash") if "pytest" in b]
    assert commands, "README has no test command"
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[0] in ci.splitlines()


def test_the_catalogue_lists_every_lab_and_every_config_key():
    import dataclasses

    from labs.catalogue import LABS

    text = README.read_text()
    for lab, module in LABS.items():
        assert re.search(rf"^\| \[`{lab}`\]\(reports/{lab}/report\.md\) \|", text, re.M), f"{lab} is not in the catalogue"
        keys = [f.name for f in dataclasses.fields(module.Config) if f.name != "name"]
        rows = re.findall(r"^\| `(?:lab\.)?(\w+)` \|.*$", text, re.M) if lab == "attention_basic" else \
            re.findall(rf"^\| `{lab}` \|(.*)$", text, re.M)
        listed = set(rows) if lab == "attention_basic" else set(re.findall(r"`(\w+)`", " ".join(rows)))
        assert set(keys) <= listed, f"README does not describe {sorted(set(keys) - listed)} of {lab}"
