"""Every command fails kindly: one ``error:`` line, exit status 2, and the folder it ran in left byte-identical.

The commands run in-process (``labs.reproduce.cli`` and ``labs.read.cli`` with ``sys.argv``
set, as ``python -m`` would), in a scratch folder holding a copy of the committed gallery
and a README.md, so that "nothing was lost" is checked byte for byte. The cases are the
ones a newcomer and a hostile user tried (issue 14), then one case per lab for every config
key: the wrong type, empty, huge and out of range. Sweeps run every job they can and list
the failures; a killed writer's leftovers are removed by the next run.
"""

import contextlib
import dataclasses
import importlib.util
import io
import os
import shutil
import sys
import typing
from pathlib import Path

import pytest

from labs import read, reproduce
from labs.catalogue import LABS
from vecmix import VecmixError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def gallery(tmp_path_factory):
    """A folder holding a copy of the committed gallery and a README.md, and its snapshot (copied once)."""
    folder = tmp_path_factory.mktemp("scratch")
    shutil.copytree(ROOT / "reports", folder / "reports", ignore=shutil.ignore_patterns("multirun", "site"))
    shutil.copy(ROOT / "README.md", folder / "README.md")
    return folder, snapshot(folder)


@pytest.fixture
def scratch(gallery, monkeypatch):
    """The gallery's folder as the cwd: (folder, its snapshot before the test)."""
    monkeypatch.chdir(gallery[0])
    return gallery


def snapshot(folder):
    return {p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None) for p in folder.rglob("*")}


def command(*args, module=reproduce):
    """(exit status, stderr, stdout) of ``python -m labs.<module> args``, run in-process.

    The command sets HYDRA_FULL_ERROR (and remembers the user's) in os.environ, as a process
    of its own would; the environment is restored afterwards, so later tests see the one they started with.
    """
    saved, environ = sys.argv, dict(os.environ)
    sys.argv, err, out, code = [module.__name__, *args], io.StringIO(), io.StringIO(), 0
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            module.cli()
    except SystemExit as exc:
        code = exc.code
    finally:
        sys.argv = saved
        os.environ.clear()
        os.environ.update(environ)
    return code, err.getvalue(), out.getvalue()


def refused(args, scratch, module=reproduce):
    """Run a command that must be refused in the scratch folder; return its one error line (without 'error: ')."""
    folder, before = scratch
    code, err, out = command(*args, module=module)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (code, err, out[-500:])
    assert "Traceback" not in err + out
    assert snapshot(folder) == before, "the refused run changed the folder"
    return lines[0].removeprefix("error: ")


ISSUE_CASES = [  # (command line, what the one line must say)
    (["lab=efficient_variants", "lab.seed=-1"], "lab.seed = -1 must be a nonnegative integer"),
    (["lab=multihead", "lab.seed=-1"], "lab.seed = -1 must be a nonnegative integer"),
    (["lab=scaling", "lab.seed=-1"], "lab.seed = -1 must be a nonnegative integer"),
    (["lab=positional_encoding", "lab.offsets=[]"], "lab.offsets is empty"),
    (["lab=attention_basic", "lab.query=${nosuch}"], "lab.query: Interpolation key 'nosuch' not found"),
    (["lab=attention_basic", "lab.name=nosuch"], "lab.name = 'nosuch' but the lab chosen is attention_basic"),
    (["lab=attention_basic", "lab.name=cost_per_layer"], "lab.name = 'cost_per_layer' but the lab chosen is"),
    (["lab=attention_basic", "=1"], "cannot read the override '=1': it has no key before '='"),
    (["hydra.run.dir=README.md"], "hydra.run.dir = README.md: it is a file, not a folder"),
    (["hydra.run.dir=README.md/x"], "hydra.run.dir = README.md/x: README.md is a file, not a folder"),
    (["lab=negative_weights", "lab.values=[['1e400',0.2],[0.5,1],[1,0]]"], "lab.values[0][0] = 1.00e+400 is too large"),
    (["lab=redundant_values", "lab.values=[['1e400',0.2],[0.5,1]]"], "lab.values[0][0] = 1.00e+400 is too large"),
    (["lab=multihead", "lab.embeddings=[['1e400',0],[0,1],[1,1]]"], "lab.embeddings[0][0] = 1.00e+400 is too large"),
    (["lab=multihead", "lab.embeddings=[[1e400,0],[0,1],[1,1]]"], "lab.embeddings[0][0] = inf is not a finite"),
    (["lab.query=[1e400,0]"], "lab.query[0] = inf is not a finite number"),
    (["lab=scaling", "lab.d_k=1000000"], "scaling with lab.samples = 20000, lab.d_k = 1000000 needs about"),
    (["lab=positional_encoding", f"lab.d_model={10**30}"], f"lab.d_model = {10**30} is too large for this lab"),
    (["lab=scaling", f"lab.samples={10**15}"], "scaling with lab.samples = 1000000000000000, lab.d_k"),
    (["lab=scaling", f"lab.samples={10**30}"], "lab.samples = 1.00e+30 is too large: a lab's counts and sizes"),
    (["lab=cost_per_layer", "lab.repeats=0"], "lab.repeats = 0 must be a positive integer"),
    (["lab=cost_per_layer", "lab.ns=[]"], "lab.ns = [] needs at least two different sizes"),
    (["lab=cost_per_layer", "lab.ns=[0]"], "lab.ns[0] = 0 must be a positive integer"),
    (["lab=cost_per_layer", "lab.ds=[]"], "lab.ds = [] needs at least two different sizes"),
    (["lab=cost_per_layer", "lab.ds=[0]"], "lab.ds[0] = 0 must be a positive integer"),
    (["lab=cost_per_layer", "lab.measure=true", "lab.ns=[64,100000000]"], "lab.ns[1] = 100000000 is too large"),
    (["lab=positional_encoding", "lab.base=inf"], "lab.base = inf is not a finite number"),
    (["+lab.queryx=1"], "lab.queryx is not a config key (did you mean lab.query?)"),
    (["++lab.queryx=1"], "lab.queryx is not a config key (did you mean lab.query?)"),
    (["+labx=1"], "labx is not a config key (did you mean lab?)"),
    (["lab.values=[[1.0,0.2],1]"], "lab.values[1]: Invalid value assigned"),
    (["lab=../read"], "there is no lab named '../read'; choose one of: additive_vs_dot, attention_basic,"),
    (["lab=true"], "there is no lab named 'true'"),
    (["lab=null"], "there is no lab named 'null'"),
    (["~lab"], "lab cannot be removed ('~lab')"),
    (["-m", "lab=attention_basic,nosuch"], "there is no lab named 'nosuch'"),
    (["lab=efficient_variants", "lab.n=1000000"], "lab.n = 1000000 is too large for this lab: at most 128"),
    (["lab=multihead_cost", "lab.d_model=1000000"], "multihead_cost with lab.d_model = 1000000, lab.heads = 8 needs"),
    (["lab=scaling", "lab.n_keys=1000000"], "scaling with lab.trials = 200, lab.n_keys = 1000000 needs about"),
    (["lab=paper_lab", "lab.d=1000000"], "lab.d = 1000000 is too large for this lab: at most 512"),
    (["lab=multihead", "lab.heads=1000000"], "lab.heads = 1000000 is too large for this lab: at most 4"),
]


HOSTILE_CASES = [  # (name, module, command line, what the one line must contain): one per class of a hostile battery
    ("unclosed list", reproduce, ["lab.query=[1,"], "cannot read the override 'lab.query=[1,'"),
    ("no equals", reproduce, ["lab.query"], "cannot read the override 'lab.query': missing EQUAL"),
    ("double dot", reproduce, ["lab..query=1"], "cannot read the override 'lab..query=1'"),
    ("index in key", reproduce, ["lab.query[0]=5"], "cannot read the override"),
    ("carriage return", reproduce, ["lab.d_k=1\r"], "cannot read the override 'lab.d_k=1\\r'"),
    ("escape byte", reproduce, ["lab.d_k=\x1b[31mred"], "'lab.d_k=\\x1b[31mred'"),
    ("zero-width space", reproduce, ["lab.d_k=\u200b1"], "cannot read the override 'lab.d_k=\\u200b1'"),
    ("5001 digits", reproduce, ["lab.d_k=" + "1" * 5001], "an integer has more than 4300 digits"),
    ("3000 deep", reproduce, ["lab.query=" + "[" * 3000 + "]" * 3000], "it is nested too deeply"),
    ("200 deep", reproduce, ["lab.query=" + "[" * 200 + "]" * 200], "its value is nested more than 4 deep"),
    ("list by a name", reproduce, ["lab.query.x=1"], "an override's key goes into a list by the name 'x'"),
    ("underflow", reproduce, ["lab.query=[1e-400,1]"], "lab.query: 1e-400 is too small to be a float64"),
    ("underflow weight", reproduce, ["lab=vector_mixture", "lab.weights=[1e-400,0.5,0.5]"], "1e-400 is too small"),
    ("huge d_k", reproduce, [f"lab.d_k={10**100}"], "lab.d_k = 1.00e+100 is too large: a lab's counts and sizes"),
    ("huge offset", reproduce, ["lab=positional_encoding", f"lab.offsets=[{10**99}]"], "lab.offsets[1] = 1.00e+99"),
    ("deprecated", reproduce, ["lab.d_k=${oc.deprecated:lab.query}"], "lab.d_k: While dereferencing"),
    ("--cfg nosuch", reproduce, ["--cfg", "nosuch"], "argument --cfg/-c: invalid choice: 'nosuch'"),
    ("--nosuch", reproduce, ["--nosuch"], "unrecognized arguments: --nosuch; see --help"),
    ("--info value", reproduce, ["--info", "lab=attention_basic"], "argument --info/-i: invalid choice"),
    ("--config-dir", reproduce, ["--config-dir", "/nonexistent"], "--config-dir '/nonexistent': no such folder"),
    ("--experimental-rerun", reproduce, ["--experimental-rerun", "/nonexistent"], "no such file"),
    ("--shell-completion", reproduce, ["--shell-completion"], "--shell-completion needs one of install=bash"),
    ("--resolve alone", reproduce, ["--resolve", "lab=masking"], "--resolve shows a config resolved, so it goes with"),
    ("sweeper params", reproduce, ["-m", "hydra.sweeper.params={lab:'masking,scaling'}"],
     "an override could not be applied to the config (AttributeError"),
    ("sweeper params key", reproduce, ["-m", "hydra.sweeper.params.lab='masking,scaling'"],
     "an override could not be applied to the config"),
    ("callback removed", reproduce, ["~hydra.callbacks.output_folders", "hydra.run.dir=README.md"],
     "hydra.callbacks.output_folders cannot be changed"),
    ("bad callback", reproduce, ["+hydra.callbacks.evil._target_=nosuch.X"], "cannot be changed"),
    ("output_subdir", reproduce, ["hydra.output_subdir=.hydra", "lab.d_k=0"], "hydra.output_subdir cannot be changed"),
    ("job_logging", reproduce, ["hydra/job_logging=default", "lab.d_k=0"], "hydra/job_logging cannot be changed"),
    ("+hydra.foo", reproduce, ["+hydra.foo=1"], "hydra.foo is not a Hydra setting"),
    ("run dir in /proc", reproduce, ["hydra.run.dir=/proc/nosuch"], "hydra.run.dir = /proc/nosuch: cannot make"),
    ("run dir name too long", reproduce, ["hydra.run.dir=reports/" + "y" * 300], "(File name too long)"),
    ("another lab's report", reproduce, ["hydra.run.dir=reports/masking"], "holds the report of lab masking"),
    ("sweep into a report", reproduce, ["-m", "lab.d_k=1,2", "hydra.sweep.dir=reports/masking"],
     "holds files that are not a vecmix sweep"),
    ("sweep subdir outside", reproduce, ["-m", "lab.d_k=1,2", "hydra.sweep.subdir=../x${hydra.job.num}"],
     "hydra.sweep.subdir = '../x${hydra.job.num}' must name a folder inside hydra.sweep.dir"),
    ("sweep subdir shared", reproduce, ["-m", "lab.d_k=1,2", "hydra.sweep.subdir=README.md"],
     "differs from job to job"),
    ("sweep job unreadable", reproduce, ["-m", "lab.d_k=1,abc"], "lab.d_k: Value 'abc'"),
    ("n_jobs=0", reproduce, ["-m", "lab.d_k=1,2", "hydra/launcher=joblib", "hydra.launcher.n_jobs=0"],
     "hydra.launcher.n_jobs = 0 runs no job"),
    ("paper name a path", read, ["paper.name=../../escape"], "paper.name = '../../escape' must be a bare name"),
    ("paper name empty", read, ["paper.name=''"], "paper.name = '' must be a bare name"),
    ("claim lab a path", read, ["paper.claims=[{section:1,statement:x,lab:../../x}]"], "paper.claims[0].lab"),
    ("claim missing fields", read, ["paper.claims=[{lab:masking}]"], "paper.claims[0].section: Missing mandatory"),
    ("~lab.key", reproduce, ["~lab.query"], "lab.query cannot be removed: a lab's keys are fixed by its schema"),
    ("~lab.optional", reproduce, ["lab=paper_lab", "~lab.d_k"], "lab.d_k cannot be removed"),
    ("flat matrix", reproduce, ["lab.keys=[1,0]"], "lab.keys: Invalid value assigned: int is not a list."),
    ("17 pairs", reproduce, ["lab.keys=[" + ",".join(["[1,0]"] * 17) + "]", "lab.values=[" + ",".join(["[1]"] * 17)
                             + "]"], "lab.keys and lab.values have 17 pairs, more than this lab takes: at most 16"),
    ("25 tokens", reproduce, ["lab=masking", "lab.tokens=[" + ",".join(f"t{i}" for i in range(25)) + "]",
                              "lab.embeddings=[" + ",".join(["[1,0]"] * 25) + "]", "lab.valid_length=3"],
     "lab.embeddings has 25 tokens, more than this lab takes: at most 24"),
    ("paper_lab m=9", reproduce, ["lab=paper_lab", "lab.m=9"], "lab.m = 9 is too large for this lab: at most 8"),
    ("+paper.x", read, ["+paper.x=1"], "paper.x is not a config key"),
    ("read into a report", read, ["hydra.run.dir=reports/masking"], "holds files that are not reading reports"),
    ("read into the code", read, ["hydra.run.dir=labs"], "hydra.run.dir = labs"),
    ("read beside a report", read, ["hydra.run.dir=reports/masking/x"], "is not a report gallery"),
    ("read into the cwd", read, ["hydra.run.dir=."], "hydra.run.dir = . holds files that are not reading reports"),
    ("timed size too large", reproduce, ["lab=cost_per_layer", "lab.measure=true", "lab.ns=[64,100000]"],
     "lab.ns[1] = 100000 is too large for this lab: at most 8192"),
    ("efficient d too large", reproduce, ["lab=efficient_variants", "lab.d=1024"], "lab.d = 1024 is too large"),
    ("claim check a list", read, ["paper=attention_is_not_only_a_weight", "paper.claims.0.checks=[[decomposition]]"],
     "paper.claims[0].checks[0] = ['decomposition'] must be a claim id"),
    ("claim lab unknown", read, ["paper.claims.0.lab=maskng"], "paper.claims[0].lab = 'maskng' is not a lab (did you "
                                                                "mean masking?)"),
    ("reproduced_by unknown", read, ["paper.reproduced_by=nope"], "paper.reproduced_by = 'nope' is not a lab"),
    ("claim key added", read, ["+paper.claims.0.extra=1"], "paper.claims[0].extra is not a config key"),
    ("no claims", read, ["paper.claims=[]"], "paper.claims is empty"),
    ("equation key added", read, ["+paper.equations.0.latex=x"], "paper.equations[0].latex is not a config key"),
    ("empty architecture value", read, ["paper.architecture.0.value=''"], "paper.architecture[0].value is empty"),
    ("training row missing", read, ["paper.training=[{item:x}]"], "paper.training[0].section: Missing mandatory"),
    ("empty limit", read, ["paper.limits=['']"], "paper.limits[0] is empty"),
    ("line break in a name", read, ["paper.equations=[{section:'1',name:'a\nb',tex:x}]"],
     "paper.equations[0].name holds a line break"),
    ("limit not text", read, ["paper.limits=[[a]]"], "paper.limits[0] = ['a'] must be a sentence of text"),
    ("unportable tex", read, ["paper.equations=[{section:'1',name:x,tex:'a $ b'}]"],
     "the reading report of attention_is_all_you_need cannot be rendered: '$' cannot appear inside math"),
    ("empty statement", read, ["paper.claims.0.statement=''"], "paper.claims[0].statement is empty"),
    ("lab and reason", read, ["+paper.claims.0.not_reproduced=data"], "paper.claims[0] needs exactly one of lab"),
    ("typed [SEP]", reproduce, ["lab=norm_analysis", "lab.sentences=['a [SEP] b, c.']"],
     "lab.sentences[0] contains [SEP], which the tokenizer reads as the special token"),
    ("no punctuation", reproduce, ["lab=norm_analysis", "lab.sentences=['i love sushi']"],
     "lab.sentences hold no punctuation token"),
    ("layer twice", reproduce, ["lab=norm_analysis", "lab.layers=[2,2]"], "lab.layers names layer 2 twice"),
    ("17 sentences", reproduce, ["lab=pretrained_heads", "lab.sentences=[" + ",".join(["a b."] * 17) + "]"],
     "lab.sentences has 17 sentences; at most 16"),
    ("head 13", reproduce, ["lab=pretrained_heads", "lab.head=13"], "lab.head = 13 is too large for this lab"),
]


@pytest.mark.parametrize("module, args, expected", [c[1:] for c in HOSTILE_CASES], ids=[c[0] for c in HOSTILE_CASES])
def test_hostile_commands_are_one_line_and_lose_nothing(scratch, module, args, expected):
    line = refused(args, scratch, module)
    assert expected in line, line
    assert line.isprintable() and len(line) < 600, line


def test_labs_read_runs_a_lab_that_has_no_report_yet(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "reports", tmp_path / "reports", ignore=shutil.ignore_patterns("multirun", "site"))
    shutil.rmtree(tmp_path / "reports" / "masking")
    monkeypatch.chdir(tmp_path)
    code, err, out = command(module=read)
    assert code in (0, None), err
    assert (tmp_path / "reports" / "masking" / "report.md").exists()
    assert "reading report: reports/papers/attention_is_all_you_need.md" in out


def test_labs_read_names_a_broken_results_file(scratch):
    folder, _ = scratch
    results = folder / "reports" / "masking" / "results.json"
    saved = results.read_bytes()
    results.write_text("{")
    try:
        line = refused([], (folder, snapshot(folder)), read)
        assert line.startswith(f"{results} is not a vecmix run's file (JSONDecodeError"), line
    finally:
        results.write_bytes(saved)


def test_hydra_job_chdir_is_honoured(scratch, tmp_path):
    code, err, _ = command(f"hydra.run.dir={tmp_path / 'run'}", "hydra.job.chdir=true")
    assert code in (0, None), err
    assert (tmp_path / "run" / "report.md").exists()


@pytest.mark.parametrize("args, expected", ISSUE_CASES, ids=[" ".join(a) for a, _ in ISSUE_CASES])
def test_each_reported_case_is_one_line_and_loses_nothing(scratch, args, expected):
    line = refused(args, scratch)
    assert line.startswith(expected), line


def test_a_refused_run_removes_the_folders_hydra_made_for_it(scratch):
    refused(["lab.d_k=0", "hydra.run.dir=new/deeper/run"], scratch)
    assert not Path("new").exists()


def test_reading_reports_fail_kindly_too(scratch):
    assert refused(["paper=../lab/attention_basic"], scratch, module=read).startswith(
        "there is no paper named '../lab/attention_basic'; choose one of: attention_is_all_you_need")
    assert refused(["paper=nosuch", "hydra.run.dir=README.md"], scratch, module=read).startswith(
        "there is no paper named 'nosuch'")


def test_a_folder_that_cannot_be_written_is_named(scratch, monkeypatch):
    """A read-only reports/ (simulated: root may write anywhere) gives one line, for both commands."""
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "reports")

    monkeypatch.setattr("labs.report.writer.tempfile.mkdtemp", denied)
    monkeypatch.setattr("labs.report.writer.tempfile.mkstemp", denied)
    assert "Permission denied" in refused(["lab=masking"], scratch)
    assert "Permission denied" in refused([], scratch, module=read)
    monkeypatch.undo()
    monkeypatch.setattr("labs.report.folders.os.access", lambda *a: False)
    assert "cannot write to" in refused(["lab=masking", "hydra.run.dir=elsewhere/x"], scratch)


def test_a_killed_writer_s_leftovers_are_removed_by_the_next_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dead = 2**22 + 12345  # above Linux's default pid_max: no such process
    (tmp_path / "reports" / f".masking.{dead}.abc.new" / "figures").mkdir(parents=True)
    (tmp_path / "reports" / f".masking.{os.getpid()}.xyz.new").mkdir()  # a writer still alive: kept
    code, err, _ = command("lab=masking")
    assert code == 0, err
    assert not (tmp_path / "reports" / f".masking.{dead}.abc.new").exists()
    assert (tmp_path / "reports" / f".masking.{os.getpid()}.xyz.new").exists()


def test_a_sweep_runs_every_job_and_lists_the_failures(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, err, _ = command("-m", "lab=attention_basic", "lab.d_k=1,0,2", "hydra.sweep.dir=sweep")
    assert code == 2
    assert err.splitlines() == ["error: job 1_attention_basic (lab=attention_basic lab.d_k=0): lab.d_k = 0 must be "
                                "a positive integer",
                                f"error: 1 of 3 jobs failed; see {Path('sweep') / 'summary.md'}"]
    sweep = tmp_path / "sweep"
    assert (sweep / "0_attention_basic" / "report.md").exists() and (sweep / "2_attention_basic" / "report.md").exists()
    text = (sweep / "summary.md").read_text()
    assert "3 jobs; 1 with every claim reproduced; 1 failed." in text
    assert "| 1_attention_basic | attention_basic | 0 | failed |" in text
    assert "- `1_attention_basic`: lab.d_k = 0 must be a positive integer" in text
    import pandas as pd

    claims = pd.read_csv(sweep / "summary.csv")
    assert claims.loc[claims["verdict"] == "failed", "run"].tolist() == ["1_attention_basic"]
    assert set(claims.loc[claims["verdict"] != "failed", "lab.d_k"]) == {1, 2}


# ---------------------------------------------------------------------------------------------------------------
# One case per lab for every config key: the wrong type, empty, huge, out of range.

def _kind(annotation):
    """'list' for list-valued keys, else 'int', 'bool', 'str' or 'number' (typed Any: a number the lab reads)."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    base = args[0] if typing.get_origin(annotation) is typing.Union else annotation
    if typing.get_origin(base) in (list, typing.List):
        return "list"
    return {int: "int", bool: "bool", str: "str"}.get(base, "number")


BAD = {  # kind: {what: override value}
    "list": {"wrong type": "abc", "empty": "[]", "huge": "[[['1e400']]]", "out of range": "[[[[1]]]]"},
    "int": {"wrong type": "[1]", "empty": "''", "huge": str(10**400), "out of range": "-1"},
    "bool": {"wrong type": "[1]", "empty": "''", "huge": str(10**400), "out of range": "2"},
    "str": {"wrong type": "[1]", "empty": "''", "huge": "x" * 10_000, "out of range": "nosuch"},
    "number": {"wrong type": "[1]", "empty": "''", "huge": "'1e400'", "out of range": "abc"},
}


def _key_cases():
    for lab, module in LABS.items():
        for field in dataclasses.fields(module.Config):
            if field.name == "name":
                continue
            for what, value in BAD[_kind(field.type)].items():
                yield pytest.param(lab, field.name, value, id=f"{lab}.{field.name}-{what}")


@pytest.mark.parametrize("lab, key, value", list(_key_cases()))
def test_every_key_of_every_lab_refuses_bad_values(scratch, lab, key, value):
    line = refused([f"lab={lab}", f"lab.{key}={value}"], scratch)
    assert f"lab.{key}" in line, line


def test_long_loops_show_progress_on_a_terminal_only(monkeypatch):
    from labs.config import resources

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for stream, shown in ((Terminal(), True), (io.StringIO(), False)):
        monkeypatch.setattr(sys, "stderr", stream)
        monkeypatch.setattr(resources, "PROGRESS_DELAY", 0)
        assert list(resources.progress(range(3), "scaling: saturation curves")) == [0, 1, 2]
        assert ("scaling: saturation curves" in stream.getvalue()) == shown


def test_memory_is_checked_against_what_this_machine_has(monkeypatch):
    from labs.config import resources

    monkeypatch.setattr(resources, "available_memory", lambda: 10**6)
    with pytest.raises(VecmixError, match=r"^scaling with lab.trials = 200, lab.n_keys = 16 needs about 160 MiB of "
                                          r"memory, and this machine has 977 KiB available: lower lab.trials or "
                                          r"lab.n_keys$"):
        LABS["scaling"].run({**reproduce.compose_lab("scaling").lab})


def test_quoted_text_is_text_and_the_recorded_command_is_printable(tmp_path):
    """A sentence may say 1e-400 (the underflow check reads numbers, not text), and a sentence with a right-to-left
    override or an escape byte is recorded in the report as bash's $'...' word, exact and printable."""
    if importlib.util.find_spec("all_minilm_l6_v2") is None:
        pytest.skip("needs the [model] extra")
    sentence = "the value 1e-400 is small \u202e\x1b[31m, indeed."
    code, err, out = command("lab=pretrained_heads", "lab.layer=1", "lab.head=1", f"lab.sentences=['{sentence}']",
                             f"hydra.run.dir={tmp_path / 'r'}")
    assert code in (0, None), err
    report = (tmp_path / "r" / "report.md").read_text()
    line = report.split("```bash\n")[-1].split("\n")[0]
    assert line.isprintable() and "$'lab.sentences=[\\'the value 1e-400 is small \\u202e\\x1b[31m, indeed.\\']'" in line
