"""Identity's answers for content-addressed brand images, kept by the gateway.

A small LRU bounded by bytes, keyed by tenant and path (kind, hash prefix,
rendition): the sign-in page's logo costs identity one read per gateway, not
one per visitor, and since a path names its content a cached image is never
stale. It lives on `Backends`, beside identity's channel, for the app's life.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

CACHE_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class BrandImage:
    content_type: str
    sha256: str  # of `data`
    data: bytes


Key = tuple[str, str, str, int]  # tenant id, kind, hash prefix, rendition


class BrandImages:
    """Identity's answers for content-addressed images, newest used last."""

    def __init__(self, *, max_bytes: int = CACHE_BYTES) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._entries: OrderedDict[Key, BrandImage] = OrderedDict()

    def get(self, key: Key) -> BrandImage | None:
        image = self._entries.get(key)
        if image is not None:
            self._entries.move_to_end(key)
        return image

    def put(self, key: Key, image: BrandImage) -> None:
        if len(image.data) > self._max_bytes or key in self._entries:
            return
        self._entries[key] = image
        self._bytes += len(image.data)
        while self._bytes > self._max_bytes:
            _, dropped = self._entries.popitem(last=False)
            self._bytes -= len(dropped.data)
