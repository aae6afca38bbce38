"""Page filters: an invoice line's description wraps on a phone, but never inside
one of our references ("PRJ-" at a line's end, "0001" on the next), and is still
escaped."""

from gateway.pages.formatting import keep_references


def test_references_are_kept_whole_and_the_rest_escaped() -> None:
    html = keep_references('Deposit (PRJ-0001) <b>&</b> "CO-003" after INV-1247')
    assert html == (
        'Deposit (<span class="nowrap">PRJ-0001</span>) &lt;b&gt;&amp;&lt;/b&gt; '
        '&#34;<span class="nowrap">CO-003</span>&#34; after <span class="nowrap">INV-1247</span>'
    )


def test_what_only_looks_like_a_reference_is_left_alone() -> None:
    assert keep_references("wall-mount x-2 A-1 ABCDE-12 prj-0001") == (
        "wall-mount x-2 A-1 ABCDE-12 prj-0001"
    )
    # An attribute a description tries to smuggle in stays text.
    assert "<span" not in keep_references('" onmouseover="x')
