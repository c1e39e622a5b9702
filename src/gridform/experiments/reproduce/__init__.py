"""``gridform reproduce``: the paper's claims, each checked and drawn.

One target per claim family (:data:`TARGETS`). Each target writes its figure as PNG and SVG
to ``OUT/figures`` and returns :class:`Claim` rows: a measurement, a threshold fixed in
advance and a negative control sent through the same check (see :class:`Claim`). All rows
go to ``OUT/claims.csv`` (:data:`CLAIM_COLUMNS`) and are printed one block per claim. A
failing claim is reported as failing, with its numbers, never dropped.

``quick`` sizes everything for a 2-core CPU (about 24 minutes for ``all`` here, 17 of
them training): every network is the ``demo`` preset for 3000 steps without its early
weight decay, three seeds of each arm (ReLU/DoS, tanh, Gaussian targets); the first
ReLU/DoS seed is the network of ``rnn``, ``mechanism`` and ``topology``, and the first
seeds of the other two arms are its controls. Without ``quick`` the networks use the
``paper`` preset for 20,000 steps, five seeds per arm, meant for a GPU. Trained runs live in
``OUT/runs`` and ``OUT/sweeps`` (the seeds of ``conditions`` and the runs of
``spacing-law`` and ``spacing-distance`` go through the sweep engine), and a finished run
there (under any name, if its config is the same) is reused, so a second ``reproduce``
only re-analyses; ``run_dir`` substitutes an existing run for the ``rnn``, ``mechanism``
and ``topology`` targets. ``spacing-law`` and ``spacing-distance``
(:data:`EXTRA_TARGETS`) run only when named.
"""

from typing import TYPE_CHECKING

from gridform.core.lazy import exports

if TYPE_CHECKING:
    from gridform.experiments.reproduce._common import _Context as _Context
    from gridform.experiments.reproduce._common import _find_run as _find_run
    from gridform.experiments.reproduce._common import _pattern as _pattern
    from gridform.experiments.reproduce._common import _shell_resolution as _shell_resolution
    from gridform.experiments.reproduce._common import _train_or_reuse as _train_or_reuse
    from gridform.experiments.reproduce.claims import (
        CLAIM_COLUMNS,
        Claim,
        format_claims,
        read_claims,
    )
    from gridform.experiments.reproduce.claims import _write_claims as _write_claims
    from gridform.experiments.reproduce.driver import (
        EXTRA_TARGETS,
        TARGET_FUNCTIONS,
        TARGETS,
        reproduce,
        resolve_targets,
    )

__getattr__, __dir__ = exports(globals(), {
    "_Context": "gridform.experiments.reproduce._common",
    "_find_run": "gridform.experiments.reproduce._common",
    "_pattern": "gridform.experiments.reproduce._common",
    "_shell_resolution": "gridform.experiments.reproduce._common",
    "_train_or_reuse": "gridform.experiments.reproduce._common",
    "CLAIM_COLUMNS": "gridform.experiments.reproduce.claims",
    "Claim": "gridform.experiments.reproduce.claims",
    "format_claims": "gridform.experiments.reproduce.claims",
    "read_claims": "gridform.experiments.reproduce.claims",
    "_write_claims": "gridform.experiments.reproduce.claims",
    "EXTRA_TARGETS": "gridform.experiments.reproduce.driver",
    "TARGET_FUNCTIONS": "gridform.experiments.reproduce.driver",
    "TARGETS": "gridform.experiments.reproduce.driver",
    "reproduce": "gridform.experiments.reproduce.driver",
    "resolve_targets": "gridform.experiments.reproduce.driver",
})

__all__ = ["CLAIM_COLUMNS", "EXTRA_TARGETS", "TARGETS", "TARGET_FUNCTIONS", "Claim",
           "format_claims", "read_claims", "reproduce", "resolve_targets"]
