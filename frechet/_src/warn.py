"""Warnings attributed to the user's line: the first stack frame outside frechet."""

from __future__ import annotations

import os
import sys
import warnings

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def warn(message: str, category=RuntimeWarning) -> None:
    """warnings.warn, with the stack level of the first caller outside frechet."""
    level, f = 2, sys._getframe(1)      # 1 is this function, 2 its caller
    while f is not None and f.f_code.co_filename.startswith(_PKG_DIR):
        f = f.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
