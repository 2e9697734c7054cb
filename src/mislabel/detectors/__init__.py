"""One module per detector family: the algorithm itself and a function of the detector
signature (`mislabel.registry`): ``score(names, inp: DetectorInput) -> {name: Detection}``.

- `loss`: cross-entropy of the given label (the paper).
- `influence`: the three influence scores, on either curvature scope (`mislabel.curvature.inverse`).
- `aum`: minus the area under the margin, with its threshold-sample cut-off.
- `confident_learning`: confident learning on cross-validated probabilities (the
  ``cleanlab`` detector).
"""
