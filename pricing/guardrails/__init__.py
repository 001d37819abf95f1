"""Guardrails: the hard rules every quoted price passes, and their settings.

* :mod:`.config`: the rules' settings; :mod:`.store`: rules changed at run time.
* :mod:`.apply`: one price through the rules, with the explanation of what bound it;
  :mod:`.batch`: the same arithmetic over arrays of prices; :mod:`.result`: what the
  rules did to a price.
* :mod:`.rounding`: whole cents and price endings; :mod:`.memory`: the 30-day lowest
  price behind honest discounts; :mod:`.fairness`: no protected attributes among
  personalisation inputs.
"""
