"""Scoring pricing policies on the simulator, against the oracle and the baselines.

* :mod:`.compare`: every policy on the same seeded episodes, with confidence intervals.
* :mod:`.baselines`: the non-learned policies (list, cost-plus, competitor, myopic).
* :mod:`.deployed`: policies scored through the guardrails quotes apply.
* :mod:`.headroom`: what pricing per customer could add over pricing per segment.
"""
