"""python -m frechet {tour,coverage,bench}"""

import sys


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    cmd = argv[0] if argv else "tour"
    if cmd == "tour":
        from frechet._src.tour import tour
        tour()
    elif cmd == "coverage":
        from frechet._src.coverage import format_report
        print(format_report())
    elif cmd == "bench":
        from frechet._src.bench.report import main as bench
        return bench(argv[1:])
    else:
        print(f"usage: python -m frechet {{tour,coverage,bench}} (got {cmd!r})", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
