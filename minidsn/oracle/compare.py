"""Compare two oracle cases key by key: max absolute and relative error, pass/fail.

A key passes when shapes agree and every element satisfies |other - ref| <= atol + rtol * |ref| (numpy.isclose's
rule, NaN equal to NaN at the same place).  A key of REF missing from OTHER fails; keys only in OTHER are listed and
do not fail.  max_rel is max |other - ref| / |ref| over the elements with ref != 0 (0 when there are none).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from minidsn.oracle.format import OracleFormatError, is_trajectory, read_case

__all__ = ["KeyResult", "CompareReport", "compare_arrays", "compare_files", "DEFAULT_RTOL", "DEFAULT_ATOL"]

DEFAULT_RTOL = 1e-7
DEFAULT_ATOL = 1e-12


@dataclass
class KeyResult:
    key: str
    ok: bool
    max_abs: float = float("nan")
    max_rel: float = float("nan")
    note: str = ""


class RowsVerdict:
    """``ok`` and ``failures`` of anything holding ``rows`` (a list of KeyResult)."""

    rows: list[KeyResult]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def failures(self) -> list[KeyResult]:
        return [r for r in self.rows if not r.ok]


@dataclass
class CompareReport(RowsVerdict):
    rows: list[KeyResult]
    extra: list[str] = field(default_factory=list)
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL

    def format(self) -> str:
        w = max([len(r.key) for r in self.rows] + [3])
        lines = [f"{'key':<{w}}  {'max_abs':>10}  {'max_rel':>10}  result"]
        for r in self.rows:
            res = "ok" if r.ok else "FAIL"
            if r.note:
                res += f" ({r.note})"
            lines.append(f"{r.key:<{w}}  {r.max_abs:10.3e}  {r.max_rel:10.3e}  {res}")
        for k in self.extra:
            lines.append(f"{k:<{w}}  {'':>10}  {'':>10}  only in OTHER (ignored)")
        n_fail = len(self.failures)
        lines.append(f"{len(self.rows) - n_fail}/{len(self.rows)} keys pass (rtol={self.rtol:g}, atol={self.atol:g})"
                     + ("" if n_fail == 0 else f"; {n_fail} FAIL"))
        return "\n".join(lines)


def _compare_one(key, a, b, rtol, atol) -> KeyResult:
    if b is None:
        return KeyResult(key, False, note="missing in OTHER")
    if a.shape != b.shape:
        return KeyResult(key, False, note=f"shape {b.shape} != {a.shape}")
    if a.size == 0:
        return KeyResult(key, True, 0.0, 0.0)
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    if np.any(nan_a != nan_b):
        return KeyResult(key, False, note="NaN in one file only")
    both = ~nan_a
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(b - a)
        diff = np.where(both & (a == b), 0.0, diff)  # equal infinities differ by 0, not nan
    d = diff[both]
    max_abs = float(d.max()) if d.size else 0.0
    nz = both & (a != 0)
    max_rel = float((diff[nz] / np.abs(a[nz])).max()) if np.any(nz) else 0.0
    ok = bool(np.all(np.isclose(b, a, rtol=rtol, atol=atol, equal_nan=True)))
    return KeyResult(key, ok, max_abs, max_rel)


def compare_arrays(ref: dict, other: dict, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL) -> CompareReport:
    if rtol < 0 or atol < 0:
        raise ValueError(f"rtol and atol must be >= 0, got rtol={rtol}, atol={atol}")
    rows = [_compare_one(k, np.asarray(ref[k]), None if k not in other else np.asarray(other[k]), rtol, atol)
            for k in sorted(ref)]
    extra = sorted(set(other) - set(ref))
    return CompareReport(rows, extra, rtol, atol)


def check_reference_complete(ref: dict, meta: dict, where) -> None:
    """A reference that holds no arrays, or fewer than its own meta lists (meta["shapes"]), cannot pass a
    comparison vacuously: OracleFormatError naming what is missing."""
    if not ref:
        raise OracleFormatError(f"reference {where} holds no arrays: nothing to compare against "
                                f"(re-export it with `minidsn oracle export`)")
    listed = meta.get("shapes") if isinstance(meta, dict) else None
    if isinstance(listed, dict):
        missing = sorted(set(listed) - set(ref))
        if missing:
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            raise OracleFormatError(f"reference {where} lists {len(listed)} keys in its meta but holds "
                                    f"{len(ref)}; missing {', '.join(missing[:5])}{more} (truncated or edited file)")


def compare_files(ref_path, other_path, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL) -> CompareReport:
    ref, ref_meta = read_case(ref_path)
    check_reference_complete(ref, ref_meta, ref_path)
    other, other_meta = read_case(other_path)
    report = compare_arrays(ref, other, rtol, atol)
    if is_trajectory(ref_meta):  # version 2: the event kinds live in meta, compare them too
        report.rows.extend(event_kind_rows(ref_meta, other_meta))
    return report


def event_kind_rows(ref_meta: dict, other_meta: dict) -> list[KeyResult]:
    """One row per step of a trajectory case: the kinds of its events, in order, must agree."""
    other_steps = other_meta.get("steps") if isinstance(other_meta.get("steps"), list) else []
    rows = []
    for k, st in enumerate(ref_meta["steps"]):
        a = [e["kind"] for e in st["events"]]
        b = [e.get("kind") for e in other_steps[k].get("events", [])] if k < len(other_steps) else None
        ok = a == b
        rows.append(KeyResult(f"steps/{k}/events (kinds, meta)", ok, 0.0 if ok else float("nan"),
                              0.0 if ok else float("nan"), "" if ok else f"{b} != {a}"))
    return rows
