"""Running a `mislabel` command: parse, dispatch to its handler, report, exit.

Expected failures (bad input files, bad values, unavailable data, a NaN in the maths)
exit with status `EXIT_ERROR` and one `mislabel CMD: error: ...` line on stderr; any
other exception is a bug and keeps its traceback. Progress goes to stderr; `--json` puts
the result on stdout.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence

from mislabel.checks import NumericalError
from mislabel.cli.parser import build_parser
from mislabel.data.sources import DataUnavailableError
from mislabel.files.atomic import jsonable

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130

# Failures caused by the user's inputs: reported in one line, without a traceback.
EXPECTED_ERRORS = (
    ValueError,  # includes CliError, DatasetFileError, ModelFileError, IdxFormatError, JSON
    DataUnavailableError,
    FileNotFoundError,
    PermissionError,
    IsADirectoryError,
    NotADirectoryError,
    NumericalError,  # a NaN in a Hessian, score or update
)


def error_message(err: BaseException) -> str:
    """The user-facing text of an expected error."""
    if isinstance(err, OSError) and err.filename is not None and err.strerror:
        return f"{err.strerror}: {err.filename}"
    return str(err) or type(err).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `mislabel` command line; return the exit status (0 ok, 2 bad input).

    `argv` None means this process's own command line (the `mislabel` program, `python -m
    mislabel`): the process then ends right here, see `mislabel.joblog.exit_now`.
    """
    code = run(argv)
    if argv is None:
        from mislabel.joblog import exit_now, fast_exit_allowed

        if fast_exit_allowed():
            exit_now(code)
    return code


def run(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` (default: sys.argv[1:]) and run the command; return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or a usage error already printed
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 2)
    prog = f"mislabel {args.command}"
    if "jax" not in sys.modules:  # the cache is configured before JAX is imported
        from mislabel.joblog import use_jax_cache

        use_jax_cache()

    def log(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    package_logger = logging.getLogger("mislabel")
    level = package_logger.level
    if not args.quiet:
        package_logger.addHandler(handler)
        package_logger.setLevel(logging.INFO)
    try:
        result = args.handler(args, log)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except EXPECTED_ERRORS as err:
        print(f"{prog}: error: {error_message(err)}", file=sys.stderr, flush=True)
        return EXIT_ERROR
    finally:
        package_logger.removeHandler(handler)
        package_logger.setLevel(level)
    if args.json:
        print(json.dumps(jsonable(result), sort_keys=True), flush=True)
    return 0
