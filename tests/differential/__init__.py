"""Differential testing: Hypothesis scenarios on the reference and on Lightning, traces compared.

``scenario.py`` holds the plain data, ``strategies.py`` the Hypothesis strategies that stay
inside the contract, ``modules.py`` builds the module and ``callbacks.py`` the probe callback,
``run.py`` runs a scenario and flattens what it observes into events, ``compare.py`` finds the
first divergent event.
"""
