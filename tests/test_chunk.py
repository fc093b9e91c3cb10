"""Chunk stage: every item gives passages that carry its citation fields; ids come from content."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from ingest.chunk import ChunkSettings, chunk_id, chunk_meeting
from ingest.parse import parse_meeting
from ingest.read import read_document
from ingest.records import AgendaItem, Meeting, RawDocument
from tests.badfiles import miljo_text
from tests.conftest import IT_ARK, needs_real


def fictional() -> Meeting:
    return parse_meeting(RawDocument(Path("/fiktiv/miljo.txt"), "txt", miljo_text(council="Miljøudvalget"), "a" * 64))


def long_item_meeting(words: int = 900) -> Meeting:
    # Distinct numbered words, so every word's passage can be found and overlap measured.
    text = "\n\n".join(" ".join(f"ord{n * 10 + k}" for k in range(10)) + "." for n in range(words // 10))
    item = AgendaItem(section="4", title="Et langt punkt", case_number="24/5555", responsible=(), parts=(), text=text)
    m = fictional()
    return replace(m, items=m.items[:3] + (item,))


def test_citation_fields_are_carried() -> None:
    m = fictional()
    chunks = chunk_meeting(m)
    by_item = {it.section: it for it in m.items}
    assert {c.section for c in chunks} == set(by_item)
    for c in chunks:
        it = by_item[c.section]
        assert (c.title, c.case_number, c.council, c.meeting_date, c.source, c.content_hash) == (
            it.title, it.case_number, m.council, m.meeting_date, m.source, m.content_hash)
        assert 0 <= c.passage < c.passages


def test_short_item_is_one_passage_with_the_whole_text() -> None:
    m = fictional()
    chunks = chunk_meeting(m)
    assert len(chunks) == len(m.items)
    assert [c.text for c in chunks] == [it.text for it in m.items]
    assert all(c.passages == 1 for c in chunks)


def test_long_item_is_split_within_size_with_overlap_and_loses_nothing() -> None:
    m = long_item_meeting()
    settings = ChunkSettings(size=400, overlap=80)
    chunks = [c for c in chunk_meeting(m, settings) if c.section == "4"]
    assert len(chunks) > 5
    assert [c.passage for c in chunks] == list(range(len(chunks)))
    assert all(c.passages == len(chunks) for c in chunks)
    assert all(len(c.text) <= settings.size for c in chunks)
    words = [set(re.findall(r"ord\d+", c.text)) for c in chunks]
    assert set().union(*words) == set(re.findall(r"ord\d+", m.items[3].text))
    # Neighbouring passages share words (the overlap); none is contained in another.
    assert all(a & b for a, b in zip(words, words[1:]))
    assert all(not (a <= b) for a, b in zip(words, words[1:]))


def test_ids_are_stable_unique_and_follow_content() -> None:
    m = long_item_meeting()
    first, again = chunk_meeting(m), chunk_meeting(m)
    assert [c.id for c in first] == [c.id for c in again]
    assert len({c.id for c in first}) == len(first)
    assert all(re.fullmatch(r"[0-9a-f]{32}", c.id) for c in first)
    # Another version of the file gives other ids: old and new passages never collide.
    other = chunk_meeting(replace(m, content_hash="b" * 64))
    assert {c.id for c in other}.isdisjoint(c.id for c in first)
    assert chunk_id("s", "h", "1", 0, "x") != chunk_id("s", "h", "1", 1, "x")
    assert chunk_id("s", "h", "1", 0, "x") != chunk_id("s", "h", "2", 0, "x")


def test_item_without_text_becomes_its_title() -> None:
    m = fictional()
    empty = AgendaItem(section="9", title="Godkendelse af dagsorden", case_number=None, responsible=(), parts=(),
                       text="")
    chunks = chunk_meeting(replace(m, items=(empty,)))
    assert [(c.text, c.passages) for c in chunks] == [("Godkendelse af dagsorden", 1)]


@needs_real
def test_real_minutes_every_item_chunked_and_no_words_lost() -> None:
    m = parse_meeting(read_document(IT_ARK))
    chunks = chunk_meeting(m)
    for it in m.items:
        mine = [c for c in chunks if c.section == it.section]
        assert mine, it.section
        assert all(0 < len(c.text) <= ChunkSettings().size for c in mine)
        assert set(re.findall(r"\w+", it.text)) == set(re.findall(r"\w+", " ".join(c.text for c in mine)))
    assert len(chunks) > len(m.items)  # long items were split


@pytest.mark.parametrize("size", [200, 1200])
def test_passages_never_exceed_size(size: int) -> None:
    chunks = chunk_meeting(long_item_meeting(2000), ChunkSettings(size=size, overlap=size // 8))
    assert max(len(c.text) for c in chunks) <= size
