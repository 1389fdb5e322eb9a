"""Per-replication values kept in memory or spilled to disk, and their statistics read back in blocks.

A batch's summary needs, per quantity (an issue's agreed values, an actor's utilities, ...), its
mean, spread, quantiles and histogram. A `Store` keeps each quantity's values in the order they
were added, in memory (`MemoryStore`) or in temporary files beside the run's other files
(`FileStore`), so that a batch of any size holds only a chunk in memory. The statistics read a
quantity back in blocks of `BLOCK` values, whichever store holds it and however it was added, so
the same values give the same numbers to the last bit.

Quantiles are exact, as `numpy.quantile` gives them (its default linear interpolation between
order statistics), found by radix selection on the values' bits: each pass over the blocks counts
the next 16 bits of the values in the range that holds the wanted order statistic, until the range
holds few enough values to sort (Knuth, TAOCP vol. 3, 5.2.5). No library selects order statistics
from data read in blocks, hence the code here.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from sim.outputs.files import TEMPORARY_PREFIX, TEMPORARY_SUFFIX

BLOCK = 1 << 18
"""Values read back at a time (2 MB)."""

DIGIT = 16
"""Bits of the values counted per pass of the selection."""

SORTED_AT_MOST = 1 << 17
"""Values in a range few enough to sort rather than count (1 MB; up to ten ranges are sorted at once)."""

SIGN = np.uint64(1 << 63)


class Store(Protocol):
    """Named sequences of float64 values, added to in chunks and read back in blocks."""

    def add(self, name: str, values: np.ndarray) -> None: ...

    def blocks(self, name: str) -> Iterator[np.ndarray]: ...

    def count(self, name: str) -> int: ...

    def close(self) -> None: ...


class MemoryStore:
    """A store that keeps its values in memory."""

    def __init__(self) -> None:
        self._parts: dict[str, list[np.ndarray]] = {}

    def add(self, name: str, values: np.ndarray) -> None:
        self._parts.setdefault(name, []).append(np.asarray(values, dtype=np.float64).ravel())

    def blocks(self, name: str) -> Iterator[np.ndarray]:
        parts = self._parts.get(name, [])
        if len(parts) > 1:
            parts[:] = [np.concatenate(parts)]
        values = parts[0] if parts else np.empty(0)
        for start in range(0, values.size, BLOCK):
            yield values[start : start + BLOCK]

    def count(self, name: str) -> int:
        return sum(part.size for part in self._parts.get(name, []))

    def close(self) -> None:
        self._parts.clear()


class FileStore:
    """A store that appends its values to temporary files in `folder`, one per quantity, named as
    the atomic writes' temporary files are (`sim.outputs.files`), so that a stopped run's cleanup
    removes them. A file is open only while it is added to or read, so a table with thousands of
    actors needs no more open files than one. `close` (or leaving its `with` block) removes them."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._paths: dict[str, Path] = {}
        self._counts: dict[str, int] = {}

    def add(self, name: str, values: np.ndarray) -> None:
        values = np.ascontiguousarray(values, dtype=np.float64).ravel()
        if name not in self._paths:
            prefix = f"{TEMPORARY_PREFIX}{os.getpid()}-values-{len(self._paths)}."
            handle, path = tempfile.mkstemp(dir=self.folder, prefix=prefix, suffix=TEMPORARY_SUFFIX)
            os.close(handle)
            self._paths[name] = Path(path)
        with self._paths[name].open("ab") as stream:
            stream.write(values.tobytes())
        self._counts[name] = self._counts.get(name, 0) + values.size

    def blocks(self, name: str) -> Iterator[np.ndarray]:
        if name not in self._paths:
            return
        with self._paths[name].open("rb") as source:
            while (block := np.fromfile(source, dtype=np.float64, count=BLOCK)).size:
                yield block

    def count(self, name: str) -> int:
        return self._counts.get(name, 0)

    def close(self) -> None:
        for path in self._paths.values():
            path.unlink(missing_ok=True)
        self._paths.clear()

    def __enter__(self) -> FileStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def total(store: Store, name: str) -> float:
    """The sum of a quantity's values (blockwise, each block summed pairwise)."""
    return float(sum((float(block.sum()) for block in store.blocks(name)), 0.0))


def mean(store: Store, name: str) -> float | None:
    """The mean of a quantity's values; None when it has none."""
    n = store.count(name)
    return total(store, name) / n if n else None


def sd(store: Store, name: str, centre: float | None = None) -> float | None:
    """The sample standard deviation (n - 1) of a quantity's values; None below two values."""
    n = store.count(name)
    if n < 2:
        return None
    centre = mean(store, name) if centre is None else centre
    squares = sum((float(((block - centre) ** 2).sum()) for block in store.blocks(name)), 0.0)
    return float(np.sqrt(squares / (n - 1)))


def extremes(store: Store, name: str) -> tuple[float, float] | None:
    """The least and the greatest of a quantity's values; None when it has none."""
    found = [(float(block.min()), float(block.max())) for block in store.blocks(name) if block.size]
    if not found:
        return None
    return min(low for low, _ in found), max(high for _, high in found)


def histogram(store: Store, name: str, edges: np.ndarray) -> np.ndarray:
    """How many of a quantity's values fall in each bin of `edges` (as `numpy.histogram`)."""
    counts = np.zeros(len(edges) - 1, dtype=np.int64)
    for block in store.blocks(name):
        counts += np.histogram(block, bins=edges)[0]
    return counts


def quantiles(store: Store, name: str, probabilities: Sequence[float]) -> list[float] | None:
    """A quantity's quantiles, exactly as `numpy.quantile` (linear) gives them; None when it has none."""
    n = store.count(name)
    if not n:
        return None
    positions = [(n - 1) * p for p in probabilities]
    ranks = sorted({int(np.floor(h)) for h in positions} | {int(np.ceil(h)) for h in positions})
    ordered = order_statistics(lambda: store.blocks(name), n, ranks)
    return [_between(ordered[int(np.floor(h))], ordered[int(np.ceil(h))], h - np.floor(h)) for h in positions]


def _between(low: float, high: float, t: float) -> float:
    """numpy's interpolation between two order statistics (`numpy.lib._function_base_impl._lerp`)."""
    difference = high - low
    return float(high - difference * (1 - t) if t >= 0.5 else low + difference * t)


def sortable(values: np.ndarray) -> np.ndarray:
    """float64 values as uint64 keys in the same order (negative values' bits flipped)."""
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)
    return np.where(bits & SIGN, ~bits, bits | SIGN)


def unsortable(key: int) -> float:
    """The float64 value of a key made by `sortable`."""
    bits = np.uint64(key)
    return float(np.array([bits & ~SIGN if bits & SIGN else ~bits], dtype=np.uint64).view(np.float64)[0])


def order_statistics(
    blocks: Callable[[], Iterator[np.ndarray]], count: int, ranks: Sequence[int]
) -> dict[int, float]:
    """The values of rank `ranks` (0 for the least) among the `count` values `blocks()` yields,
    reading them a few times (at most 64 / DIGIT passes, and one more to sort a small range)."""
    # Each wanted rank narrows a range of keys: those whose top `known` bits equal `prefix`; `below`
    # counts the keys under the range, `inside` those in it.
    ranges = {rank: (0, 0, 0, count) for rank in ranks}
    found: dict[int, float] = {}
    while ranges:
        groups = {(prefix, known, inside) for prefix, known, _, inside in ranges.values()}
        sorting = {(p, k) for p, k, inside in groups if inside <= SORTED_AT_MOST}
        counted = {(p, k) for p, k, _ in groups} - sorting
        gathered: dict[tuple[int, int], list[np.ndarray]] = {group: [] for group in sorting}
        counts = {group: np.zeros(1 << DIGIT, dtype=np.int64) for group in counted}
        for block in blocks():
            keys = sortable(block)
            for prefix, known in sorting | counted:
                selected = keys if known == 0 else keys[(keys >> np.uint64(64 - known)) == np.uint64(prefix)]
                if (prefix, known) in sorting:
                    gathered[(prefix, known)].append(selected)
                else:
                    digits = (selected >> np.uint64(64 - known - DIGIT)) & np.uint64((1 << DIGIT) - 1)
                    counts[(prefix, known)] += np.bincount(digits.astype(np.int64), minlength=1 << DIGIT)
        for rank, (prefix, known, below, _) in list(ranges.items()):
            if (prefix, known) in sorting:
                keys = np.sort(np.concatenate(gathered[(prefix, known)]))
                found[rank] = unsortable(int(keys[rank - below]))
                del ranges[rank]
                continue
            cumulative = np.cumsum(counts[(prefix, known)])
            digit = int(np.searchsorted(cumulative, rank - below, side="right"))
            below += int(cumulative[digit - 1]) if digit else 0
            prefix, known = (prefix << DIGIT) | digit, known + DIGIT
            if known == 64:
                found[rank] = unsortable(prefix)
                del ranges[rank]
            else:
                ranges[rank] = (prefix, known, below, int(counts[(prefix >> DIGIT, known - DIGIT)][digit]))
    return found
