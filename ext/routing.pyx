# Routing kernels: valley-free AS-level route selection, per-destination ECMP DAGs with hot-potato
# exits, demand assignment over the DAGs, and the "which destinations changed" test of a failure.
#
# Semantics and the array layout are documented in netsim/routing/compiled.py; the Python side
# validates everything and allocates every output. A "hop" is a next-hop edge of the routing graph:
# a real link between two non-IX nodes, or a virtual IX crossing u -> ix -> w made of two links.
# Hops are numbered tail-major, so the hops leaving node u are hop_ptr[u] .. hop_ptr[u + 1] - 1.
# hop_adj[h] < 0 marks an IGP hop (both ends in one AS); otherwise it is the AS-adjacency index of
# an exit hop. Per destination the DAG is one bit per hop ("this hop is a next hop of its tail").
from cython.parallel cimport prange, threadid
from libc.stdlib cimport malloc, free, calloc, realloc
from libc.string cimport memset, memcpy
from libc.math cimport INFINITY, NAN, fabs
from libc.stdint cimport int8_t, uint8_t, int32_t, int64_t, uint64_t
from netsim_types cimport idx_t, real_t


# Route classes, best first; the numeric order is the preference order.
cdef enum:
    CLS_OWN = 0
    CLS_CUST = 1
    CLS_PEER = 2
    CLS_PROV = 3

# adj_rel codes: what the neighbour Y is to X for the adjacency X -> Y.
cdef enum:
    REL_CUST = 0
    REL_PEER = 1
    REL_PROV = 2

# Equal-cost tolerance (relative) for float weights.
cdef real_t REL_TOL = 1e-9


cdef inline bint _close(real_t a, real_t b) noexcept nogil:
    cdef real_t m = fabs(a) if fabs(a) > fabs(b) else fabs(b)
    return fabs(a - b) <= REL_TOL * m


# ---------------------------------------------------------------------------------------------
# AS level
# ---------------------------------------------------------------------------------------------
cdef struct ASGraph:
    idx_t n_as
    const idx_t *adj_ptr     # out-adjacency of X: adj_ptr[X] .. adj_ptr[X+1]-1, sorted by Y
    const idx_t *adj_from
    const idx_t *adj_to
    const int8_t *adj_rel
    const uint8_t *adj_up
    const idx_t *ain_ptr     # in-adjacency of Y: ain_adj[ain_ptr[Y] .. ain_ptr[Y+1]-1] are adj ids
    const idx_t *ain_adj


cdef struct ASScratch:
    idx_t *len_          # AS-path length to D, -1 = no route
    int8_t *cls
    idx_t *queue
    idx_t *srt
    idx_t *cnt
    idx_t *order         # routed ASes by nondecreasing length (D first)
    idx_t n_order
    uint8_t *sel         # per adjacency: X forwards to Y for D


cdef int _as_scratch_alloc(ASScratch *s, idx_t n_as, idx_t n_adj) noexcept nogil:
    s.len_ = <idx_t *> malloc((n_as + 1) * sizeof(idx_t))
    s.cls = <int8_t *> malloc((n_as + 1) * sizeof(int8_t))
    s.queue = <idx_t *> malloc((n_as + 1) * sizeof(idx_t))
    s.srt = <idx_t *> malloc((n_as + 1) * sizeof(idx_t))
    s.cnt = <idx_t *> malloc((n_as + 2) * sizeof(idx_t))
    s.order = <idx_t *> malloc((n_as + 1) * sizeof(idx_t))
    s.sel = <uint8_t *> malloc((n_adj + 1) * sizeof(uint8_t))
    if (s.len_ == NULL or s.cls == NULL or s.queue == NULL or s.srt == NULL or s.cnt == NULL
            or s.order == NULL or s.sel == NULL):
        _as_scratch_free(s)  # nothing is left allocated on failure: the caller only raises
        return -1
    return 0


cdef void _as_scratch_free(ASScratch *s) noexcept nogil:
    free(s.len_); free(s.cls); free(s.queue); free(s.srt); free(s.cnt); free(s.order); free(s.sel)
    s.len_ = NULL; s.cls = NULL; s.queue = NULL; s.srt = NULL; s.cnt = NULL; s.order = NULL
    s.sel = NULL


cdef idx_t _sort_by_len(const ASGraph *g, ASScratch *s, idx_t *out) noexcept nogil:
    """Counting-sort the routed ASes by length into out (stable in AS index); return how many."""
    cdef idx_t X, k, n = 0, maxlen = 0
    for X in range(g.n_as):
        if s.len_[X] > maxlen:
            maxlen = s.len_[X]
    memset(s.cnt, 0, (maxlen + 2) * sizeof(idx_t))
    for X in range(g.n_as):
        if s.len_[X] >= 0:
            s.cnt[s.len_[X] + 1] += 1
            n += 1
    for k in range(maxlen + 1):
        s.cnt[k + 1] += s.cnt[k]
    for X in range(g.n_as):
        if s.len_[X] >= 0:
            out[s.cnt[s.len_[X]]] = X
            s.cnt[s.len_[X]] += 1
    return n


cdef void _as_routes(const ASGraph *g, idx_t D, bint multipath, ASScratch *s) noexcept nogil:
    """Gao-Rexford routes of every AS toward destination AS D in three linear phases."""
    cdef idx_t X, Y, a, e, i, j, qe, ns, L
    cdef int8_t r, cy
    cdef bint ok
    for X in range(g.n_as):
        s.len_[X] = -1
        s.cls[X] = -1
    memset(s.sel, 0, (g.adj_ptr[g.n_as] + 1) * sizeof(uint8_t))
    # Phase 1 (up): customer routes climb c2p edges; BFS gives the shortest customer route.
    s.len_[D] = 0
    s.cls[D] = CLS_OWN
    s.queue[0] = D
    qe = 1
    i = 0
    while i < qe:
        Y = s.queue[i]
        i += 1
        for e in range(g.ain_ptr[Y], g.ain_ptr[Y + 1]):
            a = g.ain_adj[e]
            if not g.adj_up[a] or g.adj_rel[a] != REL_CUST:
                continue
            X = g.adj_from[a]
            if s.len_[X] < 0:
                s.len_[X] = s.len_[Y] + 1
                s.cls[X] = CLS_CUST
                s.queue[qe] = X
                qe += 1
    # Phase 2 (across): one p2p hop from an AS holding its own or a customer route.
    for i in range(qe):
        Y = s.queue[i]
        for e in range(g.ain_ptr[Y], g.ain_ptr[Y + 1]):
            a = g.ain_adj[e]
            if not g.adj_up[a] or g.adj_rel[a] != REL_PEER:
                continue
            X = g.adj_from[a]
            if s.cls[X] == CLS_OWN or s.cls[X] == CLS_CUST:
                continue
            if s.len_[X] < 0 or s.len_[Y] + 1 < s.len_[X]:
                s.len_[X] = s.len_[Y] + 1
                s.cls[X] = CLS_PEER
    # Phase 3 (down): provider routes descend p2c edges from every routed AS; a merge of the
    # length-sorted routed ASes with the FIFO of new labels keeps pops in nondecreasing length.
    ns = _sort_by_len(g, s, s.srt)
    i = 0
    j = 0
    qe = 0
    while i < ns or j < qe:
        if j < qe and (i >= ns or s.len_[s.queue[j]] < s.len_[s.srt[i]]):
            Y = s.queue[j]
            j += 1
        else:
            Y = s.srt[i]
            i += 1
        for e in range(g.ain_ptr[Y], g.ain_ptr[Y + 1]):
            a = g.ain_adj[e]
            if not g.adj_up[a] or g.adj_rel[a] != REL_PROV:
                continue
            X = g.adj_from[a]
            if s.len_[X] < 0:
                s.len_[X] = s.len_[Y] + 1
                s.cls[X] = CLS_PROV
                s.queue[qe] = X
                qe += 1
    s.n_order = _sort_by_len(g, s, s.order)
    # Next-hop ASes: neighbours whose exported route has this AS's class and length - 1;
    # out-adjacencies are sorted by neighbour index (= ASN order), so the first is the lowest ASN.
    for X in range(g.n_as):
        L = s.len_[X]
        if L <= 0:
            continue
        for a in range(g.adj_ptr[X], g.adj_ptr[X + 1]):
            if not g.adj_up[a]:
                continue
            Y = g.adj_to[a]
            if s.len_[Y] != L - 1:
                continue
            r = g.adj_rel[a]
            cy = s.cls[Y]
            if s.cls[X] == CLS_CUST:
                ok = r == REL_CUST and cy <= CLS_CUST
            elif s.cls[X] == CLS_PEER:
                ok = r == REL_PEER and cy <= CLS_CUST
            else:
                ok = r == REL_PROV
            if ok:
                s.sel[a] = 1
                if not multipath:
                    break


# ---------------------------------------------------------------------------------------------
# Node level: one destination
# ---------------------------------------------------------------------------------------------
cdef struct Hop:            # a hop as the DAG scan reads it (packed per call: one cache line, ~3 hops)
    idx_t head             # -1 when the hop is down
    idx_t adj              # -1 for an IGP hop, else the AS adjacency
    real_t w
    real_t lat


cdef struct RevHop:         # an up IGP hop seen from its head (for relaxing predecessors)
    idx_t tail
    idx_t hop
    real_t w


cdef struct NodeGraph:
    idx_t n
    const idx_t *node_as
    const uint8_t *node_up
    const idx_t *hop_ptr
    const idx_t *hop_tail
    Hop *hops
    idx_t *rev_ptr
    RevHop *rev
    const idx_t *exit_ptr    # exit hops of adjacency a: exit_hop[exit_ptr[a] .. exit_ptr[a+1]-1]
    const idx_t *exit_hop


cdef struct HeapItem:
    real_t c
    idx_t u


cdef extern from *:
    int __builtin_clzll(unsigned long long) nogil
    int __builtin_ctzll(unsigned long long) nogil


cdef struct NodeScratch:
    real_t *cost             # INFINITY = not reached (yet)
    idx_t *best              # the hop that gave the current cost
    uint8_t *tie             # another candidate came within the tolerance: scan at settle time
    # Radix heap (monotone priority queue) with lazy deletion: an improved node is pushed again
    # and stale items are skipped. Keys are the bit patterns of the non-negative double costs,
    # which order like the costs. Bucket b holds keys whose highest bit differing from `last`
    # (the last popped key) is b - 1; bucket 0 holds keys equal to `last`.
    # Keys have the sign bit clear, so buckets 0..63 suffice; `occ` has bit b set iff bucket b
    # is not empty.
    # Each bucket is its own growable array (doubling), so memory follows the peak heap size.
    HeapItem *bk[64]
    idx_t bsize[64]
    idx_t bcap[64]
    uint64_t occ
    int failed               # a bucket could not grow (out of memory): results are invalid
    idx_t hn
    uint64_t last


cdef int _node_scratch_alloc(NodeScratch *s, idx_t n) noexcept nogil:
    cdef int b
    s.cost = <real_t *> malloc((n + 1) * sizeof(real_t))
    s.best = <idx_t *> malloc((n + 1) * sizeof(idx_t))
    s.tie = <uint8_t *> malloc((n + 1) * sizeof(uint8_t))
    s.failed = 0
    for b in range(64):
        s.bk[b] = NULL
        s.bcap[b] = 0
        s.bsize[b] = 0
    if s.cost == NULL or s.best == NULL or s.tie == NULL:
        return -1
    return 0


cdef void _node_scratch_free(NodeScratch *s) noexcept nogil:
    cdef int b
    free(s.cost); free(s.best); free(s.tie)
    for b in range(64):
        free(s.bk[b])
        s.bk[b] = NULL


cdef inline bint _bucket_room(NodeScratch *s, int b) noexcept nogil:
    cdef idx_t cap
    cdef HeapItem *p
    if s.bsize[b] < s.bcap[b]:
        return True
    cap = 2 * s.bcap[b] if s.bcap[b] > 0 else 256
    p = <HeapItem *> realloc(s.bk[b], cap * sizeof(HeapItem))
    if p == NULL:
        s.failed = 1
        return False
    s.bk[b] = p
    s.bcap[b] = cap
    return True


cdef inline uint64_t _key(real_t c) noexcept nogil:
    cdef uint64_t k
    memcpy(&k, &c, sizeof(uint64_t))
    return k


cdef inline int _bucket(uint64_t k, uint64_t last) noexcept nogil:
    return 0 if k == last else 64 - __builtin_clzll(k ^ last)


cdef inline void _heap_reset(NodeScratch *s) noexcept nogil:
    memset(s.bsize, 0, sizeof(s.bsize))
    s.occ = 0
    s.hn = 0
    s.last = 0


cdef inline void _push(NodeScratch *s, real_t c, idx_t u) noexcept nogil:
    cdef int b = _bucket(_key(c), s.last)
    cdef HeapItem *it
    if not _bucket_room(s, b):
        return
    it = &s.bk[b][s.bsize[b]]
    it.c = c
    it.u = u
    s.bsize[b] += 1
    s.occ |= (<uint64_t> 1) << b
    s.hn += 1


cdef inline HeapItem _pop(NodeScratch *s) noexcept nogil:
    cdef int i = 0, b
    cdef idx_t j, m
    cdef HeapItem *src
    cdef HeapItem mc_item
    cdef real_t mc
    if s.bsize[0] == 0:
        i = __builtin_ctzll(s.occ)
        src = s.bk[i]
        m = s.bsize[i]
        mc = src[0].c
        for j in range(1, m):
            if src[j].c < mc:
                mc = src[j].c
        s.last = _key(mc)
        for j in range(m):
            b = _bucket(_key(src[j].c), s.last)
            if not _bucket_room(s, b):
                continue
            s.bk[b][s.bsize[b]] = src[j]
            s.bsize[b] += 1
            s.occ |= (<uint64_t> 1) << b
        s.bsize[i] = 0
        s.occ &= ~((<uint64_t> 1) << i)
        if s.failed:  # out of memory while redistributing: stop this Dijkstra (reported)
            s.hn = 0
            mc_item.c = 0.0
            mc_item.u = -1
            return mc_item
    s.bsize[0] -= 1
    if s.bsize[0] == 0:
        s.occ &= ~(<uint64_t> 1)
    s.hn -= 1
    return s.bk[0][s.bsize[0]]


cdef inline void _relax(NodeScratch *s, idx_t u, real_t c, idx_t hop) noexcept nogil:
    # A settled node has cost <= c (weights > 0), so it never improves again; a tie flag set on
    # a settled node is harmless (only read when the node settles).
    # `tie` records that some other candidate is within the tolerance of the best one (then the
    # next hops are found by a scan when u settles); without a tie, `best` is the only next hop.
    cdef real_t old = s.cost[u]
    if c < old:
        s.tie[u] = old < INFINITY and old - c <= REL_TOL * old
        s.best[u] = hop
        s.cost[u] = c
        _push(s, c, u)
    elif c - old <= REL_TOL * c:
        s.tie[u] = 1


cdef idx_t _route_one(const NodeGraph *g, const ASGraph *ag, idx_t t, bint multipath,
                      ASScratch *asx, NodeScratch *s,
                      uint8_t *bits, idx_t *order, real_t *lat, uint8_t *reach) noexcept nogil:
    """DAG toward node t: bits (zeroed by the caller), settle order, mean path latency; return #reachable.

    Invariants used for speed: nodes of the AS being processed are all in one Dijkstra, so an
    IGP neighbour v with cost[v] < cost[u] is settled; nodes of earlier ASes are settled iff
    their cost is finite; and for a settled next hop, cost[v] + w >= cost[u] exactly, so the
    tolerance test |a - b| <= 1e-9 max(|a|, |b|) is one-sided.
    """
    cdef idx_t k, X, a, e, h, h0, h1, u, v, cnt = 0, nh
    cdef idx_t D = g.node_as[t]
    cdef real_t cu, latsum, x
    cdef uint64_t mask
    cdef HeapItem it
    # NOTE: local copies of every pointer: stores through `bits` (uint8_t aliases anything) would
    # otherwise make the compiler reload each struct field inside the hot loops.
    cdef const Hop *hops = g.hops
    cdef const Hop *hp
    cdef const RevHop *rev = g.rev
    cdef const idx_t *rev_ptr = g.rev_ptr
    cdef const idx_t *hop_ptr = g.hop_ptr
    cdef real_t *cost = s.cost
    cdef const uint8_t *sel = asx.sel
    cdef idx_t n = g.n
    for u in range(n):
        lat[u] = NAN
        cost[u] = INFINITY
    if not g.node_up[t]:
        return 0
    _as_routes(ag, D, multipath, asx)
    for k in range(asx.n_order):
        X = asx.order[k]
        _heap_reset(s)
        if X == D:
            _relax(s, t, 0.0, -1)
        else:
            # Hot potato: every exit toward a chosen neighbour AS whose far end reaches t is a
            # source, at the exit's own weight (what happens after the exit does not count).
            for a in range(ag.adj_ptr[X], ag.adj_ptr[X + 1]):
                if not sel[a]:
                    continue
                for e in range(g.exit_ptr[a], g.exit_ptr[a + 1]):
                    h = g.exit_hop[e]
                    v = hops[h].head
                    if v >= 0 and cost[v] < INFINITY:
                        _relax(s, g.hop_tail[h], hops[h].w, h)
        while s.hn > 0:
            it = _pop(s)
            u = it.u
            if u < 0:
                break
            if it.c > cost[u]:
                continue  # stale: u was improved after this push
            order[cnt] = u
            cnt += 1
            reach[u >> 3] |= <uint8_t> (1 << (u & 7))
            cu = cost[u]
            if u == t:
                lat[u] = 0.0
            elif not s.tie[u]:
                h = s.best[u]
                bits[h >> 3] |= <uint8_t> (1 << (h & 7))
                lat[u] = hops[h].lat + lat[hops[h].head]
            else:
                nh = 0
                latsum = 0.0
                h0 = hop_ptr[u]
                h1 = hop_ptr[u + 1]
                mask = 0
                for h in range(h0, h1):
                    hp = &hops[h]
                    v = hp.head
                    if v < 0:
                        continue
                    if hp.adj < 0:
                        if not cost[v] < cu:
                            continue
                        x = cost[v] + hp.w
                    else:
                        if not sel[hp.adj] or cost[v] == INFINITY:
                            continue
                        x = hp.w
                    if x - cu > REL_TOL * x:
                        continue
                    if h - h0 < 64:
                        mask |= (<uint64_t> 1) << (h - h0)
                    else:
                        bits[h >> 3] |= <uint8_t> (1 << (h & 7))
                    nh += 1
                    latsum += hp.lat + lat[v]
                lat[u] = latsum / nh
                h = h0
                while mask:
                    if mask & 1:
                        bits[h >> 3] |= <uint8_t> (1 << (h & 7))
                    mask >>= 1
                    h += 1
            for e in range(rev_ptr[u], rev_ptr[u + 1]):
                _relax(s, rev[e].tail, cu + rev[e].w, rev[e].hop)
    return cnt


cdef int _pack(NodeGraph *g, const idx_t[::1] hop_head, const idx_t[::1] hop_adj,
               const real_t[::1] hop_w, const real_t[::1] hop_lat, const uint8_t[::1] hop_up,
               const idx_t[::1] rin_ptr, const idx_t[::1] rin_hop) except -1 nogil:
    """Pack the hop arrays for the scan (down hops get head -1) and the up IGP hops by head.

    Not ``noexcept``: the bounds-checked build's IndexError, or MemoryError, propagates."""
    cdef Py_ssize_t H = hop_head.shape[0], h, e, v, m = 0
    g.hops = <Hop *> malloc((H + 1) * sizeof(Hop))
    g.rev_ptr = <idx_t *> malloc((g.n + 1) * sizeof(idx_t))
    g.rev = <RevHop *> malloc((rin_hop.shape[0] + 1) * sizeof(RevHop))
    if g.hops == NULL or g.rev_ptr == NULL or g.rev == NULL:
        with gil:
            raise MemoryError("routing scratch allocation failed")
    for h in range(H):
        g.hops[h].head = hop_head[h] if hop_up[h] else -1
        g.hops[h].adj = hop_adj[h]
        g.hops[h].w = hop_w[h]
        g.hops[h].lat = hop_lat[h]
    for v in range(g.n):
        g.rev_ptr[v] = m
        for e in range(rin_ptr[v], rin_ptr[v + 1]):
            h = rin_hop[e]
            if hop_up[h]:
                g.rev[m].tail = g.hop_tail[h]
                g.rev[m].hop = <idx_t> h
                g.rev[m].w = hop_w[h]
                m += 1
    g.rev_ptr[g.n] = m
    return 0


cdef void _unpack(NodeGraph *g) noexcept nogil:
    free(g.hops); free(g.rev_ptr); free(g.rev)
    g.hops = NULL; g.rev_ptr = NULL; g.rev = NULL


ctypedef fused _num_t:
    idx_t
    uint8_t
    int8_t
    real_t


cdef inline const _num_t* _ptr(const _num_t[::1] a) noexcept:
    # NULL for an empty array: &a[0] of one is out of bounds (an IndexError in the bounds-checked build,
    # swallowed by a noexcept caller: a single-AS network then ran the kernel on garbage pointers)
    if a.shape[0] == 0:
        return NULL
    return &a[0]


cdef inline void _fill_graphs(NodeGraph *g, ASGraph *ag,
        const idx_t[::1] node_as, const uint8_t[::1] node_up,
        const idx_t[::1] hop_ptr, const idx_t[::1] hop_tail,
        const idx_t[::1] exit_ptr, const idx_t[::1] exit_hop,
        const idx_t[::1] adj_ptr, const idx_t[::1] adj_from, const idx_t[::1] adj_to,
        const int8_t[::1] adj_rel, const uint8_t[::1] adj_up,
        const idx_t[::1] ain_ptr, const idx_t[::1] ain_adj):
    g.n = node_as.shape[0]
    g.node_as = _ptr(node_as)
    g.node_up = _ptr(node_up)
    g.hop_ptr = _ptr(hop_ptr)
    g.hop_tail = _ptr(hop_tail)
    g.exit_ptr = _ptr(exit_ptr)
    g.exit_hop = _ptr(exit_hop)
    ag.n_as = adj_ptr.shape[0] - 1
    ag.adj_ptr = _ptr(adj_ptr)
    ag.adj_from = _ptr(adj_from)
    ag.adj_to = _ptr(adj_to)
    ag.adj_rel = _ptr(adj_rel)
    ag.adj_up = _ptr(adj_up)
    ag.ain_ptr = _ptr(ain_ptr)
    ag.ain_adj = _ptr(ain_adj)


def route_destinations(
        const idx_t[::1] node_as, const uint8_t[::1] node_up,
        const idx_t[::1] hop_ptr, const idx_t[::1] hop_tail, const idx_t[::1] hop_head,
        const idx_t[::1] hop_adj, const real_t[::1] hop_w, const real_t[::1] hop_lat,
        const uint8_t[::1] hop_up, const idx_t[::1] rin_ptr, const idx_t[::1] rin_hop,
        const idx_t[::1] exit_ptr, const idx_t[::1] exit_hop,
        const idx_t[::1] adj_ptr, const idx_t[::1] adj_from, const idx_t[::1] adj_to,
        const int8_t[::1] adj_rel, const uint8_t[::1] adj_up,
        const idx_t[::1] ain_ptr, const idx_t[::1] ain_adj,
        const idx_t[::1] dests, const idx_t[::1] rows, bint multipath, int threads,
        uint8_t[:, ::1] bits, idx_t[:, ::1] order, idx_t[::1] nreach, real_t[:, ::1] lat,
        uint8_t[:, ::1] reach):
    """Route toward dests[i] into row rows[i] of bits/order/nreach/lat/reach (arrays from the caller).

    reach[r] is a bitmap of the nodes that reach the row's destination (the destination included
    when it is up).

    All arrays have the layout of netsim.routing.compiled.CompiledNet; each destination's work is
    independent, so destinations run in parallel (prange, `threads` OpenMP threads).
    """
    cdef NodeGraph g
    cdef ASGraph ag
    cdef ASScratch *asx = NULL
    cdef NodeScratch *s = NULL
    cdef Py_ssize_t i, nd = dests.shape[0], r
    cdef idx_t n_adj = adj_from.shape[0]
    cdef int k, tid, nt = threads if threads > 0 else 1
    if nd == 0:
        return
    _fill_graphs(&g, &ag, node_as, node_up, hop_ptr, hop_tail, exit_ptr, exit_hop, adj_ptr,
                 adj_from, adj_to, adj_rel, adj_up, ain_ptr, ain_adj)
    g.hops = NULL; g.rev_ptr = NULL; g.rev = NULL
    try:
        _pack(&g, hop_head, hop_adj, hop_w, hop_lat, hop_up, rin_ptr, rin_hop)
        # One scratch set per thread, indexed by threadid(): nothing is shared but read-only input.
        asx = <ASScratch *> calloc(nt, sizeof(ASScratch))
        s = <NodeScratch *> calloc(nt, sizeof(NodeScratch))
        if asx == NULL or s == NULL:
            raise MemoryError("routing scratch allocation failed")
        for k in range(nt):
            if _as_scratch_alloc(&asx[k], ag.n_as, n_adj) != 0 or _node_scratch_alloc(&s[k], g.n) != 0:
                raise MemoryError("routing scratch allocation failed")
        with nogil:
            for i in prange(nd, schedule="dynamic", chunksize=4, num_threads=nt):
                tid = threadid()
                r = rows[i]
                memset(&bits[r, 0], 0, bits.shape[1])
                memset(&reach[r, 0], 0, reach.shape[1])
                nreach[r] = _route_one(&g, &ag, dests[i], multipath, &asx[tid], &s[tid],
                                       &bits[r, 0], &order[r, 0], &lat[r, 0], &reach[r, 0])
        for k in range(nt):
            if s[k].failed:
                raise MemoryError("routing heap could not grow")
    finally:
        if asx != NULL:
            for k in range(nt):
                _as_scratch_free(&asx[k])
        if s != NULL:
            for k in range(nt):
                _node_scratch_free(&s[k])
        free(asx)
        free(s)
        _unpack(&g)


def as_selection_differs(
        const idx_t[::1] adj_ptr, const idx_t[::1] adj_from, const idx_t[::1] adj_to,
        const int8_t[::1] rel_a, const uint8_t[::1] up_a, const int8_t[::1] rel_b,
        const uint8_t[::1] up_b, const idx_t[::1] ain_ptr, const idx_t[::1] ain_adj,
        const idx_t[::1] dest_as, bint multipath, uint8_t[::1] out):
    """out[i] = 1 if the next-hop AS choices toward AS dest_as[i] differ between two states (a, b)."""
    cdef ASGraph ga, gb
    cdef ASScratch sa, sb
    cdef Py_ssize_t i, a, n_adj = adj_from.shape[0]
    cdef idx_t n_as = adj_ptr.shape[0] - 1
    ga.n_as = n_as; ga.adj_ptr = _ptr(adj_ptr); ga.adj_from = _ptr(adj_from); ga.adj_to = _ptr(adj_to)
    ga.ain_ptr = _ptr(ain_ptr); ga.ain_adj = _ptr(ain_adj)
    gb = ga
    ga.adj_rel = _ptr(rel_a); ga.adj_up = _ptr(up_a)
    gb.adj_rel = _ptr(rel_b); gb.adj_up = _ptr(up_b)
    if _as_scratch_alloc(&sa, n_as, n_adj) != 0:
        raise MemoryError("routing scratch allocation failed")
    if _as_scratch_alloc(&sb, n_as, n_adj) != 0:
        _as_scratch_free(&sa)  # the first set was allocated: it would leak
        raise MemoryError("routing scratch allocation failed")
    with nogil:
        for i in range(dest_as.shape[0]):
            _as_routes(&ga, dest_as[i], multipath, &sa)
            _as_routes(&gb, dest_as[i], multipath, &sb)
            out[i] = 0
            for a in range(n_adj):
                if sa.sel[a] != sb.sel[a]:
                    out[i] = 1
                    break
    _as_scratch_free(&sa)
    _as_scratch_free(&sb)


def rows_using_hops(const uint8_t[:, ::1] bits, const idx_t[::1] hops, uint8_t[::1] out):
    """out[r] = 1 if the DAG of row r uses any of `hops` as a next hop."""
    cdef Py_ssize_t r, k
    cdef idx_t h
    with nogil:
        for r in range(bits.shape[0]):
            out[r] = 0
            for k in range(hops.shape[0]):
                h = hops[k]
                if (bits[r, h >> 3] >> (h & 7)) & 1:
                    out[r] = 1
                    break


# ---------------------------------------------------------------------------------------------
# Assignment
# ---------------------------------------------------------------------------------------------
cdef inline bint _has_next_hop(const uint8_t *brow, const idx_t *hop_ptr, idx_t u) noexcept nogil:
    cdef idx_t h
    for h in range(hop_ptr[u], hop_ptr[u + 1]):
        if (brow[h >> 3] >> (h & 7)) & 1:
            return True
    return False


def assign_demands(
        const idx_t[::1] hop_ptr, const idx_t[::1] hop_head, const idx_t[::1] hop_link1,
        const idx_t[::1] hop_link2, const uint8_t[:, ::1] bits, const idx_t[:, ::1] order,
        const idx_t[::1] nreach, const uint8_t[:, ::1] reach, const idx_t[::1] row_dest,
        const idx_t[::1] dem_row, const idx_t[::1] dem_src, const real_t[::1] volume,
        int threads, real_t[::1] loads, uint8_t[::1] unreachable):
    """Accumulate each demand's volume on the links of its DAG (equal split at every node).

    loads (zeroed here) receives the load per link; unreachable[d] = 1 for a demand with no route.
    Rows are cut into a fixed number of blocks with their own accumulators, summed in block order,
    so the result does not depend on the thread count or the schedule.
    """
    cdef Py_ssize_t m = dem_row.shape[0], n_rows = bits.shape[0], n = hop_ptr.shape[0] - 1
    cdef Py_ssize_t n_links = loads.shape[0], d, k, i, b, nb, r, r0, r1, l
    cdef idx_t *cnt
    cdef idx_t *src_sorted
    cdef real_t *vol_sorted
    cdef real_t *acc
    cdef real_t *inflow
    cdef real_t *inflows
    cdef idx_t *hb
    cdef idx_t *hbs
    cdef Py_ssize_t j
    cdef int nt = threads if threads > 0 else 1
    cdef real_t f, share
    cdef idx_t u, t, h, nh, s_
    cdef const uint8_t *brow
    cdef const uint8_t *rrow
    loads[:] = 0.0
    if m == 0 or n_rows == 0:
        return
    nb = 64 if n_rows > 64 else n_rows
    cnt = <idx_t *> calloc(n_rows + 1, sizeof(idx_t))
    src_sorted = <idx_t *> malloc(m * sizeof(idx_t))
    vol_sorted = <real_t *> malloc(m * sizeof(real_t))
    acc = <real_t *> calloc(nb * n_links + 1, sizeof(real_t))
    inflows = <real_t *> calloc(nt * (n + 1), sizeof(real_t))
    hbs = <idx_t *> malloc(nt * 16 * sizeof(idx_t))
    if cnt == NULL or src_sorted == NULL or vol_sorted == NULL or acc == NULL or inflows == NULL or hbs == NULL:
        free(cnt); free(src_sorted); free(vol_sorted); free(acc); free(inflows); free(hbs)
        raise MemoryError("assignment buffers")
    with nogil:
        # Counting sort by destination row (stable), keeping only the demands that travel: a
        # demand is unreachable iff its source is not in the row's reach bitmap (a destination
        # reaches itself when up); a demand to itself is delivered on no link.
        for d in range(m):
            r = dem_row[d]
            s_ = dem_src[d]
            if (reach[r, s_ >> 3] >> (s_ & 7)) & 1:
                unreachable[d] = 0
                if s_ != row_dest[r]:
                    cnt[r + 1] += 1
            else:
                unreachable[d] = 1
        for r in range(n_rows):
            cnt[r + 1] += cnt[r]
        for d in range(m):
            r = dem_row[d]
            s_ = dem_src[d]
            if not unreachable[d] and s_ != row_dest[r]:
                src_sorted[cnt[r]] = s_
                vol_sorted[cnt[r]] = volume[d]
                cnt[r] += 1
        for r in range(n_rows - 1, 0, -1):
            cnt[r] = cnt[r - 1]
        cnt[0] = 0
        for b in prange(nb, schedule="dynamic", chunksize=1, num_threads=nt):
            inflow = &inflows[threadid() * (n + 1)]
            hb = &hbs[threadid() * 16]
            r0 = b * n_rows // nb
            r1 = (b + 1) * n_rows // nb
            for r in range(r0, r1):
                if cnt[r] == cnt[r + 1]:
                    continue
                brow = &bits[r, 0]
                for k in range(cnt[r], cnt[r + 1]):
                    inflow[src_sorted[k]] += vol_sorted[k]
                # Push inflow from the farthest node toward t (reverse settle order).
                for i in range(nreach[r] - 1, 0, -1):
                    u = order[r, i]
                    f = inflow[u]
                    if f == 0.0:
                        continue
                    inflow[u] = 0.0
                    nh = 0
                    for h in range(hop_ptr[u], hop_ptr[u + 1]):
                        if (brow[h >> 3] >> (h & 7)) & 1:
                            if nh < 16:
                                hb[nh] = h
                            nh = nh + 1
                    share = f / nh
                    if nh <= 16:
                        for j in range(nh):
                            h = hb[j]
                            acc[b * n_links + hop_link1[h]] += share
                            if hop_link2[h] >= 0:
                                acc[b * n_links + hop_link2[h]] += share
                            inflow[hop_head[h]] += share
                    else:
                        for h in range(hop_ptr[u], hop_ptr[u + 1]):
                            if (brow[h >> 3] >> (h & 7)) & 1:
                                acc[b * n_links + hop_link1[h]] += share
                                if hop_link2[h] >= 0:
                                    acc[b * n_links + hop_link2[h]] += share
                                inflow[hop_head[h]] += share
                inflow[order[r, 0]] = 0.0
        for b in range(nb):
            for l in range(n_links):
                loads[l] += acc[b * n_links + l]
    free(cnt)
    free(src_sorted)
    free(vol_sorted)
    free(acc)
    free(inflows)
    free(hbs)


def reachable_pairs(const uint8_t[:, ::1] reach, const idx_t[::1] dem_row, const idx_t[::1] dem_src,
                    uint8_t[::1] out):
    """out[d] = 1 if demand d (source dem_src[d], destination row dem_row[d]) has a route."""
    cdef Py_ssize_t d
    cdef idx_t r, s_
    with nogil:
        for d in range(dem_row.shape[0]):
            r = dem_row[d]
            s_ = dem_src[d]
            out[d] = (reach[r, s_ >> 3] >> (s_ & 7)) & 1


# ---------------------------------------------------------------------------------------------
# Per-demand fractions over the ECMP DAGs (congestion incidence, local turnaround)
# ---------------------------------------------------------------------------------------------
cdef real_t _push_unit(const idx_t *hop_ptr, const idx_t *hop_head, const idx_t *hop_link1,
                       const idx_t *hop_link2, const uint8_t *brow, const idx_t *order, idx_t nreach,
                       idx_t s_, const idx_t *link_col, real_t *out_row, const idx_t *hop_zone, idx_t zone,
                       real_t *inflow) noexcept nogil:
    """Push one unit of flow from s_ down one destination's DAG (order: the DAG's nodes, destination first).

    Every node splits what reaches it equally among its next hops (as assign_demands does). With
    link_col, out_row[link_col[l]] += the flow crossing link l (link_col[l] >= 0). With hop_zone, only
    the flow over hops of that zone is carried on (the rest leaves the zone and is dropped). Returns
    what reaches the destination; inflow (n + 1 zeros) is left zeroed.
    """
    cdef Py_ssize_t i
    cdef idx_t u, h, nh, c, t = order[0]
    cdef real_t f, share, got
    inflow[s_] = 1.0
    for i in range(nreach - 1, 0, -1):
        u = order[i]
        f = inflow[u]
        if f == 0.0:
            continue
        inflow[u] = 0.0
        nh = 0
        for h in range(hop_ptr[u], hop_ptr[u + 1]):
            if (brow[h >> 3] >> (h & 7)) & 1:
                nh = nh + 1
        share = f / nh
        for h in range(hop_ptr[u], hop_ptr[u + 1]):
            if not ((brow[h >> 3] >> (h & 7)) & 1):
                continue
            if hop_zone != NULL and hop_zone[h] != zone:
                continue
            if link_col != NULL:
                c = link_col[hop_link1[h]]
                if c >= 0:
                    out_row[c] += share
                if hop_link2[h] >= 0:
                    c = link_col[hop_link2[h]]
                    if c >= 0:
                        out_row[c] += share
            inflow[hop_head[h]] += share
    got = inflow[t]
    inflow[t] = 0.0
    return got


def demand_link_fractions(
        const idx_t[::1] hop_ptr, const idx_t[::1] hop_head, const idx_t[::1] hop_link1,
        const idx_t[::1] hop_link2, const uint8_t[:, ::1] bits, const idx_t[:, ::1] order,
        const idx_t[::1] nreach, const uint8_t[:, ::1] reach, const idx_t[::1] row_dest,
        const idx_t[::1] dem_row, const idx_t[::1] dem_src, const idx_t[::1] link_col,
        real_t[:, ::1] out):
    """out[d, link_col[l]] = the fraction of demand d's traffic that crosses link l (link_col[l] >= 0).

    The fraction is the one :func:`assign_demands` puts on the link (equal split at every node),
    computed by pushing a unit of flow from the demand's source down its destination's DAG, so no
    path is ever enumerated: O(nodes + hops of the DAG) per demand. ``out`` is zeroed here; an
    unreachable demand, or one to itself, has an all-zero row.
    """
    cdef Py_ssize_t m = dem_row.shape[0], n = hop_ptr.shape[0] - 1, d
    cdef real_t *inflow
    cdef idx_t r, s_
    out[:, :] = 0.0
    if m == 0:
        return
    inflow = <real_t *> calloc(n + 1, sizeof(real_t))
    if inflow == NULL:
        raise MemoryError("fraction buffer")
    with nogil:
        for d in range(m):
            r = dem_row[d]
            s_ = dem_src[d]
            if s_ == row_dest[r] or not ((reach[r, s_ >> 3] >> (s_ & 7)) & 1):
                continue
            _push_unit(&hop_ptr[0], &hop_head[0], &hop_link1[0], &hop_link2[0], &bits[r, 0], &order[r, 0],
                       nreach[r], s_, &link_col[0], &out[d, 0], NULL, 0, inflow)
    free(inflow)


def confined_fractions(
        const idx_t[::1] hop_ptr, const idx_t[::1] hop_head, const idx_t[::1] hop_zone,
        const uint8_t[:, ::1] bits, const idx_t[:, ::1] order, const idx_t[::1] nreach,
        const uint8_t[:, ::1] reach, const idx_t[::1] row_dest, const idx_t[::1] dem_row,
        const idx_t[::1] dem_src, const idx_t[::1] dem_zone, real_t[::1] out):
    """out[d] = the fraction of demand d's traffic whose path stays inside zone dem_zone[d].

    ``hop_zone[h]`` is the zone of hop h when every node it touches (tail, IX, head) is in one
    zone, else -1. A unit of flow is pushed from the source down the destination's DAG and only
    what crosses hops of the demand's zone is carried on, so the result is the sum of the
    fractions of the ECMP paths that never leave the zone (without enumerating them). A demand to
    itself counts 1 when its node reaches itself (is up), an unreachable one 0.
    """
    cdef Py_ssize_t m = dem_row.shape[0], n = hop_ptr.shape[0] - 1, d
    cdef real_t *inflow
    cdef idx_t r, s_
    if m == 0:
        return
    inflow = <real_t *> calloc(n + 1, sizeof(real_t))
    if inflow == NULL:
        raise MemoryError("fraction buffer")
    with nogil:
        for d in range(m):
            r = dem_row[d]
            s_ = dem_src[d]
            out[d] = 0.0
            if not ((reach[r, s_ >> 3] >> (s_ & 7)) & 1):
                continue
            if s_ == row_dest[r]:
                out[d] = 1.0
                continue
            out[d] = _push_unit(&hop_ptr[0], &hop_head[0], NULL, NULL, &bits[r, 0], &order[r, 0], nreach[r], s_,
                                NULL, NULL, &hop_zone[0], dem_zone[d], inflow)
    free(inflow)
