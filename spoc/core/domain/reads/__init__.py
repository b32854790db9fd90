"""Reads: what the surfaces and plugins see of requests, built in one place.

* :mod:`~spoc.core.domain.reads.queues` — the queues the console and the API list, with the
  reader's visibility applied once.
* :mod:`~spoc.core.domain.reads.detail` — one request as its reader may see it: the console's
  request page, the portal's tracking page and the API's request and timeline render from it.
* :mod:`~spoc.core.domain.reads.states` — the narrow read plugins use for the state of
  requests (open? status, level, owner, subject, type), instead of joining core tables.
* :mod:`~spoc.core.domain.reads.fields` — which of a request's fields a reader sees.
"""
