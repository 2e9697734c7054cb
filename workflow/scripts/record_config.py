"""Adapter for rule record_config: write the effective configuration as YAML."""

import yaml

from mislabel.files.atomic import write_text
from mislabel.joblog import job_log

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm.log[0], "record_config", exit_when_done=True) as log:
    write_text(sm.output.yaml, yaml.safe_dump(dict(sm.params.config), sort_keys=True))
    log(f"wrote {sm.output.yaml}")
