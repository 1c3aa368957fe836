"""A small app whose model anonymises instead of deleting, installed only by the tests that need one.

No vern model anonymises yet; this one proves that a retention sweep and an erasure request
leave its row the same way (``vern.registry.erasure``).
"""
