"""The chassis' sealed objects and key ring (identity's brand images; documents'
blobs use the same ring)."""

from __future__ import annotations

import base64
import json

import pytest

from services.chassis.sealing import MasterKeys, Unreadable, open_sealed, seal

K1 = MasterKeys({"k1": b"\x01" * 32}, "k1")


def test_a_sealed_object_opens_with_its_associated_data_only():
    sealed = seal(K1, b"the logo", aad=b"tenant-a|logo")
    assert b"the logo" not in sealed
    assert open_sealed(K1, sealed, aad=b"tenant-a|logo") == b"the logo"
    with pytest.raises(Unreadable):
        open_sealed(K1, sealed, aad=b"tenant-b|logo")


def test_each_seal_uses_a_fresh_data_key_and_nonce():
    assert seal(K1, b"same", aad=b"x") != seal(K1, b"same", aad=b"x")


@pytest.mark.parametrize("cut", [1, 10, 40, 80])
def test_a_truncated_or_altered_object_is_unreadable(cut):
    sealed = seal(K1, b"x" * 100, aad=b"a")
    with pytest.raises(Unreadable):
        open_sealed(K1, sealed[:-cut], aad=b"a")
    flipped = bytearray(sealed)
    flipped[-cut] ^= 1
    with pytest.raises(Unreadable):
        open_sealed(K1, bytes(flipped), aad=b"a")


def test_an_older_key_still_opens_what_it_sealed_and_a_missing_one_does_not():
    sealed = seal(K1, b"old", aad=b"a")
    both = MasterKeys({"k1": b"\x01" * 32, "k2": b"\x02" * 32}, "k2")
    assert open_sealed(both, sealed, aad=b"a") == b"old"
    assert seal(both, b"new", aad=b"a")[5:7] == b"k2"  # sealed under the active key
    with pytest.raises(Unreadable, match="not configured"):
        open_sealed(MasterKeys({"k2": b"\x02" * 32}, "k2"), sealed, aad=b"a")


def test_the_ring_parses_from_settings_and_refuses_bad_keys():
    raw = json.dumps({"k1": base64.b64encode(b"\x05" * 32).decode()})
    assert MasterKeys.parse(raw, "k1").get("k1") == b"\x05" * 32
    with pytest.raises(ValueError, match="not configured"):
        MasterKeys.parse(raw, "k9")
    with pytest.raises(ValueError, match="32 bytes"):
        MasterKeys.parse(json.dumps({"k1": base64.b64encode(b"short").decode()}), "k1")
    with pytest.raises(ValueError, match="JSON"):
        MasterKeys.parse("not json", "k1")
