"""Run one piece of work in a fresh process and report its wall time and peak memory.

Each measurement is its own process so peak RSS belongs to that work alone and no
warm cache inside Python carries over between the measured and the baseline runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

_CODE_WRAPPER = """
import json, resource, sys, time
start = time.perf_counter()
{code}
elapsed = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("@@MEASURE@@" + json.dumps({{"seconds": elapsed, "peak_mb": rss}}))
"""


def measure_code(code: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run Python `code` in a new interpreter; returns {"seconds", "peak_mb"} of that work."""
    proc = subprocess.run(
        [sys.executable, "-c", _CODE_WRAPPER.format(code=code)],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark step failed: {proc.stderr.strip().splitlines()[-1:]}")
    line = next(x for x in proc.stdout.splitlines() if x.startswith("@@MEASURE@@"))
    return json.loads(line.removeprefix("@@MEASURE@@"))
