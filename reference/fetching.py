"""Iterating dataloaders the way Lightning's CombinedLoader and prefetching fetcher do.

This matters beyond hook order: when ``iter()`` is called on a DataLoader decides when its sampler
draws
from the global random generator, so creating iterators at the same moments as Lightning keeps
shuffled
runs identical to Lightning's.
"""

__all__ = ["Fetcher", "SequentialLoaders", "SingleLoader"]

INF = float("inf")


class SingleLoader:
    """Iterates one training loader as ``(batch, batch_idx, 0)``; the iterator is made eagerly."""

    def __init__(self, loader):
        self.loader = loader

    def __iter__(self):
        return ((batch, batch_idx, 0) for batch_idx, batch in enumerate(iter(self.loader)))


class SequentialLoaders:
    """Iterates eval loaders one after the other as ``(batch, batch_idx, dataloader_idx)``."""

    def __init__(self, loaders, limits):
        self.loaders, self.limits = loaders, limits

    def __iter__(self):
        return _SequentialIterator(self.loaders, self.limits)


class _SequentialIterator:
    def __init__(self, loaders, limits):
        self.loaders, self.limits = loaders, limits
        self.dataloader_idx, self.batch_idx = 0, 0
        self._load_current()  # like Lightning, only the current loader has a live iterator

    def _load_current(self):
        exhausted = self.dataloader_idx >= len(self.loaders)
        self.iterator = None if exhausted else iter(self.loaders[self.dataloader_idx])

    def _use_next_loader(self):
        self.dataloader_idx, self.batch_idx = self.dataloader_idx + 1, 0
        self._load_current()

    def __next__(self):
        while (
            self.dataloader_idx < len(self.loaders)
            and self.limits[self.dataloader_idx] <= self.batch_idx
        ):
            self._use_next_loader()
        if self.dataloader_idx >= len(self.loaders):
            raise StopIteration
        try:
            batch = next(self.iterator)
        except StopIteration:
            self._use_next_loader()
            return next(self)
        self.batch_idx += 1
        return batch, self.batch_idx - 1, self.dataloader_idx


class Fetcher:
    """Fetches batches and knows whether the one just returned was the last one.

    This is Lightning's prefetching fetcher.

    With a known ``length`` nothing is fetched ahead; without one, a batch is fetched ahead of time.
    """

    def __init__(self, iterable, length):
        self.iterable = iterable
        self.length = None if length == INF else int(length)
        self.restart()

    def restart(self):
        """Create a fresh iterator (Lightning does it at data setup and at each later epoch)."""
        self.iterator = iter(self.iterable)
        self.fetched, self.done, self.ahead = 0, self.length == 0, []
        if self.length is None:
            try:
                self.ahead.append(self._fetch())
            except StopIteration:
                pass

    def _fetch(self):
        try:
            item = next(self.iterator)
        except StopIteration:
            self.done = True
            raise
        self.fetched += 1
        if self.length is not None:
            self.done = self.fetched >= self.length
        return item

    def __iter__(self):
        return self

    def __next__(self):
        if self.ahead:
            item = self.ahead.pop(0)
            try:
                self.ahead.append(self._fetch())
            except StopIteration:
                self.done = not self.ahead
            return item
        if self.done:
            raise StopIteration
        return self._fetch()
