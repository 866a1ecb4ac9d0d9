# Shared C types of the netsim kernels: node and link indices are int32, loads and weights float64.
from libc.stdint cimport int32_t, int64_t, uint64_t, uint8_t

ctypedef int32_t idx_t
ctypedef double real_t
ctypedef uint64_t key_t
