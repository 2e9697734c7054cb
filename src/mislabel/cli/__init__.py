"""The `mislabel` command: every pipeline stage from the shell, file in, file out.

Each subcommand validates its arguments, then calls one library function (a stage of
`mislabel.stages`, `mislabel.pack.pack_files` or `mislabel.repair.repair_model`), which
writes its outputs atomically. Expected failures exit with status 2 and one
`mislabel CMD: error: ...` line on stderr; progress goes to stderr; `--json` puts the
result on stdout.

- `app`: `main` and `run`, error reporting and exit codes;
- `commands/`: one module per command (fetch, noise, pack, train, score, unlearn,
  evaluate, repair, repair_head), each whole: its summary and examples, its options, the
  options it renamed, and what it runs;
- `parser`: the argument parser, built from the command modules, and the old option
  names that still work for one release;
- `options`: options shared by several commands, their defaults (from `mislabel.settings`)
  and the settings they build; `help_text`: the description and the worked examples;
- `inputs`: argument types and checks of the input and output files (`CliError`).

Start-up is kept short (`benchmarks/startup.py` measures it): JAX, and every library only
some commands need, is imported inside the command that uses it, so `--help` and argument
errors never import it (`tests/test_startup.py`); compiled programs are kept in a
persistent cache (`mislabel.joblog.use_jax_cache`, set before JAX is imported); and a
process run from the shell ends with `os._exit` once its outputs are written and its
streams flushed, skipping the interpreter's teardown of JAX and XLA (~0.3 s).
"""

from mislabel.cli.app import main, run

__all__ = ["main", "run"]
