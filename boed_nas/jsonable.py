"""``json.dumps(..., default=json_default)``: numpy scalars and arrays as plain numbers and lists."""

from __future__ import annotations

from typing import Any

import numpy as np


def json_default(o: Any) -> Any:
    """The JSON form of what ``json`` cannot write itself (numpy numbers and arrays; anything else as text)."""
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
