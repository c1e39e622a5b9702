"""The reference setting of Sorscher, Mel, Ganguli & Ocko (2019) that gridform defaults to,
and the vocabularies its library and command line share.

Imports nothing heavy, so the command line can name the choices without loading JAX.
The numbers are the paper's (docs/theory.md section 5); every default of the configs, the
theory and the pattern dynamics comes from here.
"""

from __future__ import annotations

import math
from typing import Literal, get_args

__all__ = ["BATCH_SIZE", "BOX_WIDTH_M", "DT_S", "NONLINEARITIES", "N_HIDDEN", "N_LANDMARKS",
           "N_PLACE_CELLS", "PLACE_CELL_KINDS", "SEQUENCE_LENGTH", "SIGMA_M",
           "SPEED_SCALE_M_S", "SURROUND_SCALE", "Activation", "Boundary", "Cell",
           "Nonlinearity", "PlaceCellKind", "RecurrentInit"]

SIGMA_M = 0.12  # place-cell centre width sigma1 (m)
SURROUND_SCALE = 2.0  # s = sigma2^2 / sigma1^2 of the difference of softmaxes
BOX_WIDTH_M = 2.2  # side of the square, walled arena (m)
N_PLACE_CELLS = 512  # place cells, centres uniform over the box
N_HIDDEN = 4096  # recurrent units
SEQUENCE_LENGTH = 20  # steps per trajectory
BATCH_SIZE = 200  # trajectories per step
DT_S = 0.02  # time step (s)
# Rayleigh scale b of the running speed (m/s): the reference's 0.13 * 2 pi, a mean speed
# b sqrt(pi / 2) = 1.02 m/s
SPEED_SCALE_M_S = 0.13 * 2 * math.pi

PlaceCellKind = Literal["gaussian", "dos", "dog", "dog_unnormalised"]
PLACE_CELL_KINDS: tuple[str, ...] = get_args(PlaceCellKind)

Nonlinearity = Literal["linear", "relu", "tanh", "sigmoid", "nonneg"]
NONLINEARITIES: tuple[str, ...] = get_args(Nonlinearity)

Boundary = Literal["walls", "periodic"]
Activation = Literal["relu", "tanh", "sigmoid", "linear"]
Cell = Literal["rnn", "lstm", "gru"]
RecurrentInit = Literal["uniform", "orthogonal", "identity"]

# analysis defaults that the command line shows
N_LANDMARKS = 250  # landmarks of the persistent homology (docs/topology.md)
