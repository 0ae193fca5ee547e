"""What the examples share: the --small switch, progress bars, checks and pictures.

Not part of frechet: each example imports this file from its own folder.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def options(description: str) -> argparse.Namespace:
    """Parse --small (also FRECHET_EXAMPLE_SMALL=1) and --png-dir (default: the current
    folder; '' for no picture)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--small", action="store_true",
                        help="run at small size, in a few seconds (also FRECHET_EXAMPLE_SMALL=1)")
    parser.add_argument("--png-dir", default=".", help="where to write the picture ('' for none)")
    args = parser.parse_args()
    args.small = args.small or os.environ.get("FRECHET_EXAMPLE_SMALL", "") not in ("", "0")
    return args


def progress(iterable, total: int, desc: str):
    """tqdm when installed, else a line on stderr rewritten every 10%."""
    try:
        from tqdm import tqdm
    except ImportError:
        return _plain(iterable, total, desc)
    return tqdm(iterable, total=total, desc=desc)


def _plain(iterable, total, desc):
    step = max(1, total // 10)
    for i, item in enumerate(iterable, 1):
        yield item
        if i % step == 0 or i == total:
            sys.stderr.write(f"\r{desc}: {i}/{total}")
            sys.stderr.flush()
    sys.stderr.write("\n")


class Checks:
    """Numbers a reader can check: each `check` prints one line; `done` exits 1 if any failed."""

    def __init__(self):
        self.failed = []

    def check(self, what: str, value: float, limit: float, relation: str = "<="):
        ok = value <= limit if relation == "<=" else value >= limit
        print(f"check {'ok  ' if ok else 'FAIL'} {what}: {value:.3g} {relation} {limit:.3g}")
        if not ok:
            self.failed.append(what)

    def done(self) -> int:
        if self.failed:
            print(f"FAILED: {', '.join(self.failed)}")
            return 1
        print("all checks passed")
        return 0


def picture(png_dir: str, name: str, draw) -> None:
    """Write png_dir/name with draw(plt) when matplotlib is installed; say so otherwise."""
    if not png_dir:
        return
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"(no picture {name}: matplotlib is not installed)")
        return
    fig = draw(plt)
    path = Path(png_dir) / name
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")
