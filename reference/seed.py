"""Seeding and RNG isolation as Lightning does them: torch, Python's random, numpy if installed."""

import os
import random
from contextlib import contextmanager

import torch

try:
    import numpy as np
except ImportError:  # numpy is optional, as in Lightning
    np = None

__all__ = ["isolate_rng", "seed_everything"]

_MIN_SEED, _MAX_SEED = 0, 2**32 - 1  # numpy accepts only uint32 seeds


def seed_everything(seed=None, workers=False, verbose=True):
    """Seed torch, Python's ``random`` and numpy; return the seed used.

    ``seed=None`` reads ``PL_GLOBAL_SEED`` from the environment and falls back to 0, like Lightning
    2.2+.
    """
    if seed is None:
        env_seed = os.environ.get("PL_GLOBAL_SEED")
        seed = 0 if env_seed is None else _parse_env_seed(env_seed)
    elif not isinstance(seed, int):
        seed = int(seed)
    if not _MIN_SEED <= seed <= _MAX_SEED:
        raise ValueError(f"{seed} is not in bounds, numpy accepts from {_MIN_SEED} to {_MAX_SEED}")
    os.environ["PL_GLOBAL_SEED"] = str(seed)
    random.seed(seed)
    if np is not None:
        np.random.seed(seed)
    torch.manual_seed(seed)
    # Note: Lightning also adds a worker_init_fn to DataLoaders when workers=True; the reference
    # only records the request in the environment (see KNOWN_GAPS.txt).
    os.environ["PL_SEED_WORKERS"] = f"{int(workers)}"
    return seed


def _parse_env_seed(env_seed):
    try:
        return int(env_seed)
    except ValueError:
        raise ValueError(f"Invalid seed specified via PL_GLOBAL_SEED: {env_seed!r}") from None


@contextmanager
def isolate_rng():
    """Restore the global random states on exit (around the sanity check, as in Lightning)."""
    states = {"torch": torch.get_rng_state(), "python": random.getstate()}
    if np is not None:
        states["numpy"] = np.random.get_state()
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    yield
    # Note: like Lightning, the states are not restored when the body raises.
    torch.set_rng_state(states["torch"])
    random.setstate(states["python"])
    if "numpy" in states:
        np.random.set_state(states["numpy"])
    if "cuda" in states:
        torch.cuda.set_rng_state_all(states["cuda"])
