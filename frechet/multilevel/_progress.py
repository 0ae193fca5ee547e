"""The progress line of Engine.run (tqdm when installed, else one line on stderr)."""

from __future__ import annotations

import sys
import time


def _describe(losses: dict) -> str:
    return "  ".join(f"{k} {v:.6g}" for k, v in losses.items())


class _Plain:
    def __init__(self, total, stream):
        self.total, self.stream, self.n, self.last = total, stream, 0, 0.0

    def update(self, losses):
        self.n += 1
        now = time.monotonic()
        if self.n == self.total or now - self.last > 0.1:
            self.last = now
            self.stream.write(f"\rmultilevel: iteration {self.n}/{self.total}  "
                              f"{_describe(losses)}")
            self.stream.flush()

    def close(self):
        self.stream.write("\n")
        self.stream.flush()


class _Tqdm:
    def __init__(self, total, tqdm):
        self.bar = tqdm(total=total, desc="multilevel")

    def update(self, losses):
        self.bar.set_postfix_str(_describe(losses), refresh=False)
        self.bar.update(1)

    def close(self):
        self.bar.close()


def progress_bar(total, enabled):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return _Plain(total, sys.stderr)
    return _Tqdm(total, tqdm)


def batches(data):
    """Batches forever for a re-iterable (a list), once through an iterator, None forever
    for None."""
    if data is None:
        while True:
            yield None
    reiterable = iter(data) is not data
    while True:
        empty = True
        for batch in data:
            empty = False
            yield batch
        if not reiterable or empty:
            return
