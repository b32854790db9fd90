"""Full-text search: what a reader finds, and what they never find (both backends)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text as sql

from spoc import Actor, Role
from spoc.core.domain.search import SearchPage
from spoc.core.domain.search.query import kinds_for
from spoc.core.kernel.errors import PermissionDenied, ValidationFailed
from spoc.core.storage.keyset import CursorRejected
from tests.conftest import Org, book_for_greta


def found(page: SearchPage, kind: str = "request") -> list[int | None]:
    return [hit.id for hit in page.hits if hit.kind == kind]


def test_a_word_from_a_message_finds_its_request(org: Org) -> None:
    spoc, dana = org.spoc, org.actor(org.dana)
    first, second = org.file(), org.file(fields={"summary": "Password reset"})
    spoc.requests.post_message(first, dana, "The courier lost the parcel near Zürich.")
    spoc.requests.post_message(second, dana, "Escalating to the pelican team", internal=True)
    assert found(spoc.search.query(dana, "courier")) == [first]
    assert found(spoc.search.query(dana, "zurich")) == [first]  # accents folded
    assert found(spoc.search.query(dana, "PELICAN")) == [second]  # internal notes too
    assert found(spoc.search.query(dana, "parc")) == [first]  # a word's start
    assert found(spoc.search.query(dana, "courier pelican")) == []  # every word must match
    hit = spoc.search.query(dana, "courier").hits[0]
    assert ("courier", True) in hit.snippet.parts
    assert hit.title.text == f"{spoc.requests.reference(first)} · Where is my invoice?"


def test_a_request_is_found_by_its_reference(org: Org) -> None:
    spoc, dana = org.spoc, org.actor(org.dana)
    request_id = org.file()
    reference = spoc.requests.reference(request_id)
    for text in (reference, reference.lower(), reference.split("-")[1], str(request_id)):
        assert found(spoc.search.query(dana, text)) == [request_id]


def test_ranking_puts_the_better_match_first(org: Org) -> None:
    spoc, dana = org.spoc, org.actor(org.dana)
    in_a_message = org.file(fields={"summary": "Question about my account"})
    spoc.requests.post_message(in_a_message, dana, "We will send the refund next week")
    in_the_summary = org.file(fields={"summary": "Refund for a double refund charge"})
    assert found(spoc.search.query(dana, "refund")) == [in_the_summary, in_a_message]


def test_pages_walk_every_hit_once_and_refuse_a_foreign_cursor(org: Org) -> None:
    spoc, dana = org.spoc, org.actor(org.dana)
    ids = {org.file(fields={"summary": f"Printer jam number {i}"}) for i in range(5)}
    seen: list[int | None] = []
    page = spoc.search.query(dana, "printer", limit=2)
    while True:
        assert len(page.hits) <= 2
        seen += found(page)
        if page.next is None:
            break
        page = spoc.search.query(dana, "printer", limit=2, cursor=page.next)
    assert sorted(seen) == sorted(ids)
    cursor = spoc.search.query(dana, "printer", limit=2).next
    with pytest.raises(CursorRejected) as refused:
        spoc.search.query(dana, "jam", limit=2, cursor=cursor)
    assert refused.value.errors.keys() == {"cursor"}


def test_a_broad_query_ranks_its_newest_matches_and_a_narrow_one_all(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spoc.core.domain.search import query  # Imported here: the module whose cap is set

    monkeypatch.setattr(query, "CANDIDATES", 3)
    spoc, dana = org.spoc, org.actor(org.dana)
    best_but_old = org.file(fields={"summary": "Toner toner toner toner"})
    newer = [org.file(fields={"summary": f"Toner for printer {i}"}) for i in range(2)]
    in_a_message = org.file(fields={"summary": "A question about printing"})
    spoc.requests.post_message(in_a_message, dana, "Which toner fits?")
    # Four match, more than the cap: the newest three are ranked, title matches first.
    hits = found(spoc.search.query(dana, "toner"))
    assert sorted(hits[:2]) == sorted(newer) and hits[2:] == [in_a_message]
    # Paging walks the same three.
    first = spoc.search.query(dana, "toner", limit=2)
    assert first.next is not None
    rest = spoc.search.query(dana, "toner", limit=2, cursor=first.next)
    assert found(first) + found(rest) == hits
    # A narrower query has fewer matches than the cap: every one ranked, the best first.
    spoc.requests.post_message(best_but_old, dana, "Cyan toner ordered")
    spoc.requests.post_message(newer[0], dana, "Cyan cartridge ordered")
    assert sorted(found(spoc.search.query(dana, "cyan"))) == sorted([best_but_old, newer[0]])
    assert found(spoc.search.query(dana, "cyan toner")) == [best_but_old, newer[0]]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "type a word"),
        ("   ", "type a word"),
        ("x" * 201, "at most 200"),
        ("invoice\x00", "NUL"),
        ("?!--", "letter or a digit"),
    ],
)
def test_bad_input_is_a_clear_error_naming_q(org: Org, text: str, says: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        org.spoc.search.query(org.actor(org.dana), text)
    assert list(refused.value.errors) == ["q"]
    assert says in refused.value.errors["q"]


def test_bad_kind_and_limit_name_their_field(org: Org) -> None:
    dana = org.actor(org.dana)
    with pytest.raises(ValidationFailed) as refused:
        org.spoc.search.query(dana, "x", kinds=["tickets"])
    assert list(refused.value.errors) == ["kind"]
    with pytest.raises(ValidationFailed) as refused:
        org.spoc.search.query(dana, "x", limit=0)
    assert list(refused.value.errors) == ["limit"]


def test_requesters_do_not_search(org: Org) -> None:
    request_id = org.file()
    with pytest.raises(PermissionDenied):
        org.spoc.search.query(org.requester(request_id), "invoice")


def test_a_specialist_does_not_find_requests_outside_their_teams(org: Org) -> None:
    spoc, dana, kim = org.spoc, org.actor(org.dana), org.actor(org.kim)
    escalated = org.file(fields={"summary": "Broken turbine"})
    kept = org.file(fields={"summary": "Broken turbine again"})
    spoc.escalations.escalate(escalated, dana, team_key="specialists", reason="needs an expert")
    assert found(spoc.search.query(kim, "turbine")) == [escalated]
    assert sorted(found(spoc.search.query(dana, "turbine"))) == sorted([escalated, kept])
    # Nor the directory: specialists find requests and articles only.
    assert found(spoc.search.query(kim, "northwind"), "subject") == []


def test_contacts_are_found_by_admins_only(org: Org) -> None:
    spoc = org.spoc
    org.file(requester={"name": "Ottilie Brandt", "email": "ottilie@example.com"})
    hits = spoc.search.query(org.actor(org.ada), "ottilie")
    assert [(h.kind, h.title.text) for h in hits.hits] == [("contact", "Ottilie Brandt")]
    assert spoc.search.query(org.actor(org.dana), "ottilie").hits == []


def test_a_subject_is_found_by_name_and_reference_and_follows_changes(org: Org) -> None:
    spoc, dana = org.spoc, org.actor(org.dana)
    assert found(spoc.search.query(dana, "northwind"), "subject") == [org.account.id]
    assert found(spoc.search.query(dana, "NW-1"), "subject") == [org.account.id]
    spoc.directory.update_subject(dana, org.account.id, name="Contoso Pharma")
    assert found(spoc.search.query(dana, "northwind"), "subject") == []
    assert found(spoc.search.query(dana, "contoso"), "subject") == [org.account.id]


def test_an_erased_contacts_words_find_nothing(org: Org) -> None:
    spoc, dana, ada = org.spoc, org.actor(org.dana), org.actor(org.ada)
    request_id = org.file(requester={"name": "Wilhelmina Quast", "email": "wq@example.com"})
    request = spoc.requests.get(request_id, Actor.system())
    quast = Actor.requester(request.contact_id, "Wilhelmina Quast")
    spoc.requests.post_message(request_id, quast, "My tortoise ate the invoice")
    other = org.file()
    assert found(spoc.search.query(dana, "tortoise")) == [request_id]
    spoc.privacy.erase_contact(ada, request.contact_id, reason="asked to be forgotten")
    for word in ("tortoise", "wilhelmina", "quast", "wq"):
        assert spoc.search.query(ada, word).hits == [], word
    assert found(spoc.search.query(dana, "invoice")) == [other]
    if spoc.db.engine.dialect.name == "sqlite":  # nor do they linger in the word list
        with spoc.db.reader() as session:
            left = session.execute(sql("SELECT word FROM search_words")).scalars().all()
        assert {"tortoise", "wilhelmina", "quast", "wq"}.isdisjoint(left)
        assert "invoice" in left


def test_plugin_articles_are_found(org: Org) -> None:
    hits = org.spoc.search.query(org.actor(org.kim), "report", kinds=["article"])
    assert hits.hits and all(h.kind == "article" and h.id is None for h in hits.hits)


def test_rebuild_restores_a_lost_index(org: Org) -> None:
    spoc, dana = org.spoc, org.actor(org.dana)
    request_id = org.file(fields={"summary": "Gearbox noise"})
    with spoc.db.transaction() as session:
        spoc.search.index.remove(session, "request", [str(request_id)])
    assert spoc.search.query(dana, "gearbox").hits == []
    done = spoc.search.rebuild(batch=1)
    assert done["request"] == 1 and done["subject"] == 1
    assert found(spoc.search.query(dana, "gearbox")) == [request_id]


# --- private records and sensitive fields ----------------------------------------------------


def test_a_private_request_never_appears_for_a_reader_who_may_not_open_it(clinic: Org) -> None:
    spoc = clinic.spoc
    patient, booked = book_for_greta(clinic)
    dana = clinic.actor(clinic.dana)
    spoc.requests.post_message(booked.id, dana, "Echocardiogram booked for Tuesday")
    reference = spoc.requests.reference(booked.id)
    # Its navigator finds it by reference, and sees only the reference and the type.
    hits = spoc.search.query(dana, reference).hits
    assert [(h.kind, h.id) for h in hits] == [("request", booked.id)]
    title = spoc.host.request_types.get("healthcare.appointment").title  # type: ignore[union-attr]
    assert hits[0].title.text == f"{reference} · {title}" and hits[0].snippet.parts == ()
    # What it says is in no index, for anyone.
    for word in ("palpitations", "echocardiogram", "cardiology"):
        assert spoc.search.query(dana, word).hits == []
    # Readers not responsible for the patient: not even the reference, not even an admin.
    for outsider in (clinic.sam, clinic.ada, clinic.val, clinic.kim):
        assert spoc.search.query(clinic.actor(outsider), reference).hits == []
        assert found(spoc.search.query(clinic.actor(outsider), "greta"), "subject") == []
    assert found(spoc.search.query(clinic.actor(clinic.lee), "greta"), "subject") == [patient.id]


def test_a_sensitive_fields_value_finds_nothing(clinic: Org) -> None:
    spoc = clinic.spoc
    event = spoc.directory.add_subject(
        kind="events.event", name="Harbour Expo", spoc_agent_id=clinic.dana.id
    )
    incident = spoc.requests.create(
        type_key="events.incident",
        fields={
            "location": "Hall Aurora",
            "category": "lost_property",
            "what_happened": "Visitor fainted near the zeppelin stand",
        },
        requester={"name": "Nora Quinn", "email": "nora@example.com"},
        subject_id=event.id,
    )
    for reader in (clinic.ada, clinic.dana):
        assert spoc.search.query(clinic.actor(reader), "zeppelin").hits == []
        assert spoc.search.query(clinic.actor(reader), "fainted").hits == []
    assert found(spoc.search.query(clinic.actor(clinic.dana), "aurora")) == [incident.id]


def test_roles_search_what_their_role_may_read(org: Org) -> None:
    assert kinds_for(org.actor(org.ada)) == ("request", "contact", "subject", "article")
    assert kinds_for(org.actor(org.val)) == ("request", "subject", "article")
    assert kinds_for(org.actor(org.kim)) == ("request", "article")
    assert kinds_for(Actor.system()) == ("request", "contact", "subject", "article")
    assert Role.SPECIALIST is org.kim.role


@given(st.text(max_size=60))
def test_folding_by_runs_folds_each_character_as_alone(text: str) -> None:
    from spoc.core.domain.search.text import _fold_char, fold  # Imported here: internals

    assert fold(text) == "".join(_fold_char(c) for c in text)


def test_a_prefix_finds_every_word_it_starts_and_an_unknown_one_nothing(org: Org) -> None:
    spoc, dana = org.spoc, org.actor(org.dana)
    refunds = [
        org.file(fields={"summary": summary})
        for summary in ("Refund please", "Two refunds", "Refunded twice", "Refundable?")
    ]
    assert sorted(found(spoc.search.query(dana, "refund"))) == sorted(refunds)
    assert found(spoc.search.query(dana, "refundx")) == []
