"""Every on-disk format, each with its reader and writer.

- `atomic`: atomic writes (text, JSON, bytes, ``.npz``) and SHA-256 digests.
- `dataset`: the noisy-dataset ``.npz`` passed between stages.
- `checkpoint`: a trained model (msgpack) with its architecture and training settings.
- `idx`: the IDX files of MNIST and Fashion-MNIST.
- `legacy`: files of mislabel 0.2.0, read as today's (an unlearner was a ``method``).
- `arrays`: a user's ``.npy`` features and labels, checked (shape, dtype, finite values).
"""
