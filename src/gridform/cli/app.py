"""The ``gridform`` command line: thin commands over the library.

Every command validates its inputs before it writes anything; bad input prints
``gridform: error: ...`` and exits with code 2, leaving existing files untouched.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence

from gridform.core.errors import UsageError
from gridform.core.io import write_json

__all__ = ["main", "write_json"]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gridform")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


class _DefaultsFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default, unless the help already names it (or
    the option has none worth saying: a flag, or None)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default  # by identity: a default of 0 is worth saying, False not
        if ("default" in text.lower() or not action.option_strings
                or default is None or default is False or default is argparse.SUPPRESS
                or isinstance(action, argparse._HelpAction | argparse._VersionAction)):
            return text
        return f"{text} (default: %(default)s)"


class _Parser(argparse.ArgumentParser):
    """argparse's parser with :class:`_DefaultsFormatter`, for every subcommand too (the
    subparsers are made of the parent's class)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _DefaultsFormatter)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command; each group of commands adds itself."""
    parser = _Parser(
        prog="gridform",
        description="Grid cells through the lens of pattern formation (Sorscher et al. 2019): "
                    "theory, pattern-forming dynamics, trained networks and their analysis.")
    parser.add_argument("--version", action="version", version=f"gridform {_version()}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of any error")
    parser.add_argument("--no-compile-cache", action="store_true",
                        help="compile every program afresh instead of reusing JAX's "
                             "persistent cache (default: on, in $GRIDFORM_CACHE or "
                             "~/.cache/gridform/jax)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    from gridform.cli.reproduce import add_reproduce_commands
    from gridform.cli.sweep import add_sweep_commands
    from gridform.cli.theory import add_theory_commands

    add_theory_commands(sub)
    add_reproduce_commands(sub)
    add_sweep_commands(sub)

    from gridform.cli.attractor import add_attractor_command
    from gridform.cli.data import add_data_commands
    from gridform.cli.topology import add_topology_command
    from gridform.cli.training import add_training_commands

    add_topology_command(sub)
    add_attractor_command(sub)
    add_training_commands(sub)
    add_data_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from gridform.data.extras import MissingExtraError

    parser = build_parser()
    args = parser.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")  # the commands only write files; no window ever opens
    if args.no_compile_cache:
        from gridform.core import compile_cache

        compile_cache.disable()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            code = int(args.func(args) or 0)
            sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
            return code
    except BrokenPipeError:  # the reader went away (gridform theory --json | head): quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except (UsageError, ValueError, FileNotFoundError, FloatingPointError, OSError,
            MissingExtraError) as err:
        # bad input: options, files, data (ValueError is the library's bad-argument error)
        if args.debug:
            raise
        print(f"gridform: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:  # training says where its checkpoint is
        print(f"gridform: interrupted{': ' + str(err) if str(err) else ''}", file=sys.stderr)
        return 130
    except Exception as err:  # anything else is a bug: say so, never as a usage error
        if args.debug:
            raise
        print(f"gridform: internal error: {type(err).__name__}: {err}\n"
              "  this is a bug in gridform, not a problem with the input; rerun with "
              "--debug for the traceback and report it", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
