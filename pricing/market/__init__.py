"""The market: a pure description of demand, its gymnasium simulator and its oracle.

* :mod:`.model`: the market as arrays and its exact MNL expectations.
* :mod:`.builders`: markets from a synthetic world or a demand model;
  :mod:`.from_store`: from the demand model fitted on the graph; :mod:`.segments`:
  a world's market regrouped by the graph's segments.
* :mod:`.simulator`: one step prices one period; :mod:`.actions`: the macro, meso and
  micro action levels over it.
* :mod:`.oracle`: the best prices under the true parameters, certified by a dual bound.
* :mod:`.public`: what a trained policy prices with (no true demand).
"""
