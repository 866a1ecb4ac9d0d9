# Max-min fair congestion by progressive filling over demands with fractional (ECMP) link use.
from libc.stdlib cimport malloc, free
from netsim_types cimport idx_t, real_t


cdef int _fill(const real_t[::1] demand, const idx_t[::1] indptr, const idx_t[::1] links,
               const real_t[::1] frac, const real_t[::1] capacity,
               const idx_t[::1] lptr, const idx_t[::1] ldem, const real_t[::1] lfrac,
               real_t rel_eps, real_t[::1] rate, real_t[::1] load) except -1 nogil:
    """Progressive filling: all unfrozen demands rise at one level; a demand freezes when it is
    met or when a link it uses saturates. Returns the number of filling steps. Not ``noexcept``:
    the bounds-checked build's IndexError, or MemoryError for the scratch arrays, propagates."""
    cdef Py_ssize_t K = demand.shape[0], L = capacity.shape[0]
    cdef Py_ssize_t k, k2, j, l, steps = 0, n_active = 0
    cdef real_t level = 0.0, step, cand, big = 1e300
    cdef char* frozen = <char*> malloc(K if K > 0 else 1)
    cdef char* saturated = <char*> malloc(L if L > 0 else 1)
    cdef real_t* slope = <real_t*> malloc((L if L > 0 else 1) * sizeof(real_t))
    if frozen == NULL or saturated == NULL or slope == NULL:
        free(frozen)
        free(saturated)
        free(slope)
        with gil:
            raise MemoryError("congestion: scratch allocation failed")
    for l in range(L):
        slope[l] = 0.0
        load[l] = 0.0
        saturated[l] = 0
    for k in range(K):
        rate[k] = 0.0
        frozen[k] = 1 if demand[k] <= 0.0 else 0
        if not frozen[k]:
            n_active += 1
            for j in range(indptr[k], indptr[k + 1]):
                slope[links[j]] += frac[j]
    while n_active > 0:
        steps += 1
        step = big
        for k in range(K):
            if not frozen[k]:
                cand = demand[k] - level
                if cand < step:
                    step = cand
        for l in range(L):
            if slope[l] > 0.0 and not saturated[l]:
                cand = (capacity[l] - load[l]) / slope[l]
                if cand < step:
                    step = cand
        if step < 0.0:
            step = 0.0
        level += step
        for l in range(L):
            if slope[l] > 0.0:
                load[l] += slope[l] * step
        for k in range(K):
            if not frozen[k]:
                rate[k] = level
        # freeze demands that are met
        for k in range(K):
            if not frozen[k] and demand[k] - level <= rel_eps * demand[k]:
                rate[k] = demand[k]
                frozen[k] = 1
                n_active -= 1
                for j in range(indptr[k], indptr[k + 1]):
                    slope[links[j]] -= frac[j]
        # freeze every demand crossing a saturated link
        for l in range(L):
            if not saturated[l] and capacity[l] - load[l] <= rel_eps * capacity[l]:
                saturated[l] = 1
                for j in range(lptr[l], lptr[l + 1]):
                    k = ldem[j]
                    if not frozen[k]:
                        frozen[k] = 1
                        n_active -= 1
                        for k2 in range(indptr[k], indptr[k + 1]):
                            slope[links[k2]] -= frac[k2]
        for l in range(L):
            if slope[l] < 1e-12:
                slope[l] = 0.0
    free(frozen)
    free(saturated)
    free(slope)
    return <int> steps


def max_min_fill(const real_t[::1] demand, const idx_t[::1] indptr, const idx_t[::1] links,
                 const real_t[::1] frac, const real_t[::1] capacity,
                 const idx_t[::1] lptr, const idx_t[::1] ldem, const real_t[::1] lfrac,
                 real_t rel_eps, real_t[::1] rate, real_t[::1] load):
    """Kernel behind netsim.sim.congestion.max_min_rates (see there). Writes rate and load; returns steps."""
    cdef int steps
    with nogil:
        steps = _fill(demand, indptr, links, frac, capacity, lptr, ldem, lfrac, rel_eps, rate, load)
    return steps
