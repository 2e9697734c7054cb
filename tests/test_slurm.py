"""The workflow on a real (single-node) Slurm cluster: tests/slurm/run.sh.

The script installs Slurm, munge, slurmdbd and MariaDB with apt-get if they are missing,
starts them on loopback only, runs the tiny config locally and through
`--profile profiles/slurm`, checks that the science summaries are identical, and stops
every daemon it started. It needs root and apt-get (CI has both); elsewhere it is skipped.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "tests" / "slurm" / "run.sh"
PIDFILE = Path("/run/mislabel-slurm-test.pids")  # the script's record of its daemons
TIMEOUT_S = 1800  # the script bounds each Snakemake run itself (600 s); this is a backstop


def _skip_reason() -> str | None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root: tests/slurm/run.sh installs packages and starts Slurm daemons"
    if shutil.which("apt-get") is None:
        return "needs apt-get (Debian/Ubuntu) to install Slurm, munge and MariaDB"
    return None


def _listening(port: int) -> bool:
    """Is anything listening on this TCP port (IPv4 or IPv6)?"""
    suffix = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[1].endswith(suffix) and fields[3] == "0A":
                return True
    return False


@pytest.mark.slow
@pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or "")
def test_slurm_run_gives_the_local_summaries():
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    env.pop("KEEP_TMP", None)
    proc = subprocess.Popen(
        ["bash", str(SCRIPT)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        # SIGINT: Snakemake cancels its cluster jobs, then the script's EXIT trap stops
        # the daemons (they run in sessions of their own, out of reach of this signal).
        os.killpg(proc.pid, signal.SIGINT)
        try:
            output, _ = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output, _ = proc.communicate()
        pytest.fail(f"tests/slurm/run.sh ran over {TIMEOUT_S} s:\n{output[-8000:]}")
    print(output[-3000:])
    assert proc.returncode == 0, (
        f"tests/slurm/run.sh failed (exit {proc.returncode}):\n{output[-12000:]}"
    )
    assert "SLURM test passed" in output, f"no 'SLURM test passed' in:\n{output[-6000:]}"
    # Nothing left behind: no record of running daemons, no Slurm port in use. A loaded
    # machine takes a while to reap a stopped daemon: wait for the ports to close.
    assert not PIDFILE.exists(), f"{PIDFILE} left behind: {PIDFILE.read_text()!r}"
    busy = _ports_in_use(SLURM_PORTS, wait_s=60)
    assert not busy, f"Slurm ports still listening 60 s after the script ended: {busy}"


SLURM_PORTS = (6817, 6818, 6819)  # slurmctld, slurmd, slurmdbd


def _ports_in_use(ports, wait_s: float) -> list[int]:
    """The `ports` still listening after waiting up to `wait_s` seconds for them to close."""
    deadline = time.monotonic() + wait_s
    while True:
        busy = [port for port in ports if _listening(port)]
        if not busy or time.monotonic() > deadline:
            return busy
        time.sleep(1)
