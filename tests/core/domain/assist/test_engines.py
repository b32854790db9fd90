"""Assist's engines: what each finds, the worker's vectors, and who sees which suggestion
(both backends)."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from spoc import Actor
from spoc.core.domain.assist import encoders
from spoc.core.domain.assist.service import OPEN, RESOLVED
from spoc.core.domain.models import AssistPending, AssistVector
from spoc.core.kernel.errors import StartupError, ValidationFailed
from spoc.core.kernel.types import Status
from spoc.core.services import Spoc, run_forever, spoc_of
from spoc.testing import AppFactory
from tests.conftest import Org, book_for_greta, build_org
from tests.core.platform.test_plugins import with_fakes

ENGINES = ["lexical", "wordllama"]


def resolve(spoc: Spoc, request_id: int, agent: Actor) -> None:
    spoc.requests.transition(request_id, Status.OPEN, agent)
    spoc.requests.transition(request_id, Status.RESOLVED, agent)


def embed_all(spoc: Spoc) -> None:
    """One worker pass's worth, repeated until nothing is queued."""
    while spoc.assist.embed_pending():
        pass


def vectors_of(spoc: Spoc, request_id: int) -> int:
    with spoc.db.reader() as session:
        return session.scalar(select(func.count()).where(AssistVector.ref_id == request_id)) or 0


def test_the_worker_embeds_what_was_filed_and_again_after_a_new_message(org: Org) -> None:
    spoc = org.spoc
    request_id = org.file(fields={"summary": "The printer on floor two jams"})
    with spoc.db.reader() as session:
        assert session.scalar(select(func.count()).select_from(AssistPending)) == 1
    embed_all(spoc)
    assert vectors_of(spoc, request_id) == 1
    with spoc.db.reader() as session:
        assert session.scalar(select(func.count()).select_from(AssistPending)) == 0
        before = session.scalar(
            select(AssistVector.text_hash).where(AssistVector.ref_id == request_id)
        )
    spoc.requests.post_message(request_id, org.requester(request_id), "It shows error E4 now")
    embed_all(spoc)
    with spoc.db.reader() as session:
        after = session.scalar(
            select(AssistVector.text_hash).where(AssistVector.ref_id == request_id)
        )
    assert after != before


def test_spoc_worker_embeds_the_queued_requests_in_its_pass(org: Org) -> None:
    spoc = org.spoc
    request_id = org.file(fields={"summary": "The lift in block C is stuck"})
    run_forever(spoc, timedelta(seconds=0), passes=1)
    assert vectors_of(spoc, request_id) == 1


def test_semantic_engine_finds_a_request_that_shares_no_word(org: Org) -> None:
    spoc, dana = org.spoc, org.actor(org.dana)
    parcel = org.file(fields={"summary": "My parcel never arrived at my house"})
    org.file(fields={"summary": "Invoice shows the wrong VAT number"})
    embed_all(spoc)
    found = spoc.assist.similar_requests(dana, "where is the package I ordered", engine="wordllama")
    assert found[0].id == parcel


def test_lexical_engine_ranks_the_request_sharing_the_rare_words_first(org: Org) -> None:
    spoc, dana = org.spoc, org.actor(org.dana)
    org.file(fields={"summary": "Question about my account"})
    vat = org.file(fields={"summary": "Invoice shows the wrong VAT number"})
    found = spoc.assist.similar_requests(dana, "the VAT on my invoice is wrong", engine="lexical")
    assert found[0].id == vat


@pytest.mark.parametrize("engine", ENGINES)
def test_statuses_and_exclusions_narrow_the_similar_requests(org: Org, engine: str) -> None:
    spoc, dana = org.spoc, org.actor(org.dana)
    open_one = org.file(fields={"summary": "Printer jams on every page"})
    done = org.file(fields={"summary": "Printer jams on every page again"})
    resolve(spoc, done, dana)
    embed_all(spoc)
    text = "the printer jams"
    assert [
        r.id for r in spoc.assist.similar_requests(dana, text, statuses=OPEN, engine=engine)
    ] == [open_one]
    assert [
        r.id for r in spoc.assist.similar_requests(dana, text, statuses=RESOLVED, engine=engine)
    ] == [done]
    assert open_one not in [
        r.id for r in spoc.assist.similar_requests(dana, text, exclude=[open_one], engine=engine)
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_an_article_answering_the_text_is_suggested(org: Org, engine: str) -> None:
    spoc = org.spoc
    embed_all(spoc)
    found = spoc.assist.articles("I forgot my password and cannot sign in", engine=engine)
    assert "generic.reset_password" in [a.key for a in found]


def test_a_description_is_checked_naming_the_field(org: Org) -> None:
    for bad in ("", "   ", "!!!", "x" * 2001, "a\x00b"):
        with pytest.raises(ValidationFailed) as refused:
            org.spoc.assist.similar_requests(org.actor(org.dana), bad)
        assert refused.value.errors.keys() == {"text"}
    with pytest.raises(ValidationFailed) as refused:
        org.spoc.assist.articles("printer", engine="nonesuch")
    assert refused.value.errors.keys() == {"engine"}


# --- privacy --------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_a_private_request_never_appears_among_suggestions_for_a_reader_who_may_not_open_it(
    clinic: Org, engine: str
) -> None:
    spoc = clinic.spoc
    _, booked = book_for_greta(clinic)
    resolve(spoc, booked.id, clinic.actor(clinic.dana))
    embed_all(spoc)
    text = "I need to book a cardiology appointment for palpitations at night"
    # Its navigator and the deputy see it among the similar ones ...
    for reader in (clinic.dana, clinic.lee):
        if engine == "wordllama":  # the index holds no word of a private request's text
            found = spoc.assist.similar_requests(clinic.actor(reader), text, engine=engine)
            # Listed as search lists it: its type, not what it says (read on its own page).
            assert [(r.private, r.summary) for r in found if r.id == booked.id] == [
                (True, "Book, move or cancel an appointment")
            ]
    # ... nobody else does: not an admin, not another agent, not the public portal.
    for outsider in (clinic.sam, clinic.ada, clinic.val, clinic.kim):
        found = spoc.assist.similar_requests(clinic.actor(outsider), text, engine=engine)
        assert booked.id not in [r.id for r in found]
    assert spoc.assist.similar_requests(None, text, engine=engine) == []
    assert spoc.suggestions.answers(None, text, engine=engine) == []
    requester = Actor.requester(booked.contact_id, "Greta Lindqvist")
    assert spoc.assist.similar_requests(requester, text, engine=engine) == []


def test_a_stale_vector_flag_never_opens_a_private_request(clinic: Org) -> None:
    spoc = clinic.spoc
    patient = spoc.directory.add_subject(
        kind="healthcare.patient",
        name="Greta Lindqvist",
        spoc_agent_id=clinic.dana.id,
        external_ref="MRN-8",
        attributes={"date_of_birth": "1958-04-12", "preferred_language": "en"},
    )
    booked = spoc.requests.create(
        type_key="healthcare.appointment",
        fields={"action": "book", "service": "Cardiology", "reason": "Palpitations at night"},
        requester={"name": "Greta Lindqvist", "email": "greta@example.com"},
        subject_id=patient.id,
    )
    embed_all(spoc)
    with spoc.db.transaction() as session:  # as if embedded before the type became private
        session.execute(update(AssistVector).values(private=False))
    text = "cardiology appointment for palpitations"
    for outsider in (clinic.sam, clinic.ada):
        found = spoc.assist.similar_requests(clinic.actor(outsider), text, engine="wordllama")
        assert booked.id not in [r.id for r in found]


def test_an_erased_requests_vectors_are_gone(org: Org) -> None:
    spoc = org.spoc
    request_id = org.file(fields={"summary": "Gearbox noise on the blue van"})
    embed_all(spoc)
    assert vectors_of(spoc, request_id) == 1
    request = spoc.requests.get(request_id, Actor.system())
    spoc.privacy.erase_contact(
        org.actor(org.ada), request.contact_id, reason="asked to be forgotten"
    )
    assert vectors_of(spoc, request_id) == 0
    embed_all(spoc)  # what the worker may embed again is the anonymised text only
    found = spoc.assist.similar_requests(
        org.actor(org.dana), "gearbox noise blue van", engine="wordllama"
    )
    assert all(r.summary == "Anonymised request" for r in found)


# --- the engines themselves ------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("assist tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_wordllama_loads_its_bundled_weights_without_the_network(no_network: None) -> None:
    encoders._wordllama_model.cache_clear()
    matrix = encoders.encode(encoders.wordllama_encoder(), ["my parcel is late"])
    assert matrix.shape == (1, 256)
    assert abs(float((matrix[0] ** 2).sum()) - 1) < 1e-5


def test_hook_assist_engines_adds_an_organisations_engine(make_app: AppFactory) -> None:
    app = make_app(
        plugins=["generic", "trigrams"],
        plugin_entry_points=with_fakes("trigrams"),
        assist_engine="trigrams",
    )
    spoc = spoc_of(app)
    org = build_org(spoc)
    assert spoc.assist.engines() == ["lexical", "wordllama", "trigrams"]
    assert spoc.assist.engine == "trigrams"
    printer = org.file(fields={"summary": "Printer jams on every page"})
    org.file(fields={"summary": "Invoice shows the wrong VAT number"})
    embed_all(spoc)
    with spoc.db.reader() as session:
        engines = set(session.scalars(select(AssistVector.engine)))
    assert engines == {"trigrams"}
    assert spoc.assist.similar_requests(org.actor(org.dana), "printer jamming")[0].id == printer


def test_an_unknown_engine_in_the_settings_stops_start_up_with_its_name(
    make_app: AppFactory,
) -> None:
    with pytest.raises(StartupError, match="SPOC_ASSIST_ENGINE=nonesuch"):
        make_app(assist_engine="nonesuch")


def test_hook_assist_engines_refuses_a_name_taken_naming_the_plugin(
    make_app: AppFactory,
) -> None:
    with pytest.raises(StartupError, match=r"clashing_engine.*wordllama"):
        make_app(
            plugins=["generic", "clashing_engine"],
            plugin_entry_points=with_fakes("clashing_engine"),
        )
