"""Quotes located in the original text of a notice (policyrules.review.spans)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from policyrules.loading.quotes import first_missing_part as _not_in
from policyrules.loading.quotes import squeeze as _squeeze
from policyrules.review.spans import accounted_share, locate, merge, non_space, parts, segments

TEXT = "一、总体要求\n(一) 先诊疗\n  后付费。\u3000其他……内容。先诊疗后付费。"


def test_a_quote_across_a_line_break_maps_to_the_printed_span() -> None:
    (span,) = locate("先诊疗后付费", TEXT) or []
    assert TEXT[span[0]:span[1]] == "先诊疗\n  后付费"


def test_the_first_place_is_taken_as_the_loader_takes_it() -> None:
    spans = locate("先诊疗后付费", TEXT)
    assert spans is not None and spans[0][0] == TEXT.index("先诊疗")


def test_omissions_split_a_quote_into_parts_found_in_order() -> None:
    spans = locate("总体……后付费", TEXT)
    assert spans is not None and [TEXT[a:b] for a, b in spans] == ["总体", "后付费"]
    assert parts("a……b…c...d") == ["a", "b", "c", "d"]
    assert locate("后付费……总体", TEXT) is None  # the parts stand in the other order


def test_a_later_part_is_looked_for_after_the_earlier_one() -> None:
    spans = locate("其他……先诊疗后付费", TEXT)
    assert spans is not None
    assert TEXT[spans[1][0]:spans[1][1]] == "先诊疗后付费" and spans[1][0] > TEXT.index("其他")


def test_full_width_spaces_and_missing_words() -> None:
    assert locate("。其他", TEXT) is not None  # across the ideographic space
    assert locate("不在原文里", TEXT) is None
    assert locate("", TEXT) is None and locate("……", TEXT) is None


def test_merge_share_and_segments() -> None:
    assert merge([(5, 8), (0, 2), (1, 3), (8, 9), (4, 4)]) == [(0, 3), (5, 9)]
    assert non_space(" a \n b ") == 2
    assert accounted_share("ab cd", [(0, 2)]) == 0.5
    assert accounted_share("ab cd", [(0, 2), (1, 5)]) == 1.0
    assert accounted_share("   ", [(0, 1)]) == 0.0
    cut = segments("abcdef", [((1, 3), "x"), ((2, 5), "y")])
    assert cut == [((0, 1), frozenset()), ((1, 2), {"x"}), ((2, 3), {"x", "y"}), ((3, 5), {"y"}),
                   ((5, 6), frozenset())]


texts = st.text(alphabet="先诊疗后付费 \n\u3000…。ab.", max_size=40)


@given(texts, texts)
def test_locate_agrees_with_the_loaders_check(quote: str, text: str) -> None:
    found = locate(quote, text)
    if any(parts(quote)):
        assert (found is not None) == (_not_in(quote, _squeeze(text)) == "")
    if found is not None:
        assert [_squeeze(text[a:b]) for a, b in found] == parts(quote)
        assert all(a < b for a, b in found) and found == sorted(found)
