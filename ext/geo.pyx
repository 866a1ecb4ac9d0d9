# Great-circle distances for latency defaults: arrays in, arrays out.
from libc.math cimport sin, cos, asin, sqrt, M_PI
from netsim_types cimport idx_t, real_t

cdef real_t EARTH_RADIUS_KM = 6371.0088


cdef inline real_t _haversine_km(real_t lat1, real_t lon1, real_t lat2, real_t lon2) noexcept nogil:
    cdef real_t r = M_PI / 180.0
    cdef real_t dlat = (lat2 - lat1) * r
    cdef real_t dlon = (lon2 - lon1) * r
    cdef real_t a = sin(dlat / 2) ** 2 + cos(lat1 * r) * cos(lat2 * r) * sin(dlon / 2) ** 2
    if a > 1.0:
        a = 1.0
    return 2.0 * EARTH_RADIUS_KM * asin(sqrt(a))


def haversine_km(const real_t[::1] lat1, const real_t[::1] lon1,
                 const real_t[::1] lat2, const real_t[::1] lon2, real_t[::1] out):
    """Write the great-circle distance in km between each (lat1, lon1) and (lat2, lon2) into out."""
    cdef Py_ssize_t i, n = out.shape[0]
    with nogil:
        for i in range(n):
            out[i] = _haversine_km(lat1[i], lon1[i], lat2[i], lon2[i])
