"""The confidence ceiling: how sure can a network *ever* be, for any image at all?

What this module teaches
------------------------
Fooling searches [0, 1]^784 for an image the network calls a '2' at 99.99%. Before
searching, ask whether such an image can exist. Interval bound propagation answers with
an upper bound, cheaply:

1. Pixels x_i lie in [0, 1]. For a first-layer neuron z = sum_i w_i x_i + b, the
   smallest z takes x_i = 1 where w_i < 0 and 0 elsewhere, the largest the opposite:
   z in [b + sum(min(w, 0)), b + sum(max(w, 0))].
2. Sigmoid and ReLU only ever increase, so the box of z gives a box of activations a.
   Repeat layer by layer (for a later layer the inputs range over the previous box).
3. At the output, for the target t and every other digit j, bound the *margin*
   m_j = z_t - z_j = sum_h (w_ht - w_hj) a_h + (b_t - b_j) from above, each a_h taking
   whichever end of its interval helps.
4. A softmax confidence is p_t = 1 / (1 + sum_j e^-m_j) and cannot exceed
   1 / (1 + sum_j e^-max m_j). Ten sigmoid outputs normalised to sum 1 give
   p_t = 1 / (1 + sum_j a_j / a_t), and each ratio is at least both
   sigma(min z_j) / sigma(max z_t) and sigma(min z_t - max m_j) / sigma(min z_t).

If the ceiling for '0' was 0.99994, then no search, however good, reaches 0.99995 for
'0' -- and runs that "stall" just below it are at the wall, not stuck. L2 weight decay
keeps weights small, and small weights put the ceiling lower: regularisation caps how
sure a network can ever be. The bound is exact per margin but treats the margins as
independent, so the true maximum may be lower still; it is never higher.

What it leaves out: tighter bounds (linear relaxations, CROWN) and exact search (MILP).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fooldigits import FoolDigitsError
from fooldigits.core.pieces import DIGITS
from fooldigits.lessons.dream import DreamConfig, dream
from fooldigits.models.base import Classifier
from fooldigits.models.network import Network


def applies(model: Classifier) -> bool:
    """Whether the bound below can be computed for `model`: a dense network of sigmoid or
    ReLU layers (interval arithmetic layer by layer needs to know each layer)."""
    return isinstance(model, Network)


def dense(model: Classifier) -> Network:
    """`model` as a dense network, or one sentence saying the ceiling needs one."""
    if not isinstance(model, Network):
        raise FoolDigitsError(f"the confidence ceiling is computed for dense networks; "
                              f"this model is {model.describe()}")
    return model


def activation_box(model: Classifier) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of the last hidden layer's activations over [0, 1]^784."""
    net = dense(model)
    lo, hi = np.zeros(net.sizes[0]), np.ones(net.sizes[0])  # (784,)
    for w, b in zip(net.w[:-1], net.b[:-1], strict=True):
        w64 = w.astype(np.float64)
        pos, neg = np.maximum(w64, 0), np.minimum(w64, 0)
        z_lo = lo @ pos + hi @ neg + b  # (n_out,)  step 1
        z_hi = hi @ pos + lo @ neg + b
        if net.activation == "relu":  # step 2
            lo, hi = np.maximum(z_lo, 0), np.maximum(z_hi, 0)
        else:
            lo, hi = 1 / (1 + np.exp(-z_lo)), 1 / (1 + np.exp(-z_hi))
    return lo, hi


def confidence_ceiling(net: Classifier) -> np.ndarray:
    """An upper bound on `net.probabilities(x)[digit]` over all images x: (10,) floats.
    A network's 11th class, "not a digit", only competes: its ceiling is not asked for."""
    s = odds_against(net)
    return np.asarray(1 / (1 + s))


def ceiling_gap(net: Classifier) -> np.ndarray:
    """1 - ceiling, computed without cancellation: how far from certain each digit must
    stay, whatever the image (2e-16 shows as 2e-16, not as 0): (10,)."""
    s = odds_against(net)
    return np.asarray(s / (1 + s))


def odds_against(model: Classifier) -> np.ndarray:
    """A lower bound on sum_j p_j / p_t (j != t) over all images, per digit t (step 4):
    the ceiling is 1 / (1 + this)."""
    net = dense(model)
    lo, hi = activation_box(net)  # (n_h,)
    w, b = net.w[-1].astype(np.float64), net.b[-1].astype(np.float64)  # (n_h, c), (c,)
    ceiling = np.empty(min(w.shape[1], DIGITS))  # the digits are the targets; all compete
    if net.output == "softmax":
        for t in range(len(ceiling)):
            m = _margins(w, b, lo, hi, t)  # (c,) upper bounds of z_t - z_j  step 3
            ceiling[t] = np.delete(np.exp(-m), t).sum()  # step 4
    else:  # p_t = a_t / sum a_j = 1 / (1 + sum_j a_j / a_t): bound each ratio from below
        z_hi = hi @ np.maximum(w, 0) + lo @ np.minimum(w, 0) + b
        z_lo = lo @ np.maximum(w, 0) + hi @ np.minimum(w, 0) + b
        for t in range(len(ceiling)):
            m = _margins(w, b, lo, hi, t)
            # a_j / a_t >= sigma(z_lo_j) / sigma(z_hi_t); and since z_j >= z_t - m_j, also
            # >= f(z_t) = sigma(z_t - m_j) / sigma(z_t), which is monotone in z_t (rising if
            # m_j > 0, falling if m_j < 0), so its smaller end value bounds it from below
            f_lo = _log_sigma(z_lo[t] - m) - _log_sigma(z_lo[t])  # logs: no 0 / 0
            f_hi = _log_sigma(z_hi[t] - m) - _log_sigma(z_hi[t])
            log_ratio = np.maximum(_log_sigma(z_lo) - _log_sigma(z_hi[t]),
                                   np.minimum(f_lo, f_hi))
            ceiling[t] = np.exp(np.delete(log_ratio, t)).sum()
    return ceiling


def _log_sigma(z: np.ndarray) -> np.ndarray:
    """log sigma(z) = -log(1 + e^-z), exact for any z (no underflow to log 0)."""
    return np.asarray(-np.logaddexp(0.0, -z))


def _margins(w: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray, t: int
             ) -> np.ndarray:
    """Upper bounds of z_t - z_j for every j over the activation box (step 3): (c,)."""
    diff = w[:, [t]] - w  # (n_h, c): w_ht - w_hj
    return np.asarray((np.where(diff > 0, hi[:, None], lo[:, None]) * diff).sum(axis=0)
                      + b[t] - b)


def best_found(net: Classifier, rng: np.random.Generator, steps: int = 3000,
               rates: tuple[float, ...] = (1.0, 10.0, 100.0)) -> np.ndarray:
    """The highest confidence per digit that dreaming reaches, over a few step sizes: (10,).

    A lower bound on the truth, to set beside the upper bound: the real maximum lies
    between `best_found` and `confidence_ceiling`.
    """
    found = [dream(net, np.arange(10), DreamConfig(steps=steps, lr=lr, threshold=1 - 1e-9),
                   rng).confidence for lr in rates]
    return np.asarray(np.max(found, axis=0))


def check_reachable(model: Classifier, digits: Sequence[int], target: float,
                    parameter: str = "target") -> None:
    """Refuse a `target` confidence above the ceiling of any of `digits`, before a search
    runs in silence. A model the bound does not apply to (`applies`) is not checked: the
    search itself will tell. `parameter` is the name the error uses for the target."""
    if not applies(model):
        return
    ceiling = confidence_ceiling(model)
    out_of_reach = [d for d in digits if ceiling[d] < target]
    if out_of_reach:
        d = out_of_reach[0]
        raise FoolDigitsError(
            f"no image can reach {parameter} {target} for '{d}' under this model: its "
            f"confidence ceiling is {ceiling[d]:.6f} (see `fooldigits ceiling`); lower the "
            f"{parameter}", parameter)
