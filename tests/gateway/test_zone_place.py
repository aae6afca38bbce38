"""A client reads the visit's time zone as a place, not as an IANA key."""

import pytest

from gateway.pages.formatting import zone_place


@pytest.mark.parametrize(
    ("zone", "place"),
    [
        ("America/New_York", "New York"),
        ("America/Argentina/Buenos_Aires", "Buenos Aires"),
        ("Europe/London", "London"),
        ("UTC", "UTC"),
        ("", "local"),
    ],
)
def test_a_zone_reads_as_the_place_it_is_named_for(zone: str, place: str) -> None:
    assert zone_place(zone) == place
