"""Pricing policies: macro zones, meso segment plans, micro personal adjustments.

* :mod:`.macro` (PPO), :mod:`.meso` (planned on an estimated demand model),
  :mod:`.micro` (TD3): the three levels; :mod:`.hierarchy`: the three as one policy
  that quotes use, saved and loaded as a checkpoint.
* :mod:`.personal`: the personal level per customer group, its gate and its worth.
* :mod:`.training`: train the hierarchy and measure it against the oracle and baselines.
"""
