"""Options renamed without breaking anyone's scripts: the old names still parse, for one
release, with a one-line note on stderr (`Parser`); `RENAMED` lists them per command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence

# Old option names, still accepted (with a note on stderr) until the next release.
RENAMED = {command: {"--rtol": "--pinv-rtol"} for command in ("score", "unlearn", "repair")}


class Parser(argparse.ArgumentParser):
    """An ArgumentParser that takes renamed options under their old names too.

    `renamed` maps an old option (``--method``) to its new name (``--unlearner``): the old
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
