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
           "HiddenNorm", "Nonlinearity", "PlaceCellKind", "RecurrentInit"]

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
RecurrentInit = Literal["uniform", "orthogonal", "identity", "attractor"]
HiddenNorm = Literal["none", "unit"]

# analysis defaults that the command line shows
N_LANDMARKS = 250  # landmarks of the persistent homology (docs/topology.md)

# The continuous-attractor network of Burak & Fiete (2009, PLoS Comput Biol 5:e1000291),
# periodic network (gridform.attractor). gridform keeps their values except two, whose
# reasons docs/attractor.md derives: with four shifted directions their gamma = 1.05 beta
# leaves the uniform state stable (effective gain 0.98 < 1), and lambda_net = 13 puts the
# kernel's ring between two lattices that a 64 x 64 torus admits, the chosen one
# stretched by 11%; lambda_net = 12 puts it on a lattice stretched by 3%.
CAN_SHEET = 64                # neurons per side (B&F: 128)
CAN_PERIOD_NEURONS = 12.0     # lambda_net, neurons (B&F: 13)
CAN_GAMMA_RATIO = 1.1         # gamma / beta (B&F: 1.05)
CAN_SHIFT = 2.0               # l, neurons (B&F)
CAN_VELOCITY_GAIN = 0.10315   # alpha, s/m (B&F)
CAN_TAU_S = 0.010             # neural time constant, s (B&F)
CAN_DT_S = 0.0005             # Euler step, s (B&F)
