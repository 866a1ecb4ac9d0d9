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
from libc.stdlib cimport malloc, free, calloc
from libc.string cimport memset
from libc.math cimport INFINITY, NAN, fabs
from libc.stdint cimport int8_t, uint8_t, int32_t, int64_t
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
        return -1
    return 0


cdef void _as_scratch_free(ASScratch *s) noexcept nogil:
    free(s.len_); free(s.cls); free(s.queue); free(s.srt); free(s.cnt); free(s.order); free(s.sel)


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
cdef struct NodeGraph:
    idx_t n
    const idx_t *node_as
    const uint8_t *node_up
    const idx_t *hop_ptr
    const idx_t *hop_tail
    const idx_t *hop_head
    const idx_t *hop_adj
    const real_t *hop_w
    const real_t *hop_lat
    const uint8_t *hop_up
    const idx_t *rin_ptr     # IGP hops entering node v: rin_hop[rin_ptr[v] .. rin_ptr[v+1]-1]
    const idx_t *rin_hop
    const idx_t *exit_ptr    # exit hops of adjacency a: exit_hop[exit_ptr[a] .. exit_ptr[a+1]-1]
    const idx_t *exit_hop


cdef struct NodeScratch:
    real_t *cost
    uint8_t *state           # 0 unseen, 1 in heap, 2 settled
    idx_t *heap
    idx_t *pos
    idx_t hn


cdef int _node_scratch_alloc(NodeScratch *s, idx_t n) noexcept nogil:
    s.cost = <real_t *> malloc((n + 1) * sizeof(real_t))
    s.state = <uint8_t *> malloc((n + 1) * sizeof(uint8_t))
    s.heap = <idx_t *> malloc((n + 1) * sizeof(idx_t))
    s.pos = <idx_t *> malloc((n + 1) * sizeof(idx_t))
    if s.cost == NULL or s.state == NULL or s.heap == NULL or s.pos == NULL:
        return -1
    return 0


cdef void _node_scratch_free(NodeScratch *s) noexcept nogil:
    free(s.cost); free(s.state); free(s.heap); free(s.pos)


cdef inline void _sift_up(NodeScratch *s, idx_t i) noexcept nogil:
    cdef idx_t u = s.heap[i], p
    cdef real_t c = s.cost[u]
    while i > 0:
        p = (i - 1) >> 1
        if s.cost[s.heap[p]] <= c:
            break
        s.heap[i] = s.heap[p]
        s.pos[s.heap[i]] = i
        i = p
    s.heap[i] = u
    s.pos[u] = i


cdef inline idx_t _pop(NodeScratch *s) noexcept nogil:
    cdef idx_t top = s.heap[0], u, i = 0, c, n
    cdef real_t cu
    s.hn -= 1
    n = s.hn
    if n > 0:
        u = s.heap[n]
        cu = s.cost[u]
        while True:
            c = 2 * i + 1
            if c >= n:
                break
            if c + 1 < n and s.cost[s.heap[c + 1]] < s.cost[s.heap[c]]:
                c += 1
            if s.cost[s.heap[c]] >= cu:
                break
            s.heap[i] = s.heap[c]
            s.pos[s.heap[i]] = i
            i = c
        s.heap[i] = u
        s.pos[u] = i
    return top


cdef inline void _relax(NodeScratch *s, idx_t u, real_t c) noexcept nogil:
    if s.state[u] == 0:
        s.state[u] = 1
        s.cost[u] = c
        s.heap[s.hn] = u
        s.hn += 1
        _sift_up(s, s.hn - 1)
    elif s.state[u] == 1 and c < s.cost[u]:
        s.cost[u] = c
        _sift_up(s, s.pos[u])


cdef idx_t _route_one(const NodeGraph *g, const ASGraph *ag, idx_t t, bint multipath,
                      ASScratch *asx, NodeScratch *s,
                      uint8_t *bits, idx_t *order, real_t *lat) noexcept nogil:
    """DAG toward node t: bits (zeroed by the caller), settle order, mean path latency; return #reachable."""
    cdef idx_t k, X, a, e, h, u, v, cnt = 0, nh
    cdef idx_t D = g.node_as[t]
    cdef real_t cu, latsum
    for u in range(g.n):
        lat[u] = NAN
    if not g.node_up[t]:
        return 0
    _as_routes(ag, D, multipath, asx)
    memset(s.state, 0, g.n * sizeof(uint8_t))
    for k in range(asx.n_order):
        X = asx.order[k]
        s.hn = 0
        if X == D:
            _relax(s, t, 0.0)
        else:
            # Hot potato: every exit toward a chosen neighbour AS whose far end reaches t is a
            # source, at the exit's own weight (what happens after the exit does not count).
            for a in range(ag.adj_ptr[X], ag.adj_ptr[X + 1]):
                if not asx.sel[a]:
                    continue
                for e in range(g.exit_ptr[a], g.exit_ptr[a + 1]):
                    h = g.exit_hop[e]
                    if g.hop_up[h] and s.state[g.hop_head[h]] == 2:
                        _relax(s, g.hop_tail[h], g.hop_w[h])
        while s.hn > 0:
            u = _pop(s)
            s.state[u] = 2
            order[cnt] = u
            cnt += 1
            cu = s.cost[u]
            if u == t:
                lat[u] = 0.0
            else:
                nh = 0
                latsum = 0.0
                for h in range(g.hop_ptr[u], g.hop_ptr[u + 1]):
                    if not g.hop_up[h]:
                        continue
                    v = g.hop_head[h]
                    if s.state[v] != 2:
                        continue
                    a = g.hop_adj[h]
                    if a < 0:
                        if not (s.cost[v] < cu and _close(s.cost[v] + g.hop_w[h], cu)):
                            continue
                    elif not (asx.sel[a] and _close(g.hop_w[h], cu)):
                        continue
                    bits[h >> 3] |= <uint8_t> (1 << (h & 7))
                    nh += 1
                    latsum += g.hop_lat[h] + lat[v]
                lat[u] = latsum / nh
            for e in range(g.rin_ptr[u], g.rin_ptr[u + 1]):
                h = g.rin_hop[e]
                if g.hop_up[h] and s.state[g.hop_tail[h]] != 2:
                    _relax(s, g.hop_tail[h], cu + g.hop_w[h])
    return cnt


cdef inline void _fill_graphs(NodeGraph *g, ASGraph *ag,
        const idx_t[::1] node_as, const uint8_t[::1] node_up,
        const idx_t[::1] hop_ptr, const idx_t[::1] hop_tail, const idx_t[::1] hop_head,
        const idx_t[::1] hop_adj, const real_t[::1] hop_w, const real_t[::1] hop_lat,
        const uint8_t[::1] hop_up, const idx_t[::1] rin_ptr, const idx_t[::1] rin_hop,
        const idx_t[::1] exit_ptr, const idx_t[::1] exit_hop,
        const idx_t[::1] adj_ptr, const idx_t[::1] adj_from, const idx_t[::1] adj_to,
        const int8_t[::1] adj_rel, const uint8_t[::1] adj_up,
        const idx_t[::1] ain_ptr, const idx_t[::1] ain_adj) noexcept:
    g.n = node_as.shape[0]
    g.node_as = &node_as[0]
    g.node_up = &node_up[0]
    g.hop_ptr = &hop_ptr[0]
    g.hop_tail = &hop_tail[0]
    g.hop_head = &hop_head[0]
    g.hop_adj = &hop_adj[0]
    g.hop_w = &hop_w[0]
    g.hop_lat = &hop_lat[0]
    g.hop_up = &hop_up[0]
    g.rin_ptr = &rin_ptr[0]
    g.rin_hop = &rin_hop[0]
    g.exit_ptr = &exit_ptr[0]
    g.exit_hop = &exit_hop[0]
    ag.n_as = adj_ptr.shape[0] - 1
    ag.adj_ptr = &adj_ptr[0]
    ag.adj_from = &adj_from[0]
    ag.adj_to = &adj_to[0]
    ag.adj_rel = &adj_rel[0]
    ag.adj_up = &adj_up[0]
    ag.ain_ptr = &ain_ptr[0]
    ag.ain_adj = &ain_adj[0]


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
        uint8_t[:, ::1] bits, idx_t[:, ::1] order, idx_t[::1] nreach, real_t[:, ::1] lat):
    """Route toward dests[i] into row rows[i] of bits/order/nreach/lat (arrays from the caller).

    All arrays have the layout of netsim.routing.compiled.CompiledNet; each destination's work is
    independent, so destinations run in parallel (prange, `threads` OpenMP threads).
    """
    cdef NodeGraph g
    cdef ASGraph ag
    cdef ASScratch *asx
    cdef NodeScratch *s
    cdef Py_ssize_t i, nd = dests.shape[0], r
    cdef idx_t n_adj = adj_from.shape[0]
    cdef int k, tid, nt = threads if threads > 0 else 1
    _fill_graphs(&g, &ag, node_as, node_up, hop_ptr, hop_tail, hop_head, hop_adj, hop_w, hop_lat,
                 hop_up, rin_ptr, rin_hop, exit_ptr, exit_hop, adj_ptr, adj_from, adj_to, adj_rel,
                 adj_up, ain_ptr, ain_adj)
    if nd == 0:
        return
    # One scratch set per thread, indexed by threadid(): nothing is shared but read-only input.
    asx = <ASScratch *> calloc(nt, sizeof(ASScratch))
    s = <NodeScratch *> calloc(nt, sizeof(NodeScratch))
    try:
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
                nreach[r] = _route_one(&g, &ag, dests[i], multipath, &asx[tid], &s[tid],
                                       &bits[r, 0], &order[r, 0], &lat[r, 0])
    finally:
        if asx != NULL:
            for k in range(nt):
                _as_scratch_free(&asx[k])
        if s != NULL:
            for k in range(nt):
                _node_scratch_free(&s[k])
        free(asx)
        free(s)


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
    ga.n_as = n_as; ga.adj_ptr = &adj_ptr[0]; ga.adj_from = &adj_from[0]; ga.adj_to = &adj_to[0]
    ga.ain_ptr = &ain_ptr[0]; ga.ain_adj = &ain_adj[0]
    gb = ga
    ga.adj_rel = &rel_a[0]; ga.adj_up = &up_a[0]
    gb.adj_rel = &rel_b[0]; gb.adj_up = &up_b[0]
    if _as_scratch_alloc(&sa, n_as, n_adj) != 0 or _as_scratch_alloc(&sb, n_as, n_adj) != 0:
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
        const idx_t[::1] nreach, const idx_t[::1] row_dest,
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
    cdef idx_t *perm
    cdef real_t *acc
    cdef real_t *inflow
    cdef real_t *inflows
    cdef int nt = threads if threads > 0 else 1
    cdef real_t f, share
    cdef idx_t u, t, h, nh, s_
    cdef const uint8_t *brow
    loads[:] = 0.0
    if m == 0 or n_rows == 0:
        return
    nb = 64 if n_rows > 64 else n_rows
    cnt = <idx_t *> calloc(n_rows + 1, sizeof(idx_t))
    perm = <idx_t *> malloc(m * sizeof(idx_t))
    acc = <real_t *> calloc(nb * n_links + 1, sizeof(real_t))
    inflows = <real_t *> calloc(nt * (n + 1), sizeof(real_t))
    if cnt == NULL or perm == NULL or acc == NULL or inflows == NULL:
        free(cnt); free(perm); free(acc); free(inflows)
        raise MemoryError("assignment buffers")
    with nogil:
        # Counting sort of the demands by destination row (stable: demand order within a row).
        for d in range(m):
            cnt[dem_row[d] + 1] += 1
        for r in range(n_rows):
            cnt[r + 1] += cnt[r]
        for d in range(m):
            perm[cnt[dem_row[d]]] = d
            cnt[dem_row[d]] += 1
        for r in range(n_rows - 1, 0, -1):
            cnt[r] = cnt[r - 1]
        cnt[0] = 0
        for b in prange(nb, schedule="dynamic", chunksize=1, num_threads=nt):
            inflow = &inflows[threadid() * (n + 1)]
            r0 = b * n_rows // nb
            r1 = (b + 1) * n_rows // nb
            for r in range(r0, r1):
                brow = &bits[r, 0]
                t = row_dest[r]
                for k in range(cnt[r], cnt[r + 1]):
                    d = perm[k]
                    s_ = dem_src[d]
                    if s_ == t and nreach[r] > 0:
                        unreachable[d] = 0
                    elif _has_next_hop(brow, &hop_ptr[0], s_):
                        unreachable[d] = 0
                        inflow[s_] += volume[d]
                    else:
                        unreachable[d] = 1
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
                            nh = nh + 1
                    share = f / nh
                    for h in range(hop_ptr[u], hop_ptr[u + 1]):
                        if (brow[h >> 3] >> (h & 7)) & 1:
                            acc[b * n_links + hop_link1[h]] += share
                            if hop_link2[h] >= 0:
                                acc[b * n_links + hop_link2[h]] += share
                            inflow[hop_head[h]] += share
                if nreach[r] > 0:
                    inflow[order[r, 0]] = 0.0
        for b in range(nb):
            for l in range(n_links):
                loads[l] += acc[b * n_links + l]
    free(cnt)
    free(perm)
    free(acc)
    free(inflows)


def reachable_pairs(const idx_t[::1] hop_ptr, const uint8_t[:, ::1] bits, const idx_t[::1] nreach,
                    const idx_t[::1] row_dest, const idx_t[::1] dem_row, const idx_t[::1] dem_src,
                    uint8_t[::1] out):
    """out[d] = 1 if demand d (source dem_src[d], destination row dem_row[d]) has a route."""
    cdef Py_ssize_t d
    cdef idx_t r, s_
    with nogil:
        for d in range(dem_row.shape[0]):
            r = dem_row[d]
            s_ = dem_src[d]
            if s_ == row_dest[r]:
                out[d] = nreach[r] > 0
            else:
                out[d] = _has_next_hop(&bits[r, 0], &hop_ptr[0], s_)
