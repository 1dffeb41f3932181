"""Run one benchmark case in this fresh process: `python -m tests.bench.child MODULE NAME JSON`.

Prints one JSON line: the case's results plus peak_mib, the rise of this process's peak
resident set size over the measured part (see common.py).
"""

from __future__ import annotations

import importlib
import json
import sys
import traceback


def main() -> None:
    module, name, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    mod = importlib.import_module(f"tests.bench.{module}")
    try:
        result = getattr(mod, f"case_{name}")(**params)
    except Exception as exc:  # a case that fails is reported in its table, not fatal
        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
