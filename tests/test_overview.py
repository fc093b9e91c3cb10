"""Questions about a meeting as a whole: which meeting, whether nothing else is asked, what each item quotes."""

from __future__ import annotations

from datetime import date

from chat_app.answer import _question_terms
from chat_app.overview import MeetingRef, about_meeting_only, asked_meetings, overview_sentences, section_key

MEETINGS = [("Fiktivt It-Arkitekturråd", date(2025, 9, 9), "r4.pdf"), ("Fiktivt It-Arkitekturråd", date(2026, 3, 10), "r5.docx"),
            ("Digitaliseringsudvalget, Fiktiv Kommune", date(2026, 4, 22), "d2.txt"), ("KL", None, "kl.txt")]
COUNCILS = {c for c, _, _ in MEETINGS}


def test_the_meeting_is_the_named_date_or_each_councils_latest() -> None:
    r5 = MeetingRef("Fiktivt It-Arkitekturråd", date(2026, 3, 10), "r5.docx")
    d2 = MeetingRef("Digitaliseringsudvalget, Fiktiv Kommune", date(2026, 4, 22), "d2.txt")
    assert asked_meetings("Hvad blev der besluttet på mødet den 10. marts 2026?", MEETINGS) == [r5]
    assert asked_meetings("What was decided at the meeting on 10 March 2026?", MEETINGS) == [r5]
    assert asked_meetings("Hvad skete der på det seneste møde?", MEETINGS) == [r5, d2]
    # "rådets" or "udvalgets" says which of the councils.
    assert asked_meetings("Hvad stod der på dagsordenen på rådets seneste møde?", MEETINGS) == [r5]
    assert asked_meetings("Hvad besluttede udvalget på sit seneste møde?", MEETINGS) == [d2]
    # No meeting named, or a date no meeting has: no overview (the refusal names the missing date).
    assert asked_meetings("Hvad besluttede rådet?", MEETINGS) == []
    assert asked_meetings("Hvad skete der på mødet 3. juni 2023?", MEETINGS) == []


def test_only_a_question_that_names_nothing_but_the_meeting_is_an_overview() -> None:
    terms = _question_terms()
    for q in ("Hvad blev der besluttet på mødet den 10. marts 2026?", "Hvad stod der på dagsordenen på rådets seneste møde?",
              "What was decided at the meeting on 14 May 2025?", "Giv et overblik over It-Arkitekturrådets møde 9. september 2025"):
        assert about_meeting_only(q, terms, COUNCILS), q
    for q in ("Hvad sagde rådet om open source på det seneste møde?", "Hvem deltog i mødet 9. september 2025?",
              "Hvad besluttede udvalget om exitstrategien på sit seneste møde?"):
        assert not about_meeting_only(q, terms, COUNCILS), q


def test_each_item_quotes_its_decision_with_what_was_approved() -> None:
    short = overview_sentences("Indstilling\nDirektionen indstiller, at udvalget godkender exitstrategien for kommunens "
                               "cloudkontrakter.\n\nBeslutning\nGodkendt.")
    assert [s.text for s in short] == ["Direktionen indstiller, at udvalget godkender exitstrategien for kommunens "
                                       "cloudkontrakter.", "Godkendt."]
    long = overview_sentences("Indstilling\nSekretariatet indstiller, at rådet godkender standarden.\n\nDrøftelse\n"
                              "Rådet drøftede standarden grundigt med sekretariatet.\n\nBeslutning\n"
                              "Rådet godkendte standarden med en varslingsperiode på 12 måneder.")
    assert [s.role for s in long] == ["decision"]
    council = overview_sentences("Drøftelse\nEmil Thorsen fremlagde erfaringerne fra øvelsen.\n"
                                 "Rådet tilsluttede sig, at øvelserne gentages hvert år.")
    assert [s.role for s in council] == ["council"]
    # Without a decision or a council statement: the discussion, never the proposal's bullet.
    talk = overview_sentences("Indstilling\nSekretariatet indstiller, at rådet:\n- tager orienteringen til efterretning\n\n"
                              "Drøftelse\nKaren Holm-Vestergaard bød velkommen til årets første møde.")
    assert [s.role for s in talk] == ["discussion"]
    assert overview_sentences("Lukket punkt.") == []


def test_agenda_order_is_numeric() -> None:
    assert sorted(["4", "2.10", "1.1", "2.9", "3.1", "x"], key=section_key) == ["1.1", "2.9", "2.10", "3.1", "4", "x"]
