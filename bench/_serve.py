"""``vern serve`` for the benches: the same command (``vern.cli.main(["serve"])``) under another process name.

Started as ``python bench/_serve.py`` rather than ``python -m vern serve`` only so that
a ``pkill -f "vern serve"`` run elsewhere on the machine (someone stopping their own
server) does not stop a bench's server half-way through a measurement.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vern.cli import main

main(["serve"])
