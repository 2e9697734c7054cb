"""Settings of the detectors and unlearners beyond their names, grouped and documented.

Each group is a NamedTuple whose defaults are the workflow's defaults (config.yaml); the
workflow passes them as dicts, which `from_mapping` checks key by key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple, TypeVar

T = TypeVar("T", bound=tuple)


class CurvatureSettings(NamedTuple):
    """How H^-1 is applied.

    Last layer (the paper): exact dense Hessian, pseudo-inverse (``damping == 0``, dropping
    eigenvalues below ``rtol * max``) or ``(H + damping I)^-1``.
    Full network: ``(H + full_damping I)^-1``, matrix-free. Updates solve by conjugate
    gradients to ``cg_tol`` (at most ``cg_maxiter`` iterations); influence scores of every
    sample use the ``lanczos_rank`` largest-magnitude eigenpairs of H (ARPACK's restarted
    Lanczos, converged to `mislabel.full_curvature.EIG_TOL`), each of whose eigenvalues
    must lie above ``-full_damping``.
    """

    damping: float = 0.0
    rtol: float = 1e-10
    full_damping: float = 2.0
    lanczos_rank: int = 100
    cg_tol: float = 1e-6
    cg_maxiter: int = 500

    def check(self) -> None:
        """Raise a ValueError naming the bad setting."""
        if self.damping < 0:
            raise ValueError(f"damping must be >= 0, got {self.damping}")
        if not 0 < self.rtol < 1:
            raise ValueError(f"pinv_rtol must be in (0, 1), got {self.rtol}")
        from mislabel.checks import check_full_damping

        check_full_damping(self.full_damping)
        if self.lanczos_rank < 1 or self.cg_maxiter < 1:
            raise ValueError("lanczos_rank and cg_maxiter must be at least 1")
        if not 0 < self.cg_tol < 1:
            raise ValueError(f"cg_tol must be in (0, 1), got {self.cg_tol}")


class DetectionSettings(NamedTuple):
    """AUM's threshold percentile and cleanlab's cross-validation folds."""

    aum_percentile: float = 99.0
    cv_folds: int = 5


class UnlearningSettings(NamedTuple):
    """Epochs and weights of the training-based unlearners.

    neggrad_momentum: the SGD momentum of NegGrad+ (which starts it afresh), chosen between
    0 and the training's 0.9 on validation splits carved from the training data
    (`paper_tables/table_ext_default_selection.md`).
    """

    finetune_epochs: int = 20
    neggrad_alpha: float = 0.95
    neggrad_epochs: int = 5
    neggrad_momentum: float = 0.0
    relabel_epochs: int = 20


class RepairSettings(NamedTuple):
    """Defaults of a repair (`mislabel.repair`).

    detector, unlearner: the default unlearner is the one with the best mean accuracy on
    validation splits carved from the training data (never a test split), in
    `paper_tables/table_ext_default_selection.md`; margin: the non-inferiority margin in
    accuracy points (a repair is written when the 95% interval of its change in accuracy
    lies above -margin); confidence: of that interval; folds: of the cross-fit that judges
    a repair without a holdout; dampings: the grid of the closed-form steps' damping,
    relative to the mean eigenvalue of the Hessian they damp, searched on held-out data;
    removal_damping: the least relative damping of the step that removes a fold from an
    exported head (its own implied ridge is used when larger).
    """

    detector: str = "loss"
    unlearner: str = "neggrad_plus"
    margin: float = 1.0
    confidence: float = 0.95
    folds: int = 5
    dampings: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3, 1.0)
    removal_damping: float = 0.01


def from_mapping(cls: type[T], values: Mapping[str, Any] | T | None) -> T:
    """Build settings `cls` from a mapping (unknown keys are an error) or pass them through."""
    if values is None:
        return cls()
    if isinstance(values, cls):
        return values
    unknown = sorted(set(values) - set(cls._fields))
    if unknown:
        raise ValueError(
            f"unknown {cls.__name__} keys {unknown}; allowed: {', '.join(cls._fields)}"
        )
    defaults = cls()
    return cls(
        **{k: type(getattr(defaults, k))(values.get(k, getattr(defaults, k))) for k in cls._fields}
    )
