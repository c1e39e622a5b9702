"""Recorded or externally simulated trajectories: import, check, resample, use.

A :class:`RecordedPath` holds sample times (s) and positions (m) in gridform's frame: the
origin at the centre of the box (``Box``). Sources put their origin elsewhere and use
other units, so every constructor takes ``origin`` (``"centre"`` or ``"corner"``: the
lower-left corner of the box, as RatInABox and most tracking systems do) and ``units``
(``"m"``, ``"cm"`` or ``"mm"``) and converts once, on the way in.

Checks made on every path (each failure is a :class:`~gridform.data.DataError` that says
where): NaN or infinite samples, times that do not increase, positions outside the box
(with a hint when the numbers look like centimetres or a corner origin), and jumps, steps
faster than ``max_speed`` (default 5 m/s; rats run below about 1.5 m/s).

Uses: :meth:`RecordedPath.resample` onto the model's ``dt``, :meth:`RecordedPath.windows`
as a batch of :class:`~gridform.core.trajectories.Trajectories` of the training length (each
window starts from the true position, as in training), :func:`network_ratemaps` (ratemaps
of a trained network's units along the path) and, through the training config's
``trajectory_file``, random windows of the path as training data.
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np

from gridform.core.environment import Box
from gridform.core.io import read_text
from gridform.core.trajectories import Trajectories
from gridform.data.extras import DataError

__all__ = ["RecordedPath", "network_ratemaps", "path_windows"]

UNITS = {"m": 1.0, "cm": 0.01, "mm": 0.001}
Origin = Literal["centre", "corner"]
FORMAT = "gridform-trajectory-1"


def _to_box_frame(positions: np.ndarray, box: Box, origin: str, units: str) -> np.ndarray:
    if units not in UNITS:
        raise DataError(f"units must be one of {sorted(UNITS)}, got {units!r}")
    if origin not in ("centre", "corner"):
        raise DataError(f"origin must be 'centre' or 'corner', got {origin!r}")
    p = np.asarray(positions, dtype=np.float64) * UNITS[units]
    if origin == "corner":
        p = p - np.array([box.width / 2, box.height / 2])
    return p


@dataclass(frozen=True, eq=False)
class RecordedPath:
    """One continuous trajectory in gridform's frame.

    Attributes:
        times: (n,) sample times, s, strictly increasing.
        positions: (n, 2) positions, m, origin at the centre of ``box``.
        box: the arena the path was recorded in.
        source: where it came from (free text, kept in saved files).
    """

    times: np.ndarray
    positions: np.ndarray
    box: Box
    source: str = ""
    max_speed: float = 5.0

    def __post_init__(self) -> None:
        t = np.asarray(self.times, dtype=np.float64)
        p = np.asarray(self.positions, dtype=np.float64)
        if t.ndim != 1 or p.ndim != 2 or p.shape != (t.size, 2):
            raise DataError(f"a path needs times (n,) and positions (n, 2); got {t.shape} "
                            f"and {p.shape}")
        if t.size < 2:
            raise DataError(f"a path needs at least 2 samples, got {t.size}")
        bad = ~np.isfinite(t) | ~np.all(np.isfinite(p), axis=1)
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(f"the path has {int(bad.sum())} samples with NaN or infinite "
                            f"time or position, the first at index {i} (t = {t[i]!r}); "
                            "drop or interpolate them before importing")
        dt = np.diff(t)
        if np.any(dt <= 0):
            i = int(np.argmax(dt <= 0))
            raise DataError(f"times must increase strictly; sample {i + 1} (t = {t[i + 1]}) "
                            f"does not come after sample {i} (t = {t[i]})")
        inside = self.box.contains(p, atol=1e-6 * max(self.box.width, self.box.height))
        if not inside.all():
            i = int(np.argmax(~inside))
            lo, hi = p.min(axis=0), p.max(axis=0)
            hint = ""
            if np.all(lo >= -1e-9) and np.all(hi <= self.box.size + 1e-9):
                hint = " They fit a box with its origin at a corner: pass origin='corner'."
            elif np.max(hi - lo) > 20 * max(self.box.width, self.box.height):
                hint = " Their range is far larger than the box: are they in cm or mm?"
            raise DataError(
                f"{int((~inside).sum())} positions lie outside the {self.box.width} x "
                f"{self.box.height} m box (first: index {i}, {p[i].tolist()}; x spans "
                f"{lo[0]:.4g}..{hi[0]:.4g}, y spans {lo[1]:.4g}..{hi[1]:.4g}; gridform's "
                f"origin is the centre of the box).{hint}")
        step = np.linalg.norm(self.box.displacement(p[1:], p[:-1]), axis=1)
        speed = step / dt
        if np.any(speed > self.max_speed):
            i = int(np.argmax(speed > self.max_speed))
            raise DataError(
                f"the path jumps {step[i]:.3g} m in {dt[i]:.3g} s between samples {i} and "
                f"{i + 1} (t = {t[i]:.6g} s): {speed[i]:.3g} m/s is above the largest "
                f"plausible speed of {self.max_speed} m/s (--max-speed on the command line, "
                "max_speed= in Python). Tracking glitches must be removed first, or the "
                "units are wrong.")
        object.__setattr__(self, "times", t)
        object.__setattr__(self, "positions", p)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_arrays(cls, times, positions, box: Box, *, origin: Origin = "centre",
                    units: str = "m", time_units: str = "s", source: str = "arrays",
                    max_speed: float = 5.0) -> RecordedPath:
        """From arrays of times and (n, 2) positions in the given origin and units."""
        scale = {"s": 1.0, "ms": 1e-3}.get(time_units)
        if scale is None:
            raise DataError(f"time_units must be 's' or 'ms', got {time_units!r}")
        p = np.asarray(positions, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] != 2:
            raise DataError(f"positions must have shape (n, 2), got {p.shape}")
        return cls(np.asarray(times, dtype=np.float64) * scale,
                   _to_box_frame(p, box, origin, units), box, source, max_speed)

    @classmethod
    def from_csv(cls, path: str | os.PathLike, box: Box, *,
                 columns: tuple[str, str, str] = ("t", "x", "y"), origin: Origin = "centre",
                 units: str = "m", time_units: str = "s", max_speed: float = 5.0
                 ) -> RecordedPath:
        """From a CSV file with a header row; ``columns`` names the time, x and y columns."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"trajectory file not found: {path}")
        with io.StringIO(read_text(path), newline="") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            missing = [c for c in columns if c not in header]
            if missing:
                raise DataError(f"{path}: no column {missing[0]!r}; the header has "
                                f"{header}. Name the time, x and y columns (--columns t,x,y "
                                "on the command line, columns=(...) in Python)")
            rows = []
            for n, row in enumerate(reader, start=2):
                try:
                    rows.append([float(row[c]) if row[c].strip() else math.nan
                                 for c in columns])
                except ValueError:
                    raise DataError(f"{path}, line {n}: not a number in {row}") from None
        if not rows:
            raise DataError(f"{path} holds no samples")
        a = np.asarray(rows)
        return cls.from_arrays(a[:, 0], a[:, 1:], box, origin=origin, units=units,
                               time_units=time_units, source=str(path), max_speed=max_speed)

    @classmethod
    def from_ratinabox(cls, agent: Any, max_speed: float = 5.0) -> RecordedPath:
        """From a RatInABox ``Agent``'s history (times and positions).

        RatInABox puts the origin at the lower-left corner of its ``Environment``
        (``extent = [x0, x1, y0, y1]``, metres); positions are shifted by the centre of
        that extent. A ``periodic`` environment becomes a torus, a ``solid`` one walls.
        """
        env = getattr(agent, "Environment", None)
        hist = getattr(agent, "history", None)
        if env is None or not isinstance(hist, dict) or "pos" not in hist:
            raise DataError("expected a RatInABox Agent (with .Environment and .history)")
        if getattr(env, "dimensionality", "2D") != "2D":
            raise DataError(f"only 2-D RatInABox environments can be imported, got "
                            f"{env.dimensionality}")
        if len(hist["pos"]) < 2:
            raise DataError("the Agent has fewer than 2 samples in its history: call "
                            "agent.update() first")
        x0, x1, y0, y1 = (float(v) for v in env.extent)
        bc = env.boundary_conditions if hasattr(env, "boundary_conditions") else \
            env.params.get("boundary_conditions", "solid")
        box = Box(x1 - x0, y1 - y0, "periodic" if bc == "periodic" else "walls")
        pos = np.asarray(hist["pos"], dtype=np.float64)
        centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        return cls(np.asarray(hist["t"], dtype=np.float64), pos - centre, box,
                   "ratinabox", max_speed)

    # ------------------------------------------------------------------ derived
    @property
    def n(self) -> int:
        return int(self.times.size)

    @property
    def dt(self) -> float:
        """Median sampling interval, s."""
        return float(np.median(np.diff(self.times)))

    @property
    def uniform(self) -> bool:
        d = np.diff(self.times)
        return bool(np.allclose(d, d[0], rtol=1e-6, atol=1e-9))

    def unwrapped(self) -> np.ndarray:
        """Positions (n, 2) with torus wrap-arounds undone (the path as walked)."""
        if not self.box.periodic:
            return self.positions
        steps = self.box.displacement(self.positions[1:], self.positions[:-1])
        return np.concatenate([self.positions[:1],
                               self.positions[0] + np.cumsum(steps, axis=0)])

    def velocities(self) -> np.ndarray:
        """(n - 1, 2) velocity of each step, m/s (the displacement actually made)."""
        steps = np.diff(self.unwrapped(), axis=0)
        return steps / np.diff(self.times)[:, None]

    def resample(self, dt: float) -> RecordedPath:
        """The path linearly interpolated onto times ``t0, t0 + dt, ...`` (within range)."""
        if not math.isfinite(dt) or dt <= 0:
            raise DataError(f"dt must be a positive number of seconds, got {dt!r}")
        n = math.floor((self.times[-1] - self.times[0]) / dt + 1e-9) + 1
        if n < 2:
            raise DataError(f"the path lasts {self.times[-1] - self.times[0]:.3g} s, "
                            f"shorter than one step of {dt} s")
        # times as NWB computes them from a starting time and a rate: a resampled path
        # survives an NWB round trip bit for bit
        t = self.times[0] + np.arange(n) / (1.0 / dt)
        u = self.unwrapped()
        p = np.stack([np.interp(t, self.times, u[:, 0]), np.interp(t, self.times, u[:, 1])],
                     axis=1)
        p = self.box.wrap(p)
        if not self.box.periodic:  # interpolation cannot leave a convex box; guard rounding
            half = self.box.size / 2
            p = np.clip(p, -half, half)
        return RecordedPath(t, p, self.box, self.source, self.max_speed)

    def at_dt(self, dt: float) -> RecordedPath:
        """This path if it is already uniformly sampled every ``dt`` s, else :meth:`resample`."""
        return self if self.uniform and abs(self.dt - dt) < 1e-9 else self.resample(dt)

    def windows(self, length: int, stride: int | None = None) -> Trajectories:
        """Consecutive windows of ``length`` steps as a batch of trajectories.

        Window ``b`` starts at sample ``b * stride`` (its start position) and holds the
        next ``length`` steps. The path must be uniformly sampled (:meth:`resample`).
        """
        if length < 1:
            raise DataError(f"window length must be positive, got {length}")
        if not self.uniform:
            raise DataError("the path is not uniformly sampled: resample(dt) it first")
        stride = length if stride is None else stride
        starts = np.arange(0, self.n - length, stride)
        if starts.size == 0:
            raise DataError(f"the path has {self.n} samples, fewer than one window of "
                            f"{length} steps + 1")
        return path_windows(jnp.asarray(self.positions, jnp.float32),
                            jnp.asarray(self.velocities(), jnp.float32), starts, length,
                            self.dt)

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> Path:
        """Write the canonical ``.npz`` (centred metres, box recorded), atomically."""
        from gridform.core.io import atomic_path

        path = Path(path)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, format=np.array(FORMAT), times=self.times,
                         positions=self.positions,
                         box=np.array([self.box.width, self.box.height]),
                         boundary=np.array(self.box.boundary), source=np.array(self.source))
        return path


def path_windows(positions: jax.Array, velocities: jax.Array, starts, length: int,
                 dt: float) -> Trajectories:
    """Windows of ``length`` steps of a sampled path, one per start index (jit-able).

    ``positions`` (n, 2) and ``velocities`` (n - 1, 2) are the path's samples and steps;
    window ``b`` starts at sample ``starts[b]`` and holds the next ``length`` steps. The
    heading before a window is that of its first step.
    """
    idx = jnp.asarray(starts)[:, None] + jnp.arange(length)[None, :]
    v = velocities[idx]
    hd = jnp.arctan2(v[..., 1], v[..., 0])
    return Trajectories(positions[jnp.asarray(starts)], hd[:, 0], v, positions[idx + 1], hd,
                        dt)


def _load_npz(path: Path, box: Box | None, origin: str, units: str, max_speed: float
              ) -> RecordedPath:
    import zipfile

    if path.is_file() and not zipfile.is_zipfile(path):  # numpy would offer to unpickle it
        raise DataError(f"{path} is not an .npz archive (not a zip file)")
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except ValueError as err:
        raise DataError(f"{path} is not a plain .npz of arrays ({err})") from None
    if "format" in data and str(data["format"]) == FORMAT:
        stored = Box(float(data["box"][0]), float(data["box"][1]), str(data["boundary"]))
        if box is not None and (abs(box.width - stored.width) > 1e-9 or
                                abs(box.height - stored.height) > 1e-9 or
                                box.boundary != stored.boundary):
            raise DataError(f"{path} was recorded in a {stored.width} x {stored.height} m "
                            f"{stored.boundary} box, not the {box.width} x {box.height} m "
                            f"{box.boundary} one asked for")
        return RecordedPath(data["times"], data["positions"], stored, str(data["source"]),
                            max_speed)
    if box is None:
        if "rates" in data:
            raise DataError(f"{path} holds ratemaps (it has {sorted(data)}), not a path")
        raise DataError(f"{path} is not a gridform trajectory file (it has {sorted(data)}), so "
                        "the box it was recorded in is unknown: convert it with gridform "
                        "import-trajectory --box WIDTH HEIGHT, which records the box")
    t = data.get("t", data.get("times"))
    if t is None:
        raise DataError(f"{path} has no 't' or 'times' array (it has {sorted(data)})")
    if "positions" in data:
        pos = data["positions"]
    elif "x" in data and "y" in data:
        pos = np.stack([data["x"], data["y"]], axis=-1)
    else:
        raise DataError(f"{path} has no 'positions' or 'x' and 'y' arrays "
                        f"(it has {sorted(data)})")
    return RecordedPath.from_arrays(t, pos, box, origin=origin, units=units,
                                    source=str(path), max_speed=max_speed)


def network_ratemaps(task, params, path: RecordedPath, bins: int | tuple[int, int] = 20,
                     batch: int = 512):
    """Ratemaps of a trained network's units along ``path``, and its decoding error (m).

    The path is resampled to the network's ``dt`` and cut into windows of its training
    length; each window starts from the place code of its true start position, as in
    training, and the hidden activity is binned by the true positions.
    Returns ``(Ratemaps, error_m)``.
    """
    from gridform.core.ratemaps import RatemapAccumulator

    c = task.config
    box = task.box
    if abs(path.box.width - box.width) > 1e-6 or abs(path.box.height - box.height) > 1e-6:
        raise DataError(f"the path was recorded in a {path.box.width} x {path.box.height} m "
                        f"box; the network was trained in a {box.width} x {box.height} m one")
    traj = path.at_dt(c.dt).windows(c.sequence_length)

    @jax.jit
    def run(v, start, pos):
        hs, logits = task.apply(params, *task.network_inputs(v, start))
        return hs, task.decoding_errors(logits, pos)

    acc = RatemapAccumulator(box, c.n_hidden, bins)
    total, count = 0.0, 0
    n = traj.n_batch
    for b0 in range(0, n, batch):
        sl = slice(b0, min(n, b0 + batch))
        v, start, pos = traj.velocities[sl], traj.start_positions[sl], traj.positions[sl]
        m = int(v.shape[0])
        if m < batch:  # pad to the one compiled shape; padded rows are dropped below
            hs, err = run(jnp.pad(v, ((0, batch - m), (0, 0), (0, 0))),
                          jnp.pad(start, ((0, batch - m), (0, 0))),
                          jnp.pad(pos, ((0, batch - m), (0, 0), (0, 0))))
        else:
            hs, err = run(v, start, pos)
        hs, err = np.asarray(hs[:m], dtype=np.float32), np.asarray(err[:m])
        acc.add(np.asarray(pos).reshape(-1, 2), hs.reshape(-1, c.n_hidden))
        total += float(err.sum())
        count += err.size
    return acc.result(), total / count
