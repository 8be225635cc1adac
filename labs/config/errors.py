"""One line for every mistake a user can make on the command line, with the closest valid name.

:func:`explain` turns the exceptions that bad input raises (Hydra's composition errors,
OmegaConf's validation errors, vecmix's own) into a single line that names the key or
value at fault and what was expected. Anything else is a bug, and keeps its traceback.
"""

import dataclasses
import difflib
import os
import re
import sys

from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from vecmix import VecmixError

from ..report.writer import ReportFolderError

OVERRIDE_GRAMMAR = "https://hydra.cc/docs/1.2/advanced/override_grammar/basic"


def explain(exc):
    """A one-line explanation of a user error, or None when ``exc`` is not one (a bug); safe to print
    (:func:`printable`).

    >>> explain(VecmixError("lab.d_k = 0 must be a positive integer"))
    'lab.d_k = 0 must be a positive integer'
    >>> explain(RuntimeError("a bug")) is None
    True
    """
    line = _explain(exc)
    return None if line is None else printable(line)


def _explain(exc):
    if isinstance(exc, (VecmixError, ReportFolderError)):
        return _first_line(str(exc))
    if isinstance(exc, MemoryError):  # an estimate that fell short: still the user's sizes, not a bug
        return "this machine ran out of memory running the lab: choose smaller sizes"
    if isinstance(exc, MissingConfigException) and exc.options is not None:
        group, _, name = (exc.missing_cfg_file or "").rpartition("/")
        options = sorted(exc.options)
        return (f"there is no {group or 'config'} named '{name}'{suggest(name, options)}; "
                f"choose one of: {', '.join(options)}")
    if isinstance(exc, OverrideParseException):
        return f"cannot read an override: {_first_line(str(exc))} (grammar: {OVERRIDE_GRAMMAR})"
    if isinstance(exc, ConfigCompositionException):
        cause = exc.__cause__
        if isinstance(cause, (ConfigAttributeError, ConfigKeyError)) and cause.full_key:
            parent, _, key = cause.full_key.rpartition(".")
            valid = [f.name for f in dataclasses.fields(cause.object_type)] if dataclasses.is_dataclass(
                cause.object_type) else []
            where = f"{parent}." if parent else ""
            return (f"{cause.full_key} is not a config key{suggest(key, valid, where)}; the keys "
                    f"{'of ' + parent + ' ' if parent else ''}are: {', '.join(where + v for v in valid)}")
        if isinstance(cause, OmegaConfBaseException) and str(exc).startswith("Error merging override "):
            key = _override_key(str(exc), str(getattr(cause, "full_key", "") or ""))
            return f"{key}: {_plain(_first_line(cause.msg))}"
        return _first_line(str(exc))
    if isinstance(exc, ValueError) and "int()" in str(exc) and _raised_in(exc, "omegaconf"):
        word = str(exc).rsplit(":", 1)[-1].strip()  # OmegaConf.update going through a list by a word: lab.query.x=1
        return (f"an override's key goes into a list by the name {word}; a list's items are numbered from 0, "
                "and a lab's lists are set whole, e.g. lab.query=[1,0]")
    if _raised_through(exc, "_apply_overrides_to_config"):  # OmegaConf stumbling on an override, past Hydra's wording
        return (f"an override could not be applied to the config ({type(exc).__name__}: {_first_line(str(exc))}); "
                "a sweep is written on the command line: -m <key>=a,b")
    if isinstance(exc, OmegaConfBaseException):  # raised while resolving, e.g. an interpolation ${nosuch}
        key = getattr(exc, "full_key", None)
        return f"{key}: {_first_line(exc.msg)}" if key else _first_line(str(exc))
    return None


def _plain(message):
    """OmegaConf's wording without its class names.

    >>> _plain("Invalid value assigned: int is not a ListConfig, list or tuple.")
    'Invalid value assigned: int is not a list.'
    """
    return message.replace("a ListConfig, list or tuple", "a list").replace("DictConfig", "mapping")


def _raised_in(exc, package):
    """Whether the innermost frame of ``exc``'s traceback is in ``package``'s code."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and f"{os.sep}{package}{os.sep}" in tb.tb_frame.f_code.co_filename


def _raised_through(exc, function):
    """Whether a function of that name is on ``exc``'s traceback (or on that of the exception it came from)."""
    while exc is not None:
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_name == function:
                return True
            tb = tb.tb_next
        exc = exc.__cause__ or exc.__context__
    return False


def _override_key(message, full_key):
    """The key an error names, prefixed with the override's own key when OmegaConf gave only a list index.

    >>> _override_key("Error merging override lab.values=[[1.0,0.2],1]", "1")
    'lab.values[1]'
    >>> _override_key("Error merging override lab.d_k=[1]", "lab.d_k")
    'lab.d_k'
    """
    prefix = "Error merging override "
    if not message.startswith(prefix):
        return full_key
    key = message[len(prefix):].split("=", 1)[0].lstrip("+~")
    if not full_key:
        return key
    if full_key == key or full_key.startswith((key + ".", key + "[")):
        return full_key
    return f"{key}[{full_key}]" if full_key.isdigit() else f"{key}.{full_key}"


def suggest(name, valid, prefix=""):
    """' (did you mean X?)' for the closest valid name, or '' when none is close.

    >>> suggest("d_kk", ["query", "keys", "values", "d_k"], "lab.")
    ' (did you mean lab.d_k?)'
    >>> suggest("zzz", ["query"])
    ''
    """
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
    return f" (did you mean {prefix}{close[0]}?)" if close else ""


def _first_line(text):
    return text.strip().splitlines()[0] if text.strip() else text


TRACE = "VECMIX_FULL_ERROR"  # the user's own HYDRA_FULL_ERROR, remembered before run_cli sets it


PROTECTED = {  # Hydra settings that would write into, or stop checking, the report folder
    "hydra.callbacks": "vecmix's own callback checks the config and the output folder before Hydra makes it",
    "hydra.output_subdir": "the report folder's .hydra/ is written by vecmix with the report, all at once",
    "hydra.job_logging": "Hydra's log file would be written into the report folder, which holds only the report",
    "hydra.hydra_logging": "Hydra's log file would be written into the report folder, which holds only the report",
}
_UNDERFLOW = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+(?![\w.])")
_DEEPEST = 4  # no lab takes a value nested deeper than a list of matrices


def _depth(value):
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
    return 0 if items is None else 1 + max(map(_depth, items), default=0)


def _parse(text):
    """One override, parsed by Hydra's own grammar; anything it cannot read gets one line naming it."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    try:
        override = OverridesParser.create().parse_override(text)
        too_deep = _depth(override.value()) > _DEEPEST
    except (HydraException, ValueError, RecursionError) as exc:
        reason = ("it is nested too deeply" if isinstance(exc, RecursionError) else
                  "an integer has more than 4300 digits" if "4300" in str(exc) else _first_line(str(exc)))
        raise VecmixError(f"cannot read the override {text!r}: {reason} (grammar: {OVERRIDE_GRAMMAR})") from None
    if too_deep:
        raise VecmixError(f"cannot use the override {text!r}: its value is nested more than {_DEEPEST} deep, "
                          "and no lab takes a value deeper than a list of matrices")
    return override


def _check_numbers(text, key):
    """Refuse a number literal that float64 reads as 0 although it is not 0 (1e-400): it would change silently."""
    value = re.sub(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", "", text.split("=", 1)[1] if "=" in text else "")
    for literal in _UNDERFLOW.findall(value):  # quoted strings are text (a sentence may say 1e-400)
        if float(literal) == 0 and re.search(r"[1-9]", literal.lower().split("e")[0]):
            raise VecmixError(f"{key}: {literal} is too small to be a float64 and would read as 0; write 0, or "
                              "a number of size at least 1e-100")


def check_flags(argv):
    """Check Hydra's command-line flags as Hydra's own parser does, with one line for a bad one.

    >>> check_flags(["--cfg", "nosuch"])
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: argument --cfg/-c: invalid choice: 'nosuch' (choose from 'job', 'hydra', 'all'); see --help
    """
    from hydra._internal.utils import get_args_parser  # the parser @hydra.main itself uses

    parser = get_args_parser()

    def fail(message):
        raise VecmixError(f"{message}; see --help")

    parser.error = fail
    args = parser.parse_args(argv)
    for flag, path, kind in [("--config-dir", args.config_dir, "folder"), ("--config-path", args.config_path, "folder"),
                             ("--experimental-rerun", args.experimental_rerun, "file")]:
        if path is not None and not (os.path.isdir(path) if kind == "folder" else os.path.isfile(path)):
            raise VecmixError(f"{flag} {path!r}: no such {kind}")
    if args.resolve and not (args.cfg or args.help):
        raise VecmixError("--resolve shows a config resolved, so it goes with --cfg or --help; see --help")
    commands = [o.split("=", 1)[0] for o in args.overrides if o.split("=", 1)[0] in ("install", "uninstall", "query")]
    if args.shell_completion and len(commands) != 1:
        raise VecmixError("--shell-completion needs one of install=bash, uninstall=bash or query='...'; see "
                          "https://hydra.cc/docs/tutorials/basic/running_your_app/tab_completion")
    return args


def check_choices(argv, group, options):
    """Refuse, before Hydra reads any file, a command line that Hydra would stumble on or that cannot choose
    one of ``options`` for ``group``.

    Every flag and override is parsed here with Hydra's own parser, so that an unreadable
    one gets one line; Hydra would read ``lab=../read`` as a path, ``lab=true`` as a
    boolean and ``~lab`` as a request to run no lab at all; an override with no key
    (``=1``), a number that float64 reads as 0 (``1e-400``) and a change to the Hydra
    settings in :data:`PROTECTED` are refused here too.

    Return Hydra's parsed arguments and the options the command line chooses for
    ``group`` (None when it chooses none, and the config's default applies).

    >>> check_choices(["lab=masking,multihead", "lab.d_k=1"], "lab", ["masking", "multihead"])[1]
    ['masking', 'multihead']
    >>> check_choices(["lab=../read"], "lab", ["masking", "multihead"])
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: there is no lab named '../read'; choose one of: masking, multihead
    """
    from hydra.core.override_parser.types import ChoiceSweep, Glob

    args, chosen = check_flags(argv), None
    for text in args.overrides:
        override = _parse(text)
        key = override.key_or_group
        if not key:
            raise VecmixError(f"cannot read the override {text!r}: it has no key before '=' "
                              f"(grammar: {OVERRIDE_GRAMMAR})")
        setting = key.replace("/", ".")
        for protected, reason in PROTECTED.items():
            if setting == protected or setting.startswith(protected + "."):
                raise VecmixError(f"{key} cannot be changed: {reason}")
        _check_numbers(text, key)
        if override.is_delete() and key.startswith(group + "."):
            raise VecmixError(f"{key} cannot be removed: a {group}'s keys are fixed by its schema; give it a value "
                              f"instead ({key}=...)")
        if key != group:
            continue
        if override.is_delete():
            raise VecmixError(f"{group} cannot be removed ({text!r}): choose one with {group}=<name>, one of: "
                              f"{', '.join(options)}")
        value = override.value()
        if isinstance(value, Glob):
            names = value.filter(list(options))
            if not names:
                raise VecmixError(f"{text!r} matches no {group}; choose from: {', '.join(options)}")
        else:
            names = value.list if isinstance(value, ChoiceSweep) else [value]
        for name in names:
            if not isinstance(name, str) or name not in options:
                shown_name = name if isinstance(name, str) else text.split("=", 1)[1]
                raise VecmixError(f"there is no {group} named {shown_name!r}"
                                  f"{suggest(str(shown_name), list(options))}; choose one of: {', '.join(options)}")
        chosen = [*(chosen or []), *(name for name in names if name not in (chosen or []))]
    return args, chosen


def exit_if_user_error(exc):
    """Print one line and exit with status 2 when exc is a user error (unless full traces were asked for).

    Called when a run fails: the folders that it made are removed first, if still empty."""
    from ..report.folders import discard_created

    discard_created()
    line = explain(exc)
    if line is not None and os.environ.get(TRACE) != "1":
        print(f"error: {line}", file=sys.stderr)
        sys.exit(2)


def printable(line):
    """A message safe to print: control characters escaped, digit strings over 40 digits and words (paths) over
    120 characters shortened.

    >>> print(printable("lab.d_k = " + "1" * 60 + " is too large; \\x1b[31m"))
    lab.d_k = 111111111111…111111 (60 digits) is too large; \\x1b[31m
    """
    line = "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)
    line = re.sub(r"\d{41,}", lambda m: f"{m[0][:12]}…{m[0][-6:]} ({len(m[0])} digits)", line)
    return re.sub(r"[^\s'\"]{121,}", lambda m: f"{m[0][:60]}…{m[0][-20:]} ({len(m[0])} characters)", line)
