"""One line for every mistake a user can make on the command line, with the closest valid name.

:func:`explain` turns the exceptions that bad input raises (Hydra's composition errors,
OmegaConf's validation errors, vecmix's own) into a single line that names the key or
value at fault and what was expected. Anything else is a bug, and keeps its traceback.
"""

import dataclasses
import difflib
import os
import sys

from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from vecmix import VecmixError

from ..report.writer import ReportFolderError

OVERRIDE_GRAMMAR = "https://hydra.cc/docs/1.2/advanced/override_grammar/basic"


def explain(exc):
    """A one-line explanation of a user error, or None when ``exc`` is not one (a bug).

    >>> explain(VecmixError("lab.d_k = 0 must be a positive integer"))
    'lab.d_k = 0 must be a positive integer'
    >>> explain(RuntimeError("a bug")) is None
    True
    """
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
        if isinstance(cause, OmegaConfBaseException) and getattr(cause, "full_key", None):
            return f"{_override_key(str(exc), str(cause.full_key))}: {_first_line(cause.msg)}"
        return _first_line(str(exc))
    if isinstance(exc, OmegaConfBaseException):  # raised while resolving, e.g. an interpolation ${nosuch}
        key = getattr(exc, "full_key", None)
        return f"{key}: {_first_line(exc.msg)}" if key else _first_line(str(exc))
    return None


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


_TRACE = "VECMIX_FULL_ERROR"  # the user's own HYDRA_FULL_ERROR, remembered before run_cli sets it


def check_choices(argv, group, options):
    """Refuse, before Hydra reads any file, an override that cannot choose one of ``options`` for ``group``.

    Hydra would otherwise read ``lab=../read`` as a path, ``lab=true`` as a boolean and ``~lab``
    as a request to run no lab at all; an override with no key (``=1``) is refused here too.

    >>> check_choices(["lab=masking,multihead", "lab.d_k=1"], "lab", ["masking", "multihead"])
    >>> check_choices(["lab=../read"], "lab", ["masking", "multihead"])
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: there is no lab named '../read'; choose one of: masking, multihead
    """
    from hydra._internal.utils import get_args_parser  # the parser @hydra.main itself uses
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import ChoiceSweep, Glob

    try:
        known, unknown = get_args_parser().parse_known_args(argv)
    except SystemExit:  # a malformed flag: Hydra's own parser reports it
        return
    for text in [*known.overrides, *(u for u in unknown if not u.startswith("-"))]:
        override = OverridesParser.create().parse_override(text)  # an unreadable one: OverrideParseException
        if not override.key_or_group:
            raise VecmixError(f"cannot read the override {text!r}: it has no key before '=' "
                              f"(grammar: {OVERRIDE_GRAMMAR})")
        if override.key_or_group != group:
            continue
        if override.is_delete():
            raise VecmixError(f"{group} cannot be removed ({text!r}): choose one with {group}=<name>, one of: "
                              f"{', '.join(options)}")
        value = override.value()
        if isinstance(value, Glob):
            if not value.filter(list(options)):
                raise VecmixError(f"{text!r} matches no {group}; choose from: {', '.join(options)}")
            continue
        names = value.list if isinstance(value, ChoiceSweep) else [value]
        for name in names:
            if not isinstance(name, str) or name not in options:
                shown = name if isinstance(name, str) else text.split("=", 1)[1]
                raise VecmixError(f"there is no {group} named {shown!r}{suggest(str(shown), list(options))}; "
                                  f"choose one of: {', '.join(options)}")


def run_cli(main, group=None, options=()):
    """Run a Hydra main function with one line (and exit status 2) for every user error.

    Hydra is asked to raise instead of printing its own multi-line report, so that
    :func:`explain` can word the error; a bug keeps its traceback, and HYDRA_FULL_ERROR=1
    set by the user shows the full trace for everything. When ``group`` is given, the
    command line's choices for it are checked first (:func:`check_choices`).
    """
    os.environ.setdefault(_TRACE, os.environ.get("HYDRA_FULL_ERROR", "0"))
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        if group is not None:
            check_choices(sys.argv[1:], group, options)
        main()
    except Exception as exc:
        exit_if_user_error(exc)
        raise


def exit_if_user_error(exc):
    """Print one line and exit with status 2 when exc is a user error (unless full traces were asked for)."""
    line = explain(exc)
    if line is not None and os.environ.get(_TRACE) != "1":
        print(f"error: {line}", file=sys.stderr)
        sys.exit(2)
