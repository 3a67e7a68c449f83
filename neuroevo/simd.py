"""Explicit SIMD for the forward pass: 8, 4 or 2 units of a dense tanh layer in one LLVM vector, and prefetch hints.

numba leaves LLVM's SLP vectoriser off (it miscompiled code in some LLVM versions), so the scalar 8-unit blocks
of brain.forward_one ran one lane at a time, and the loop vectoriser cannot help with rows of 16 (it wants 32 or
more iterations). These intrinsics emit the vector code directly: <8 x float> loads, multiplies and adds, which
LLVM lowers to one AVX register or two SSE/NEON ones; <4 x float> and <2 x float> take a layer's leftover units
(the two outputs ran one unit at a time, a chain of n_in dependent adds each). Each lane computes exactly what the
scalar code computes, in the same order (a = b; a = a + x_i * w_ij for i = 0, 1, ...; then brain.fast_tanh), so
results are bit-identical on every path: no fused multiply-add, no reassociation.

Addresses are plain integers (an array's ctypes.data plus byte offsets); the caller guarantees that rows are
contiguous float32 (strides[1] == 4) and that every address read or written lies inside its array.
"""

from __future__ import annotations

import numpy as np
from llvmlite import binding, ir
from numba.core import cgutils, types
from numba.extending import intrinsic

_F32 = ir.FloatType()
_I32 = ir.IntType(32)
LINE = 64  # bytes per cache line
# the intrinsic's name carries its pointer type: "p0" with LLVM 15's opaque pointers, "p0i8" before
_PREFETCH = "llvm.prefetch.p0" if binding.llvm_version_info >= (15,) else "llvm.prefetch.p0i8"


def _vec(lanes: int) -> ir.VectorType:
    return ir.VectorType(_F32, lanes)


def _const(x: float, lanes: int) -> ir.Constant:
    return ir.Constant(_vec(lanes), [float(np.float32(x))] * lanes)


def _splat(builder: ir.IRBuilder, x: ir.Value, lanes: int) -> ir.Value:
    v = builder.insert_element(ir.Constant(_vec(lanes), ir.Undefined), x, ir.Constant(_I32, 0))
    return builder.shuffle_vector(v, ir.Constant(_vec(lanes), ir.Undefined),
                                  ir.Constant(ir.VectorType(_I32, lanes), [0] * lanes))


def _tanh(builder: ir.IRBuilder, x: ir.Value, lanes: int) -> ir.Value:
    """brain.fast_tanh on each lane, operation for operation."""
    from . import brain as bn  # imported here: brain imports this module

    c = _const(bn.TANH_CLIP, lanes)
    x = builder.select(builder.fcmp_ordered("<", x, c), x, c)
    nc = _const(-bn.TANH_CLIP, lanes)
    x = builder.select(builder.fcmp_ordered(">", x, nc), x, nc)
    x2 = builder.fmul(x, x)
    t = builder.fadd(_const(bn._P2, lanes), x2)
    t = builder.fadd(_const(bn._P1, lanes), builder.fmul(x2, t))
    t = builder.fadd(_const(bn._P0, lanes), builder.fmul(x2, t))
    num = builder.fmul(x, t)
    d = builder.fadd(_const(bn._Q2, lanes), builder.fmul(x2, _const(bn._Q3, lanes)))
    d = builder.fadd(_const(bn._Q1, lanes), builder.fmul(x2, d))
    d = builder.fadd(_const(bn._P0, lanes), builder.fmul(x2, d))
    return builder.fdiv(num, d)


def _dense_body(builder: ir.IRBuilder, agents: list[tuple[ir.Value, ...]], w_step: ir.Value, n_in: ir.Value,
                lanes: int, gates: list[ir.Value] | None = None) -> None:
    """For each agent (w, x, b, out) addresses: out[0:L] = tanh(b[0:L] + sum_i x[i] * w[i * w_step : +L]) for L =
    lanes; with gates (one address per agent), lanes whose gate is not > 0.5 store 0 instead (a switched-off unit),
    selected in the register before the store, so gating adds no store and reload to the chain from one layer to the
    next. The agents' chains are interleaved in one loop (independent work for the CPU to overlap)."""
    vp = _vec(lanes).as_pointer()
    f32p = _F32.as_pointer()
    accs, xs, ws = [], [], []
    for w, x, b, _ in agents:
        accs.append(cgutils.alloca_once_value(builder, builder.load(builder.inttoptr(b, vp), align=4)))
        xs.append(builder.inttoptr(x, f32p))
        ws.append(builder.inttoptr(w, f32p))
    with cgutils.for_range(builder, n_in) as loop:
        i = loop.index
        off = builder.mul(i, w_step)
        for acc, x, w in zip(accs, xs, ws):
            xi = _splat(builder, builder.load(builder.gep(x, [i])), lanes)
            wi = builder.load(builder.bitcast(builder.gep(w, [off]), vp), align=4)
            builder.store(builder.fadd(builder.load(acc), builder.fmul(xi, wi)), acc)
    for a, (acc, (_, _, _, out)) in enumerate(zip(accs, agents)):
        y = _tanh(builder, builder.load(acc), lanes)
        if gates is not None:
            on = builder.fcmp_ordered(">", builder.load(builder.inttoptr(gates[a], vp), align=4), _const(0.5, lanes))
            y = builder.select(on, y, _const(0.0, lanes))
        builder.store(y, builder.inttoptr(out, vp), align=4)


def _dense_choice(builder: ir.IRBuilder, lanes: int, gate: ir.Value, two: ir.Value, k: tuple, m: tuple,
                  gk: ir.Value, gm: ir.Value, w_step: ir.Value, n_in: ir.Value) -> None:
    """_dense_body for one agent or two (two), with or without on/off genes (gate), chosen at run time."""
    with builder.if_else(two) as (pair, alone):
        with pair:
            with builder.if_else(gate) as (on, off):
                with on:
                    _dense_body(builder, [k, m], w_step, n_in, lanes, [gk, gm])
                with off:
                    _dense_body(builder, [k, m], w_step, n_in, lanes)
        with alone:
            with builder.if_else(gate) as (on, off):
                with on:
                    _dense_body(builder, [k], w_step, n_in, lanes, [gk])
                with off:
                    _dense_body(builder, [k], w_step, n_in, lanes)


@intrinsic
def dense(typingctx, lanes, gate, two, wk, xk, bk, ok, qk, wm, xm, bm, om, qm, w_step, n_in):  # noqa: ARG001
    """`lanes` (8, 4 or 2; any other value does 2) units of a dense tanh layer, for agent k and, with `two`, agent m,
    their chains interleaved: out[j] = fast_tanh(b[j] + sum_i x[i] * w[i * w_step + j]) for j < lanes; with `gate`,
    0 where the on/off gene q[j] is not > 0.5. lanes, w_step and n_in are uint64 counts; w, x, b, out and q (the
    genes; not read without gate) are uint64 byte addresses of float32 data, per agent (m's ignored without two)."""
    sig = types.void(types.uint64, types.boolean, types.boolean, *([types.uint64] * 12))

    def codegen(context, builder, signature, args):
        lanes, gate, two, wk, xk, bk, ok, qk, wm, xm, bm, om, qm, w_step, n_in = args
        k, m = (wk, xk, bk, ok), (wm, xm, bm, om)
        eight = builder.icmp_unsigned("==", lanes, ir.Constant(lanes.type, 8))
        four = builder.icmp_unsigned("==", lanes, ir.Constant(lanes.type, 4))
        with builder.if_else(eight) as (is8, not8):
            with is8:
                _dense_choice(builder, 8, gate, two, k, m, qk, qm, w_step, n_in)
            with not8:
                with builder.if_else(four) as (is4, is2):
                    with is4:
                        _dense_choice(builder, 4, gate, two, k, m, qk, qm, w_step, n_in)
                    with is2:
                        _dense_choice(builder, 2, gate, two, k, m, qk, qm, w_step, n_in)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def prefetch(typingctx, addr, nbytes):  # noqa: ARG001
    """Ask for the cache lines of [addr, addr + nbytes) to be loaded (a hint: no effect on any result)."""
    sig = types.void(types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        addr, nbytes = args
        i8p = ir.IntType(8).as_pointer()
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [i8p, _I32, _I32, _I32]),
                                            _PREFETCH)
        base = builder.inttoptr(addr, i8p)
        line = ir.Constant(nbytes.type, LINE)
        n_lines = builder.udiv(builder.add(nbytes, ir.Constant(nbytes.type, LINE - 1)), line)
        with cgutils.for_range(builder, n_lines) as loop:
            p = builder.gep(base, [builder.mul(loop.index, line)])
            # read, high locality (keep in all cache levels), data cache
            builder.call(fn, [p, ir.Constant(_I32, 0), ir.Constant(_I32, 3), ir.Constant(_I32, 1)])
        return context.get_dummy_value()

    return sig, codegen
