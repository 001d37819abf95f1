"""Helpers the test modules import (``conftest.py`` is not importable by name).

* :mod:`.data`: where the shared real data lies, and the skip marker when it does not.
* :mod:`.cli`: run ``pricegraph`` commands in a fresh data folder.
* :mod:`.kill`: interrupt a running load (SIGINT, SIGKILL) and count what it stored.
* :mod:`.pricing`, :mod:`.pricing_rl`, :mod:`.quotes`: small demand panels, a tiny RL
  market and quote services for the pricing tests.
* :mod:`.recs`: small purchase histories for the recommendation tests.
* :mod:`.server`: the API behind a real uvicorn server in a thread.
"""
