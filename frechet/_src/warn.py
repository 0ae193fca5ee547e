"""The user's frame (the first stack frame outside frechet), and warnings attributed to it."""

from __future__ import annotations

import os
import sys
import warnings

PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def user_frame(frame, past_libraries: bool = False):
    """(the first frame from `frame` outwards that is not frechet's (with `past_libraries`, not
    an installed package's either), how many frames out it is); the frame is None if none is."""
    depth = 0
    while frame is not None and (frame.f_code.co_filename.startswith(PKG_DIR) or
                                 (past_libraries and "site-packages" in frame.f_code.co_filename)):
        frame = frame.f_back
        depth += 1
    return frame, depth


def warn(message: str, category=RuntimeWarning) -> None:
    """warnings.warn, with the stack level of the first caller outside frechet."""
    _, depth = user_frame(sys._getframe(1))
    warnings.warn(message, category, stacklevel=2 + depth)     # 1 is this function
