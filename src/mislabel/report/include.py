"""Rendered Markdown inside the README and docs/: blocks that a command fills (the workflow
or a benchmark script), never a hand-pasted copy.

A block is the text between ``BEGIN`` (naming the rendered file, relative to the
repository) and ``END``. ``python -m mislabel.report.include`` copies each rendered file
into its blocks; a test fails when a block differs from its file.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path

from mislabel.files.atomic import write_text

BEGIN = "<!-- rendered into {path} by its command; do not edit by hand -->"
END = "<!-- end of rendered block -->"
_BEGIN_RE = re.compile(re.escape(BEGIN).replace(re.escape("{path}"), r"(\S+)"))


def block_paths(document: str) -> list[str]:
    """The rendered files whose blocks `document` holds, in order."""
    return _BEGIN_RE.findall(document)


def include_block(document: str, path: str, text: str) -> str:
    """`document` with the block of `path` filled with `text`.

    Raises ValueError if the block's markers are missing, so nothing is added by surprise.
    """
    begin = BEGIN.format(path=path)
    start = document.find(begin)
    end = document.find(END, start)
    if start < 0 or end < 0:
        raise ValueError(f"no block for {path}: add the lines\n{begin}\n{END}")
    head = document[: start + len(begin)]
    return head + "\n\n" + text.rstrip() + "\n\n" + document[end:]


def synced(document: str, root: Path) -> str:
    """`document` with every block filled from its file under `root`."""
    for path in block_paths(document):
        document = include_block(document, path, (root / path).read_text())
    return document


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m mislabel.report.include [FILE ...]`: fill the blocks of each FILE (default:
    README.md and docs/*.md) from the rendered files, relative to the current folder."""
    args = list(sys.argv[1:] if argv is None else argv)
    root = Path.cwd()
    files = [Path(a) for a in args] or [Path("README.md"), *sorted(Path("docs").glob("*.md"))]
    for path in files:
        text = path.read_text()
        updated = synced(text, root)
        if updated != text:
            write_text(path, updated)
            print(f"{path}: filled {', '.join(block_paths(text))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
