"""Progress and data for training loops (`fit`, and frechet.multilevel's Engine.run): tqdm when
installed, else one line on stderr rewritten in place; batches cycled from a re-iterable."""

from __future__ import annotations

import sys
import time


def _describe(values: dict) -> str:
    return "  ".join(f"{k} {v:.6g}" for k, v in values.items())


class _Plain:
    def __init__(self, total, desc, word, stream):
        self.total, self.desc, self.word, self.stream = total, desc, word, stream
        self.n, self.last = 0, 0.0

    def update(self, values: dict):
        self.n += 1
        now = time.monotonic()
        if self.n == self.total or now - self.last > 0.1:
            self.last = now
            self.stream.write(f"\r{self.desc}: {self.word} {self.n}/{self.total}  "
                              f"{_describe(values)}")
            self.stream.flush()

    def close(self):
        self.stream.write("\n")
        self.stream.flush()


class _Tqdm:
    def __init__(self, total, desc, tqdm):
        self.bar = tqdm(total=total, desc=desc)

    def update(self, values: dict):
        self.bar.set_postfix(**{k: f"{v:.6g}" for k, v in values.items()}, refresh=False)
        self.bar.update(1)

    def close(self):
        self.bar.close()


def progress_bar(total: int, enabled: bool, desc: str, word: str):
    """A bar whose `update(values)` advances one `word` (step, iteration) and shows the dict
    `values` (name -> number); None when not enabled."""
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _Plain(total, desc, word, sys.stderr)
    return _Tqdm(total, desc, tqdm)


def batches(data):
    """Batches forever for a re-iterable (a list, a dataset), once through an iterator, None
    forever for None."""
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
