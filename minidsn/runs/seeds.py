"""Seed lists from the command line: ``--seeds 0-19``, ``--seeds 0,3,7``, ``--seeds 0-4,10-12``."""

from __future__ import annotations

from minidsn.models.api import ConfigError

__all__ = ["parse_seeds", "MAX_SEEDS"]

MAX_SEEDS = 100_000  # a typo like 0-1000000000 should be an error, not a sweep that fills the disk


def parse_seeds(text: str) -> list[int]:
    """Comma-separated seeds and inclusive ranges A-B, in the order given; duplicates and negative seeds are errors."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("--seeds: give seeds like 0-19 or 0,3,7 (got nothing)")
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        lo, sep, hi = part.partition("-")
        try:
            a, b = (int(lo), int(hi)) if sep else (int(part), int(part))
        except ValueError:
            raise ConfigError(f"--seeds: {part!r} is not a seed or a range A-B of non-negative integers") from None
        if a > b:
            raise ConfigError(f"--seeds: range {part!r} runs backwards (write {b}-{a})")
        if b - a + 1 > MAX_SEEDS:
            raise ConfigError(f"--seeds: range {part!r} has {b - a + 1} seeds (at most {MAX_SEEDS})")
        seeds.extend(range(a, b + 1))
    if any(s < 0 for s in seeds):
        raise ConfigError(f"--seeds: seeds must be >= 0 (got {min(seeds)})")
    dup = sorted({s for s in seeds if seeds.count(s) > 1}) if len(set(seeds)) != len(seeds) else []
    if dup:
        raise ConfigError(f"--seeds: seed {dup[0]} is listed twice")
    if len(seeds) > MAX_SEEDS:
        raise ConfigError(f"--seeds: {len(seeds)} seeds (at most {MAX_SEEDS})")
    return seeds
