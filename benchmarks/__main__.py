"""``python -m benchmarks [--quick]``: see benchmarks/__init__.py and issue 4."""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks",
                                     description="backprop vs PyTorch vs hand-written NumPy")
    parser.add_argument("--quick", action="store_true",
                        help="a short run: few steps, W1-W5, all contenders, no memory/scaling")
    parser.add_argument("--only", nargs="+", choices=["W1", "W2", "W3", "W4", "W5"],
                        help="run only these workloads")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--out", help="write the Markdown report here (default: "
                        "benchmarks/results.md for a full run, nothing for --quick)")
    args = parser.parse_args(argv)
    from . import common, harness
    libs = ["backprop"] if args.no_torch else common.available_libs()
    default = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.md")
    out = args.out or (None if args.quick else default)
    result = harness.run(quick=args.quick, workloads=args.only, libs=libs, out=out)
    print()
    print(result["report"])
    if out:
        print(f"written to {out}")
    return 0 if result["agree"] else 1


if __name__ == "__main__":
    sys.exit(main())
