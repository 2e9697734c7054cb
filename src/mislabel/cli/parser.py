"""The `mislabel` argument parser, built from the command modules (`mislabel.cli.commands`).

Each command module holds its whole command: `SUMMARY`, `EPILOG`, `add_options(parser)`,
`run(args, log)` and, where an option was renamed, `RENAMED`. Building the parser imports
no JAX: defaults come from `mislabel.settings` and `mislabel.cli.options`, names from
`mislabel.registry`, and each command imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence

from mislabel import __version__
from mislabel.cli.commands import (
    evaluate,
    fetch,
    find_issues,
    noise,
    pack,
    repair,
    repair_head,
    score,
    train,
    unlearn,
)
from mislabel.cli.help_text import DESCRIPTION, EPILOG, HelpFormatter, renamed_note

# name: module, in pipeline order
COMMANDS = {
    "fetch": fetch,
    "noise": noise,
    "pack": pack,
    "train": train,
    "score": score,
    "unlearn": unlearn,
    "evaluate": evaluate,
    "repair": repair,
    "repair-head": repair_head,
    "find-issues": find_issues,
}
# Old option names still accepted (with a note on stderr), per command.
RENAMED = {name: module.RENAMED for name, module in COMMANDS.items() if hasattr(module, "RENAMED")}


class Parser(argparse.ArgumentParser):
    """An ArgumentParser that takes renamed options under their old names too.

    `renamed` maps an old option (``--rtol``) to its new name (``--pinv-rtol``): the old
    one is rewritten to the new one before parsing, with a one-line note on stderr.
    """

    def __init__(self, *args, renamed: Mapping[str, str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.renamed = dict(renamed or {})

    def error(self, message: str):
        """A usage error in one line (and where to read more), exit status 2."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def parse_known_args(self, args: Sequence[str] | None = None, namespace=None):
        if args is not None and self.renamed:
            args = self._new_names(list(args))
        return super().parse_known_args(args, namespace)

    def _new_names(self, args: list[str]) -> list[str]:
        out, noted = [], set()
        for i, arg in enumerate(args):
            if arg == "--":  # the rest are values
                return out + args[i:]
            old, eq, value = arg.partition("=")
            new = self.renamed.get(old)
            if new is None:
                out.append(arg)
                continue
            if old not in noted:
                noted.add(old)
                print(
                    f"{self.prog}: {old} is deprecated, use {new} "
                    "(the old name goes in the next release)",
                    file=sys.stderr,
                    flush=True,
                )
            out.append(new + eq + value)
        return out


def build_parser() -> argparse.ArgumentParser:
    """The `mislabel` argument parser with one subparser per command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--json", action="store_true", help="print the command's result as JSON on stdout"
    )
    common.add_argument("-q", "--quiet", action="store_true", help="no progress messages on stderr")

    parser = Parser(
        prog="mislabel",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, command in COMMANDS.items():
        renamed = RENAMED.get(name, {})
        epilog = command.EPILOG
        p = sub.add_parser(
            name,
            help=command.SUMMARY,
            description=command.SUMMARY[0].upper() + command.SUMMARY[1:] + ".",
            epilog=f"{epilog}\n\n{renamed_note(renamed)}" if renamed else epilog,
            formatter_class=HelpFormatter,
            parents=[common],
            renamed=renamed,
        )
        command.add_options(p)
        p.set_defaults(handler=command.run)
    return parser
