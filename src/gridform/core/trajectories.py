"""Random-walk trajectories of a foraging agent (batch first, vectorised, JAX).

The motion model follows Raudies & Hasselmo (2012) with the constants of Banino et al.
(2018) and of the public code of Sorscher et al. (2019):

- speed ``v_t ~ Rayleigh(b)`` with ``b = 0.13 * 2 pi`` m/s, drawn afresh every step;
- heading ``h_{t+1} = h_t + dt * N(0, sigma_h)`` with ``sigma_h = 11.52`` rad/s;
- within ``0.03`` m of a wall and heading into it (``|h - theta_wall| < pi/2``) the agent
  slows to 25% and turns to run parallel to the wall.

One deliberate change: the reference lets a fast step that starts just outside the border
region leave the box (about 1 in 5 steps taken from 3 cm off a wall at full speed). Here
a step that would cross a wall is reflected off it, so walled trajectories stay inside
the box; the recorded velocity is always the displacement actually made, so the
path-integration identity ``positions = start + cumsum(velocities * dt)`` holds exactly
(on the torus: after wrapping).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from gridform.core.environment import Box
from gridform.core.reference import SPEED_SCALE_M_S

# Rayleigh scale of the running speed in the reference code (m/s)
REFERENCE_SPEED_SCALE = SPEED_SCALE_M_S

__all__ = ["MotionModel", "Trajectories", "simulate_trajectories"]


@dataclass(frozen=True)
class MotionModel:
    """Constants of the motion model (SI units).

    Attributes:
        dt: integration step, s (reference: 0.02 s).
        speed_scale: Rayleigh scale ``b`` of the forward speed, m/s (reference:
            0.13 * 2 pi = 0.817 m/s; mean speed ``b sqrt(pi/2)`` = 1.02 m/s).
        heading_noise: standard deviation of the rotational velocity, rad/s
            (reference: 11.52 rad/s, i.e. 0.23 rad per 20 ms step).
        wall_border: distance from a wall inside which the agent avoids it, m
            (reference: 0.03 m).
        wall_slowdown: speed factor while avoiding a wall (reference: 0.25).
    """

    dt: float = 0.02
    speed_scale: float = REFERENCE_SPEED_SCALE
    heading_noise: float = 11.52
    wall_border: float = 0.03
    wall_slowdown: float = 0.25

    def __post_init__(self) -> None:
        for name in ("dt", "speed_scale"):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"MotionModel {name} must be positive and finite, got {value!r}")
        for name in ("heading_noise", "wall_border"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"MotionModel {name} must be >= 0 and finite, got {value!r}")
        if not 0 < self.wall_slowdown <= 1:
            raise ValueError(f"MotionModel wall_slowdown must lie in (0, 1], got "
                             f"{self.wall_slowdown!r}")

    @property
    def mean_speed(self) -> float:
        """Mean of the Rayleigh speed distribution, m/s (ignoring wall slow-down)."""
        return self.speed_scale * math.sqrt(math.pi / 2)


@partial(
    jax.tree_util.register_dataclass,
    data_fields=["start_positions", "start_head_directions", "velocities", "positions",
                 "head_directions"],
    meta_fields=["dt"],
)
@dataclass(frozen=True)
class Trajectories:
    """A batch of trajectories.

    Attributes:
        start_positions: (batch, 2) position before the first step, m.
        start_head_directions: (batch,) heading before the first step, rad.
        velocities: (batch, steps, 2) velocity of each step, m/s; step ``t`` moves the
            agent from ``positions[:, t-1]`` (or the start) to ``positions[:, t]``.
        positions: (batch, steps, 2) position after each step, m (wrapped on a torus).
        head_directions: (batch, steps) direction of motion of each step, rad in [-pi, pi).
        dt: time step, s.
    """

    start_positions: jax.Array
    start_head_directions: jax.Array
    velocities: jax.Array
    positions: jax.Array
    head_directions: jax.Array
    dt: float = field(default=0.02)

    @property
    def n_batch(self) -> int:
        return int(self.velocities.shape[0])

    @property
    def n_steps(self) -> int:
        return int(self.velocities.shape[1])

    @property
    def speeds(self) -> jax.Array:
        """(batch, steps) speed of each step, m/s."""
        return jnp.linalg.norm(self.velocities, axis=-1)

    @property
    def unwrapped_positions(self) -> jax.Array:
        """(batch, steps, 2): start + cumulative sum of velocity * dt (no wrapping)."""
        return self.start_positions[:, None, :] + jnp.cumsum(self.velocities * self.dt, axis=1)

    def flat_positions(self) -> np.ndarray:
        """All positions as a (batch * steps, 2) numpy array."""
        return np.asarray(self.positions).reshape(-1, 2)


def _reflect(p: jax.Array, half: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Reflect coordinates p (..., 2) into [-half, half]; also return which axes flipped."""
    over = p > half
    under = p < -half
    p = jnp.where(over, 2 * half - p, p)
    p = jnp.where(under, -2 * half - p, p)
    return p, over | under


def _wall_turn(pos: jax.Array, hd: jax.Array, half: jax.Array, border: float):
    """Wall avoidance of the reference: (near_wall (B,), turn angle (B,))."""
    dists = jnp.stack(
        [half[0] - pos[:, 0], half[1] - pos[:, 1], half[0] + pos[:, 0], half[1] + pos[:, 1]],
        axis=-1,
    )
    nearest = jnp.argmin(dists, axis=-1)
    d_wall = jnp.min(dists, axis=-1)
    theta = nearest * (jnp.pi / 2)  # outward normal of the nearest wall: E, N, W, S
    a_wall = jnp.mod(hd - theta + jnp.pi, 2 * jnp.pi) - jnp.pi
    near = (d_wall < border) & (jnp.abs(a_wall) < jnp.pi / 2)
    turn = jnp.where(near, jnp.sign(a_wall) * (jnp.pi / 2 - jnp.abs(a_wall)), 0.0)
    return near, turn


@partial(jax.jit, static_argnames=("box", "n_batch", "n_steps", "motion"))
def simulate_trajectories(
    key: jax.Array,
    box: Box,
    n_batch: int,
    n_steps: int,
    motion: MotionModel = MotionModel(),
) -> Trajectories:
    """Simulate ``n_batch`` independent trajectories of ``n_steps`` steps each.

    Start positions are uniform in the box and start headings uniform on the circle.
    Fully determined by ``key``: the same key gives the same trajectories.

    Args:
        key: a ``jax.random`` key.
        box: the arena.
        n_batch, n_steps: output shape (batch, steps).
        motion: constants of the motion model.

    Returns:
        Trajectories with arrays of shape (n_batch, n_steps, ...), float32.
    """
    half = jnp.asarray([box.width / 2, box.height / 2], dtype=jnp.float32)
    k_pos, k_hd, k_speed, k_turn = jax.random.split(key, 4)
    start = jax.random.uniform(k_pos, (n_batch, 2), minval=-half, maxval=half)
    hd0 = jax.random.uniform(k_hd, (n_batch,), minval=-jnp.pi, maxval=jnp.pi)
    # inverse-CDF Rayleigh on u in [0, 1): always finite (jax.random.rayleigh can return
    # inf when its uniform draw is exactly 0, which happens about once in 2^24 samples)
    u = jax.random.uniform(k_speed, (n_steps, n_batch))
    speeds = motion.speed_scale * jnp.sqrt(-2.0 * jnp.log1p(-u))
    turns = motion.dt * motion.heading_noise * jax.random.normal(k_turn, (n_steps, n_batch))

    def step(carry, inputs):
        pos, hd = carry
        speed, noise = inputs
        if box.periodic:
            turn = jnp.zeros_like(hd)
        else:
            near, turn = _wall_turn(pos, hd, half, motion.wall_border)
            speed = jnp.where(near, speed * motion.wall_slowdown, speed)
        direction = jnp.stack([jnp.cos(hd), jnp.sin(hd)], axis=-1)
        new = pos + (speed * motion.dt)[:, None] * direction
        move_hd = hd
        if box.periodic:
            velocity = (new - pos) / motion.dt
            new = box.wrap(new)
        else:
            new, flipped = _reflect(new, half)
            velocity = (new - pos) / motion.dt
            # a reflected step leaves with the mirrored heading
            c = jnp.where(flipped[:, 0], -direction[:, 0], direction[:, 0])
            s = jnp.where(flipped[:, 1], -direction[:, 1], direction[:, 1])
            hd = jnp.arctan2(s, c)
        new_hd = jnp.mod(hd + turn + noise + jnp.pi, 2 * jnp.pi) - jnp.pi
        return (new, new_hd), (velocity, new, jnp.mod(move_hd + jnp.pi, 2 * jnp.pi) - jnp.pi)

    _, (vel, pos, hds) = jax.lax.scan(step, (start, hd0), (speeds, turns))
    return Trajectories(
        start_positions=start,
        start_head_directions=hd0,
        velocities=jnp.swapaxes(vel, 0, 1),
        positions=jnp.swapaxes(pos, 0, 1),
        head_directions=jnp.swapaxes(hds, 0, 1),
        dt=motion.dt,
    )
