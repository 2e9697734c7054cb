"""Settings of training, the detectors and the unlearners, grouped and documented.

Each group is a NamedTuple whose fields are named as the config keys and the CLI flags
(``pinv_rtol``, ``--pinv-rtol``) and whose defaults are the workflow's defaults
(config.yaml). A workflow rule builds each group its job needs with `from_config` (the
config's keys of the group's field names); library callers may pass a mapping instead,
which `from_mapping` turns into the group (refusing unknown keys). Both run the group's own
`check`; the group is then passed whole to where it is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple, TypeVar

T = TypeVar("T", bound=tuple)


# The curvatures of a bare softmax head (`mislabel.curvature.head`).
HEAD_CURVATURES = ("auto", "exact", "ekfac")


class TrainConfig(NamedTuple):
    """Optimiser settings (the paper: SGD, lr 0.01, momentum 0.9, batch 32, 20 epochs)."""

    lr: float = 0.01
    momentum: float = 0.9
    batch_size: int = 32
    epochs: int = 20


class CurvatureSettings(NamedTuple):
    """How H^-1 is applied.

    Last layer (the paper): exact dense Hessian, pseudo-inverse (``damping == 0``, dropping
    eigenvalues below ``pinv_rtol * max``) or ``(H + damping I)^-1``.
    Full network: ``(H + full_damping I)^-1``, matrix-free. Updates solve by conjugate
    gradients to ``cg_tol`` (at most ``cg_maxiter`` iterations); influence scores of every
    sample use the ``lanczos_rank`` largest-magnitude eigenpairs of H (ARPACK's restarted
    Lanczos, converged to `mislabel.curvature.full.EIG_TOL`), each of whose eigenvalues
    must lie above ``-full_damping``.
    A bare softmax head (`mislabel repair-head`) is scored from its structure
    (`mislabel.curvature.head`): ``head_curvature`` is ``exact`` (dense Hessian), ``ekfac``
    (Kronecker-factored, eigenvalue-corrected) or ``auto`` (exact while it fits); the work
    must fit ``memory_budget`` GiB (0: half the memory available).
    """

    damping: float = 0.0
    pinv_rtol: float = 1e-10
    full_damping: float = 2.0
    lanczos_rank: int = 100
    cg_tol: float = 1e-6
    cg_maxiter: int = 500
    head_curvature: str = "auto"
    memory_budget: float = 0.0

    def check(self) -> None:
        """Raise a ValueError naming the bad setting."""
        if self.damping < 0:
            raise ValueError(f"damping must be >= 0, got {self.damping}")
        if not 0 < self.pinv_rtol < 1:
            raise ValueError(f"pinv_rtol must be in (0, 1), got {self.pinv_rtol}")
        if not self.full_damping > 0:  # H of the full network is singular and indefinite
            raise ValueError(
                f"full-network curvature needs damping > 0 (H is singular and indefinite), "
                f"got full_damping={self.full_damping}"
            )
        if self.lanczos_rank < 1 or self.cg_maxiter < 1:
            raise ValueError("lanczos_rank and cg_maxiter must be at least 1")
        if not 0 < self.cg_tol < 1:
            raise ValueError(f"cg_tol must be in (0, 1), got {self.cg_tol}")
        if self.head_curvature not in HEAD_CURVATURES:
            raise ValueError(
                f"head_curvature must be one of {', '.join(HEAD_CURVATURES)}, "
                f"got {self.head_curvature!r}"
            )
        if not self.memory_budget >= 0:
            raise ValueError(f"memory_budget must be >= 0 GiB, got {self.memory_budget}")

    def budget_bytes(self) -> int | None:
        """`memory_budget` in bytes (None: the default, half the memory available)."""
        return int(self.memory_budget * 2**30) if self.memory_budget > 0 else None

    def damping_for(self, scope: str) -> float:
        """The damping of a curvature scope: ``damping`` (last layer) or ``full_damping``."""
        return self.full_damping if scope == "full" else self.damping


class DetectionSettings(NamedTuple):
    """AUM's threshold percentile and confident learning's (`cleanlab`) cross-validation folds."""

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
    exported head (its own implied ridge is used when larger); budget_estimator: the
    detector whose estimate sets how many samples are flagged when no ratio is given and
    the chosen detector has no estimate of its own.
    """

    detector: str = "loss"
    unlearner: str = "neggrad_plus"
    margin: float = 1.0
    confidence: float = 0.95
    folds: int = 5
    dampings: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3, 1.0)
    removal_damping: float = 0.01
    budget_estimator: str = "cleanlab"


class RealErrorsSettings(NamedTuple):
    """The check on real label errors (`mislabel.stages.real_errors`, docs/real_errors.md):
    the fields of the config's ``real_errors`` mapping (its ``label_errors`` file is an input).

    top_k: the ranks at which the known errors among each detector's highest scores are
    counted (50, 100, 200: the issue's ranks; the 100 candidates of MNIST's test set fill
    the middle one). forget_detector: whose top forget_k samples are forgotten; ``aum``
    ranked the most verified errors in its top 100 in the scoring table on the 10,000
    training images alone (benchmarks/mnist_real_errors_256), never on the images that
    judge the forgetting. forget_k: the sizes of the forgotten sets, the table's ranks, so
    every forgotten set is one whose hits the table counts.
    """

    top_k: tuple[int, ...] = (50, 100, 200)
    forget_detector: str = "aum"
    forget_k: tuple[int, ...] = (50, 100, 200)

    def check(self) -> None:
        """Raise a ValueError naming the bad setting."""
        for key in ("top_k", "forget_k"):
            ks = list(getattr(self, key))
            if not ks or any(int(k) != k or k < 1 for k in ks) or len(set(ks)) != len(ks):
                raise ValueError(f"{key} must be distinct integers >= 1, got {ks}")
        if not self.forget_detector:
            raise ValueError("forget_detector must name a detector, got an empty name")


def from_config(cls: type[T], config: Mapping[str, Any]) -> T:
    """Settings `cls` built from the config's keys of its field names, and checked (a
    rule's params: the job gets the settings whole)."""
    return from_mapping(cls, {field: config[field] for field in cls._fields})


def from_mapping(cls: type[T], values: Mapping[str, Any] | T | None) -> T:
    """Build settings `cls` from a mapping (unknown keys are an error) and check them, or
    pass settings through."""
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
    built = cls(
        **{k: type(getattr(defaults, k))(values.get(k, getattr(defaults, k))) for k in cls._fields}
    )
    if hasattr(built, "check"):
        built.check()
    return built
