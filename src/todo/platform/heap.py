"""Keeping the garbage collector's pauses short in the long-running services."""

from __future__ import annotations

import gc

# Young collections as CPython's defaults (700 allocations, every 10th of them the middle generation),
# full collections a hundred times rarer than by default (after 1,000 middle ones, not 10).
COLLECTOR_THRESHOLDS = (700, 10, 1000)


def tune_garbage_collector() -> None:
    """Called once startup is done.

    Everything alive by then (modules, routes, models, the ORM's mappers: most of the heap) is frozen
    out of the collector's reach, so that a full collection scans only what was made since: without it
    each full collection paused a service for 40 to 100 ms (bench/event_pipeline.py). And full
    collections are made rare: what our requests leave in reference cycles is a few objects each, while
    each full collection still paused an API worker for 12-29 ms every few seconds, the slowest of the
    mixed load's requests (p99 44-254 ms against 35-46 ms with these thresholds, bench/api_load.py).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
