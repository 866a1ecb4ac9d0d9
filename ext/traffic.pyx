# Discrete sampling for the trace generators: Walker/Vose alias tables, O(1) per draw.
# NOTE: numpy's searchsorted over a 10^5-10^6 entry CDF costs ~200 ns a draw (cache misses of a
# binary search); an alias draw is one random access, which is what lets generation reach 5M rows/s.
from libc.stdint cimport int8_t, int64_t
from netsim_types cimport real_t


def alias_build(const real_t[::1] weights, real_t[::1] prob, int64_t[::1] alias, int64_t[::1] work):
    """Fill prob/alias (length n) for weights (n >= 1, sum > 0); work is scratch of length n."""
    cdef Py_ssize_t n = weights.shape[0], i
    cdef Py_ssize_t ns = 0, nl = 0  # small stack grows up from 0, large stack grows down from n-1
    cdef int64_t s, l
    cdef real_t total = 0.0
    with nogil:
        for i in range(n):
            total += weights[i]
        for i in range(n):
            prob[i] = weights[i] * n / total
            alias[i] = i
            if prob[i] < 1.0:
                work[ns] = i
                ns += 1
            else:
                work[n - 1 - nl] = i
                nl += 1
        while ns > 0 and nl > 0:
            ns -= 1
            s = work[ns]
            l = work[n - nl]
            alias[s] = l
            prob[l] = prob[l] + prob[s] - 1.0
            if prob[l] < 1.0:
                nl -= 1
                work[ns] = l
                ns += 1
        # NOTE: what is left on either stack is 1 up to rounding
        for i in range(ns):
            prob[work[i]] = 1.0
        for i in range(nl):
            prob[work[n - 1 - i]] = 1.0


def alias_draw(const real_t[::1] prob, const int64_t[::1] alias, const real_t[::1] u, int64_t[::1] out):
    """out[i] = index drawn from the alias table with the uniform u[i] in [0, 1)."""
    cdef Py_ssize_t n = prob.shape[0], m = u.shape[0], i
    cdef int64_t j
    cdef real_t x
    with nogil:
        for i in range(m):
            x = u[i] * n
            j = <int64_t>x
            if j >= n:
                j = n - 1
            out[i] = j if (x - j) < prob[j] else alias[j]


def poisson_rows(const int64_t[::1] counts, const real_t[::1] starts, const real_t[::1] lens,
                 const real_t[::1] expo, const real_t[::1] u, const real_t[:, ::1] share,
                 real_t[::1] ts, int8_t[::1] label):
    """Sorted arrival times and stream labels of a superposed Poisson process, minute by minute.

    Minute m has counts[m] arrivals on [starts[m], starts[m] + lens[m]): their times are the
    normalised partial sums of counts[m] + 1 exponential spacings taken in order from expo (sorted
    uniforms without a sort), and each arrival's stream is the first s with u < share[m, s]
    (share: cumulative stream shares of minute m, last column 1).
    """
    cdef Py_ssize_t n_min = counts.shape[0], n_s = share.shape[1]
    cdef Py_ssize_t m, i, k, row = 0, e = 0
    cdef int64_t c
    cdef real_t total, acc, step
    cdef int s
    with nogil:
        for m in range(n_min):
            c = counts[m]
            total = 0.0
            for k in range(c + 1):
                total += expo[e + k]
            step = lens[m] / total
            acc = 0.0
            for k in range(c):
                acc += expo[e + k]
                ts[row] = starts[m] + acc * step
                s = 0
                while s < n_s - 1 and u[row] >= share[m, s]:
                    s += 1
                label[row] = s
                row += 1
            e += c + 1
