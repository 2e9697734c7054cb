"""One module per detector family, each with a function of the detector signature
(`mislabel.names`): ``score(names, inp: DetectorInput) -> {name: Detection}``.

- `loss`: cross-entropy of the given label (the paper).
- `influence`: the three influence scores, on either curvature scope (`mislabel.inverse`).
- `aum`: minus the area under the margin (`mislabel.aum`), with its own cut-off.
- `cleanlab`: confident learning on cross-validated probabilities (`mislabel.confident`).
"""
