"""The peer benchmark's nine rules as one hand-written numba kernel: a measure of what a compiled, row-wise
backend could reach (issue 13's "another backend"), beside OpenFisca, numpy and DuckDB in ``bench/peer.py``.

Unlike the numpy floor it computes what huiqi computes: every rule's status as well as its amount, with
three-valued logic (each input has a validity mask; a condition is false when a known part is false, unknown
when a part it needs is missing), in exact int64 fen with the same floor rounding. One pass over the rows,
every rule per row, split over the cores (``prange``). Written by hand for these nine rules: huiqi does not
generate it. The first call compiles it (timed apart by ``bench/peer.py``); numba is a benchmark-only
dependency (``pip install -e '.[bench]'``).

Statuses use huiqi's codes: 0 eligible, 2 needs information, 4 not eligible; the amount is -1 where none.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

# numba runs ``prange`` on OpenMP here, whose threads spin on the cores after each parallel loop by default:
# the engines timed after this kernel in a round then lost a core to them (this kernel's own median went
# 0.126 → 0.039 s and huiqi's kernel 0.149 → 0.089 s with waiting threads asleep). Set before OpenMP starts.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

#: the inputs in the kernel's argument order (values, then validity, per column)
INPUTS = ["is_new_industrial_software_firm", "paid_in_capital", "ss_staff", "registered_capital", "is_new_software_firm",
          "revenue", "max_prior_revenue", "prior_award_sz3", "park_level", "park_sw_revenue_increment", "csmm_level",
          "dcmm_level", "oss_platform_investment", "is_talent", "months_in_region", "talent_iit", "talent_year",
          "talent_local_share", "years_since_settling", "cum_revenue_3y_since_settling"]  # fmt: skip

ELIGIBLE, INFO, NOT_ELIGIBLE = 0, 2, 4
_kernel: Any = None


def available() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def _compile() -> Any:
    import numba

    @numba.njit(parallel=True, cache=False)
    def kernel(
        isf: Any, isf_k: Any, pic: Any, pic_k: Any, staff: Any, staff_k: Any, regc: Any, regc_k: Any, nsf: Any,
        nsf_k: Any, rev: Any, rev_k: Any, mpr: Any, mpr_k: Any, pa: Any, pa_k: Any, pl: Any, pl_k: Any, inc: Any,
        inc_k: Any, csmm: Any, csmm_k: Any, dcmm: Any, dcmm_k: Any, oss: Any, oss_k: Any, tal: Any, tal_k: Any,
        mir: Any, mir_k: Any, iit: Any, iit_k: Any, ty: Any, ty_k: Any, tls: Any, tls_k: Any, yss: Any, yss_k: Any,
        cum: Any, cum_k: Any, status: Any, amount: Any,
    ) -> None:  # fmt: skip
        wan = 1_000_000
        yi = 10_000 * wan
        for i in numba.prange(isf.shape[0]):
            for j in range(9):
                amount[i, j] = -1
            # sz1: new industrial software firm, paid-in ≥ 1000万, ≥ 50 staff: 5% of registered capital, ≤ 100万
            false = (isf_k[i] and not isf[i]) or (pic_k[i] and pic[i] < 1000 * wan) or (staff_k[i] and staff[i] < 50)
            if false:
                status[i, 0] = NOT_ELIGIBLE
            elif not (isf_k[i] and pic_k[i] and staff_k[i] and regc_k[i]):
                status[i, 0] = INFO
            else:
                b = regc[i]
                v = min(b // 20, 100 * wan)  # floor(b × 5%): numba's // floors, as Python's
                amount[i, 0] = v
                status[i, 0] = ELIGIBLE if v > 0 else NOT_ELIGIBLE
            # sz2: new software firm, the highest tier reached: (≥ 50 staff, ≥ 5000万) 100万, (≥ 20, ≥ 2000万) 50万
            high_no = (staff_k[i] and staff[i] < 50) or (rev_k[i] and rev[i] < 5000 * wan)
            high = staff_k[i] and rev_k[i] and not high_no
            low_no = (staff_k[i] and staff[i] < 20) or (rev_k[i] and rev[i] < 2000 * wan)
            low = staff_k[i] and rev_k[i] and not low_no
            if nsf_k[i] and not nsf[i]:
                status[i, 1] = NOT_ELIGIBLE
            elif not nsf_k[i]:
                status[i, 1] = INFO
            elif high or low:
                amount[i, 1] = 100 * wan if high else 50 * wan
                status[i, 1] = ELIGIBLE
            else:
                status[i, 1] = INFO if not (high_no and low_no) else NOT_ELIGIBLE
            # sz3 and gz5: revenue first reaching a tier (the largest earlier revenue below it); sz3 tops up
            for j, top_up in ((2, True), (4, False)):
                best, pending = -1, False
                for t in range(4 if j == 4 else 3):
                    threshold = (1, 5, 10, 20)[t] * yi
                    pay = ((70, 100, 200, 300) if j == 4 else (200, 300, 500, 0))[t] * wan
                    if not (rev_k[i] and mpr_k[i]):
                        if not ((rev_k[i] and rev[i] < threshold) or (mpr_k[i] and mpr[i] >= threshold)):
                            pending = True
                    elif rev[i] >= threshold and mpr[i] < threshold:
                        if top_up and not pa_k[i]:
                            pending = True
                        else:
                            best = max(best, pay - pa[i] if top_up else pay)
                if best >= 0:
                    amount[i, j] = best
                    status[i, j] = ELIGIBLE if best > 0 else NOT_ELIGIBLE
                else:
                    status[i, j] = INFO if pending else NOT_ELIGIBLE
            # sz5: park level 1: 2‰ of the increment, ≤ 100万; level 2: 1‰, ≤ 300万
            if not pl_k[i]:
                status[i, 3] = INFO
            elif pl[i] != 1 and pl[i] != 2:
                status[i, 3] = NOT_ELIGIBLE
            elif not inc_k[i]:
                status[i, 3] = INFO
            else:
                b = max(inc[i], 0)
                v = min(b // 500, 100 * wan) if pl[i] == 1 else min(b // 1000, 300 * wan)
                amount[i, 3] = v
                status[i, 3] = ELIGIBLE if v > 0 else NOT_ELIGIBLE
            # gz6: CSMM ≥ 4 or DCMM ≥ 3: 50万
            amount[i, 5] = 50 * wan
            if (csmm_k[i] and csmm[i] >= 4) or (dcmm_k[i] and dcmm[i] >= 3):
                status[i, 5] = ELIGIBLE
            else:
                status[i, 5] = NOT_ELIGIBLE if csmm_k[i] and dcmm_k[i] else INFO
            # gz3: 30% of the open-source platform investment, ≤ 1000万
            if not oss_k[i]:
                status[i, 6] = INFO
            else:
                b = oss[i]  # floor(b × 3/10) without overflow: // and % floor, as in Python
                v = min((b // 10) * 3 + ((b % 10) * 3) // 10, 1000 * wan)
                amount[i, 6] = v
                status[i, 6] = ELIGIBLE if v > 0 else NOT_ELIGIBLE
            # xj8: talent > 12 months in the region, tax ≥ 3万: 90% of the local share in years 1–5, 60% in 6–10
            false = (tal_k[i] and not tal[i]) or (mir_k[i] and mir[i] <= 12) or (iit_k[i] and iit[i] < 3 * wan)
            if false:
                status[i, 7] = NOT_ELIGIBLE
            elif not (tal_k[i] and mir_k[i] and iit_k[i] and ty_k[i] and tls_k[i]):
                status[i, 7] = INFO
            else:
                b = tls[i]
                if 1 <= ty[i] <= 5:
                    v = (b // 10) * 9 + ((b % 10) * 9) // 10
                elif 6 <= ty[i] <= 10:
                    v = (b // 5) * 3 + ((b % 5) * 3) // 5
                else:
                    v = 0
                amount[i, 7] = v
                status[i, 7] = ELIGIBLE if v > 0 else NOT_ELIGIBLE
            # sz1b: settled ≤ 3 years, cumulative revenue ≥ 2亿: 200万
            amount[i, 8] = 200 * wan
            if (yss_k[i] and yss[i] > 3) or (cum_k[i] and cum[i] < 2 * yi):
                status[i, 8] = NOT_ELIGIBLE
            else:
                status[i, 8] = ELIGIBLE if yss_k[i] and cum_k[i] else INFO

    return kernel


def evaluate(columns: dict[str, np.ndarray], valid: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(status int8 [n, 9], amount int64 [n, 9]) of the nine rules in ``peer.RULES`` order."""
    global _kernel
    if _kernel is None:
        _kernel = _compile()
    n = len(columns["revenue"])
    status = np.empty((n, 9), dtype=np.int8)
    amount = np.empty((n, 9), dtype=np.int64)
    _kernel(*(a for name in INPUTS for a in (columns[name], valid[name])), status, amount)
    return status, amount
