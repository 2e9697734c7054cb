"""One module per `mislabel` command, each whole: its summary and examples (`SUMMARY`,
`EPILOG`), its options (`add_options`), what it runs (`run(args, log)`) and its renamed
options (`RENAMED`). Options shared by several commands are in `mislabel.cli.options`;
each command checks its arguments and files before it imports the library it calls (a
stage imports JAX), so `--help` and an argument error stay quick."""
