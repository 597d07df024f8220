"""Manhattan (L1) travel distances: exact means for uniform demand in a rectangular city.

Covers the mean L1 distance between uniformly distributed points of a rectangle, from a fixed
point to a uniform point, their discrete analogues on a ``w x h`` grid of cells, and the mean
L1 distance to the nearest point of a planar Poisson process of units.

All names are re-exported by :mod:`experiments.theory`.

References:
    R. C. Larson and A. R. Odoni (1981), Urban Operations Research, Prentice-Hall, ch. 3
    (geometrical probability: L1 distances, nearest-neighbour distances).
"""

from __future__ import annotations

import math

__all__ = [
    "grid_mean_cell_to_uniform",
    "grid_mean_uniform_pair",
    "manhattan_mean_point_to_uniform",
    "manhattan_mean_uniform_pair",
    "nearest_of_poisson_units_mean",
]


def _mean_abs_to_uniform(p: float, length: float) -> float:
    """Return ``E|U - p|`` for ``U`` uniform on ``[0, length]`` (any real ``p``)."""
    if length <= 0:
        raise ValueError(f"side length must be positive, got {length!r}")
    if p <= 0 or p >= length:
        return abs(length / 2 - p)
    return (p**2 + (length - p) ** 2) / (2 * length)


def manhattan_mean_uniform_pair(x0: float, y0: float) -> float:
    """Return the mean L1 distance between two independent uniform points of a rectangle.

    Per axis, ``E|U - V| = L / 3`` for ``U, V`` uniform on ``[0, L]``.

    Args:
        x0: Width of the rectangle.
        y0: Height of the rectangle.

    Returns:
        ``(x0 + y0) / 3``.
    """
    if x0 <= 0 or y0 <= 0:
        raise ValueError(f"side lengths must be positive, got {x0!r}, {y0!r}")
    return (x0 + y0) / 3


def manhattan_mean_point_to_uniform(px: float, py: float, x0: float, y0: float) -> float:
    """Return the mean L1 distance from a fixed point to a uniform point of a rectangle.

    The rectangle is ``[0, x0] x [0, y0]``. For ``p`` inside ``[0, L]`` the per-axis mean is
    ``(p**2 + (L - p)**2) / (2 L)``; for ``p`` outside it is ``|L/2 - p|``.

    Args:
        px: x coordinate of the fixed point (e.g. a station).
        py: y coordinate of the fixed point.
        x0: Width of the rectangle.
        y0: Height of the rectangle.

    Returns:
        The exact mean Manhattan distance.
    """
    return _mean_abs_to_uniform(px, x0) + _mean_abs_to_uniform(py, y0)


def _check_grid_side(n: int) -> int:
    """Validate a grid side length (positive integer) and return it as an ``int``."""
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"grid side must be a positive integer, got {n!r}")
    return int(n)


def _grid_mean_abs(x: float, n: int) -> float:
    """Return ``mean_{i=0..n-1} |i - x|`` in closed form (any real ``x``)."""
    k = min(max(math.floor(x), -1), n - 1)  # cells 0..k lie at or left of x
    left = (k + 1) * x - k * (k + 1) / 2
    right = (n * (n - 1) - k * (k + 1)) / 2 - (n - 1 - k) * x
    return (left + right) / n


def grid_mean_uniform_pair(w: int, h: int) -> float:
    """Return the mean L1 distance (in cells) between two independent uniform cells of a grid.

    Both cells are drawn uniformly and independently (they may coincide) from a ``w x h``
    grid; per axis ``E|I - J| = (n**2 - 1) / (3 n)``.

    Args:
        w: Number of columns.
        h: Number of rows.

    Returns:
        ``(w**2 - 1) / (3 w) + (h**2 - 1) / (3 h)``.
    """
    w, h = _check_grid_side(w), _check_grid_side(h)
    return (w * w - 1) / (3 * w) + (h * h - 1) / (3 * h)


def grid_mean_cell_to_uniform(x: float, y: float, w: int, h: int) -> float:
    """Return the mean L1 distance (in cells) from cell ``(x, y)`` to a uniform cell of a grid.

    Cells are indexed ``0..w-1`` by ``0..h-1``; ``x`` and ``y`` may also be fractional
    (a point between cell centres). The sum ``mean_i |i - x| + mean_j |j - y|`` is evaluated
    in closed form.

    Args:
        x: Column of the source cell.
        y: Row of the source cell.
        w: Number of columns.
        h: Number of rows.

    Returns:
        The exact mean Manhattan distance in cell units.
    """
    w, h = _check_grid_side(w), _check_grid_side(h)
    return _grid_mean_abs(x, w) + _grid_mean_abs(y, h)


def nearest_of_poisson_units_mean(density: float) -> float:
    """Return the mean L1 distance to the nearest unit of a planar Poisson process.

    An L1 ball of radius ``r`` has area ``2 r**2``, so ``P(D > r) = exp(-2 gamma r**2)`` and
    ``E[D] = sqrt(pi / (8 gamma)) ~= 0.6267 / sqrt(gamma)`` (Larson & Odoni 1981, ch. 3).

    Args:
        density: Units per unit area, ``gamma > 0``.

    Returns:
        The mean nearest-unit Manhattan distance.
    """
    if density <= 0:
        raise ValueError(f"density must be positive, got {density!r}")
    return math.sqrt(math.pi / (8 * density))
