"""Generated import lines follow ruff's isort order, numbers included (EPN2 before EPN10)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from opsforge.engines.ranconfig._codetext import _import

RUFF = Path(sys.executable).parent / "ruff"


def test_member_order_is_natural_like_ruff(tmp_path: Path) -> None:
    names = {"EPN10", "EPN2", "EPN1", "Epn3", "epn20", "epn4", "X_1", "X_10", "X_9", "AB", "Ab"}
    line = _import("pkg._enums", names)
    assert line.index("EPN2,") < line.index("EPN10")
    assert line.index("X_9,") < line.index("X_10")
    sample = tmp_path / "sample.py"
    sample.write_text(f"{line}\n\nprint({', '.join(sorted(names))})\n", encoding="utf-8")
    done = subprocess.run(
        [str(RUFF), "check", "--isolated", "--select", "I", str(sample)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
