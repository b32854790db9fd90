"""Keeping the search index current, inside the transaction of the change it follows.

:class:`SearchIndex` is a late write observer (after the write's flush, before commit) that
rewrites a request's document on every write; the directory calls it when it adds or changes a
subject, intake when it adds a contact, erasure when it strips requests or a contact. So an
index row commits, or rolls back, together with its cause.

What goes into a request's document, and what never does:

* the reference's number, the summary, the form fields, and every message (public replies and
  internal notes: search is for staff, who read both);
* never a field marked ``sensitive`` (``json_schema_extra={"sensitive": True}``);
* for a private request (a private type, a private subject kind, or a type no enabled plugin
  offers), only its reference and its type's title: its fields and messages are never indexed,
  so no reader can find it by what it says.

Articles: the plugins' (``spoc_knowledge_articles``) are synchronised by
:meth:`SearchIndex.sync_plugin_articles`. Articles kept elsewhere (written in the console) are
indexed by their owner with :meth:`SearchIndex.put_article` and :meth:`SearchIndex.remove_article`,
in the owner's own transaction, under a key with a namespace no plugin key can have
(``console:<id>``: plugin article keys never hold a colon).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import column, delete, insert, select, table, text
from sqlalchemy.orm import Session

from spoc.core.domain.access import private_request, private_subject_kind
from spoc.core.domain.models import Contact, Message, Request, Subject
from spoc.core.domain.reads.fields import sensitive_fields
from spoc.core.domain.search.tables import BODY_MAX, TITLE_MAX, documents
from spoc.core.domain.search.text import index_text

if TYPE_CHECKING:
    from spoc.core.domain.writes import WriteContext
    from spoc.core.platform.plugins import PluginHost

BATCH = 500
"""Rows per transaction when the index is rebuilt."""


@dataclass(frozen=True)
class Document:
    """One thing search can find: what its hit shows, and the words it is found by."""

    kind: str
    key: str
    ref_id: int | None
    private: bool
    title: str
    body: str
    # Words of the title beyond the title itself (a request's reference number).
    extra_words: str = ""

    def row(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "ref_id": self.ref_id,
            "private": self.private,
            "title": self.title[:TITLE_MAX],
            "body": self.body[:BODY_MAX],
            "title_words": index_text(self.extra_words, self.title[:TITLE_MAX]),
            "body_words": index_text(self.body[:BODY_MAX]),
        }


UNSEARCHED_EVENTS = frozenset(
    {
        "assigned",
        "clock",
        "escalated",
        "escalation_assigned",
        "handed_back",
        "priority_changed",
        "reminder",
        "status_changed",
    }
)
"""Timeline events that change nothing a request's document holds (its reference, type,
subject, summary, fields and messages): a write made only of these keeps its document as it
is — the sweep's warnings, breaches and escalations write no index row."""


class SearchIndex:
    """Writes the index: one document per request, contact, subject and article."""

    def __init__(self, host: PluginHost, reference: Callable[[int], str]) -> None:
        self.host = host
        self.reference = reference

    # --- the write observer ----------------------------------------------------------------

    def __call__(self, write: WriteContext) -> None:
        """Late observer of every request write: rewrite the request's document (and, when
        the request was just filed, its contact's, which intake may have added)."""
        if all(e.kind in UNSEARCHED_EVENTS and e.message is None for e in write.events):
            return
        self.index_requests(write.session, [write.request])
        if any(event.kind == "created" for event in write.events):
            contact = write.session.get(Contact, write.request.contact_id)
            if contact is not None:
                self.index_contacts(write.session, [contact])

    # --- what each row becomes ---------------------------------------------------------------

    def request_documents(self, session: Session, requests: Sequence[Request]) -> list[Document]:
        if not requests:
            return []
        ids = [r.id for r in requests]
        kinds = dict(
            session.execute(
                select(Subject.id, Subject.kind).where(
                    Subject.id.in_({r.subject_id for r in requests if r.subject_id is not None})
                )
            ).all()
        )
        said: dict[int, list[str]] = {i: [] for i in ids}
        for request_id, body in session.execute(
            select(Message.request_id, Message.body)
            .where(Message.request_id.in_(ids))
            .order_by(Message.request_id, Message.id)
        ):
            said[request_id].append(body)
        found = []
        for request in requests:
            reference = self.reference(request.id)
            number = reference.rpartition("-")[2]
            # The number alone and without its zeros: "00042" and "42" both find it.
            extra = f"{number} {request.id}"
            subject_kind = kinds.get(request.subject_id) if request.subject_id else None
            request_type = self.host.request_types.get(request.type_key)
            if private_request(self.host, request.type_key, subject_kind):
                title = request_type.title if request_type is not None else "Request"
                found.append(
                    Document(
                        "request",
                        str(request.id),
                        request.id,
                        True,
                        f"{reference} · {title}",
                        "",
                        extra,
                    )
                )
                continue
            assert request_type is not None  # private_request says so
            hidden = sensitive_fields(request_type.fields_model)
            values = [v for k, v in request.fields.items() if k not in hidden]
            body = "\n".join([*flatten_values(values), *said[request.id]])
            found.append(
                Document(
                    "request",
                    str(request.id),
                    request.id,
                    False,
                    f"{reference} · {request.summary}",
                    body,
                    extra,
                )
            )
        return found

    @staticmethod
    def contact_document(contact: Contact) -> Document:
        return Document("contact", str(contact.id), contact.id, False, contact.name, contact.email)

    def subject_document(self, subject: Subject) -> Document:
        return Document(
            "subject",
            str(subject.id),
            subject.id,
            private_subject_kind(self.host, subject.kind),
            subject.name,
            subject.external_ref or "",
        )

    # --- writing ------------------------------------------------------------------------------

    def index_requests(self, session: Session, requests: Sequence[Request]) -> None:
        self.put(session, self.request_documents(session, requests))

    def reindex_requests(self, session: Session, request_ids: Iterable[int]) -> None:
        """Rewrite the documents of these requests from what the rows say now (after an
        erasure stripped them, say)."""
        ids = list(request_ids)
        for start in range(0, len(ids), BATCH):
            batch = session.scalars(
                select(Request).where(Request.id.in_(ids[start : start + BATCH]))
            ).all()
            self.index_requests(session, batch)

    def index_contacts(self, session: Session, contacts: Sequence[Contact]) -> None:
        self.put(session, [self.contact_document(c) for c in contacts])

    def index_subjects(self, session: Session, subjects: Sequence[Subject]) -> None:
        self.put(session, [self.subject_document(s) for s in subjects])

    def put_article(
        self, session: Session, key: str, title: str, body: str, *, private: bool = False
    ) -> None:
        """Index (or re-index) an article in the caller's transaction. ``key`` is unique among
        articles: plugin articles use their own keys, articles kept elsewhere a namespace of
        their own (``console:<id>``). ``body`` is plain text (Markdown is fine: its words are
        found, its markup is only punctuation). A ``private`` article is found only by readers
        of private records' owners (kept for symmetry; plugin articles are public)."""
        self.put(session, [Document("article", key, None, private, title, body)])

    def remove_article(self, session: Session, key: str) -> None:
        """Take an article out of the index (unpublished or deleted), in the caller's
        transaction."""
        self.remove(session, "article", [key])

    def sync_plugin_articles(self, session: Session) -> None:
        """Make the index's plugin articles those of the enabled plugins (an article whose key
        holds no colon is a plugin's)."""
        wanted = {
            a.key: Document(
                "article",
                a.key,
                None,
                False,
                a.title,
                "\n".join([a.summary, a.body, " ".join(a.keywords)]),
            )
            for a in self.host.articles
        }
        stored = {
            key: (title, body)
            for key, title, body in session.execute(
                select(documents.c.key, documents.c.title, documents.c.body).where(
                    documents.c.kind == "article", documents.c.key.not_like("%:%")
                )
            ).all()
        }
        self.remove(session, "article", [k for k in stored if k not in wanted])
        changed = [
            d
            for k, d in wanted.items()
            if stored.get(k) != (d.title[:TITLE_MAX], d.body[:BODY_MAX])
        ]
        self.put(session, changed)

    def remove(self, session: Session, kind: str, keys: Sequence[str]) -> None:
        if not keys:
            return
        if _dialect(session) != "postgresql":
            ids = select(documents.c.id).where(documents.c.kind == kind, documents.c.key.in_(keys))
            gone = _delete_fts(session, list(session.scalars(ids)))
            _forget_words(session, gone)
        session.execute(
            delete(documents).where(documents.c.kind == kind, documents.c.key.in_(keys))
        )

    def put(self, session: Session, found: Sequence[Document]) -> None:
        """Write ``found`` over whatever the index held for the same kinds and keys."""
        if not found:
            return
        rows = [d.row() for d in found]
        if _dialect(session) == "postgresql":
            session.execute(_PG_UPSERT, rows)
            return
        replaced: set[str] = set()
        by_kind: dict[str, list[str]] = {}
        for d in found:
            by_kind.setdefault(d.kind, []).append(d.key)
        for kind, keys in by_kind.items():
            old = list(
                session.scalars(
                    select(documents.c.id).where(
                        documents.c.kind == kind, documents.c.key.in_(keys)
                    )
                )
            )
            if old:
                replaced |= _delete_fts(session, old)
                session.execute(delete(documents).where(documents.c.id.in_(old)))
        stored = session.execute(
            insert(documents).returning(
                documents.c.id, documents.c.kind, documents.c.key, sort_by_parameter_order=True
            ),
            [{k: r[k] for k in _COLUMNS} for r in rows],
        ).all()
        session.execute(
            _FTS_INSERT,
            [
                {"id": doc_id, "title": r["title_words"], "body": r["body_words"]}
                for (doc_id, _, _), r in zip(stored, rows, strict=True)
            ],
        )
        # The vocabulary that expands a prefix (migration 0025); a word no document holds any
        # more leaves it (an erased name must not linger in a word list).
        said = {w for r in rows for w in f"{r['title_words']} {r['body_words']}".split()}
        if said:
            session.execute(_WORDS_INSERT, [{"word": w} for w in sorted(said)])
        _forget_words(session, replaced - said)


_FTS = table("search_fts", column("rowid"), column("title"), column("body"))
_WORDS = table("search_words", column("word"))
_FTS_HOLDS = text("SELECT rowid FROM search_fts WHERE search_fts MATCH :word LIMIT 1")
_COLUMNS = ("kind", "key", "ref_id", "private", "title", "body")
_FTS_INSERT = text("INSERT INTO search_fts (rowid, title, body) VALUES (:id, :title, :body)")
_WORDS_INSERT = text("INSERT OR IGNORE INTO search_words (word) VALUES (:word)")
_PG_UPSERT = text(
    "INSERT INTO search_documents (kind, key, ref_id, private, title, body, tsv) "
    "VALUES (:kind, :key, :ref_id, :private, :title, :body, "
    "setweight(to_tsvector('simple', :title_words), 'A') || "
    "setweight(to_tsvector('simple', :body_words), 'B')) "
    "ON CONFLICT (kind, key) DO UPDATE SET ref_id = excluded.ref_id, "
    "private = excluded.private, title = excluded.title, body = excluded.body, "
    "tsv = excluded.tsv"
)


def _delete_fts(session: Session, ids: Sequence[int]) -> set[str]:
    """Drop the documents' rows from the FTS index; the words those rows held."""
    held: set[str] = set()
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        for title, body in session.execute(
            select(_FTS.c.title, _FTS.c.body).where(_FTS.c.rowid.in_(chunk))
        ):
            held.update(f"{title} {body}".split())
        session.execute(delete(_FTS).where(_FTS.c.rowid.in_(chunk)))
    return held


def _forget_words(session: Session, words: set[str]) -> None:
    """Take out of the vocabulary each of ``words`` that no document holds any more."""
    unused = [
        word
        for word in sorted(words)
        if session.execute(_FTS_HOLDS, {"word": f'"{word}"'}).first() is None
    ]
    for start in range(0, len(unused), BATCH):
        session.execute(delete(_WORDS).where(_WORDS.c.word.in_(unused[start : start + BATCH])))


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def flatten_values(values: Iterable[Any]) -> Iterable[str]:
    """The text of form values (nested lists and mappings too), blank ones and flags left out."""
    for value in values:
        if value is None or value == "" or isinstance(value, bool):
            continue
        if isinstance(value, str | int | float):
            yield str(value)
        elif isinstance(value, Mapping):
            yield from flatten_values(value.values())
        elif isinstance(value, list | tuple):
            yield from flatten_values(value)
