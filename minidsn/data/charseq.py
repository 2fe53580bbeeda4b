"""The two character-sequence tasks of DiffRNN (Miconi 2016), generated from a seed.

Source: seed 001_678d4d4066cd8cbb.txt section 3.1 ("Tasks") and ../shared/notes/diffrnn.md section "Tasks"
(facts of the original generator script: the texts below are what it writes; its draws were unseeded, so only the
distribution, not the exact characters, can be reproduced).

Alphabet: ``VOCAB = "()ab"``; the model sees the index of each character in VOCAB.

easy  -- 200,000 groups. Each group is "(ab", then one more "ab" while a uniform draw is < p_continue (0.6 in the
         code and data; the G3 paper text says 0.75), then ")". The number of "ab" per group is 1 + G with G geometric
         on {0, 1, ...}: P(G = g) = p^g (1 - p), mean 1 + p / (1 - p) = 2.5 for p = 0.6.
hard  -- start from s = "abbaab"; repeatedly reverse s, flip ONE uniformly chosen position (a <-> b), write
         "(" + s + ")", until more than 1,200,000 characters are written. Groups have SIX letters in the code and
         data (the paper's text says five); ``group_letters`` makes this a config option.

Both are vectorised (no Python loop per character) and use only the explicit numpy.random.Generator passed in.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "VOCAB",
    "EASY_CONTINUE_CODE",
    "HARD_START",
    "encode",
    "decode",
    "easy_ab_counts",
    "easy_text",
    "hard_groups",
    "hard_text",
    "task_text",
    "lowest_loss_per_window",
]

VOCAB = "()ab"
OPEN, CLOSE, A, B = 0, 1, 2, 3
EASY_CONTINUE_CODE = 0.6  # code and data (note, "Text versus code" 2); G3 paper text says 0.75
HARD_START = "abbaab"  # initial s of the hard generator (never written itself)
EASY_GROUPS = 200_000  # groups written by the original generator
HARD_MIN_CHARS = 1_200_000  # the hard generator stops once MORE than this many characters are written

_LUT = np.full(256, -1, dtype=np.int64)
for _i, _c in enumerate(VOCAB):
    _LUT[ord(_c)] = _i


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")


def encode(text: str) -> np.ndarray:
    """Characters of ``text`` -> int64 indices into VOCAB ("()ab"). Any other character is an error."""
    raw = np.frombuffer(text.encode("latin-1"), dtype=np.uint8)
    idx = _LUT[raw]
    if (idx < 0).any():
        bad = sorted({text[i] for i in np.flatnonzero(idx < 0)[:20]})
        raise ValueError(f"encode: characters {bad!r} are not in the alphabet {VOCAB!r}")
    return idx


def decode(idx) -> str:
    """int indices into VOCAB -> string."""
    idx = np.asarray(idx)
    if idx.size and (idx.min() < 0 or idx.max() >= len(VOCAB)):
        raise ValueError(f"decode: indices must be in [0, {len(VOCAB)}), got range [{idx.min()}, {idx.max()}]")
    return "".join(VOCAB[i] for i in idx.tolist())


def easy_ab_counts(rng: np.random.Generator, n_groups: int = EASY_GROUPS, p_continue: float = EASY_CONTINUE_CODE):
    """Number of "ab" digraphs in each easy group: 1 + G, G ~ Geometric on {0,1,..}, P(G=g) = p^g (1-p).

    "while random() < p: write 'ab'" stops at the first draw >= p, so G counts successes before the first failure;
    numpy's geometric(q) counts trials up to and including the first success of probability q = 1 - p.
    """
    _check_rng(rng)
    if not (isinstance(n_groups, (int, np.integer)) and n_groups > 0):
        raise ValueError(f"n_groups must be a positive int, got {n_groups!r}")
    if not (0.0 <= p_continue < 1.0):
        raise ValueError(f"p_continue must be in [0, 1), got {p_continue!r}")
    return rng.geometric(1.0 - p_continue, size=int(n_groups)).astype(np.int64)  # = 1 + G


def easy_text(rng: np.random.Generator, n_groups: int = EASY_GROUPS, p_continue: float = EASY_CONTINUE_CODE):
    """The easy task as int64 indices: groups "(" + "ab" * count + ")" with counts from ``easy_ab_counts``."""
    counts = easy_ab_counts(rng, n_groups, p_continue)
    lengths = 2 + 2 * counts
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    total = int(lengths.sum())
    out = np.empty(total, dtype=np.int64)
    # positions inside a group alternate a, b after the "("; then overwrite "(" and ")"
    group_of = np.repeat(np.arange(counts.size), lengths)
    offset = np.arange(total) - starts[group_of]
    out[:] = np.where(offset % 2 == 1, A, B)
    out[starts] = OPEN
    out[starts + lengths - 1] = CLOSE
    return out


def hard_groups(rng: np.random.Generator, n_groups: int, group_letters: int = 6, start: str | None = None):
    """Letters of the hard task's groups, shape (n_groups, group_letters), 0 = 'a', 1 = 'b'; also the flip positions.

    s_k = flip(reverse(s_{k-1}), pos_k), pos_k uniform on {0..L-1}, s_0 = start (not written).
    Vectorised through the frame that undoes the reversals: u_k = s_k for even k, reverse(s_k) for odd k. Then
    u_k = u_{k-1} with one flip at position pos_k (k even) or L-1-pos_k (k odd), so u_k = s_0 XOR (cumulative
    count of flips per position mod 2).
    Returns (groups, positions) with positions the pos_k in the frame of s_k.
    """
    _check_rng(rng)
    if not (isinstance(group_letters, (int, np.integer)) and group_letters >= 1):
        raise ValueError(f"group_letters must be an int >= 1, got {group_letters!r}")
    if start is None:
        start = HARD_START if group_letters == 6 else ("ab" * group_letters)[:group_letters]
    if len(start) != group_letters or set(start) - {"a", "b"}:
        raise ValueError(f"start must be {group_letters} letters from 'ab', got {start!r}")
    n = int(n_groups)
    if n <= 0:
        raise ValueError(f"n_groups must be > 0, got {n_groups!r}")
    L = int(group_letters)
    pos = rng.integers(0, L, size=n)
    k = np.arange(1, n + 1)
    frame_pos = np.where(k % 2 == 0, pos, L - 1 - pos)
    flips = np.zeros((n, L), dtype=np.int64)
    flips[np.arange(n), frame_pos] = 1
    s0 = np.array([0 if c == "a" else 1 for c in start], dtype=np.int64)
    u = (s0[None, :] + np.cumsum(flips, axis=0)) % 2
    groups = np.where((k % 2 == 1)[:, None], u[:, ::-1], u)
    return groups, pos


def hard_text(
    rng: np.random.Generator,
    min_chars: int = HARD_MIN_CHARS,
    group_letters: int = 6,
    start: str | None = None,
):
    """The hard task as int64 indices: "(" + s_k + ")" for k = 1, 2, ... until more than ``min_chars`` are written."""
    L = int(group_letters)
    n_groups = int(min_chars) // (L + 2) + 1  # the first n with n (L+2) > min_chars
    groups, _ = hard_groups(rng, n_groups, L, start)
    out = np.empty((n_groups, L + 2), dtype=np.int64)
    out[:, 0] = OPEN
    out[:, -1] = CLOSE
    out[:, 1:-1] = A + groups  # 'a' = 2, 'b' = 3
    return out.reshape(-1)


def task_text(task: str, rng: np.random.Generator, *, p_continue: float = EASY_CONTINUE_CODE, group_letters: int = 6):
    """``"easy"`` or ``"hard"`` at the original lengths."""
    if task == "easy":
        return easy_text(rng, EASY_GROUPS, p_continue)
    if task == "hard":
        return hard_text(rng, HARD_MIN_CHARS, group_letters)
    raise ValueError(f"task must be 'easy' or 'hard', got {task!r}")


def lowest_loss_per_window(task: str, seq_length: int = 40, p_continue: float = EASY_CONTINUE_CODE,
                           group_letters: int = 6) -> float:
    """Lowest reachable expected cross-entropy (nats) per window of ``seq_length`` predictions (note, "Tasks").

    easy: the only uncertain prediction is after each "b" (p or 1-p); the mean group has 2 + 2 mean_ab characters
    and mean_ab such choices, so the entropy rate is mean_ab H(p) / (2 + 2 mean_ab), mean_ab = 1/(1-p).
    hard: one of the L letters of each group is a uniform flip among L positions: ln L nats per L + 2 characters.
    """
    if task == "easy":
        p = p_continue
        mean_ab = 1.0 / (1.0 - p)
        h = -(p * np.log(p) + (1 - p) * np.log(1 - p))
        return float(seq_length * mean_ab * h / (2 + 2 * mean_ab))
    if task == "hard":
        return float(seq_length * np.log(group_letters) / (group_letters + 2))
    raise ValueError(f"task must be 'easy' or 'hard', got {task!r}")
