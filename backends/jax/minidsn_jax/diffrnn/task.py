"""The two character tasks of DiffRNN, generated from a seed (written from notes/diffrnn.md "Tasks" and the
original generator, ThomasMiconi/DiffRNN 277c4a6 gentext.py; the original's files were generated unseeded).

Alphabet and codes: '(' 0, ')' 1, 'a' 2, 'b' 3.
- hard: s = "abbaab"; repeat: s = reverse(s) with one uniformly chosen position flipped; write "(" + s + ")";
  stop once more than 1,200,000 characters are written (six letters per group, as in the code and data).
- easy: 200,000 groups "(ab" + "ab" x G + ")", G = number of successes before the first failure of a coin with
  continue probability 0.6 (code and data; the G3 text says 0.75).

Lowest reachable loss per 40-character window: easy 40 (2.5 / 7) H(0.6), hard 40 ln 6 / 8 (the one unpredictable
letter of each 8-character group: which of the 6 positions flipped).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["ALPHABET", "hard_task", "easy_task", "make_task", "lowest_loss_per_window", "decode"]

ALPHABET = "()ab"
OPEN, CLOSE, A, B = 0, 1, 2, 3


def hard_task(rng: np.random.Generator, n_chars: int = 1_200_000, letters: int = 6) -> np.ndarray:
    """Codes of the hard task; one ``integers`` draw per group for the flipped position."""
    if letters != 6:
        start = np.resize(np.array([A, B, B, A, A, B]), letters)
    else:
        start = np.array([A, B, B, A, A, B])
    group = letters + 2
    n_groups = n_chars // group + 1  # the original stops once n > n_chars
    flips = rng.integers(0, letters, size=n_groups)
    out = np.empty((n_groups, group), dtype=np.int8)
    out[:, 0], out[:, -1] = OPEN, CLOSE
    s = start.copy()
    for g in range(n_groups):
        s = s[::-1].copy()
        s[flips[g]] = A + B - s[flips[g]]  # a <-> b
        out[g, 1:-1] = s
    return out.reshape(-1)


def easy_task(rng: np.random.Generator, n_groups: int = 200_000, p_continue: float = 0.6) -> np.ndarray:
    """Codes of the easy task: G ~ Geometric(1 - p_continue) - 1 extra "ab" per group."""
    extra = rng.geometric(1.0 - p_continue, size=n_groups) - 1
    lengths = 2 + 2 * (1 + extra)  # "(" + "ab" x (1 + G) + ")"
    out = np.empty(int(lengths.sum()), dtype=np.int8)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    out[:] = A
    idx = np.arange(out.size)
    pos = idx - np.repeat(starts, lengths)  # position inside the group
    out[pos % 2 == 0] = B  # after "(" the pattern is a, b, a, b, ...: odd positions a, even positions b
    out[starts] = OPEN
    out[starts + lengths - 1] = CLOSE
    return out


def make_task(name: str, data_seed: int, p_continue: float = 0.6, letters: int = 6) -> np.ndarray:
    rng = np.random.default_rng(data_seed)
    if name == "hard":
        return hard_task(rng, letters=letters)
    if name == "easy":
        return easy_task(rng, p_continue=p_continue)
    raise ValueError(f"unknown DiffRNN task {name!r}; 'easy' or 'hard'")


def lowest_loss_per_window(name: str, T: int = 40, p_continue: float = 0.6, letters: int = 6) -> float:
    if name == "hard":
        return T * math.log(letters) / (letters + 2)
    q = p_continue
    entropy = -(q * math.log(q) + (1 - q) * math.log(1 - q))
    mean_groups_len = 2 + 2 * (1 + q / (1 - q))  # characters per group
    return T * entropy * (1 + q / (1 - q)) / mean_groups_len  # one binary choice per "ab"


def decode(codes) -> str:
    return "".join(ALPHABET[int(c)] for c in codes)
