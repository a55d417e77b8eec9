"""One style for every plot of the project.

White background, light grid, labelled axes with units, the model always in the same
colour. Training plots, explanation plots and the scoring report all use it.
"""

from __future__ import annotations

from typing import Any

from matplotlib import style

MODEL_COLOR = "#1f5fa8"
STYLE: dict[str, Any] = {
    "figure.figsize": (7.0, 4.5),
    "figure.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
}


def apply_style() -> None:
    """Use the project's plot style (non-interactive backend when no display is set)."""
    style.use(STYLE)
