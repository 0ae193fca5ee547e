"""Eager overhead: grad of a chain of 100 elementwise ops on a 10-element vector, per op.

The workload lives in the benchmark suite (frechet/_src/bench/elementwise.py, EAGER_OVERHEAD);
this script runs just it, in frechet and every installed peer, in one process:
`python bench/eager_overhead.py` is `python -m frechet bench --only eager_overhead --out ''`.
"""

import sys

from frechet._src.bench.report import main

if __name__ == "__main__":
    sys.exit(main(["--only", "eager_overhead", "--out", ""] + sys.argv[1:]))
