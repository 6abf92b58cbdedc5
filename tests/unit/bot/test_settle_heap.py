"""`settle_heap`: what the built app holds is frozen out of the collector's full passes, garbage still goes."""

from __future__ import annotations

import gc
import weakref

from bot.app import settle_heap


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_the_built_heap_is_frozen_and_later_garbage_is_still_collected() -> None:
    kept = Node()
    try:
        settle_heap()
        assert gc.get_freeze_count() > 0
        assert not gc.is_tracked(kept) or kept not in gc.get_objects()  # frozen objects leave the generations
        later = weakref.ref(Node())
        gc.collect()
        assert later() is None
    finally:
        gc.unfreeze()
