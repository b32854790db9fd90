"""The knowledge base written in the console: drafts, published versions and their history,
languages, request types, pages for a search index, and "did this answer" counts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from spoc import FrozenClock
from spoc.core.domain.knowledge.articles import ArticleDraft
from spoc.core.kernel.errors import NotFoundError, PermissionDenied, ValidationFailed
from tests.conftest import Org

DRAFT = ArticleDraft(
    title="Find your invoice",
    summary="Where invoices live",
    body="Open **Billing**, then *Invoices*.",
    request_types=("generic.question",),
)


def test_a_draft_is_not_published_until_it_is(org: Org) -> None:
    spoc, dana = org.spoc, org.actor(org.dana)
    article = spoc.articles.create(dana, "invoices", "en", DRAFT)
    assert article.key == "kb.invoices" and article.draft and not article.published
    assert spoc.articles.published("kb.invoices") is None
    assert spoc.articles.portal_list() == []

    spoc.articles.publish(dana, article.id)

    shown = spoc.articles.published("kb.invoices")
    assert shown is not None
    assert shown.html == "<p>Open <strong>Billing</strong>, then <em>Invoices</em>.</p>\n"
    assert [a.key for a in spoc.articles.portal_list(request_type="generic.question")] == [
        "kb.invoices"
    ]


def test_editing_a_published_article_makes_a_draft_and_keeps_the_history(
    org: Org, clock: FrozenClock
) -> None:
    spoc, dana = org.spoc, org.actor(org.dana)
    article = spoc.articles.create(dana, "invoices", "en", DRAFT)
    spoc.articles.publish(dana, article.id)
    clock.advance(timedelta(hours=1))

    edited = spoc.articles.save(dana, article.id, ArticleDraft("Invoices, new", "", "New text"))
    again = spoc.articles.save(dana, article.id, ArticleDraft("Invoices, newer", "", "Newer"))

    assert edited.draft and again.draft and len(again.versions) == 2
    shown = spoc.articles.published("kb.invoices")
    assert shown is not None and shown.title == "Find your invoice"  # the portal is unchanged
    spoc.articles.publish(dana, article.id)
    shown = spoc.articles.published("kb.invoices")
    assert shown is not None and shown.title == "Invoices, newer"
    history = spoc.articles.get(article.id).versions
    assert [(v.number, v.live, v.published_at is not None) for v in history] == [
        (2, True, True),
        (1, False, True),
    ]
    with pytest.raises(ValidationFailed) as nothing:
        spoc.articles.publish(dana, article.id)
    assert set(nothing.value.errors) == {"version"}


def test_translations_share_a_key_and_the_reader_gets_their_language(org: Org) -> None:
    spoc, dana = org.spoc, org.actor(org.dana)
    for language, title in (("en", "Invoices"), ("fr", "Factures")):
        created = spoc.articles.create(dana, "invoices", language, ArticleDraft(title, "", "x"))
        spoc.articles.publish(dana, created.id)
    french = spoc.articles.published("kb.invoices", ["fr"])
    assert french is not None and french.title == "Factures"
    assert set(french.languages) == {"en", "fr"}
    other = spoc.articles.published("kb.invoices", ["de"])
    assert other is not None and other.title == "Invoices"  # English when theirs is missing
    assert [a.title for a in spoc.articles.portal_list(languages=["fr"])] == ["Factures"]


def test_bad_input_names_the_field(org: Org) -> None:
    spoc, dana = org.spoc, org.actor(org.dana)
    cases = [
        ("Bad-Slug", "en", DRAFT, "slug"),
        ("ok", "english!", DRAFT, "language"),
        ("ok", "en", ArticleDraft("", "", "x"), "title"),
        ("ok", "en", ArticleDraft("T", "", " "), "body"),
        ("ok", "en", ArticleDraft("T", "", "x", request_types=("nope.type",)), "request_types"),
        ("ok", "en", ArticleDraft("T", "", "x", plugin="nope"), "plugin"),
        ("ok", "en", ArticleDraft("T", "s" * 501, "x"), "summary"),
    ]
    for slug, language, draft, field in cases:
        with pytest.raises(ValidationFailed) as refused:
            spoc.articles.create(dana, slug, language, draft)
        assert field in refused.value.errors
    spoc.articles.create(dana, "ok", "en", DRAFT)
    with pytest.raises(ValidationFailed, match="already written"):
        spoc.articles.create(dana, "ok", "en", DRAFT)
    assert spoc.articles.console_page().items[0].slug == "ok"


def test_only_admins_and_agents_write(org: Org) -> None:
    for who in (org.kim, org.val):
        with pytest.raises(PermissionDenied):
            org.spoc.articles.create(org.actor(who), "x", "en", DRAFT)


def test_published_articles_come_in_keyset_pages_for_the_search_index(org: Org) -> None:
    spoc, dana = org.spoc, org.actor(org.dana)
    for n in range(5):
        created = spoc.articles.create(dana, f"a{n}", "en", ArticleDraft(f"A{n}", "", "x"))
        if n != 2:
            spoc.articles.publish(dana, created.id)
    seen, cursor = [], None
    while True:
        page = spoc.articles.published_page(cursor=cursor, limit=2)
        seen.extend(a.key for a in page.items)
        if page.next is None:
            break
        cursor = page.next
    assert seen == ["kb.a0", "kb.a1", "kb.a3", "kb.a4"]


def test_did_this_answer_is_counted_per_article_per_day(org: Org, clock: FrozenClock) -> None:
    spoc, dana = org.spoc, org.actor(org.dana)
    spoc.articles.publish(dana, spoc.articles.create(dana, "invoices", "en", DRAFT).id)
    plugin_key = next(iter(spoc.host.articles)).key
    spoc.articles.record_answer("kb.invoices", True)
    spoc.articles.record_answer("kb.invoices", True)
    spoc.articles.record_answer("kb.invoices", False)
    clock.advance(timedelta(days=1))
    spoc.articles.record_answer("kb.invoices", False)
    spoc.articles.record_answer(plugin_key, True)
    today = clock.now().date()
    assert spoc.articles.answer_counts("kb.invoices") == [
        (today - timedelta(days=1), 2, 1),
        (today, 0, 1),
    ]
    assert spoc.articles.answer_counts(plugin_key) == [(today, 1, 0)]
    with pytest.raises(NotFoundError):
        spoc.articles.record_answer("kb.unknown", True)


def test_a_published_article_is_found_by_search_and_leaves_when_unpublished(org: Org) -> None:
    spoc, dana = org.spoc, org.actor(org.dana)
    article = spoc.articles.create(dana, "invoices", "en", DRAFT)

    def found() -> list[str]:
        return [h.key for h in spoc.search.query(dana, "billing", kinds=("article",)).hits]

    assert found() == []  # a draft is not found
    spoc.articles.publish(dana, article.id)
    assert found() == [f"console:{article.id}"]
    spoc.search.rebuild()
    assert found() == [f"console:{article.id}"]  # a rebuild keeps it
    spoc.articles.unpublish(dana, article.id)
    assert found() == []
    spoc.search.rebuild()
    assert found() == []
