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
   p_t <= sigma(max z_t) / (sigma(max z_t) + sum_j sigma(min z_j)).

If the ceiling for '0' was 0.99994, then no search, however good, reaches 0.99995 for
'0' -- and runs that "stall" just below it are at the wall, not stuck. L2 weight decay
keeps weights small, and small weights put the ceiling lower: regularisation caps how
sure a network can ever be. The bound is exact per margin but treats the margins as
independent, so the true maximum may be lower still; it is never higher.

What it leaves out: tighter bounds (linear relaxations, CROWN) and exact search (MILP).
"""

from __future__ import annotations

import numpy as np

from fooldigits.network import Network


def activation_box(net: Network) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of the last hidden layer's activations over [0, 1]^784."""
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


def confidence_ceiling(net: Network) -> np.ndarray:
    """An upper bound on `net.probabilities(x)[digit]` over all images x: (10,) floats."""
    lo, hi = activation_box(net)  # (n_h,)
    w, b = net.w[-1].astype(np.float64), net.b[-1].astype(np.float64)  # (n_h, 10), (10,)
    ceiling = np.empty(w.shape[1])
    if net.output == "softmax":
        for t in range(w.shape[1]):
            diff = w[:, [t]] - w  # (n_h, 10): w_ht - w_hj  step 3
            margin = np.where(diff > 0, hi[:, None], lo[:, None]) * diff
            m = margin.sum(axis=0) + b[t] - b  # (10,) upper bounds of z_t - z_j
            others = np.delete(np.exp(-m), t)
            ceiling[t] = 1 / (1 + others.sum())  # step 4
    else:
        z_hi = hi @ np.maximum(w, 0) + lo @ np.minimum(w, 0) + b
        z_lo = lo @ np.maximum(w, 0) + hi @ np.minimum(w, 0) + b
        s_hi, s_lo = 1 / (1 + np.exp(-z_hi)), 1 / (1 + np.exp(-z_lo))
        for t in range(w.shape[1]):
            ceiling[t] = s_hi[t] / (s_hi[t] + np.delete(s_lo, t).sum())
    return ceiling
