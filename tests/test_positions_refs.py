"""Pure parts of the answer: sentence roles, which sentences open an item, references to check."""

from __future__ import annotations

from datetime import date

from chat_app.answer import quote_lines
from chat_app.positions import (Sentence, answer_type, asked_roles, best_of_role, holds_answer_type, item_sentences,
                                announces, label_of, list_lines, pick, role_of, substantive, with_followers,
                                with_lists)
from ingest.sentences import sentences
from chat_app.refs import DateRef, missing_council, missing_date, named_councils, named_dates

ITEM = """Indstilling
Sekretariatet indstiller, at rådet:
- godkender retningslinjen for brug af cloud

Drøftelse
Rasmus Juul præsenterede markedsanalysen af ni europæiske cloududbydere.
Rådet tilsluttede sig, at kommunerne skal foretrække europæiske cloududbydere.
Prisen er typisk 10-20 procent højere end hos de amerikanske udbydere.

Sagsforløb
Udvalget behandlede sagen første gang i marts.

Beslutning
Rådet godkendte den reviderede retningslinje."""


def test_sentences_carry_their_part_and_role() -> None:
    got = [(s.part, s.role, s.text[:20]) for s in item_sentences(ITEM)]
    assert got == [
        ("Indstilling", "proposal", "Sekretariatet indsti"),
        ("Indstilling", "proposal", "- godkender retningsl"[:20]),
        ("Drøftelse", "discussion", "Rasmus Juul præsente"),
        ("Drøftelse", "council", "Rådet tilsluttede si"),
        ("Drøftelse", "discussion", "Prisen er typisk 10-"),
        ("Sagsforløb", "history", "Udvalget behandlede "),
        ("Beslutning", "decision", "Rådet godkendte den "),
    ]


def test_council_decisions_in_the_discussion_count_as_decisions() -> None:
    assert role_of("Udvalget besluttede at udsætte sagen.", "Drøftelse") == "decision"
    assert role_of("It-Arkitekturrådet bakkede op om anbefalingen.", "Drøftelse") == "council"
    assert role_of("Desuden Rådet var enigt i, at piloten fortsætter.", "Drøftelse") == "council"
    assert role_of("Karen Holm bød velkommen.", "Drøftelse") == "discussion"
    # In a case summary the administration describes what the council is to do: that is not the council speaking.
    assert role_of("Således Byrådet godkender udviklingsplanen for Pier 3.", "Resume") == "discussion"
    # What the administration proposes is never the decision, whatever its verbs.
    assert role_of("Rådet godkendte forslaget i 2024.", "Indstilling") == "proposal"


def scored(rel: dict[str, float]) -> list[tuple[Sentence, float]]:
    return [(s, next((v for k, v in rel.items() if s.text.startswith(k)), 0.5)) for s in item_sentences(ITEM)]


def test_the_decision_and_the_council_lead_even_when_the_proposal_reads_closer() -> None:
    chosen = pick(scored({"Sekretariatet": 0.95, "Rådet tilsluttede": 0.80, "Rådet godkendte": 0.79}))
    # The decision gets a lift over a council remark of about the same relevance, and comes first.
    assert [s.role for s in chosen] == ["decision", "council"]
    assert chosen[0].text == "Rådet godkendte den reviderede retningslinje."


def test_a_clearly_better_fact_from_the_discussion_is_not_hidden() -> None:
    chosen = pick(scored({"Prisen": 0.90, "Rådet tilsluttede": 0.70, "Rådet godkendte": 0.70}))
    assert [s.role for s in chosen] == ["decision", "discussion"]
    assert chosen[1].text.startswith("Prisen er typisk 10-20 procent")


def test_without_any_position_the_discussion_beats_the_proposal() -> None:
    text = "Indstilling\nSekretariatet indstiller, at udvalget tager sagen til efterretning.\n\nDrøftelse\n" \
           "Line Østergaard orienterede om, at 37 webservices allerede er udfaset."
    s = [(x, 0.8 if x.role == "proposal" else 0.795) for x in item_sentences(text)]
    assert [x.role for x in pick(s)] == ["discussion"]
    assert pick([]) == []


def test_attachment_titles_are_never_quoted() -> None:
    text = "Beslutning\nGodkendt.\n\nBilag\n- Bilag 1: Udviklingsplan for Pier 3 med omgivelser og strategier"
    sents = item_sentences(text)
    assert [s.part for s in sents] == ["Beslutning", "Bilag"]
    assert not substantive(sents[1])
    assert pick([(sents[1], 0.99)]) == []


def test_a_list_number_opens_a_line_and_ends_no_sentence() -> None:
    assert sentences("1. Kortlægning af it-aktiver. Derefter mere\n2. Udvikling af målbillede") == [
        "1. Kortlægning af it-aktiver.", "Derefter mere", "2. Udvikling af målbillede"]
    # A number that ends a sentence inside a line still ends it.
    assert sentences("Deltagerne var 3. Derefter frokost.") == ["Deltagerne var 3.", "Derefter frokost."]


LIST_ITEM = """Drøftelse
Christian gennemgik de centrale spor i det igangværende arbejde:
1. Kortlægning af eksisterende organisatoriske landskab og it-aktiver
2. Udvikling af målbillede for netværks- og serverdrift
3. Afklaring af juridiske og organisatoriske modeller for enhederne
4. Etablering af governance-struktur og national styregruppe
Rådet anerkendte aftalens betydning for kommunerne."""


def test_a_chosen_list_line_brings_its_whole_list() -> None:
    sents = item_sentences(LIST_ITEM)
    council = next(s for s in sents if s.role == "council")
    line2 = next(s for s in sents if s.text.startswith("2."))
    got = with_lists([council, line2], sents)
    # The list comes whole, after the sentence that announces it.
    assert [s.text[:2] for s in got] == ["Rå", "Ch", "1.", "2.", "3.", "4."]
    assert with_lists([council], sents) == [council]  # no list line chosen: nothing added
    # The proposal's list is shown whole only when the question asks what was proposed.
    two = item_sentences("Indstilling\nSekretariatet indstiller, at rådet:\n- tager orienteringen til efterretning\n"
                         "- godkender planen for udfasning af webservices")
    assert with_lists([two[1]], two) == [two[1]]
    assert with_lists([two[1]], two, proposals=True) == two


def test_a_sentence_announcing_a_list_brings_the_list_after_it() -> None:
    sents = item_sentences(LIST_ITEM)
    opening = sents[0]
    assert opening.text.endswith(":") and not substantive(opening)  # a stub on its own
    assert announces(sents, 0) and not announces(sents, 1)  # a list line announces nothing
    got = with_lists([opening], sents)
    assert [s.text[:2] for s in got] == ["Ch", "1.", "2.", "3.", "4."]
    # A colon before prose, or before a list under another heading, announces nothing.
    prose = item_sentences("Drøftelse\nRådet pegede på følgende:\nDet er vigtigt at komme i gang.")
    assert not announces(prose, 0)
    other = item_sentences("Drøftelse\nRådet pegede på følgende:\nBeslutning\n- Godkendt")
    assert not announces(other, 0)


TRACKS = """Drøftelse
Sekretariatet foreslog, at arbejdet tilrettelægges i tre spor:
1. Kortlægning af kritiske systemer og afhængigheder
Hver kommune kortlægger, hvilke systemer der understøtter kritiske opgaver.
2. Nødprocedurer for manuel drift
For hvert kritisk system beskrives en nødprocedure. Procedurerne skal ligge tilgængeligt på papir.
3. Fælles øvelser og erfaringsudveksling
Kommunerne gennemfører fælles øvelser, hvor et nedbrud simuleres.
Rådet bakkede op om de tre spor.
1. Dette er en anden liste"""


def test_a_numbered_list_whose_lines_each_have_a_paragraph_is_one_list() -> None:
    # A Word file keeps each track's heading and its paragraph apart (demo minutes of 10 September 2024):
    # the list is the numbered headings, 1 to 3, not the first heading alone.
    sents = item_sentences(TRACKS)
    numbered = [k for k, s in enumerate(sents) if s.text[:2] in ("1.", "2.", "3.")]
    assert list_lines(sents, numbered[1]) == numbered[:3]  # from the middle, both ways; not the later "1."
    got = with_lists([sents[0]], sents)
    assert [s.text[:2] for s in got] == ["Se", "1.", "2.", "3."]
    # Rendered: the list under the sentence that announces it, one quoted line each, cited once.
    assert quote_lines(got, 1) == [
        "- Fra drøftelsen: »Sekretariatet foreslog, at arbejdet tilrettelægges i tre spor:« [1]",
        "  »1. Kortlægning af kritiske systemer og afhængigheder«",
        "  »2. Nødprocedurer for manuel drift«",
        "  »3. Fælles øvelser og erfaringsudveksling«"]
    # Numbers that do not follow on, or prose too long between them, make no list.
    apart = item_sentences("Drøftelse\n1. Første\nEn. To. Tre. Fire.\n2. Anden")
    assert list_lines(apart, 0) == [0]
    skipped = item_sentences("Drøftelse\n1. Første\nMellem.\n3. Tredje")
    assert list_lines(skipped, 0) == [0]


def test_a_short_fact_sentence_brings_the_detail_after_it() -> None:
    sents = item_sentences(
        "Drøftelse\nKlaus fortalte, at pilotprojektet baserer sig på eksisterende infrastruktur.\n"
        "Arkitekturen omfatter bl.a. brug af MedCom-korrespondance og integrationer til SAPA.\n"
        "Rådet tog status til efterretning og takkede for oplægget.")
    intro, detail, council = sents
    assert with_followers([intro], sents, set(), 170) == [intro, detail]
    assert with_followers([intro], sents, set(), 40) == [intro]  # longer than the limit: alone
    assert with_followers([detail], sents, set(), 170) == [detail]  # the council's statement is no detail
    assert with_followers([intro], sents, {detail.text}, 170) == [intro]  # already shown: not twice


def test_a_long_list_is_cut_around_the_chosen_line() -> None:
    text = "Drøftelse\n" + "\n".join(f"- Punkt nummer {n} på listen over opgaver" for n in range(1, 13))
    sents = item_sentences(text)
    got = with_lists([sents[9]], sents)
    assert len(got) == 6 and sents[9] in got and got == sents[6:12]


def test_the_question_names_the_part_it_asks_for() -> None:
    assert asked_roles("Hvad indstillede sekretariatet i punktet om arkitektur?") == ("proposal",)
    assert asked_roles("Hvordan er sagen forløbet siden Magistratens anbefaling?") == ("history",)
    assert asked_roles("Hvor mange gange er sagen blevet udsat?") == ("history",)
    assert asked_roles("Hvad mente rådet om open source?") == ()
    assert asked_roles("Hvad besluttede udvalget om udviklingsplanen for Pier 3?") == ("decision",)
    assert asked_roles("What did the committee decide about the plan?") == ("decision",)
    assert asked_roles("Hvordan har rådets holdning udviklet sig?", change=True) == ("history",)
    item = [(s, 0.5) for s in item_sentences(ITEM)]
    # "Sekretariatet indstiller, at rådet:" only introduces the list: the proposal is its line.
    assert best_of_role(item, "proposal") == Sentence("- godkender retningslinjen for brug af cloud", "Indstilling",
                                                      "proposal")
    assert best_of_role(item, "history").text == "Udvalget behandlede sagen første gang i marts."
    assert best_of_role([(s, r) for s, r in item if s.role != "history"], "history") is None


def test_a_question_for_a_number_or_a_date_wants_a_sentence_that_holds_one() -> None:
    assert answer_type("Hvad koster forsøget med en AI-assistent?") == "number"
    assert answer_type("Hvor mange kommuner deltager?") == "number"
    assert answer_type("Hvornår skal webservices være udfaset?") == "date"
    assert answer_type("Hvad mente rådet om open source?") == ""
    assert answer_type("Hvor mange gange er sagen blevet udsat?") == ""  # a count of events, not a number
    assert holds_answer_type("Forsøget koster 150.000 kr.", "number")
    assert not holds_answer_type("Forsøget er godkendt af udvalget.", "number")
    assert holds_answer_type("De skal være udfaset inden udgangen af 2027.", "date")
    assert holds_answer_type("Arkitekturugen ligger i uge 41.", "date")
    assert not holds_answer_type("Rådet tog orienteringen til efterretning.", "date")
    assert holds_answer_type("Hvad som helst.", "")
    # "Which municipalities …?" is answered by their names.
    assert answer_type("Hvilke kommuner deltog i piloten fra starten?") == "place"
    assert answer_type("Which municipalities take part in the pilot?") == "place"
    assert holds_answer_type("Mette Lykke Skov tilbød, at Lindholt og Stenvig Kommuner deltager.", "place")
    assert holds_answer_type("Løsningen bruges i fem kommuner i Region Nordjylland.", "place")
    assert not holds_answer_type("Tre kommuner deltager i piloten.", "place")


def test_an_agenda_holds_proposals_and_the_case_never_a_decision() -> None:
    text = ("Byrådet godkender, at der indledes dialog med havnen.\n\nBeslutning\nByrådet beslutter at hjemtage "
            "tilbud på rådgivning.\n\nBeslutningspunkter\nDet indstilles: At 1) Byrådet godkender planen.\n\n"
            "Resume\nRådet drøftede sagen på sidste møde.")
    minutes = item_sentences(text)
    agenda = item_sentences(text, agenda=True)
    assert [s.role for s in minutes] == ["council", "decision", "proposal", "discussion"]
    assert [s.role for s in agenda] == ["discussion", "discussion", "proposal", "discussion"]
    assert [label_of(s) for s in agenda] == ["Fra dagsordenen", "Fra afsnittet »Beslutning«",
                                             "Indstilling (forslaget til rådet/udvalget)", "Fra afsnittet »Resume«"]
    assert role_of("Udvalget besluttede at udsætte sagen.", "Drøftelse", agenda=True) == "discussion"


def test_talk_outside_the_discussion_is_labelled_by_its_part() -> None:
    sents = item_sentences("Resume\nDer er indkommet 1149 høringssvar.\n\nDrøftelse\n"
                           "Karen Holm bød velkommen til mødet.\n\nBeslutning\nGodkendt uden bemærkninger.")
    assert [label_of(s) for s in sents] == ["Fra afsnittet »Resume«", "Fra drøftelsen", "Beslutning"]


def test_named_dates() -> None:
    assert named_dates("Hvad besluttede rådet på mødet 3. juni 2023?") == [DateRef(2023, 6, 3)]
    assert named_dates("Referat fra 2025-10-01 og 12.03.2024") == [DateRef(2025, 10, 1), DateRef(2024, 3, 12)]
    assert named_dates("Hvad skete der i oktober 2025?") == [DateRef(2025, 10)]
    assert named_dates("Hvad skete der på møderne i 2019?") == [DateRef(2019)]
    # English dates, day or month first; a Danish month name that is also English is read once.
    assert named_dates("What was decided at the meeting on 14 May 2025?") == [DateRef(2025, 5, 14)]
    assert named_dates("What happened at the meeting on March 10th, 2026?") == [DateRef(2026, 3, 10)]
    assert named_dates("What happened in September 2025?") == [DateRef(2025, 9)]
    assert named_dates("Hvad skete der 10. september 2024?") == [DateRef(2024, 9, 10)]
    # A year that is part of a topic is no meeting reference.
    assert named_dates("Hvad siger strategien for 2026-2030?") == []
    assert named_dates("Hvad med retningslinjen fra 2024?") == []


def test_time_focus_reads_a_year_in_a_phrase_of_time_but_not_in_a_name_or_span() -> None:
    from index.when import time_focus

    assert time_focus("Hvorfor var rådet forbeholdent over for open source i 2024?") == [DateRef(2024)]
    assert time_focus("What did the council say about cloud in 2025?") == [DateRef(2025)]
    assert time_focus("Hvad skete der i foråret 2025?") == [DateRef(2025)]
    assert time_focus("Hvad besluttede udvalget 1. oktober 2025?") == [DateRef(2025, 10, 1)]
    # The named dates count once, however many patterns read them.
    assert time_focus("Hvad skete der på mødet i 2019?") == [DateRef(2019)]
    # A year inside a name, a span or a compound, and "siden"/"fra" (everything after it), are no focus.
    for q in ("Hvordan finansieres strategien 2026-2030?", "Hvad står der i budget 2027?",
              "Hvad betyder det i 2025-budgettet?", "Hvordan har holdningen ændret sig siden 2024?",
              "Hvad skal ske fra 2026?"):
        assert time_focus(q) == [], q


def test_time_span_reads_the_period_a_question_asks_about() -> None:
    from index.when import Span, time_span

    today = date(2026, 12, 4)
    cases = {
        "Hvad har rådet besluttet om cloud siden 2025?": Span(date(2025, 1, 1)),
        "Hvad sagde rådet om open source før 2025?": Span(until=date(2024, 12, 31)),
        "Hvilke beslutninger er truffet efter september 2025?": Span(date(2025, 10, 1)),
        "Hvad skete der efter mødet den 25. februar 2025?": Span(date(2025, 2, 26)),
        "Hvad besluttede rådet om API'er fra 2024 til 2025?": Span(date(2024, 1, 1), date(2025, 12, 31)),
        "Hvad blev besluttet mellem marts 2024 og februar 2025?": Span(date(2024, 3, 1), date(2025, 2, 28)),
        "Hvilke beslutninger blev truffet i perioden 2024-2025?": Span(date(2024, 1, 1), date(2025, 12, 31)),
        "Hvordan er det gået med beredskabet fra 2025 og frem?": Span(date(2025, 1, 1)),
        "Hvad skete der indtil marts 2025?": Span(until=date(2025, 3, 31)),
        "Hvad har rådet sagt de seneste to år?": Span(date(2024, 12, 4)),
        "Hvad har rådet sagt det seneste år?": Span(date(2025, 12, 4)),
        "What has the council decided since 2026?": Span(date(2026, 1, 1)),
        "What happened before March 2025?": Span(until=date(2025, 2, 28)),
        "What was decided in the past 3 months?": Span(date(2026, 9, 4)),
        # Two periods narrow each other; "siden" a future year still asks about meetings (none yet).
        "Hvad skete der siden 2024 og før 2026?": Span(date(2024, 1, 1), date(2025, 12, 31)),
        "Hvad har rådet sagt siden 2027?": Span(date(2027, 1, 1)),
        # A season, with the month before it ("forårsmødet" may be held in February).
        "Hvad har rådet besluttet om cloud siden foråret 2025?": Span(date(2025, 2, 1)),
        "Hvad skete der før efteråret 2025?": Span(until=date(2025, 7, 31)),
        "What happened after winter 2024?": Span(date(2025, 3, 1)),
    }
    for q, span in cases.items():
        assert time_span(q, today) == span, q
    # A year in a name, a plan for after a future year, "fra" a thing's year, "siden sidste møde": no period.
    for q in ("Hvad siger strategien for 2026-2030?", "Hvad skal ske efter 2027?", "Hvad med retningslinjen fra 2024?",
              "Hvad er der sket siden sidste møde?", "Hvad sagde rådet om open source i 2024?",
              "Hvad skal ske mellem 2027 og 2030?"):
        assert time_span(q, today) is None, q
    assert Span(date(2027, 1, 1)).label() == "fra 1. januar 2027 og frem"
    assert Span(until=date(2023, 12, 31)).label() == "til og med 31. december 2023"
    assert not Span(date(2025, 1, 1)).contains(None)


def test_a_period_bound_names_no_meeting_and_this_year_is_a_focus() -> None:
    from index.vector import Where
    from index.when import time_focus

    assert named_dates("Hvad er besluttet efter marts 2025?") == []
    assert named_dates("Hvad skete der siden mødet 25. februar 2025?") == []
    today = date(2026, 12, 4)
    assert time_focus("Hvad besluttede rådet i år?", today=today) == [DateRef(2026)]
    assert time_focus("Hvad sagde rådet sidste år?", today=today) == [DateRef(2025)]
    assert time_focus("Hvad er der sket med open source i løbet af 2025?") == [DateRef(2025)]
    assert time_focus("What happened throughout 2024?") == [DateRef(2024)]
    assert time_focus("What was decided last year?", today=today) == [DateRef(2025)]
    assert time_focus("Hvad har rådet sagt det sidste år?", today=today) == []  # a period, not a year
    narrowed = Where(since=date(2024, 6, 1), council="Rådet").within(date(2025, 1, 1), date(2025, 12, 31))
    assert narrowed == Where(council="Rådet", since=date(2025, 1, 1), until=date(2025, 12, 31))
    assert Where(until=date(2025, 3, 1)).within(None, date(2025, 12, 31)).until == date(2025, 3, 1)


def test_attendance_questions_and_the_lines_they_ask_for() -> None:
    from chat_app.attendance import asked_part, asks_attendance, shown_lines
    from ingest.records import RosterLine

    for q in ("Hvem deltog i mødet den 25. februar 2025?", "Hvem havde meldt afbud?", "Hvem var mødeleder?",
              "Hvem var referent på mødet?", "Hvem er medlemmer af rådet?", "Deltog Pia Færch i mødet?",
              "Hvem deltog?", "Who attended the meeting on 14 May 2025?", "Hvem sidder i udvalget?",
              "Var nogen fra KOMBIT til stede ved mødet?"):
        assert asks_attendance(q), q
    assert asks_attendance("Var Bo Fristed til stede?", names_someone=True)
    # Who someone on a list is: only the name after "Hvem er"; more than that is a question about what was said.
    for q in ("Hvem er Bo Fristed?", "Hvem var Karen Holm-Vestergaard?", "Who is Jonas Brink?"):
        assert asks_attendance(q, names_someone=True) and asked_part(q) == "who", q
    assert not asks_attendance("Hvem er Bo Fristed?")  # nobody on a list
    for q in ("Hvem er Bo Fristed, og hvad sagde han om GovTech?", "Hvem er ansvarlig for piloten?"):
        assert asked_part(q) != "who" and not asks_attendance(q, names_someone=True), q
    # Taking part in a pilot, a test or an exercise is no attendance at a meeting.
    for q in ("Hvilke kommuner deltog i beredskabsøvelsen?", "Hvem præsenterede udkastet til retningslinjerne?",
              "Hvad sagde rådet om open source?", "Hvilke medlemmer udtalte sig om cloud?",
              "Skal personoplysningerne være til stede i fagsystemet?", "What happens when the data is absent?"):
        assert not asks_attendance(q), q
    assert [asked_part(q) for q in ("Hvem havde afbud?", "Hvem var mødeleder?", "Hvem var referent?",
                                    "Hvem er medlemmer af rådet?", "Hvem deltog?")] == [
        "absent", "chair", "secretary", "members", "all"]
    roster = (RosterLine("Rådets medlemmer", "Karen Holm, Ravnsø Kommune (mødeleder)"),
              RosterLine("Rådets medlemmer", "Jonas Brink, Bølgeby Kommune"),
              RosterLine("Sekretariat", "Line Østergaard, FKF (referent)"),
              RosterLine("Afbud", "Henrik Aagaard, Fjordby Kommune", True))
    assert [r.text for r in shown_lines(roster, "chair")] == ["Karen Holm, Ravnsø Kommune (mødeleder)"]
    assert [r.text for r in shown_lines(roster, "secretary")] == ["Line Østergaard, FKF (referent)"]
    assert [r.text for r in shown_lines(roster, "absent")] == ["Henrik Aagaard, Fjordby Kommune"]
    assert len(shown_lines(roster, "members")) == 2 and len(shown_lines(roster, "all")) == 4
    assert [r.text for r in shown_lines(roster, "all", ["Jonas", "Brink"])] == ["Jonas Brink, Bølgeby Kommune"]


def test_the_meetings_an_attendance_question_asks_about() -> None:
    from chat_app.attendance import RosterMeeting, chosen_meetings
    from ingest.records import RosterLine

    karen, jonas = RosterLine("Medlemmer", "Karen Holm"), RosterLine("Medlemmer", "Jonas Brink")
    rosters = [RosterMeeting("Rådet", date(2024, 3, 12), "a", (karen, jonas)),
               RosterMeeting("Rådet", date(2025, 2, 25), "b", (karen,)),
               RosterMeeting("Udvalget", date(2025, 5, 14), "c", (RosterLine("Medlemmer", "Lone Bertelsen"),)),
               RosterMeeting("Andet råd", None, "d", (jonas,))]
    def sources(question: str, focus: list[DateRef] = (), person: list[str] = (), period: bool = False
                ) -> tuple[list[str], bool]:  # type: ignore[assignment]
        chosen, newest = chosen_meetings(question, rosters, focus, person, period)
        return [r.source for r in chosen], newest

    assert sources("Hvem deltog i mødet 12. marts 2024?", [DateRef(2024, 3, 12)]) == (["a"], False)
    assert sources("Deltog Jonas Brink?", person=["Jonas", "Brink"]) == (["a", "d"], False)
    assert sources("Hvem deltog i møderne siden 2025?", period=True) == (["c", "b", "a", "d"], False)
    # No meeting named: each council's newest (an undated council: its one meeting); "rådets" picks councils.
    assert sources("Hvem havde afbud?") == (["c", "b", "d"], True)
    assert sources("Hvem var mødeleder på rådets møde?") == (["b", "d"], True)


def test_a_council_the_question_names_once() -> None:
    from chat_app.refs import asked_council

    councils = {"Teknisk Udvalg", "It-Arkitekturråd", "Fiktivt It-Arkitekturråd", "Digitaliseringsudvalget, Fiktiv Kommune"}
    assert asked_council("Hvad besluttede Teknisk Udvalg om busserne?", councils) == "Teknisk Udvalg"
    assert asked_council("Hvad besluttede Digitaliseringsudvalget om cloud?", councils) == (
        "Digitaliseringsudvalget, Fiktiv Kommune")
    # Two councils answer to the name, or none is named: no choice.
    assert asked_council("Hvad mente It-Arkitekturrådet om open source?", councils) is None
    assert asked_council("Hvad mente rådet om open source?", councils) is None


def test_a_source_that_is_no_agenda_item_is_cited_without_a_section() -> None:
    from chat_app.memo import citation_note
    from chat_app.openai_api import source_line
    from chat_app.prompt import Citation

    c = Citation(council="Rådet", meeting_date=date(2024, 3, 12), section="", case_number=None,
                 title="Deltagerfortegnelse", source="/x/referat.txt", quote="Karen Holm, Ravnsø Kommune")
    assert c.memo_line() == 'Rådet, møde 2024-03-12, "Deltagerfortegnelse"'
    assert citation_note(c)[0] == "Rådet, møde 12. marts 2024: “Deltagerfortegnelse”."
    assert source_line(1, c).startswith("1. Rådet, møde 12. marts 2024: *Deltagerfortegnelse*")
    item = Citation(council="Rådet", meeting_date=date(2024, 3, 12), section="2.2", case_number="SAG-1",
                    title="Cloud", source="/x/referat.txt", quote="Godkendt.")
    assert item.memo_line() == 'Rådet, møde 2024-03-12, pkt. 2.2 "Cloud" (SAG-1)'


def test_the_latest_meeting_is_each_councils_newest() -> None:
    from index.when import time_focus

    meetings = [("Rådet", date(2024, 3, 12)), ("Rådet", date(2026, 3, 10)), ("Udvalget", date(2026, 4, 22)),
                ("Udvalget", date(2025, 5, 14)), ("Uden dato", None)]
    latest = [DateRef(2026, 3, 10), DateRef(2026, 4, 22)]
    for q in ("Hvad sagde rådet om open source på det seneste møde?", "Hvad mente rådet om sprogmodeller på sidste møde?",
              "Hvad blev der sagt på rådets nyeste møde?", "What did the council decide at its latest meeting?"):
        assert time_focus(q, meetings) == latest, q
    # "Since the last meeting" asks about what came before this one; no meetings: nothing to focus on.
    assert time_focus("Hvad er der sket på rådets område siden sidste møde?", meetings) == []
    assert time_focus("What happened since the last meeting?", meetings) == []
    assert time_focus("Hvad skete der på det seneste møde?") == []


def test_missing_date_ignores_undated_meetings() -> None:
    dates = [date(2025, 10, 1), None]
    assert missing_date("Hvad skete der 1. oktober 2025?", dates) is None
    assert missing_date("Hvad skete der i oktober 2025?", dates) is None
    assert missing_date("Hvad skete der 2. oktober 2025?", dates) == DateRef(2025, 10, 2)
    assert missing_date("Hvad med mødet i 2019?", dates) == DateRef(2019)
    assert missing_date("Hvad mente rådet om open source?", [None]) is None


def test_council_names_and_which_are_missing() -> None:
    assert named_councils("Hvad sagde Økonomiudvalget om budgettet?") == ["Økonomiudvalg"]
    assert named_councils("Hvad mente rådet og udvalget?") == []
    assert named_councils("Hvad sagde Børne- og Ungeudvalget?") == ["Børne- og Ungeudvalg"]
    # "område" ends in "råd" but names an area, not a council; nor do the verbs fraråde/tilråde.
    assert named_councils("Hvad satte politikerne øverst blandt næste års ønsker på it-området?") == []
    assert named_councils("Må man bygge lagerhaller i industriområdet syd for byen?") == []
    assert named_councils("Hvad har Ældrerådet frarådet og tilrådet på ældreområdet?") == ["Ældreråd"]
    councils = ["It-Arkitekturråd", "Teknisk Udvalg"]
    assert missing_council("Hvad mente It-Arkitekturrådet om open source?", councils) is None
    assert missing_council("Hvad besluttede Teknisk Udvalg om busser?", councils) is None
    assert missing_council("Hvad sagde Økonomiudvalget?", councils) == "Økonomiudvalg"
    # A council the minutes mention (not one of the index's own) can still be asked about.
    assert missing_council("Hvad sagde Økonomiudvalget?", councils, mentioned=lambda n: True) is None


def test_an_abbreviation_is_spelled_out_by_the_words_before_it() -> None:
    from chat_app.acronyms import Expansion, asked_acronym, expansion

    for q, acronym in (("Hvad står FODS for?", "FODS"), ("Hvad betyder OSPO?", "OSPO"), ("Hvad er UAS?", "UAS"),
                       ("Hvad dækker forkortelsen DPIA over?", "DPIA"), ("What does FDA stand for?", "FDA")):
        assert asked_acronym(q) == acronym, q
    for q in ("Hvad er UAS' holdning til open source?", "Hvad mente rådet om FDA?", "Hvad står der i referatet?",
              "Hvad betyder det for kommunerne?"):
        assert asked_acronym(q) is None, q
    assert expansion("I regi af Fællesoffentlig Digitaliseringsstrategi (FODS) igangsættes en analyse.", "FODS") == \
        Expansion("Fællesoffentlig Digitaliseringsstrategi", True)
    assert expansion("Kontoret dækker det fællesoffentlige digitale samarbejde (FODS).", "FODS") == \
        Expansion("fællesoffentlige digitale samarbejde", False)
    assert expansion("Indsatsen i regi af Udvalget for Arkitektur og Standarder (UAS).", "UAS") == \
        Expansion("Udvalget for Arkitektur og Standarder", True)
    assert expansion("når der er gennemført en konsekvensanalyse (DPIA), når …", "DPIA") == \
        Expansion("konsekvensanalyse", False, spelled=False)
    assert expansion("Rådet drøftede FODS.", "FODS") is None
    assert expansion("Det sker i regi (FODS).", "FODS") is None  # a short word that does not spell it
