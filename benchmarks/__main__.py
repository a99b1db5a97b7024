"""Run every benchmark: `python -m benchmarks` (or name some: `python -m benchmarks import`).

Options after the names go to the benchmark named (one only):
`python -m benchmarks pages --cockpit /cockpit/SX/`.

Each `bench_<name>.py` has a `main() -> None` that prints its own figures beside a reference
run made in the same process. Benchmarks run one after another in child processes so that one
benchmark's memory does not weigh on the next one's peak.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    names = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    first_option = next((i for i, a in enumerate(argv) if a.startswith("-")), len(argv))
    chosen, options = argv[:first_option] or names, argv[first_option:]
    if options and len(chosen) != 1:
        print("options go to one benchmark: name it first (python -m benchmarks pages --help)")
        return 2
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; have: {', '.join(names)}")
        return 2
    status = 0
    for name in chosen:
        print(f"== {name} ==", flush=True)
        result = subprocess.run(
            [sys.executable, "-m", f"benchmarks.bench_{name}", *options], check=False
        )
        status = status or result.returncode
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
