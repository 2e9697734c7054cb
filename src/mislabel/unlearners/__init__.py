"""One module per unlearner family, each with a function of the unlearner signature
(`mislabel.names`): ``run(method, inp: UnlearnInput) -> (TrainState, info)``.

- `closed_form`: influence and SSSE (one Newton step), on either curvature scope
  (`mislabel.inverse`).
- `training`: fine-tuning and retraining on the remaining samples.
- `neggrad_plus`: NegGrad+ (`mislabel.neggrad`).
- `relabel`: relabel the forget set, then fine-tune (`mislabel.relabel`).
"""
