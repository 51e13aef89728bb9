"""Pause Python's cyclic garbage collector around bulk, acyclic allocation (parse, codegen)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["gc_paused"]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block; restore its previous state after.

    Parsing a 100 MB model or generating its package allocates millions of objects that form
    no reference cycles; every allocation burst would start a collection over the whole,
    growing heap that frees nothing (measured: about a fifth of the parse CPU). Reference
    counting still frees everything. The collector is process-wide: other threads run without
    it for the block's duration too.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
