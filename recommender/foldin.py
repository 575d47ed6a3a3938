"""Fold-in and explanation: one member's preferences as a small ridge solve with X fixed.

For a member with rated movies r (features X_r, movie biases b_r, shrunk means m_r) and
ratings y (rating units), let Z = [X_r, 1] (the 1 column is the member bias) and
D = diag(reg, ..., reg, reg_bias). Then

    [theta_u, b_u] = A^-1 Z^T t,   A = Z^T Z + D,   t = y - m_r - b_r

is exactly the minimiser of the training cost over that member's row with everything else
fixed: one (k+1) x (k+1) solve, microseconds.

Explanation uses the same view. The personal part of the prediction for movie i is
z_i [theta_u, b_u] = z_i A^-1 Z^T t = sum_j w_j t_j with w = z_i A^-1 Z^T, so rated movie j
contributes w_j * t_j: how much the member's own opinion of j (relative to j's baseline)
pushes the prediction for i up or down.
"""

from __future__ import annotations

import numpy as np


def design(X_rated: np.ndarray) -> np.ndarray:
    return np.hstack([X_rated.astype(np.float64), np.ones((X_rated.shape[0], 1))])


def ridge_matrix(Z: np.ndarray, reg: float, reg_bias: float) -> np.ndarray:
    k = Z.shape[1] - 1
    A = Z.T @ Z
    A[np.arange(k), np.arange(k)] += reg
    A[k, k] += reg_bias
    return A


def solve_member(X_rated: np.ndarray, targets: np.ndarray, reg: float,
                 reg_bias: float) -> tuple[np.ndarray, float]:
    """Return (theta_u, b_u) for one member."""
    Z = design(X_rated)
    A = ridge_matrix(Z, reg, reg_bias)
    sol = np.linalg.solve(A, Z.T @ np.asarray(targets, dtype=np.float64))
    return sol[:-1], float(sol[-1])


def contributions(X_rated: np.ndarray, targets: np.ndarray, x_target: np.ndarray, reg: float,
                  reg_bias: float) -> np.ndarray:
    """Contribution w_j * t_j of each rated movie j to the personal part of the prediction."""
    Z = design(X_rated)
    A = ridge_matrix(Z, reg, reg_bias)
    z_i = np.append(np.asarray(x_target, dtype=np.float64), 1.0)
    w = Z @ np.linalg.solve(A, z_i)  # A is symmetric: (z_i A^-1 Z^T)^T = Z A^-1 z_i
    return w * np.asarray(targets, dtype=np.float64)
