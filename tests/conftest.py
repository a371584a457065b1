from __future__ import annotations

import sys
from pathlib import Path

# tests/ holds shared helpers (harness.py); make them importable.
sys.path.insert(0, str(Path(__file__).parent))
