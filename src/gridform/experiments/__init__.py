"""Experiments that drive the lower layers and write directories.

``reproduce`` checks the paper's claims against pre-registered bars, ``sweep`` runs many
trainings on Dask or as vmapped populations, and ``pattern_run`` simulates the
pattern-forming dynamics into a run directory (``gridform pattern``).
"""
