"""File-level pipeline stages: each reads its input files, calls the library, writes outputs
atomically. The CLI (`mislabel ...`) and the Snakemake scripts both call these functions.
One module per stage: `data` (fetch, inject_noise), `train`, `score`, `unlearn`, `evaluate`,
`loo` (leave-one-out), `aggregate` (the summaries); `common` holds what they share.
Import a stage from its own module (`from mislabel.stages.train import train_model`): this
package re-exports nothing, so a JAX-free job (fetch, inject_noise, aggregate) loads no JAX.

File formats (the contract between stages):
- raw dataset `.npz` (fetch): train_images (N,28,28) uint8, train_labels (N,) uint8,
  test_images (M,28,28) uint8, test_labels (M,) uint8, name (str).
- noisy dataset `.npz` (noise, or `mislabel pack`): x_train (n,D) and x_test (t,D) of one
  dtype, uint8 pixels (D=784 from noise; scaled to [0, 1] by `to_float`) or float32 features
  (pack; used unchanged), y_train (n,) int32 noisy labels in 0..C-1, y_clean (n,) int32,
  flipped (n,) bool, y_test (t,) int32, classes (C,) int32 original class ids, ratio, seed,
  noise_mode, dataset (scalars).
- model `.msgpack` (train/unlearn): flax.serialization of {"params", "momentum", "meta"}.
- scores `.npz` (score): scores (n,) float64, flagged (n,) bool, flipped (n,) bool,
  detector, ratio, m; detectors that estimate their budget add m_estimated and
  flagged_estimated.
- score info `.json`: {dataset, ratio, seed, detector, n, m, hessian_*} plus, unless the
  workflow defers them to `aggregate.detection_table`, {roc_auc, accuracy, precision,
  recall, f1}.
- detection `.csv` (`aggregate.detection_table`; per run in the workflow): one row per
  detector, its info and the metrics.
- unlearn info `.json`: {unlearner, target, n, m_forget, seconds, compile_seconds, ...}.
- timing `.json` (score and unlearn jobs): a list of {stage, name, target, seconds,
  compile_seconds, wall_seconds, dataset, ratio, seed}; clock values live only here and
  in the unlearn info, never in the science summaries.
- evaluation `.csv`: one row per model (pretrained + each unlearned).
- timing `.csv` (`aggregate.timing_table`; per run in the workflow): the timing rows, with
  time_vs_retrain.
"""
