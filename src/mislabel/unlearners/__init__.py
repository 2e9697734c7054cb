"""One module per unlearner family: the algorithm itself and a function of the unlearner
signature (`mislabel.registry`): ``run(unlearner, inp: UnlearnInput) -> (TrainState, info)``.

- `closed_form`: influence and SSSE (one Newton step), on either curvature scope
  (`mislabel.curvature.inverse`).
- `training`: fine-tuning and retraining on the remaining samples.
- `neggrad_plus`: NegGrad+ (gradient ascent on the forget set, descent on the rest).
- `relabel`: relabel the forget set, then fine-tune.
"""
