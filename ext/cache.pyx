# Byte-capacity cache kernels (LRU, FIFO, LFU, S3-FIFO, static): arrays in, arrays out.
#
# One ``CacheCore`` holds one cache's contents in C arrays: an open-addressing hash table
# (linear probing, backward-shift deletion) from key to entry index, and a pool of entries
# threaded on intrusive doubly-linked lists (queues, LFU frequency buckets). No Python object
# exists per entry, and a whole batch of requests is one ``with nogil:`` loop. Validation,
# names and units live in netsim/cache/policies.py; the semantics are documented there.
from libc.stdint cimport int8_t, int32_t, int64_t, uint8_t, uint64_t
from cpython.mem cimport PyMem_RawMalloc, PyMem_RawRealloc, PyMem_RawFree
from libc.string cimport memset
from netsim_types cimport key_t

import numpy as np

# policy codes (POLICY_CODES maps the names used by netsim/cache/policies.py)
cdef enum:
    P_LRU = 0
    P_FIFO = 1
    P_LFU = 2
    P_S3FIFO = 3
    P_STATIC = 4

# queue ids of an entry
cdef enum:
    Q_FREE = -1
    Q_MAIN = 0     # the single queue of LRU/FIFO/static, an LFU bucket member, S3-FIFO main
    Q_SMALL = 1    # S3-FIFO small FIFO
    Q_GHOST = 2    # S3-FIFO ghost FIFO (key and size only, holds no bytes)

cdef enum:
    EMPTY = -1

POLICY_CODES = {"lru": P_LRU, "fifo": P_FIFO, "lfu": P_LFU, "s3fifo": P_S3FIFO, "static": P_STATIC}


cdef struct entry_t:
    key_t key
    int64_t size
    int32_t prev
    int32_t next
    int32_t freq      # LFU: access count; S3-FIFO: clock counter
    int32_t bucket    # LFU: index of the frequency bucket holding the entry
    int8_t q


cdef struct slot_t:
    key_t key
    int32_t idx       # entry index, EMPTY if the slot is free


cdef struct bucket_t:
    int64_t freq
    int32_t head
    int32_t tail
    int32_t prev      # buckets form a list sorted by freq ascending
    int32_t next


cdef inline uint64_t _mix64(uint64_t x) noexcept nogil:
    # splitmix64 finaliser: a bijection on uint64 that spreads keys over the table
    x ^= x >> 30
    x *= <uint64_t>0xbf58476d1ce4e5b9ULL
    x ^= x >> 27
    x *= <uint64_t>0x94d049bb133111ebULL
    x ^= x >> 31
    return x


cdef class CacheCore:
    """One byte-capacity cache: contents in C arrays, requests processed in compiled loops."""

    cdef readonly int policy
    cdef readonly int64_t capacity_bytes
    cdef readonly int64_t small_capacity_bytes, main_capacity_bytes, ghost_capacity_bytes
    cdef readonly int move_to_main_threshold
    cdef int64_t used[3]          # bytes per queue (ghost bytes count only against the ghost)
    cdef int64_t count[3]         # entries per queue
    cdef int32_t head[3]
    cdef int32_t tail[3]
    cdef public bint has_evicted  # S3-FIFO: whether any eviction happened since the last clear
    # counters
    cdef readonly int64_t n_requests, n_hits, bytes_requested, bytes_hit, n_evictions
    # entry pool
    cdef entry_t* ents
    cdef int32_t n_ents_alloc, n_ents_hwm, free_ents
    # hash table
    cdef slot_t* table
    cdef uint64_t mask
    cdef int64_t n_slots_used
    # LFU buckets
    cdef bucket_t* buckets
    cdef int32_t n_buckets_alloc, n_buckets_hwm, free_buckets, bucket_first

    def __cinit__(self, int policy, int64_t capacity_bytes, double small_size_ratio=0.1,
                  double ghost_size_ratio=0.9, int move_to_main_threshold=2):
        self.policy = policy
        self.capacity_bytes = capacity_bytes
        # same integer arithmetic as libCacheSim's S3FIFO_init
        self.small_capacity_bytes = <int64_t>(<double>capacity_bytes * small_size_ratio)
        self.main_capacity_bytes = capacity_bytes - self.small_capacity_bytes
        self.ghost_capacity_bytes = <int64_t>(<double>capacity_bytes * ghost_size_ratio)
        self.move_to_main_threshold = move_to_main_threshold
        self.ents = NULL
        self.table = NULL
        self.buckets = NULL
        self._alloc(1024)

    def __dealloc__(self):
        self._free()

    cdef void _free(self) noexcept:
        if self.ents != NULL:
            PyMem_RawFree(self.ents)
        if self.table != NULL:
            PyMem_RawFree(self.table)
        if self.buckets != NULL:
            PyMem_RawFree(self.buckets)
        self.ents = NULL
        self.table = NULL
        self.buckets = NULL

    cdef void _alloc(self, int32_t n_ents):
        cdef int64_t n_slots = 1
        cdef int64_t i
        self._free()
        while n_slots < 2 * <int64_t>n_ents:
            n_slots <<= 1
        self.ents = <entry_t*>PyMem_RawMalloc(n_ents * sizeof(entry_t))
        self.table = <slot_t*>PyMem_RawMalloc(n_slots * sizeof(slot_t))
        self.buckets = <bucket_t*>PyMem_RawMalloc(64 * sizeof(bucket_t))
        if self.ents == NULL or self.table == NULL or self.buckets == NULL:
            raise MemoryError()
        self.n_ents_alloc = n_ents
        self.mask = <uint64_t>(n_slots - 1)
        for i in range(n_slots):
            self.table[i].idx = EMPTY
        self.n_buckets_alloc = 64
        self._reset()

    cdef void _reset(self) noexcept nogil:
        cdef int q
        cdef uint64_t i
        if self.n_slots_used > 0:
            for i in range(self.mask + 1):
                self.table[i].idx = EMPTY
        self.n_slots_used = 0
        self.n_ents_hwm = 0
        self.free_ents = EMPTY
        self.n_buckets_hwm = 0
        self.free_buckets = EMPTY
        self.bucket_first = EMPTY
        for q in range(3):
            self.used[q] = 0
            self.count[q] = 0
            self.head[q] = EMPTY
            self.tail[q] = EMPTY
        self.has_evicted = False

    # ---------------------------------------------------------------- hash table
    cdef inline int32_t _find(self, key_t key) noexcept nogil:
        cdef uint64_t i = _mix64(key) & self.mask
        while self.table[i].idx != EMPTY:
            if self.table[i].key == key:
                return self.table[i].idx
            i = (i + 1) & self.mask
        return EMPTY

    cdef int _grow_table(self) noexcept nogil:
        cdef uint64_t old_n = self.mask + 1, new_n = old_n * 2, i, j
        cdef slot_t* old = self.table
        cdef slot_t* t = <slot_t*>PyMem_RawMalloc(new_n * sizeof(slot_t))
        if t == NULL:
            return -1
        for i in range(new_n):
            t[i].idx = EMPTY
        for i in range(old_n):
            if old[i].idx != EMPTY:
                j = _mix64(old[i].key) & (new_n - 1)
                while t[j].idx != EMPTY:
                    j = (j + 1) & (new_n - 1)
                t[j] = old[i]
        PyMem_RawFree(old)
        self.table = t
        self.mask = new_n - 1
        return 0

    cdef inline int _table_put(self, key_t key, int32_t idx) noexcept nogil:
        cdef uint64_t i
        if 2 * (self.n_slots_used + 1) > <int64_t>(self.mask + 1):
            if self._grow_table() != 0:
                return -1
        i = _mix64(key) & self.mask
        while self.table[i].idx != EMPTY:
            i = (i + 1) & self.mask
        self.table[i].key = key
        self.table[i].idx = idx
        self.n_slots_used += 1
        return 0

    cdef inline void _table_del(self, key_t key) noexcept nogil:
        # backward-shift deletion keeps probe chains intact without tombstones
        cdef uint64_t i = _mix64(key) & self.mask, j, k
        while self.table[i].key != key or self.table[i].idx == EMPTY:
            i = (i + 1) & self.mask
        j = i
        while True:
            j = (j + 1) & self.mask
            if self.table[j].idx == EMPTY:
                break
            k = _mix64(self.table[j].key) & self.mask
            # move j into the hole at i unless its home k lies cyclically in (i, j]
            if (i <= j and (i < k and k <= j)) or (i > j and (i < k or k <= j)):
                continue
            self.table[i] = self.table[j]
            i = j
        self.table[i].idx = EMPTY
        self.n_slots_used -= 1

    # ---------------------------------------------------------------- entry pool
    cdef inline int32_t _new_entry(self, key_t key, int64_t size, int8_t q) noexcept nogil:
        cdef int32_t e
        cdef entry_t* grown
        if self.free_ents != EMPTY:
            e = self.free_ents
            self.free_ents = self.ents[e].next
        else:
            if self.n_ents_hwm == self.n_ents_alloc:
                grown = <entry_t*>PyMem_RawRealloc(self.ents, 2 * <size_t>self.n_ents_alloc * sizeof(entry_t))
                if grown == NULL:
                    return EMPTY
                self.ents = grown
                self.n_ents_alloc *= 2
            e = self.n_ents_hwm
            self.n_ents_hwm += 1
        if self._table_put(key, e) != 0:
            self.ents[e].q = Q_FREE  # back to the pool: the slot must not leak
            self.ents[e].next = self.free_ents
            self.free_ents = e
            return EMPTY
        self.ents[e].key = key
        self.ents[e].size = size
        self.ents[e].freq = 0
        self.ents[e].bucket = EMPTY
        self.ents[e].q = q
        self.ents[e].prev = EMPTY
        self.ents[e].next = EMPTY
        return e

    cdef inline void _free_entry(self, int32_t e) noexcept nogil:
        self._table_del(self.ents[e].key)
        self.ents[e].q = Q_FREE
        self.ents[e].next = self.free_ents
        self.free_ents = e

    # ---------------------------------------------------------------- queues
    cdef inline void _q_append(self, int q, int32_t e) noexcept nogil:
        self.ents[e].q = q
        self.ents[e].next = EMPTY
        self.ents[e].prev = self.tail[q]
        if self.tail[q] != EMPTY:
            self.ents[self.tail[q]].next = e
        else:
            self.head[q] = e
        self.tail[q] = e
        self.used[q] += self.ents[e].size
        self.count[q] += 1

    cdef inline void _q_unlink(self, int q, int32_t e) noexcept nogil:
        cdef int32_t p = self.ents[e].prev, n = self.ents[e].next
        if p != EMPTY:
            self.ents[p].next = n
        else:
            self.head[q] = n
        if n != EMPTY:
            self.ents[n].prev = p
        else:
            self.tail[q] = p
        self.used[q] -= self.ents[e].size
        self.count[q] -= 1

    # ---------------------------------------------------------------- LFU buckets
    cdef inline int32_t _new_bucket(self, int64_t freq, int32_t after) noexcept nogil:
        # a bucket for freq placed right after bucket `after` (EMPTY: at the front)
        cdef int32_t b
        cdef bucket_t* grown
        if self.free_buckets != EMPTY:
            b = self.free_buckets
            self.free_buckets = self.buckets[b].next
        else:
            if self.n_buckets_hwm == self.n_buckets_alloc:
                grown = <bucket_t*>PyMem_RawRealloc(self.buckets, 2 * <size_t>self.n_buckets_alloc * sizeof(bucket_t))
                if grown == NULL:
                    return EMPTY
                self.buckets = grown
                self.n_buckets_alloc *= 2
            b = self.n_buckets_hwm
            self.n_buckets_hwm += 1
        self.buckets[b].freq = freq
        self.buckets[b].head = EMPTY
        self.buckets[b].tail = EMPTY
        self.buckets[b].prev = after
        if after == EMPTY:
            self.buckets[b].next = self.bucket_first
            self.bucket_first = b
        else:
            self.buckets[b].next = self.buckets[after].next
            self.buckets[after].next = b
        if self.buckets[b].next != EMPTY:
            self.buckets[self.buckets[b].next].prev = b
        return b

    cdef inline void _bucket_drop_if_empty(self, int32_t b) noexcept nogil:
        cdef int32_t p, n
        if self.buckets[b].head != EMPTY:
            return
        p = self.buckets[b].prev
        n = self.buckets[b].next
        if p != EMPTY:
            self.buckets[p].next = n
        else:
            self.bucket_first = n
        if n != EMPTY:
            self.buckets[n].prev = p
        self.buckets[b].next = self.free_buckets
        self.free_buckets = b

    cdef inline void _bucket_append(self, int32_t b, int32_t e) noexcept nogil:
        self.ents[e].bucket = b
        self.ents[e].next = EMPTY
        self.ents[e].prev = self.buckets[b].tail
        if self.buckets[b].tail != EMPTY:
            self.ents[self.buckets[b].tail].next = e
        else:
            self.buckets[b].head = e
        self.buckets[b].tail = e

    cdef inline void _bucket_unlink(self, int32_t e) noexcept nogil:
        cdef int32_t b = self.ents[e].bucket
        cdef int32_t p = self.ents[e].prev, n = self.ents[e].next
        if p != EMPTY:
            self.ents[p].next = n
        else:
            self.buckets[b].head = n
        if n != EMPTY:
            self.ents[n].prev = p
        else:
            self.buckets[b].tail = p

    cdef inline int _lfu_bump(self, int32_t e) noexcept nogil:
        # move e from its bucket (freq f) to the tail of bucket f + 1; -1 (nothing changed) when
        # a new bucket cannot be allocated
        cdef int32_t b = self.ents[e].bucket
        cdef int32_t nb = self.buckets[b].next
        cdef int64_t f = self.buckets[b].freq + 1
        if nb == EMPTY or self.buckets[nb].freq != f:
            nb = self._new_bucket(f, b)
            if nb == EMPTY:
                return -1
        self._bucket_unlink(e)
        self._bucket_drop_if_empty(b)
        self._bucket_append(nb, e)
        self.ents[e].freq = <int32_t>f
        return 0

    cdef inline int _lfu_add(self, int32_t e, int64_t freq) noexcept nogil:
        # insert a new entry with frequency freq (1 for an admission); buckets stay sorted.
        # -1 when a new bucket cannot be allocated: e is then returned to the pool
        cdef int32_t b = self.bucket_first, prev = EMPTY
        while b != EMPTY and self.buckets[b].freq < freq:
            prev = b
            b = self.buckets[b].next
        if b == EMPTY or self.buckets[b].freq != freq:
            b = self._new_bucket(freq, prev)
            if b == EMPTY:
                self._free_entry(e)
                return -1
        self._bucket_append(b, e)
        self.ents[e].freq = <int32_t>freq
        self.ents[e].q = Q_MAIN
        self.used[Q_MAIN] += self.ents[e].size
        self.count[Q_MAIN] += 1
        return 0

    cdef inline void _lfu_remove(self, int32_t e) noexcept nogil:
        cdef int32_t b = self.ents[e].bucket
        self._bucket_unlink(e)
        self._bucket_drop_if_empty(b)
        self.used[Q_MAIN] -= self.ents[e].size
        self.count[Q_MAIN] -= 1

    # ---------------------------------------------------------------- removal / eviction
    cdef inline void _remove(self, int32_t e) noexcept nogil:
        # drop a resident entry (any policy) without counting an eviction
        if self.policy == P_LFU:
            self._lfu_remove(e)
        else:
            self._q_unlink(self.ents[e].q, e)
        self._free_entry(e)

    cdef inline void _ghost_put(self, int32_t e) noexcept nogil:
        # e just left the small FIFO: keep its key in the ghost FIFO (bytes of the ghost only)
        cdef int64_t size = self.ents[e].size
        cdef int32_t g
        if size > self.ghost_capacity_bytes:
            self._free_entry(e)
            return
        while self.used[Q_GHOST] + size > self.ghost_capacity_bytes:
            g = self.head[Q_GHOST]
            self._q_unlink(Q_GHOST, g)
            self._free_entry(g)
        self._q_append(Q_GHOST, e)

    cdef void _s3_evict_small(self) noexcept nogil:
        cdef int32_t e
        cdef bint done = False
        while not done and self.used[Q_SMALL] > 0:
            e = self.head[Q_SMALL]
            self._q_unlink(Q_SMALL, e)
            if self.ents[e].freq >= self.move_to_main_threshold:
                self.ents[e].freq = 0
                self._q_append(Q_MAIN, e)
            else:
                self._ghost_put(e)
                self.n_evictions += 1
                done = True

    cdef void _s3_evict_main(self) noexcept nogil:
        cdef int32_t e, f
        cdef bint done = False
        while not done and self.used[Q_MAIN] > 0:
            e = self.head[Q_MAIN]
            f = self.ents[e].freq
            self._q_unlink(Q_MAIN, e)
            if f >= 1:
                # 2-bit clock: reinsert at the tail with one credit spent
                self.ents[e].freq = (f if f < 3 else 3) - 1
                self._q_append(Q_MAIN, e)
            else:
                self._free_entry(e)
                self.n_evictions += 1
                done = True

    cdef inline void _evict_one(self) noexcept nogil:
        cdef int32_t e, b
        if self.policy == P_S3FIFO:
            self.has_evicted = True
            if self.used[Q_MAIN] > self.main_capacity_bytes or self.used[Q_SMALL] == 0:
                self._s3_evict_main()
            else:
                self._s3_evict_small()
            return
        if self.policy == P_LFU:
            b = self.bucket_first
            e = self.buckets[b].head
            self._lfu_remove(e)
        else:
            e = self.head[Q_MAIN]
            self._q_unlink(Q_MAIN, e)
        self._free_entry(e)
        self.n_evictions += 1

    cdef inline int64_t _used_bytes(self) noexcept nogil:
        return self.used[Q_MAIN] + self.used[Q_SMALL]

    # ---------------------------------------------------------------- the request path
    cdef inline int _admit(self, key_t key, int64_t size, bint from_ghost) noexcept nogil:
        # admission after a miss; returns -1 only on allocation failure
        cdef int32_t e
        if self.policy == P_STATIC:
            return 0
        if self.policy == P_S3FIFO:
            if size > self.small_capacity_bytes or size > self.capacity_bytes:
                return 0
        elif size > self.capacity_bytes:
            return 0
        while self._used_bytes() + size > self.capacity_bytes:
            self._evict_one()
        if self.policy == P_S3FIFO:
            if not from_ghost and size >= self.small_capacity_bytes:
                return 0  # libCacheSim evicts, then refuses an object that would fill the small FIFO
            e = self._new_entry(key, size, Q_MAIN)
            if e == EMPTY:
                return -1
            if from_ghost or (not self.has_evicted and self.used[Q_SMALL] >= self.small_capacity_bytes):
                self._q_append(Q_MAIN, e)
            else:
                self._q_append(Q_SMALL, e)
            return 0
        e = self._new_entry(key, size, Q_MAIN)
        if e == EMPTY:
            return -1
        if self.policy == P_LFU:
            if self._lfu_add(e, 1) != 0:
                return -1
        else:
            self._q_append(Q_MAIN, e)
        return 0

    cdef inline int _request(self, key_t key, int64_t size, bint admit) noexcept nogil:
        # one request: 1 hit, 0 miss, -1 allocation failure. With admit false a miss changes
        # nothing (the object cannot be fetched, so it is neither admitted nor replaced).
        cdef int32_t e = self._find(key)
        cdef bint from_ghost = False
        cdef int q
        self.n_requests += 1
        self.bytes_requested += size
        if e != EMPTY:
            q = self.ents[e].q
            if q != Q_GHOST and self.ents[e].size == size:
                self.n_hits += 1
                self.bytes_hit += size
                if self.policy == P_LRU:
                    self._q_unlink(Q_MAIN, e)
                    self._q_append(Q_MAIN, e)
                elif self.policy == P_LFU:
                    if self._lfu_bump(e) != 0:
                        return -1
                elif self.policy == P_S3FIFO:
                    self.ents[e].freq += 1
                return 1
            if not admit or self.policy == P_STATIC:
                return 0  # a static cache's contents change only through insert()
            if q == Q_GHOST:
                self._q_unlink(Q_GHOST, e)
                self._free_entry(e)
                from_ghost = True
            else:
                # the object changed: the stale copy goes, the new one is admitted like a miss
                self._remove(e)
        elif not admit:
            return 0
        if self._admit(key, size, from_ghost) != 0:
            return -1
        return 0

    def process(self, const key_t[::1] keys, const int64_t[::1] sizes, uint8_t[::1] out,
                const uint8_t[::1] admit=None):
        """Process requests in order; write 1 (hit) or 0 (miss) per request into out.

        ``admit[i] == 0`` makes request i a pure lookup (no admission on a miss).
        """
        cdef Py_ssize_t i, n = keys.shape[0]
        cdef int r = 0
        cdef bint has_admit = admit is not None
        with nogil:
            if has_admit:
                for i in range(n):
                    r = self._request(keys[i], sizes[i], admit[i] != 0)
                    if r < 0:
                        break
                    out[i] = <uint8_t>r
            else:
                for i in range(n):
                    r = self._request(keys[i], sizes[i], True)
                    if r < 0:
                        break
                    out[i] = <uint8_t>r
        if r < 0:
            raise MemoryError("cache: out of memory")

    # ---------------------------------------------------------------- single operations
    def contains(self, key_t key):
        """Whether key is resident (ghost entries are not), without touching any metadata."""
        cdef int32_t e = self._find(key)
        return e != EMPTY and self.ents[e].q != Q_GHOST

    def size_of(self, key_t key):
        cdef int32_t e = self._find(key)
        if e == EMPTY or self.ents[e].q == Q_GHOST:
            return -1
        return self.ents[e].size

    def get(self, key_t key):
        """Look up key as a request would on a hit (promotion, counters) but never admit on a miss."""
        cdef int32_t e = self._find(key)
        self.n_requests += 1
        if e == EMPTY or self.ents[e].q == Q_GHOST:
            return False
        self.bytes_requested += self.ents[e].size
        self.n_hits += 1
        self.bytes_hit += self.ents[e].size
        if self.policy == P_LRU:
            self._q_unlink(Q_MAIN, e)
            self._q_append(Q_MAIN, e)
        elif self.policy == P_LFU:
            if self._lfu_bump(e) != 0:
                raise MemoryError("cache: out of memory")
        elif self.policy == P_S3FIFO:
            self.ents[e].freq += 1
        return True

    def insert(self, key_t key, int64_t size):
        """Admit key (evicting as the policy does) unless resident; static caches admit here only.

        Returns whether the object is resident afterwards.
        """
        cdef int32_t e = self._find(key)
        cdef bint from_ghost = False
        if e != EMPTY:
            if self.ents[e].q == Q_GHOST:
                self._q_unlink(Q_GHOST, e)
                self._free_entry(e)
                from_ghost = True
            elif self.ents[e].size == size:
                return True
            else:
                self._remove(e)
        if self.policy == P_STATIC:
            # a static cache is filled explicitly: admit if it fits, never evict
            if size > self.capacity_bytes - self._used_bytes():
                return False
            e = self._new_entry(key, size, Q_MAIN)
            if e == EMPTY:
                raise MemoryError("cache: out of memory")
            self._q_append(Q_MAIN, e)
            return True
        if self._admit(key, size, from_ghost) != 0:
            raise MemoryError("cache: out of memory")
        return self._find(key) != EMPTY and self.ents[self._find(key)].q != Q_GHOST

    def clear(self):
        """Drop all contents (a cold restart); counters are kept."""
        with nogil:
            self._reset()

    def reset_counters(self):
        self.n_requests = 0
        self.n_hits = 0
        self.bytes_requested = 0
        self.bytes_hit = 0
        self.n_evictions = 0

    @property
    def used_bytes(self):
        return self.used[Q_MAIN] + self.used[Q_SMALL]

    @property
    def n_objects(self):
        return self.count[Q_MAIN] + self.count[Q_SMALL]

    @property
    def queue_bytes(self):
        """Bytes in (main, small, ghost)."""
        return (self.used[Q_MAIN], self.used[Q_SMALL], self.used[Q_GHOST])

    # ---------------------------------------------------------------- snapshot
    def export(self):
        """Contents as arrays (keys, sizes, queue, freq) in eviction order per queue.

        Order: ghost, small, main (S3-FIFO); LFU entries bucket by bucket (lowest frequency
        first), each bucket from its eviction end. ``restore`` rebuilds the same state.
        """
        cdef Py_ssize_t n = self.count[0] + self.count[1] + self.count[2], k = 0
        cdef int q
        cdef int32_t e, b
        keys = np.empty(n, dtype=np.uint64)
        sizes = np.empty(n, dtype=np.int64)
        queue = np.empty(n, dtype=np.int8)
        freq = np.empty(n, dtype=np.int64)
        cdef key_t[::1] kv = keys
        cdef int64_t[::1] sv = sizes, fv = freq
        cdef int8_t[::1] qv = queue
        if self.policy == P_LFU:
            b = self.bucket_first
            while b != EMPTY:
                e = self.buckets[b].head
                while e != EMPTY:
                    kv[k] = self.ents[e].key; sv[k] = self.ents[e].size
                    qv[k] = Q_MAIN; fv[k] = self.buckets[b].freq
                    k += 1
                    e = self.ents[e].next
                b = self.buckets[b].next
        else:
            for q in (Q_GHOST, Q_SMALL, Q_MAIN):
                e = self.head[q]
                while e != EMPTY:
                    kv[k] = self.ents[e].key; sv[k] = self.ents[e].size
                    qv[k] = q; fv[k] = self.ents[e].freq
                    k += 1
                    e = self.ents[e].next
        return keys, sizes, queue, freq

    def restore(self, const key_t[::1] keys, const int64_t[::1] sizes, const int8_t[::1] queue,
                const int64_t[::1] freq, bint has_evicted):
        """Replace the contents by an ``export`` (same order); the caller has validated it."""
        cdef Py_ssize_t i
        cdef int32_t e, last = EMPTY
        self._reset()
        for i in range(keys.shape[0]):
            e = self._new_entry(keys[i], sizes[i], queue[i])
            if e == EMPTY:
                raise MemoryError("cache: out of memory")
            if self.policy == P_LFU:
                # an export lists buckets in ascending order: extend at the last bucket in O(1)
                if last != EMPTY and self.buckets[last].freq == freq[i]:
                    self._bucket_append(last, e)
                    self.ents[e].freq = <int32_t>freq[i]
                    self.used[Q_MAIN] += sizes[i]
                    self.count[Q_MAIN] += 1
                elif last != EMPTY and self.buckets[last].freq < freq[i]:
                    last = self._new_bucket(freq[i], last)
                    if last == EMPTY:
                        raise MemoryError("cache: out of memory")
                    self._bucket_append(last, e)
                    self.ents[e].freq = <int32_t>freq[i]
                    self.used[Q_MAIN] += sizes[i]
                    self.count[Q_MAIN] += 1
                else:
                    if self._lfu_add(e, freq[i]) != 0:
                        raise MemoryError("cache: out of memory")
                    last = self.ents[e].bucket
                self.ents[e].q = Q_MAIN
            else:
                self._q_append(queue[i], e)
                self.ents[e].freq = <int32_t>freq[i]
        self.has_evicted = has_evicted
