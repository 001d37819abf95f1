"""What pricing knows about each customer and how its price response depends on it.

* :mod:`.states`: state blocks per customer (graph vector, text vector, RFM, segment).
* :mod:`.sensitivity`: a customer-conditioned logit on shown prices, giving each
  customer's price sensitivity with an interval.
"""
