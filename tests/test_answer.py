"""The extractive answer on real indexes and the real model: positions first, refusals that hold."""

from __future__ import annotations

from datetime import date

import re
from pathlib import Path
from typing import Any

import pytest

from chat_app.answer import Answer, answer_question, is_english, name_words
from index.build import ingest_paths
from index.store import Index, open_index
from tests.conftest import AARHUS_TU, IT_ARK, needs_real

DEMO = Path(__file__).resolve().parents[1] / "demo" / "minutes"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_index(tmp_path_factory: pytest.TempPathFactory, real_embedder: Any) -> Any:
    db = tmp_path_factory.mktemp("answer") / "db"
    with open_index(db, real_embedder, create=True, write=True) as ix:
        assert all(r.status == "ny" for r in ingest_paths(ix, sorted(DEMO.glob("*.txt"))))
    with open_index(db, real_embedder) as ix:
        yield ix


@pytest.fixture(scope="module")
def kl_index(tmp_path_factory: pytest.TempPathFactory, real_embedder: Any) -> Any:
    """The KL minutes alone (one meeting, nine items, no date), read by several tests."""
    db = tmp_path_factory.mktemp("answer-kl") / "db"
    with open_index(db, real_embedder, create=True, write=True) as ix:
        assert [r.status for r in ingest_paths(ix, [IT_ARK])] == ["ny"]
    with open_index(db, real_embedder) as ix:
        yield ix


def item_texts(index: Index) -> dict[tuple[str, str], str]:
    return {(i.source, i.section): i.text for i in index.store.get_items()}


def check(index: Index, a: Answer) -> None:
    """Every citation is numbered in the answer, and every quote in it is verbatim from its item."""
    assert not a.refused and a.citations
    texts = item_texts(index)
    assert sorted({int(n) for n in re.findall(r"\[(\d+)\]", a.answer)}) == list(range(1, len(a.citations) + 1))
    for c in a.citations:
        assert c.quote in texts[(c.source, c.section)]
    cited = None
    for line in a.answer.splitlines():
        m = re.match(r"- [^:]+: »(.*)« \[(\d+)\]$", line)
        under = re.match(r"  »(.*)«$", line)  # a list's line, under the bullet that cites it
        if m:
            cited = a.citations[int(m.group(2)) - 1]
        quote = m.group(1) if m else under.group(1) if under else None
        if quote is not None:
            assert cited is not None, line
            assert quote.replace("(", "[").replace(")", "]") in \
                texts[(cited.source, cited.section)].replace("(", "[").replace(")", "]"), line
        elif not line.startswith("- "):
            cited = None


def test_the_pages_example_questions_are_answered(demo_index: Index) -> None:
    from chat_app.ui import EXAMPLES

    for q in EXAMPLES:
        a = answer_question(demo_index, q)
        assert not a.refused, (q, a.support)
        if all(not c.section for c in a.citations):  # who attended: the participants list
            assert len(roster_quotes(demo_index, a)) >= 10, q
        else:
            check(demo_index, a)


def test_change_over_time_lists_every_meeting_newest_first(demo_index: Index) -> None:
    a = answer_question(demo_index, "Hvordan har rådets holdning til cloud udviklet sig?")
    check(demo_index, a)
    dates = [c.meeting_date for c in a.citations if c.meeting_date]
    assert len(dates) >= 3 and dates == sorted(dates, reverse=True)
    first = a.answer.splitlines()[2]
    assert first.endswith("– seneste holdning:") and "10. marts 2026" in first


def test_the_first_time_is_answered_oldest_first_and_marked(demo_index: Index) -> None:
    a = answer_question(demo_index, "Hvornår drøftede rådet første gang open source?")
    check(demo_index, a)
    dates = [c.meeting_date for c in a.citations]
    assert dates == sorted(dates) and len(dates) >= 3, dates  # type: ignore[type-var]
    assert (str(dates[0]), a.citations[0].section) == ("2024-03-12", "2.2")
    assert a.answer.startswith("Sådan har rådet behandlet emnet i de indlæste referater (ældste først):")
    assert ('pkt. 2.2 "Open source i kommunale løsninger" – første gang i de indlæste referater:' in a.answer)
    assert "seneste holdning" not in a.answer


@pytest.mark.parametrize("question,first", [
    ("Hvornår drøftede rådet første gang open source?", True),
    ("Hvornår blev cloud for første gang behandlet?", True),
    ("Hvornår blev API-standarden først drøftet?", True),
    ("When did the council first discuss public cloud?", True),
    ("Hvad blev besluttet på rådets første møde i 2025?", False),
    ("Hvad skal kommunerne gøre i første omgang?", False),
])
def test_a_question_about_the_first_time_is_told(question: str, first: bool) -> None:
    from chat_app.answer import FIRST_QUESTION

    assert bool(FIRST_QUESTION.search(question)) is first


def test_a_year_in_the_question_brings_that_years_meeting_first(demo_index: Index) -> None:
    # The demo council discussed open source in 2024 and 2025 and public cloud in 2024 and 2026.
    for question, year in (("Hvad sagde rådet om open source i 2024?", 2024),
                           ("Hvad sagde rådet om open source i 2025?", 2025),
                           ("Hvad drøftede rådet om offentlig cloud i 2024?", 2024),
                           ("Hvad drøftede rådet om offentlig cloud i 2026?", 2026)):
        first = demo_index.search(question, k=3)[0].chunk
        assert first.meeting_date is not None and first.meeting_date.year == year, (question, first.title)
    # In other years' items the topic still ranks: the year moves items, it does not filter them.
    titles = [h.chunk.title for h in demo_index.search("Hvad drøftede rådet om offentlig cloud i 2026?", k=10)]
    assert any("offentlig cloud" in t.lower() for t in titles)


def test_a_period_in_the_question_keeps_the_answer_inside_it_in_date_order(demo_index: Index) -> None:
    # Open source was discussed at every council meeting, 2024-03-12 to 2026-03-10.
    today = date(2026, 12, 4)
    for question, inside in (("Hvad har rådet sagt om open source siden 2025?", lambda d: d >= date(2025, 1, 1)),
                             ("Hvad sagde rådet om open source før 2025?", lambda d: d.year == 2024),
                             ("Hvad sagde rådet om open source mellem marts 2024 og februar 2025?",
                              lambda d: date(2024, 3, 1) <= d <= date(2025, 2, 28)),
                             ("Hvad har rådet sagt om open source de seneste to år?", lambda d: d >= date(2024, 12, 4)),
                             ("What has the council said about open source since 2026?", lambda d: d.year == 2026)):
        a = answer_question(demo_index, question, today=today)
        check(demo_index, a)
        dates = [c.meeting_date for c in a.citations]
        assert all(d is not None and inside(d) for d in dates), (question, dates)
        assert dates == sorted(dates, reverse=True), question  # a question about time: newest first
        assert any("open source" in c.title.lower() for c in a.citations), question
        assert a.note.startswith("Kun møder ") and a.note.endswith("er medtaget, som spørgsmålet beder om."), a.note
        assert all(inside(h.chunk.meeting_date) for h in demo_index.search(question, k=10, today=today)), question
    # Without the period every meeting is there: the filter is the question's, not the topic's.
    years = {c.meeting_date.year for c in answer_question(demo_index, "Hvordan har rådets holdning til open source "
                                                                        "udviklet sig?").citations if c.meeting_date}
    assert years == {2024, 2025, 2026}


def test_a_period_the_index_holds_no_meeting_from_is_refused_with_the_reason(demo_index: Index) -> None:
    a = answer_question(demo_index, "Hvad har rådet sagt om open source siden 2027?", today=date(2026, 12, 4))
    assert a.refused and not a.citations
    assert a.answer == ("Der er ingen referater fra 1. januar 2027 og frem i de indlæste møder; de indlæste møder er "
                        "fra 12. marts 2024 til 22. april 2026.")
    before = answer_question(demo_index, "Hvad besluttede rådet om cloud før 2024?")
    assert before.refused and "til og med 31. december 2023" in before.answer
    # A month that bounds a period names no meeting: there was none in March 2025, but there were after it.
    after = answer_question(demo_index, "Hvad er der besluttet om exitplaner efter marts 2025?", today=date(2026, 12, 4))
    assert not after.refused and all(c.meeting_date and c.meeting_date >= date(2025, 4, 1) for c in after.citations)
    # "i år" is this year as a focus, like "i 2026"; the same question a year on has no meeting that year.
    now = answer_question(demo_index, "Hvad besluttede rådet om sprogmodeller i år?", today=date(2026, 12, 4))
    assert not now.refused and now.citations[0].meeting_date.year == 2026


def roster_quotes(index: Index, a: Answer) -> list[str]:
    """The quotes of an attendance answer, each checked verbatim against its meeting's participants list."""
    assert not a.refused and a.citations
    rosters = {m.source: [r.text for r in m.roster] for m in index.manifest.meetings}
    quotes = []
    for line in a.answer.splitlines():
        if line.startswith("- ") and "»" in line:
            n = int(re.search(r"\[(\d+)\]$", line).group(1))  # type: ignore[union-attr]
            c = a.citations[n - 1]
            assert c.section == "" and c.title == "Deltagerfortegnelse" and c.quote in rosters[c.source]
            for q in re.findall(r"»([^«]*)«", line):
                assert q in rosters[c.source], q
                quotes.append(q)
    return quotes


def test_who_attended_is_answered_from_the_participants_list(demo_index: Index) -> None:
    a = answer_question(demo_index, "Hvem deltog i mødet den 12. marts 2024?")
    quotes = roster_quotes(demo_index, a)
    assert a.answer.startswith("Fiktivt It-Arkitekturråd, møde 12. marts 2024 – deltagerfortegnelse:")
    assert "Karen Holm-Vestergaard, Digitaliseringsdirektør, Ravnsø Kommune (mødeleder)" in quotes
    assert "- Afbud: »Henrik Aagaard, Direktør for Teknik og Miljø, Fjordby Kommune« [1]" in a.answer
    assert a.citations[0].memo_line() == 'Fiktivt It-Arkitekturråd, møde 2024-03-12, "Deltagerfortegnelse"'
    # The apologies, the chair, a person across meetings.
    absent = answer_question(demo_index, "Hvem havde meldt afbud til udvalgets møde i maj 2025?")
    assert roster_quotes(demo_index, absent) == ["Mikael Holt"]
    chair = answer_question(demo_index, "Hvem var mødeleder på rådets seneste møde?")
    assert roster_quotes(demo_index, chair) == ["Karen Holm-Vestergaard, Digitaliseringsdirektør, Ravnsø Kommune (mødeleder)"]
    assert chair.citations[0].meeting_date == date(2026, 3, 10)
    person = answer_question(demo_index, "Var Jakob Mørch med på et af rådets møder?")
    assert roster_quotes(demo_index, person) == ["Jakob Mørch, Ravnsø Kommune"]
    # No meeting named: each council's newest, and the note says so.
    members = answer_question(demo_index, "Hvem er medlemmer af rådet?")
    assert len(roster_quotes(demo_index, members)) == 7 and members.citations[0].meeting_date == date(2026, 3, 10)
    assert members.note.startswith("Spørgsmålet nævner intet bestemt møde")
    # Taking part in an exercise is a topic, answered from the items.
    topic = answer_question(demo_index, "Hvilke kommuner deltog i beredskabsøvelsen?")
    check(demo_index, topic)
    assert all(c.section for c in topic.citations)


def test_who_someone_is_comes_from_the_participants_lists(demo_index: Index) -> None:
    a = answer_question(demo_index, "Hvem er Jonas Brink?")
    assert not a.refused and [c.quote for c in a.citations] == ["Jonas Brink, It-chef, Bølgeby Kommune"]
    assert a.citations[0].title == "Deltagerfortegnelse" and str(a.citations[0].meeting_date) == "2026-03-10"
    assert "Jonas Brink står på deltagerlisten til 5 møder: 10. marts 2026, 9. september 2025" in a.answer
    # With more than the name, the question is about what was said: a search of the items.
    b = answer_question(demo_index, "Hvem er Jonas Brink, og hvad fortalte han om open source?")
    assert b.citations and all(c.section for c in b.citations)


def test_a_follow_up_naming_only_the_other_council_turns_to_its_minutes(demo_index: Index) -> None:
    from chat_app.refs import switched_council

    first = answer_question(demo_index, "Hvad sagde rådet om sprogmodeller?")
    assert {c.council for c in first.citations} == {"Fiktivt It-Arkitekturråd"}
    a = answer_question(demo_index, "Hvad med udvalget?", history=(("Hvad sagde rådet om sprogmodeller?", first.answer),))
    check(demo_index, a)
    assert a.citations and {c.council for c in a.citations} == {"Digitaliseringsudvalget, Fiktiv Kommune"}
    councils = {"Fiktivt It-Arkitekturråd", "Digitaliseringsudvalget, Fiktiv Kommune", "Teknisk Udvalg"}
    assert switched_council("Og rådet?", councils) == "Fiktivt It-Arkitekturråd"
    assert switched_council("What about the council?", councils) == "Fiktivt It-Arkitekturråd"
    assert switched_council("Hvad med udvalget?", councils) is None  # two committees: not guessed between
    assert switched_council("Hvad med udvalgets budget?", councils) is None  # more than the council


def test_the_latest_meeting_brings_each_councils_newest_meeting_first(demo_index: Index) -> None:
    # Language models were discussed in 2025 (twice) and 2026; the API standard in 2024 and 2026.
    for question, day in (("Hvad mente rådet om sprogmodeller på sidste møde?", date(2026, 3, 10)),
                          ("What did the council decide about the API standard at its latest meeting?", date(2026, 3, 10)),
                          ("Hvad besluttede udvalget om exitstrategien for cloudkontrakter på sit seneste møde?",
                           date(2026, 4, 22))):
        first = demo_index.search(question, k=3)[0].chunk
        assert first.meeting_date == day, (question, first.meeting_date, first.title)


def test_a_question_about_a_meeting_as_a_whole_gets_its_agenda_with_each_decision(demo_index: Index) -> None:
    # Before, "Næste møde afholdes 10. marts 2026." from the meeting before was the answer.
    a = answer_question(demo_index, "Hvad blev der besluttet på mødet den 10. marts 2026?")
    check(demo_index, a)
    assert a.answer.startswith("Fiktivt It-Arkitekturråd, møde 10. marts 2026: 7 punkter på dagsordenen.")
    assert [c.section for c in a.citations] == ["1.1", "2.1", "2.2", "2.3", "2.4", "3.1", "4"]
    assert {c.meeting_date for c in a.citations} == {date(2026, 3, 10)}
    assert "»Rådet vedtog anbefalingen om open source som udgangspunkt i nye anskaffelser.« [2]" in a.answer
    # The committee's short decisions come with what was approved; the closed item is named, not quoted.
    a = answer_question(demo_index, "Hvad besluttede udvalget på sit seneste møde?")
    check(demo_index, a)
    assert {c.meeting_date for c in a.citations} == {date(2026, 4, 22)}
    assert ("»Direktionen indstiller, at udvalget godkender exitstrategien for kommunens cloudkontrakter.« [3]\n"
            "- Beslutning: »Godkendt.« [3]") in a.answer
    assert 'pkt. 6 "Lukket punkt: Kontraktforhold": intet referat at citere.' in a.answer
    # A topic with the meeting is a search, not an overview.
    topic = answer_question(demo_index, "Hvad sagde rådet om open source på det seneste møde?")
    assert "punkter på dagsordenen" not in topic.answer and topic.citations[0].section == "2.1"


def test_the_best_items_facts_are_not_crowded_out_by_the_proposal(demo_index: Index) -> None:
    # The template's six elements stand in the discussion; the proposal's "- godkender skabelonen til
    # exitplaner" read closer to the question, but is what the administration asked for, not what it holds.
    a = answer_question(demo_index, "Hvad indeholder skabelonen til exitplaner?")
    check(demo_index, a)
    first = a.answer.split("\n\n")[0]
    assert "seks elementer" in first and "Indstilling" not in first
    # Asked for, the proposal is shown.
    asked = answer_question(demo_index, "Hvad indstillede sekretariatet om skabelonen til exitplaner?")
    assert "Indstilling (forslaget til rådet/udvalget)" in asked.answer.split("\n\n")[0]


def test_a_list_announced_outside_the_matched_passage_is_shown_after_its_announcement(demo_index: Index) -> None:
    # The passage that matched holds "Rådet bakkede op om de tre spor."; the tracks stand earlier in the item.
    a = answer_question(demo_index, "Hvilke tre spor skal arbejdet med kommunernes it-beredskab tilrettelægges i?")
    check(demo_index, a)
    lines = a.answer.split("\n\n")[0].splitlines()
    opening = next(i for i, ln in enumerate(lines) if "tilrettelægges i tre spor:«" in ln)
    assert "1. Kortlægning af kritiske systemer" in lines[opening + 1], lines
    assert "2. Nødprocedurer for manuel drift" in lines[opening + 2], lines


def test_which_municipalities_is_answered_by_their_names(demo_index: Index) -> None:
    # The decision says "de tre kommuner"; the names stand in a discussion sentence further down.
    a = answer_question(demo_index, "Hvilke kommuner deltog i open source-piloten fra starten?")
    check(demo_index, a)
    first = a.answer.split("\n\n")[0]
    assert "2024" in first.splitlines()[0]
    assert all(name in first for name in ("Lindholt", "Stenvig", "Bølgeby")), first


def test_a_decision_question_quotes_the_decision_not_the_proposal(demo_index: Index) -> None:
    a = answer_question(demo_index, "Hvad besluttede rådet om version 2 af standarden for API'er?")
    check(demo_index, a)
    first = next(line for line in a.answer.splitlines() if line.startswith("- "))
    assert first.startswith("- Beslutning: »Rådet godkendte version 2 af standarden for API'er")
    assert "Sekretariatet indstiller" not in a.answer.split("\n\n")[0]


def test_every_open_source_item_is_in_the_answer(demo_index: Index) -> None:
    a = answer_question(demo_index, "Hvordan har rådets holdning til open source udviklet sig?")
    check(demo_index, a)
    years = {c.meeting_date.year for c in a.citations if c.meeting_date}
    assert {2024, 2025, 2026} <= years


@pytest.mark.parametrize("question,says", [
    ("Hvem vandt VM i håndbold for kvinder?", "Jeg kan ikke finde"),
    ("Hvad besluttede rådet på mødet den 3. juni 2023?", "ingen referater fra 3. juni 2023"),
    ("Hvad mente Økonomiudvalget om open source?", "ingen referater fra Økonomiudvalg"),
    ("Hvad står der i punkt 9.4?", "Punkt 9.4 findes ikke"),
    ("Hvad blev der besluttet under SAG-2019-00001?", "Sagsnummeret SAG-2019-00001 findes ikke"),
    # Two digits swapped: the refusal says which case was probably meant.
    ("Hvad blev der besluttet under SAG-2025-00124?",
     "Sagsnummeret SAG-2025-00124 findes ikke i de indlæste referater. Mente du SAG-2025-00142?"),
])
def test_what_the_index_does_not_hold_is_refused_with_the_reason(demo_index: Index, question: str, says: str) -> None:
    a = answer_question(demo_index, question)
    assert a.refused and not a.citations and says in a.answer


def test_a_case_number_typed_loosely_is_answered_from_that_case(demo_index: Index) -> None:
    exact = answer_question(demo_index, "Hvad blev der besluttet under SAG-2025-00142?")
    for typed in ("Hvad blev der besluttet under sag-2025-00142?", "Hvad blev der besluttet under SAG 2025 142?"):
        a = answer_question(demo_index, typed)
        check(demo_index, a)
        assert {c.case_number for c in a.citations} == {"SAG-2025-00142"}, typed
        assert [c.section for c in a.citations] == [c.section for c in exact.citations], typed


def test_an_area_is_not_read_as_a_council_the_index_lacks(demo_index: Index) -> None:
    # "it-området" ends in "råd": read as a council, it refused with "ingen referater fra it-områd".
    a = answer_question(demo_index, "Hvad mente rådet om open source på it-området?")
    check(demo_index, a)
    assert not a.refused and "ingen referater fra" not in a.answer


@needs_real
def test_folded_question_on_one_meeting_is_answered_from_its_item(kl_index: Index) -> None:
    a = answer_question(kl_index, "hvad mente raadet om open source")
    assert not a.refused and a.citations[0].section in ("2.2", "2.3")
    # The same without the marks: "radet" and "suverenitet" are rådet and suverænitet (both were refused).
    for q in ("hvad mente radet om digital suverenitet", "hvad siger radet om open sourse"):
        a = answer_question(kl_index, q)
        assert not a.refused and a.citations[0].section in ("2.2", "2.3"), q
    assert answer_question(kl_index, "Hvem vandt VM i håndbold for kvinder?").refused


def test_everyday_words_are_not_rare_whatever_the_index_says() -> None:
    from index.lexical import general_rarity

    rarity = general_rarity("Hvordan laver man en god surdej?", folded=True)
    assert rarity["surdej"] == 1.0  # not in the Danish word list: as rare as a word gets
    assert rarity["lav"] < 0.3 and rarity["god"] < 0.3  # everyday words
    # An ascii-folded word counts as its Danish spelling; a compound the list lacks counts as rare.
    assert general_rarity("raadet", folded=True)["raad"] == pytest.approx(general_rarity("rådet", folded=True)["raad"])
    assert general_rarity("hundeskatten", folded=True)["hundeskat"] == 1.0


@needs_real
def test_a_question_sharing_only_everyday_words_with_one_meeting_finds_no_support(kl_index: Index,
                                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import chat_app.answer as answer

    question = "Hvordan laver man en god surdej?"
    weighed = answer_question(kl_index, question)
    # Nine agenda items make "laver" and "god" look rare; weighed by their rarity in Danish they are no
    # evidence, and the sourdough the question is about occurs nowhere.
    monkeypatch.setattr(answer, "GENERAL_RARITY", False)
    by_index_alone = answer_question(kl_index, question)
    assert weighed.refused
    assert weighed.support is not None and by_index_alone.support is not None
    assert by_index_alone.support.known > 0.1 and weighed.support.known < by_index_alone.support.known / 2


@pytest.mark.parametrize("question,asks", [
    ("Hvilke møder er indlæst?", True), ("Hvor mange referater har du?", True), ("Hvilke råd og udvalg findes der?", True),
    ("Which meetings are loaded?", True), ("Hvilke møder har behandlet open source?", False),
    ("Hvilke udvalg har drøftet cloud?", False), ("Hvor mange kommuner deltager i piloten?", False),
    ("Hvad blev besluttet på mødet?", False),
])
def test_a_question_about_the_index_itself_is_told(question: str, asks: bool) -> None:
    from chat_app.answer import asks_contents

    assert asks_contents(question) is asks


@pytest.mark.parametrize("question,english", [
    ("What did the council say about open source software?", True),
    ("Who is the prime minister of Australia?", True),
    ("How tall is the Eiffel Tower?", True),
    ("Hvad mente rådet om open source?", False),
    ("hvad mente raadet om cloud", False),
    ("Hvad sagde rådet om the cloud?", False),  # one English word in a Danish question
    ("open source", False),  # no function words: nothing tells the language
])
def test_english_questions_are_told_from_danish_ones(question: str, english: bool) -> None:
    assert is_english(question) is english


@pytest.mark.parametrize("question,names", [
    ("Hvad sagde rådet om Sønderborg Kommunes nye datacenter?", ["Sønderborg", "Kommunes"]),
    ("Hvordan skal kommunerne efterleve NIS2-direktivet?", ["NIS2"]),
    ("Hvilken holdning har rådet til iPhones?", ["iPhones"]),
    ("Hvad sagde rådet om ISO 27001 i 2025?", ["ISO", "27001"]),  # a year is a date, not a name
    ("Hvad mente rådet? Og Esbjerg?", ["Esbjerg"]),  # "Og" opens a sentence
    ("hvad mente raadet om open source", []),
])
def test_names_in_a_question_are_found(question: str, names: list[str]) -> None:
    assert name_words(question) == names


def test_a_name_the_index_never_mentions_is_a_feature_of_the_refusal(demo_index: Index) -> None:
    unknown = answer_question(demo_index, "Hvad sagde rådet om Sønderborg Kommunes nye datacenter?")
    assert unknown.support is not None and unknown.support.name_gap == 1.0 and unknown.refused
    known = answer_question(demo_index, "Hvad sagde Fiktiv Kommune om cloud?")
    assert known.support is not None and known.support.name_gap == 0.0
    english = answer_question(demo_index, "What did the council say about open source software?")
    assert english.support is not None and english.support.english and not english.refused
    assert english.support.to_json()["english"] is True


def test_an_english_question_sharing_no_word_with_the_minutes_is_refused(demo_index: Index) -> None:
    from dataclasses import replace

    from chat_app.answer import SUPPORT_RULE

    absent = answer_question(demo_index, "What did the council say about quantum computing in the municipalities?")
    assert absent.support is not None and absent.support.english and absent.support.known == 0.0
    assert absent.refused and not absent.citations
    # The score alone lets it through (measured: -0.47 against the threshold -0.57); the shared-word gate refuses it.
    assert replace(SUPPORT_RULE, english_needs_a_known_word=False).passes(absent.support.features(), english=True)
    # The same gate passes a question with one shared word; the score then decides.
    shared = answer_question(demo_index, "What did the council say about cloud contracts and exit plans?")
    assert shared.support is not None and shared.support.known > 0.0 and not shared.refused


@needs_real
def test_the_best_item_also_quotes_the_fact_the_question_asks_for(kl_index: Index) -> None:
    # The strategy's funding is a presenter's sentence in the Drøftelse, behind the council's positions.
    a = answer_question(kl_index, "Hvordan finansieres Kommunernes Digitaliseringsstrategi 2026-2030?")
    check(kl_index, a)
    first_item = a.answer.split("\n\n")[0].splitlines()
    assert first_item[1].startswith("- Drøftelse: »Rådet")  # the council's position still leads
    assert "bloktilskud" in "\n".join(first_item)


@needs_real
def test_real_minutes_answers_lead_with_the_decision_and_show_whole_lists(tmp_path: Path, real_embedder: Any) -> None:
    with open_index(tmp_path / "db", real_embedder, create=True, write=True) as ix:
        ingest_paths(ix, [IT_ARK, AARHUS_TU])
        # Aarhus: the committee's decision, not the case summary under the empty heading, nor a change answer.
        a = answer_question(ix, "Hvad besluttede udvalget om udviklingsplanen for Pier 3?")
        check(ix, a)
        lines = [ln for ln in a.answer.splitlines() if ln.startswith("- ")]
        assert lines[0].startswith("- Beslutning: »Et flertal i udvalget kunne tiltræde indstillingen"), lines
        assert "udviklet sig" not in a.answer and "Bilag 1:" not in a.answer
        assert not any(ln.startswith("- Beslutning:") and "fire ugers høring" in ln for ln in lines)
        # The decision is short and quoted whole, in its order: the majority, who reserved, who voted against.
        decision = [ln for ln in lines if ln.startswith("- Beslutning:")]
        assert [d.split("»")[1][:20] for d in decision] == [
            "Et flertal i udvalge", "Jesper Kjeldsen, Ste", "Jakob Søgaard Clause", "Solveig Munk kunne i",
            "Liv Gro Jensen var f"], decision
        # KL: the four tracks are a numbered list; the answer shows all of it, not the closest line.
        a = answer_question(ix, "Hvilke spor gennemgik statusoplægget om implementeringen af de fælles it-driftsenheder?")
        check(ix, a)
        first_item = a.answer.split("\n\n")[0]
        for track in ("1. Kortlægning", "2. Udvikling af målbillede", "3. Afklaring", "4. Etablering af governance"):
            assert track in first_item, first_item
        # A sentence announcing a list ("… arbejdes der med flere storskala-projekter:") brings its list.
        a = answer_question(ix, "Hvilke storskala-projekter arbejder AI-taskforcen med?")
        check(ix, a)
        first_item = a.answer.split("\n\n")[0]
        assert "storskala-projekter:« [1]" in first_item, first_item
        for project in ("1. Tale-til-tekst", "2. Beslutningsstøtte", "3. Sensorbaserede"):
            assert project in first_item, first_item
        # A presenter's short opening brings the detail after it: what the architecture consists of.
        a = answer_question(ix, "Hvilken infrastruktur bygger pilotløsningen for udsatte børn og unge på?")
        check(ix, a)
        lines = a.answer.split("\n\n")[0].splitlines()
        intro = next(i for i, ln in enumerate(lines) if "eksisterende infrastruktur" in ln)
        assert "MedCom-korrespondance" in lines[intro + 1], lines
        # An item with nothing substantive to quote gives its decision, not its raw text with the headings.
        a = answer_question(ix, "Var der bemærkninger til referatet fra sidste udvalgsmøde?")
        check(ix, a)
        assert a.answer.split("\n")[1] == "- Beslutning: »Ingen bemærkninger.« [1]", a.answer
        # A council with one meeting in the index: "mødet i Teknisk Udvalg" is that meeting, dated or not.
        a = answer_question(ix, "Opsummer mødet i Teknisk Udvalg")
        assert a.answer.startswith("Teknisk Udvalg, møde 1. oktober 2025: 6 punkter på dagsordenen."), a.answer
        a = answer_question(ix, "Hvad skete der på It-Arkitekturrådets møde?")
        assert a.answer.startswith("It-Arkitekturråd, møde ukendt dato: 9 punkter på dagsordenen."), a.answer
        # The index itself.
        a = answer_question(ix, "Hvilke møder er indlæst?")
        assert not a.refused and not a.citations
        assert a.answer.startswith("Indekset har 2 møder (15 punkter) fra 2 råd og udvalg:")
        assert "- møde 1. oktober 2025: 6 punkter (teknisk_udvalg_referat_2025-10-01.html)" in a.answer
        # A period: the one dated meeting lies outside it and the undated one cannot be placed, so no answer;
        # the refusal says why.
        a = answer_question(ix, "Hvad besluttede Teknisk Udvalg før 2025?", today=date(2026, 12, 4))
        assert a.refused and a.answer == (
            "Der er ingen referater til og med 31. december 2024 i de indlæste møder; det eneste daterede møde er "
            "fra 1. oktober 2025 (1 møde uden dato kan ikke placeres i tiden).")


@needs_real
def test_a_period_in_an_index_without_dates_filters_nothing_and_says_so(kl_index: Index) -> None:
    ix = kl_index  # the KL minutes give no meeting date
    plain = answer_question(ix, "Hvad sagde rådet om digital suverænitet?")
    a = answer_question(ix, "Hvad sagde rådet om digital suverænitet siden 2024?", today=date(2026, 12, 4))
    check(ix, a)
    assert {c.section for c in a.citations} == {c.section for c in plain.citations}
    assert a.note == ("Spørgsmålet gælder tiden fra 1. januar 2024 og frem, men referaterne har ingen mødedato, "
                      "så alle er medtaget.")
    assert ix.search("digital suverænitet siden 2024", k=3, today=date(2026, 12, 4))


@needs_real
def test_an_agenda_is_quoted_as_what_was_proposed_never_as_decided(tmp_path: Path, raadgiver: Any) -> None:
    from tests.conftest import AARHUS_BR
    from tests.test_memo import read_memo

    db = tmp_path / "db"
    assert raadgiver("ingest", AARHUS_BR, AARHUS_TU, "--model", "hash", db=db).returncode == 0
    listed = raadgiver.json("items", db=db)
    assert {(Path(r["source"]).name, r["agenda"]) for r in listed} == {(AARHUS_BR.name, True), (AARHUS_TU.name, False)}
    memo = tmp_path / "notat.docx"
    question = "Hvad besluttede byrådet om vindmøller på Aarhus Havn?"
    a = raadgiver.json("ask", question, "--model", "hash", "--docx", memo, db=db)
    assert not a["refused"] and a["citations"] and all(c["agenda"] for c in a["citations"]), a
    # Before the meeting nothing was decided or discussed: the proposal is shown as the proposal, the case as
    # the agenda's text, and the note says what an agenda is.
    first = a["answer"].split("\n\n")[0]
    assert first.startswith('Aarhus Byråd, dagsorden til mødet 8. oktober 2025, pkt. 11 "Svar på forslag fra S, SF, '
                            'RV, M og ALT om vindmøller på Aarhus Havn":'), first
    assert "- Indstilling (forslaget til rådet/udvalget): »" in first and "- Fra dagsordenen: »" in first
    assert "Beslutning:" not in a["answer"] and "drøftelsen" not in a["answer"] and "Drøftelse:" not in a["answer"]
    assert "dagsorden" in a["note"] and "ikke hvad der blev besluttet" in a["note"]
    assert read_memo(memo).notes[1][0].startswith("Aarhus Byråd, dagsorden til mødet 8. oktober 2025, pkt. 11")
    # The committee's minutes beside it keep their decision and no agenda note.
    b = raadgiver.json("ask", "Hvad besluttede Teknisk Udvalg om udviklingsplanen for Pier 3?", "--model", "hash",
                       db=db)
    assert not b["refused"] and not any(c["agenda"] for c in b["citations"]), b
    assert "- Beslutning: »" in b["answer"] and "dagsorden" not in b["note"]
    # One case on both: what was decided comes from the minutes, the agenda's item follows and the note says so.
    d = raadgiver.json("ask", "Hvad blev besluttet under EMN-2025-009242?", "--model", "hash", db=db)
    assert [(Path(c["source"]).name, c["agenda"]) for c in d["citations"]] == [
        (AARHUS_TU.name, False), (AARHUS_BR.name, True)], d
    assert d["note"] == "Kilde [2] er fra en dagsorden, skrevet før mødet: den viser forslaget, ikke hvad der blev besluttet."
    # A question about the meeting as a whole: the agenda's items with what each proposes.
    c = raadgiver.json("ask", "Hvad er der på byrådets møde den 8. oktober 2025?", "--model", "hash", db=db)
    assert c["answer"].startswith("Aarhus Byråd, dagsorden til mødet 8. oktober 2025: 33 punkter på dagsordenen."), c
    assert "Beslutning:" not in c["answer"] and "Indstilling (forslaget" in c["answer"]


@needs_real
def test_an_abbreviation_is_answered_by_the_sentence_that_spells_it_out(tmp_path: Path, raadgiver: Any) -> None:
    db = tmp_path / "db"
    assert raadgiver("ingest", IT_ARK, "--model", "hash", db=db).returncode == 0
    a = raadgiver.json("ask", "Hvad står FODS for?", "--model", "hash", db=db)
    # The name ("Fællesoffentlig Digitaliseringsstrategi (FODS)", pkt. 2.8), not the description in pkt. 1.1.
    assert a["answer"].startswith("FODS står for »Fællesoffentlig Digitaliseringsstrategi« [1]."), a["answer"]
    assert [(c["section"], c["quote"]) for c in a["citations"]] == [
        ("2.8", "I regi af Fællesoffentlig Digitaliseringsstrategi (FODS) igangsættes en foreløbig analyse med fokus "
                "på:")]
    # Not spelled out anywhere: the usual answer.
    b = raadgiver.json("ask", "Hvad er FDA?", "--model", "hash", db=db)
    assert not b["answer"].startswith("FDA står for")


def test_a_danish_word_for_an_abbreviation_is_quoted_as_what_the_minutes_use_it_for(demo_index: Index) -> None:
    a = answer_question(demo_index, "Hvad betyder DPIA?")
    check(demo_index, a)
    assert a.answer.startswith("Referaterne bruger DPIA om »konsekvensanalyse« [1].")
    assert (str(a.citations[0].meeting_date), a.citations[0].section) == ("2024-03-12", "2.3")


@pytest.mark.parametrize(("question", "latest"), [
    ("Hvad mente rådet om open source?", True),
    ("What did the council decide about the API standard?", True),
    ("Hvad er rådets holdning til cloud?", True),
    ("Hvad er status på AI-assistenten?", True),
    ("Hvad sagde Bo Fristed om GovTech?", False),  # a person's words, not the council's position
    ("Hvor mange kommuner deltog i piloten?", False),
])
def test_position_and_status_questions_are_told(question: str, latest: bool) -> None:
    from chat_app.answer import newest_first

    assert newest_first(question) is latest


@needs_real
def test_the_councils_position_leads_with_its_newest_meeting(demo_index: Index) -> None:
    # In order of relevance the 2024 position ("ikke kan anbefales") stood above the 2026 decision.
    for q, mark in (("What did the council decide about open source?", "– seneste holdning"),
                    ("Hvad er status på AI-assistenten i Borgerservice?", "– seneste status")):
        a = answer_question(demo_index, q)
        dates = [c.meeting_date for c in a.citations[:4]]
        assert len(set(dates)) > 1 and dates == sorted(dates, reverse=True), (q, dates)
        assert a.answer.startswith(f"Punkterne er fra {len(set(dates))} møder, det nyeste først:"), a.answer
        assert mark in a.answer.split("\n")[2], a.answer
    # The status question cites the evaluation a year after the trial, first.
    assert a.citations[0].title == "Evaluering af AI-assistenten i Borgerservice"
