"""The gateway's side of uploaded brand images: the cache of content-addressed
answers and the path contract (the letterhead: tests/identity/test_brand_letterhead.py)."""

from __future__ import annotations

from gateway.brand_cache import BrandImage, BrandImages
from services.chassis import brand


def img(size: int, tag: str = "a") -> BrandImage:
    return BrandImage("image/png", tag * 64, b"x" * size)


def test_the_cache_keeps_the_most_recently_used_within_its_bytes():
    cache = BrandImages(max_bytes=100)
    cache.put(("t", "logo", "a", 1), img(40))
    cache.put(("t", "logo", "b", 1), img(40))
    assert cache.get(("t", "logo", "a", 1)) is not None  # now the newest used
    cache.put(("t", "logo", "c", 1), img(40))  # 120 bytes: the least recent goes
    assert cache.get(("t", "logo", "b", 1)) is None
    assert cache.get(("t", "logo", "a", 1)) and cache.get(("t", "logo", "c", 1))
    cache.put(("t", "splash", "d", 1), img(101))  # larger than the whole cache: not kept
    assert cache.get(("t", "splash", "d", 1)) is None
    assert cache.get(("u", "logo", "a", 1)) is None  # another tenant's key


def test_a_brand_path_names_kind_hash_and_type_and_nothing_else_parses():
    path = brand.asset_path("logo", "0123456789abcdef" + "0" * 48, "image/webp")
    assert path == "/brand/logo-0123456789abcdef.webp"
    assert brand.parse_asset_path(path) == brand.AssetRef("logo", "0123456789abcdef", "webp")
    for other in (
        "https://cdn.example/logo.png",
        "/brand/logo-0123.png",
        "/brand/icon-" + "0" * 16 + ".png",
        path + "?x",
    ):
        assert brand.parse_asset_path(other) is None, other
