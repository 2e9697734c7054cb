"""What the Snakemake workflow and the stages share: run paths (`paths`), the names of
rendered artifacts (`artifacts`) and the config checks and file lists (`config`). None
of these imports numpy, so the Snakefile can.
"""
