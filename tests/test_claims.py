"""Claims of a model's answer checked against the items they cite: pure functions, cases written by hand."""

from __future__ import annotations

import json
from datetime import date

import pytest

from chat_app.claims import (
    Claim,
    CheckedClaim,
    check_claims,
    claim_texts,
    facts,
    missing_facts,
    parse_reply,
    render_claims,
    supporting_quote,
    unsupported_reason,
)
from chat_app.prompt import excerpt

HEADER = 'It-Arkitekturrådet, møde 2024-03-12, pkt. 2.2 "Open source i kommunerne" (SAG-2024-01234)'
ITEM = ("Sekretariatet fremlagde en analyse af open source. "
        "KL's undersøgelse fik 1.500 svar fra 98 kommuner, og 2,5 % brugte open source til kernesystemer. "
        "Aarhus Kommune og Mette Hansen præsenterede erfaringerne.\n"
        "Beslutning\n"
        "Rådet besluttede at anbefale open source ved nye indkøb fra 1. januar 2025.")
SOURCE = f"{HEADER}\n{ITEM}"


# --------------------------------------------------------------------------- facts a claim states


def test_facts_of_a_sentence() -> None:
    f = facts("Mette Hansen og KL mødtes 12.03.2024 om sag 24/1234 og SAG-2024-01234; 1.500 svar, 2,5 %, pkt. 2.2.")
    assert f.dates == {date(2024, 3, 12)}
    assert f.cases == {"24/1234", "SAG-2024-01234"}
    assert f.numbers == {"1500", "2.5", "2.2"}  # thousands dot dropped, decimal comma read as a point
    assert f.names == {"mette", "hansen", "kl"}  # an opening word followed by a capitalised one is a name


@pytest.mark.parametrize("claim", [
    "Rådet besluttede den 12. marts 2024 at anbefale open source.",  # header date written out in Danish
    "Mødet 12/3-2024 handlede om open source.",
    "Det skete i marts 2024.",
    "Det skete i 2024.",
    "Rådet anbefaler open source fra 1. januar 2025.",
    "Anbefalingen gælder fra 2025-01-01.",
    "Undersøgelsen fik 1500 svar fra 98 kommuner.",  # 1.500 in the item
    "Undersøgelsen fik 1 500 svar.",
    "2,5 % brugte open source.",
    "Sagen SAG-2024-01234 blev behandlet under pkt. 2.2.",
    "KL stod bag undersøgelsen.",
    "KLs undersøgelse fik mange svar.",  # genitive without apostrophe
    "Aarhus Kommunes erfaringer blev præsenteret.",
    "Erfaringerne kom fra Mette Hansen.",
    "Rådet drøftede open source.",  # nothing to check: kept
])
def test_claims_whose_facts_are_in_the_item(claim: str) -> None:
    assert missing_facts(claim, SOURCE) == ()


@pytest.mark.parametrize(("claim", "missing"), [
    ("Rådet besluttede den 13. marts 2024 at anbefale open source.", ("2024-03-13",)),
    ("Mødet blev holdt 2024-03-21.", ("2024-03-21",)),
    ("Det skete i april 2024.", ("2024-04",)),
    ("Det skete den 14. marts.", ("14/3",)),
    ("Anbefalingen gælder fra 2026.", ("2026",)),
    ("Undersøgelsen fik 1.600 svar.", ("1.600",)),  # named as written
    ("Undersøgelsen fik 1500 svar fra 99 kommuner.", ("99",)),
    ("25 % brugte open source.", ("25",)),
    ("Sagen SAG-2024-09999 blev behandlet.", ("SAG-2024-09999",)),
    ("Sagen 24/1234 blev behandlet.", ("24/1234",)),
    ("Odense Kommune præsenterede erfaringerne.", ("odense",)),
    ("Erfaringerne kom fra Mette Jensen.", ("jensen",)),
    ("Det var Digitaliseringsstyrelsen, der stod bag.", ("digitaliseringsstyrelsen",)),
])
def test_a_fact_the_item_does_not_state_makes_the_claim_unsupported(claim: str, missing: tuple[str, ...]) -> None:
    assert missing_facts(claim, SOURCE) == missing


# --------------------------------------------------------------------------- reading the reply


def test_parse_structured_reply() -> None:
    reply = json.dumps({"claims": [
        {"text": "Rådet anbefaler open source [2].", "sources": [1, 9]},
        {"text": "Ingen kilde.", "sources": []},
        {"text": "Rådet anbefaler open source [2].", "sources": [1]},  # repeated: kept once
        {"text": "Tal som tekst.", "sources": ["3"]},
    ], "not_found": False}, ensure_ascii=False)
    parsed = parse_reply(reply, 3)
    assert parsed.structured and not parsed.not_found
    assert parsed.claims == (Claim("Rådet anbefaler open source.", (1, 2)), Claim("Ingen kilde.", ()),
                             Claim("Tal som tekst.", (3,)))
    assert parsed.removed == (9,)


def test_parse_reply_cut_off_by_the_token_limit_keeps_the_complete_claims() -> None:
    reply = '```json\n{"claims": [{"text": "Rådet anbefaler open source.", "sources": [1]}, {"text": "Og så'
    parsed = parse_reply(reply, 2)
    assert parsed.structured and parsed.claims == (Claim("Rådet anbefaler open source.", (1,)),)
    assert claim_texts(reply) == ["Rådet anbefaler open source."]


def test_parse_declined_reply() -> None:
    assert parse_reply('{"claims": [], "not_found": true}', 3).not_found
    free = parse_reply("Det fremgår ikke af referaterne.", 3)
    assert free.not_found and free.claims == () and not free.structured


def test_parse_free_text_one_claim_per_marked_sentence() -> None:
    reply = "Rådet drøftede sagen. Det anbefalede open source [1]. Serverne blev solgt [2, 9].\nKilderne siger mere."
    parsed = parse_reply(reply, 2)
    assert not parsed.structured and parsed.removed == (9,)
    # An unmarked sentence belongs to the next marked one in its paragraph; a trailing one stands alone.
    assert parsed.claims == (Claim("Rådet drøftede sagen. Det anbefalede open source.", (1,)),
                             Claim("Serverne blev solgt.", (2,)), Claim("Kilderne siger mere.", ()))


# --------------------------------------------------------------------------- quotes and rendering


def test_supporting_quote_is_the_sentence_with_the_claims_facts() -> None:
    assert supporting_quote(ITEM, "Undersøgelsen fik 1500 svar.") == (
        "KL's undersøgelse fik 1.500 svar fra 98 kommuner, og 2,5 % brugte open source til kernesystemer.")
    assert supporting_quote(ITEM, "Rådet anbefaler open source ved nye indkøb.") == (
        "Rådet besluttede at anbefale open source ved nye indkøb fra 1. januar 2025.")


def test_supporting_quote_takes_two_sentences_when_the_facts_are_spread() -> None:
    quote = supporting_quote(ITEM, "KL fik 1.500 svar, og Aarhus Kommune præsenterede erfaringerne.")
    assert quote == ("KL's undersøgelse fik 1.500 svar fra 98 kommuner, og 2,5 % brugte open source til "
                     "kernesystemer. Aarhus Kommune og Mette Hansen præsenterede erfaringerne.")
    assert quote in ITEM  # verbatim


def test_check_and_render_claim_by_claim() -> None:
    other = ('Digitaliseringsudvalget, møde 2025-06-04, pkt. 4 "Servere" (25/0777)',
             "Udvalget besluttede at beholde serverne. Driften koster 2 mio. kr. om året.")
    claims = [
        Claim("Rådet anbefalede open source ved nye indkøb.", (1,)),
        Claim("Driften koster 3 mio. kr. om året.", (2,)),  # invented number
        Claim("Driften koster 2 mio. kr. om året", (2,)),
        Claim("Rådet besluttede at beholde serverne.", ()),  # no valid source
        Claim("KL fik 1.500 svar fra 98 kommuner.", (1, 2)),
        Claim("open source", (1,)),  # a fragment, not a statement
    ]
    checked = check_claims(claims, [(HEADER, ITEM), other])
    assert [c.supported for c in checked] == [True, False, True, False, True, False]
    assert unsupported_reason(checked[5]) == "ikke en hel sætning"
    assert checked[1].missing == ("3",) and unsupported_reason(checked[1]) == "3 står ikke i den citerede kilde"
    assert unsupported_reason(checked[3]) == "ingen gyldig kilde"
    text, cites = render_claims(checked)
    assert text == ("Rådet anbefalede open source ved nye indkøb [1]. Driften koster 2 mio. kr. om året [2]. "
                    "KL fik 1.500 svar fra 98 kommuner [3].")  # item 2 shares nothing with it: not shown
    assert cites == [
        (1, "Rådet besluttede at anbefale open source ved nye indkøb fra 1. januar 2025."),
        (2, "Driften koster 2 mio. kr. om året."),
        (1, "KL's undersøgelse fik 1.500 svar fra 98 kommuner, og 2,5 % brugte open source til kernesystemer."),
    ]


def test_nothing_supported_renders_nothing() -> None:
    checked = [CheckedClaim(Claim("x", ()), (), ())]
    assert render_claims(checked) == ("", [])


# --------------------------------------------------------------------------- short sources in the prompt


def test_excerpt_keeps_the_matching_sentence_and_its_neighbours() -> None:
    text = ("Første punkt handlede om vejret. " * 8 + "Rådet besluttede at bruge open source i kommunen.\n"
            "Beslutningen gælder fra 2025. " + "Noget andet helt. " * 20)
    short = excerpt(text, "Hvad besluttede rådet om open source?", 200)
    assert "Rådet besluttede at bruge open source i kommunen.\nBeslutningen gælder fra 2025." in short
    assert short.startswith("… ") and short.endswith(" …") and len(short) <= 204
    assert excerpt("Kort tekst.", "spørgsmål", 200) == "Kort tekst."
