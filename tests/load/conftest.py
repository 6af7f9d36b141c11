"""The bounded load test: the server helpers of tests/fault are shared."""

from __future__ import annotations

import sys
from pathlib import Path

_FAULT = str(Path(__file__).resolve().parents[1] / "fault")
if _FAULT not in sys.path:
    sys.path.insert(0, _FAULT)
