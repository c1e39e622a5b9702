"""JAX's persistent compilation cache, on by default for gridform's programs.

Compiling a training step takes longer than training a small network for hundreds of
steps (about 5 s of a 16 s run at 64 units on 2 CPU cores). With the cache on, a program
compiled once, by any process on this machine, is read back from disk the next time a
program of the same shapes and constants is built: by a later run, a sweep's other worker
processes, an evaluation, or tomorrow's work. Together with passing the place-cell
centres, widths and weights to the compiled programs as arguments (not as constants),
a sweep over seeds, ``sigma`` or ``surround_scale`` compiles each network shape once.

Where: ``$GRIDFORM_CACHE`` if set, else ``$XDG_CACHE_HOME/gridform/jax`` (default
``~/.cache/gridform/jax``). ``GRIDFORM_CACHE=off`` (or the CLI's ``--no-compile-cache``)
turns it off. The cache holds XLA executables only, keyed by JAX on the program, the
compiler options and the device, so a stale entry is never used; deleting the directory
is always safe.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

__all__ = ["CacheStats", "cache_dir", "disable", "enable", "stats"]

_OFF = {"off", "0", "false", "no", "none", ""}
_lock = threading.Lock()
_state: dict[str, object] = {"enabled": None, "disabled_by_user": False}


class CacheStats:
    """Counts of compilations that asked the persistent cache, and of those it answered."""

    def __init__(self) -> None:
        self.requests = 0
        self.hits = 0

    @property
    def misses(self) -> int:
        return self.requests - self.hits

    @property
    def hit_rate(self) -> float:
        return self.hits / self.requests if self.requests else float("nan")

    def as_dict(self) -> dict[str, float]:
        return {"requests": self.requests, "hits": self.hits, "hit_rate": self.hit_rate}


_stats = CacheStats()


def cache_dir() -> Path | None:
    """Where the cache lives, or None when ``GRIDFORM_CACHE`` turns it off."""
    env = os.environ.get("GRIDFORM_CACHE")
    if env is not None:
        return None if env.strip().lower() in _OFF else Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "gridform" / "jax"


def _listen(event: str, **_kwargs) -> None:
    if event == "/jax/compilation_cache/compile_requests_use_cache":
        _stats.requests += 1
    elif event == "/jax/compilation_cache/cache_hits":
        _stats.hits += 1


def enable(path: str | os.PathLike | None = None) -> Path | None:
    """Turn the persistent cache on (idempotent); return its directory, or None if off.

    Called by training, evaluation, pattern runs and sweep workers before they compile.
    Does nothing after :func:`disable`, or when the directory cannot be created (the
    programs are then compiled as usual).
    """
    with _lock:
        if _state["disabled_by_user"]:
            return None
        if _state["enabled"] is not None and path is None:
            return _state["enabled"]  # type: ignore[return-value]
        target = Path(path) if path is not None else cache_dir()
        if target is None:
            return None
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None
        import jax
        from jax import monitoring

        jax.config.update("jax_compilation_cache_dir", str(target))
        # gridform's programs compile in 0.1-5 s; cache all but the trivial ones
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.1)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
        if _state["enabled"] is None:
            monitoring.register_event_listener(_listen)
        _state["enabled"] = target
        return target


def disable() -> None:
    """Keep the cache off in this process and the processes it starts, such as a sweep's
    workers (``--no-compile-cache``)."""
    with _lock:
        _state["disabled_by_user"] = True
        os.environ["GRIDFORM_CACHE"] = "off"
        if _state["enabled"] is not None:
            import jax

            jax.config.update("jax_compilation_cache_dir", None)
            _state["enabled"] = None


def stats() -> CacheStats:
    """This process's compile requests and persistent-cache hits since it started."""
    return _stats
