"""Tests of the DiffRNN task generators (minidsn.data.charseq): structure, statistics, seeding."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minidsn.data import charseq


def test_encode_decode_roundtrip_and_bad_chars():
    s = "(abab)(ab)"
    idx = charseq.encode(s)
    assert idx.dtype == np.int64
    assert charseq.decode(idx) == s
    with pytest.raises(ValueError, match="alphabet"):
        charseq.encode("(abc)")
    with pytest.raises(ValueError, match="indices"):
        charseq.decode([0, 4])


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 300), p=st.floats(0.0, 0.9))
@settings(max_examples=30)
def test_easy_structure(seed, n, p):
    rng = np.random.default_rng(seed)
    text = charseq.decode(charseq.easy_text(rng, n, p))
    groups = re.findall(r"\((?:ab)+\)", text)
    assert "".join(groups) == text
    assert len(groups) == n


def test_easy_statistics_full_length():
    rng = np.random.default_rng(0)
    counts = charseq.easy_ab_counts(np.random.default_rng(0), charseq.EASY_GROUPS)
    text = charseq.easy_text(rng)
    assert text.size == int((2 + 2 * counts).sum())  # same draws from the same seed
    # mean number of "ab" per group: 1 / (1 - 0.6) = 2.5; sd of the mean ~ sqrt(0.6)/0.4/sqrt(2e5) = 0.0043
    assert abs(counts.mean() - 2.5) < 0.03
    # P(count = 1) = 0.4, P(count = 2) = 0.24 (geometric)
    assert abs(np.mean(counts == 1) - 0.4) < 0.005
    assert abs(np.mean(counts == 2) - 0.24) < 0.005
    # 200,000 groups of 2 + 2 * 2.5 characters on average: about 1.4M characters
    assert abs(text.size - 1.4e6) < 5e3
    # continue decisions: after a 'b', next is 'a' with probability 0.6
    after_b = text[1:][text[:-1] == charseq.B]
    assert abs(np.mean(after_b == charseq.A) - 0.6) < 0.005


def test_easy_seeded():
    a = charseq.easy_text(np.random.default_rng(5), 1000)
    b = charseq.easy_text(np.random.default_rng(5), 1000)
    c = charseq.easy_text(np.random.default_rng(6), 1000)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def _groups_of(text_idx, L):
    text = charseq.decode(text_idx)
    groups = re.findall(r"\(([ab]+)\)", text)
    assert "".join("(" + g + ")" for g in groups) == text
    assert all(len(g) == L for g in groups)
    return groups


@given(seed=st.integers(0, 2**32 - 1), L=st.integers(1, 8), n_chars=st.integers(1, 400))
@settings(max_examples=40)
def test_hard_reverse_with_exactly_one_flip(seed, L, n_chars):
    """Every group is the reverse of the previous one with exactly one letter changed (the first: of the start)."""
    rng = np.random.default_rng(seed)
    groups = _groups_of(charseq.hard_text(rng, n_chars, L), L)
    start = charseq.HARD_START if L == 6 else ("ab" * L)[:L]
    prev = start
    for g in groups:
        rev = prev[::-1]
        assert sum(x != y for x, y in zip(rev, g)) == 1
        prev = g
    # stops at the first group that makes the count exceed n_chars
    assert len(groups) * (L + 2) > n_chars >= (len(groups) - 1) * (L + 2)


def test_hard_full_length_statistics():
    rng = np.random.default_rng(1)
    text = charseq.hard_text(rng)
    groups, pos = charseq.hard_groups(np.random.default_rng(1), text.size // 8)
    assert text.size == 1_200_008  # 150,001 groups of 8 characters, as the original stopping rule gives
    letters = text.reshape(-1, 8)[:, 1:-1] - charseq.A
    assert np.array_equal(letters, groups)
    # property on the whole text, vectorised: exactly one difference to the reversed previous group
    prev = np.vstack([[0, 1, 1, 0, 0, 1], letters[:-1]])  # "abbaab"
    diffs = (prev[:, ::-1] != letters).sum(axis=1)
    assert np.all(diffs == 1)
    # the flipped position is uniform over the 6 positions
    flipped_at = np.argmax(prev[:, ::-1] != letters, axis=1)
    assert np.array_equal(flipped_at, pos)
    freq = np.bincount(flipped_at, minlength=6) / flipped_at.size
    assert np.all(np.abs(freq - 1 / 6) < 0.005)
    # letters balanced
    assert abs(letters.mean() - 0.5) < 0.01


def test_bad_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="p_continue"):
        charseq.easy_text(rng, 10, 1.0)
    with pytest.raises(ValueError, match="n_groups"):
        charseq.easy_text(rng, 0)
    with pytest.raises(ValueError, match="start"):
        charseq.hard_groups(rng, 3, 6, "abc")
    with pytest.raises(TypeError, match="Generator"):
        charseq.easy_text(np.random.RandomState(0), 10)
    with pytest.raises(ValueError, match="task"):
        charseq.task_text("medium", rng)


def test_lowest_loss_figures_of_the_note():
    assert charseq.lowest_loss_per_window("easy") == pytest.approx(9.61, abs=0.005)
    assert charseq.lowest_loss_per_window("hard") == pytest.approx(8.96, abs=0.005)
