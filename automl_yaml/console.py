"""The rich consoles of the CLI: a terminal's width there, whole lines in a log.

On a terminal rich wraps and fits everything to the window. Written to a file
or a pipe (``mlx run spec.yaml > log.txt``, CI logs) rich would pretend the
window is 80 columns wide: long lines wrapped mid-word, the search's progress
line cut with an ellipsis. There :func:`make_console` keeps each printed line
whole (``soft_wrap``) and renders tables and progress lines at ``$COLUMNS``
when set, else at :data:`LOG_WIDTH` columns.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

#: The width of tables and progress lines written to a file or a pipe without $COLUMNS.
LOG_WIDTH = 200


def make_console(*, stderr: bool = True, **kwargs) -> Console:
    """A console on stderr (or stdout) that does not cut lines when it is not a terminal.

    ``kwargs`` go to ``rich.console.Console`` (``quiet``, ``highlight``...).
    """
    from rich.console import Console

    console = Console(stderr=stderr, **kwargs)
    if not console.is_terminal:
        console.soft_wrap = True
        if not os.environ.get("COLUMNS", "").strip().isdigit():
            console.width = LOG_WIDTH
    return console
