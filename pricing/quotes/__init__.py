"""Quotes: state, policy, guardrails, rationale and audit for one customer and product.

* :mod:`.factory`: the one way to build a :class:`~.service.QuoteService`.
* :mod:`.service`: state -> policy -> guardrails -> explanation -> audit.
* :mod:`.state`: quote states from the graph and vector stores, from a snapshot of the
  graph kept by :mod:`.snapshot_cache` (refreshed ahead); :mod:`.inputs`: what a quote
  is computed from; :mod:`.result`: what it returns.
* :mod:`.explain`: rationales from the decision record.
* :mod:`.audit`: the append-only audit log; :mod:`.approvals`: human approval of large
  changes; both in the records database (:mod:`~pricegraph.pricing.records`: a SQLite
  file or a PostgreSQL server).
"""
