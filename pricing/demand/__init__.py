"""Demand: the price-response model of products, its data, its fit and what it predicts.

* :mod:`.model`: the log-log demand model with curvature, cross prices and calendar.
* :mod:`.panel`: the product x week panel it is fitted on (from files or the graph).
* :mod:`.fit`, :mod:`.estimation`: the estimation and its numerical pieces.
* :mod:`.store`: fit on the graph's purchase history and save the model.
* :mod:`.forecast`, :mod:`.whatif`: held-out forecasts and what-if scenarios.
* :mod:`.holidays`: the shop country's public holidays for the calendar.
"""
