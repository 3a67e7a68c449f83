"""Explicit SIMD for the forward pass: 8 units of a dense tanh layer in one LLVM vector, and prefetch hints.

numba leaves LLVM's SLP vectoriser off (it miscompiled code in some LLVM versions), so the scalar 8-unit blocks
of brain.forward_one ran one lane at a time, and the loop vectoriser cannot help with rows of 16 (it wants 32 or
more iterations). These intrinsics emit the vector code directly: <8 x float> loads, multiplies and adds, which
LLVM lowers to one AVX register or two SSE/NEON ones. Each lane computes exactly what the scalar code computes, in
the same order (a = b; a = a + x_i * w_ij for i = 0, 1, ...; then brain.fast_tanh), so results are bit-identical
on every path: no fused multiply-add, no reassociation.

Addresses are plain integers (an array's ctypes.data plus byte offsets); the caller guarantees that rows are
contiguous float32 (strides[1] == 4) and that every address read or written lies inside its array.
"""

from __future__ import annotations

import numpy as np
from llvmlite import binding, ir
from numba.core import cgutils, types
from numba.extending import intrinsic

_F32 = ir.FloatType()
_V8 = ir.VectorType(_F32, 8)
_I32 = ir.IntType(32)
LINE = 64  # bytes per cache line
# the intrinsic's name carries its pointer type: "p0" with LLVM 15's opaque pointers, "p0i8" before
_PREFETCH = "llvm.prefetch.p0" if binding.llvm_version_info >= (15,) else "llvm.prefetch.p0i8"


def _const8(x: float) -> ir.Constant:
    return ir.Constant(_V8, [float(np.float32(x))] * 8)


def _splat(builder: ir.IRBuilder, x: ir.Value) -> ir.Value:
    v = builder.insert_element(ir.Constant(_V8, ir.Undefined), x, ir.Constant(_I32, 0))
    return builder.shuffle_vector(v, ir.Constant(_V8, ir.Undefined), ir.Constant(ir.VectorType(_I32, 8), [0] * 8))


def _tanh8(builder: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """brain.fast_tanh on 8 lanes, operation for operation."""
    from . import brain as bn  # imported here: brain imports this module

    c = _const8(bn.TANH_CLIP)
    x = builder.select(builder.fcmp_ordered("<", x, c), x, c)
    nc = _const8(-bn.TANH_CLIP)
    x = builder.select(builder.fcmp_ordered(">", x, nc), x, nc)
    x2 = builder.fmul(x, x)
    t = builder.fadd(_const8(bn._P2), x2)
    t = builder.fadd(_const8(bn._P1), builder.fmul(x2, t))
    t = builder.fadd(_const8(bn._P0), builder.fmul(x2, t))
    num = builder.fmul(x, t)
    d = builder.fadd(_const8(bn._Q2), builder.fmul(x2, _const8(bn._Q3)))
    d = builder.fadd(_const8(bn._Q1), builder.fmul(x2, d))
    d = builder.fadd(_const8(bn._P0), builder.fmul(x2, d))
    return builder.fdiv(num, d)


def _dense8_body(builder: ir.IRBuilder, agents: list[tuple[ir.Value, ...]], w_step: ir.Value, n_in: ir.Value,
                 gates: list[ir.Value] | None = None) -> None:
    """For each agent (w, x, b, out) addresses: out[0:8] = tanh(b[0:8] + sum_i x[i] * w[i * w_step : +8]); with
    gates (one address per agent), lanes whose gate is not > 0.5 store 0 instead (a switched-off unit), selected in
    the register before the store, so gating adds no store and reload to the chain from one layer to the next.
    The agents' chains are interleaved in one loop (independent work for the CPU to overlap)."""
    v8p = _V8.as_pointer()
    f32p = _F32.as_pointer()
    accs, xs, ws = [], [], []
    for w, x, b, _ in agents:
        accs.append(cgutils.alloca_once_value(builder, builder.load(builder.inttoptr(b, v8p), align=4)))
        xs.append(builder.inttoptr(x, f32p))
        ws.append(builder.inttoptr(w, f32p))
    with cgutils.for_range(builder, n_in) as loop:
        i = loop.index
        off = builder.mul(i, w_step)
        for acc, x, w in zip(accs, xs, ws):
            xi = _splat(builder, builder.load(builder.gep(x, [i])))
            wi = builder.load(builder.bitcast(builder.gep(w, [off]), v8p), align=4)
            builder.store(builder.fadd(builder.load(acc), builder.fmul(xi, wi)), acc)
    for a, (acc, (_, _, _, out)) in enumerate(zip(accs, agents)):
        y = _tanh8(builder, builder.load(acc))
        if gates is not None:
            on = builder.fcmp_ordered(">", builder.load(builder.inttoptr(gates[a], v8p), align=4), _const8(0.5))
            y = builder.select(on, y, _const8(0.0))
        builder.store(y, builder.inttoptr(out, v8p), align=4)


@intrinsic
def dense8(typingctx, w, x, b, out, w_step, n_in):  # noqa: ARG001 - numba passes the typing context
    """8 units of a dense tanh layer for one agent: out[j] = fast_tanh(b[j] + sum_i x[i] * w[i * w_step + j]).
    All arguments are uint64: byte addresses of float32 data (w, x, b, out) and element counts (w_step, n_in)."""
    sig = types.void(*([types.uint64] * 6))

    def codegen(context, builder, signature, args):
        w, x, b, out, w_step, n_in = args
        _dense8_body(builder, [(w, x, b, out)], w_step, n_in)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def dense8x2(typingctx, w1, x1, b1, out1, w2, x2, b2, out2, w_step, n_in):  # noqa: ARG001
    """dense8 for two agents with the same layer shape, their chains interleaved."""
    sig = types.void(*([types.uint64] * 10))

    def codegen(context, builder, signature, args):
        w1, x1, b1, out1, w2, x2, b2, out2, w_step, n_in = args
        _dense8_body(builder, [(w1, x1, b1, out1), (w2, x2, b2, out2)], w_step, n_in)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def dense8g(typingctx, w, x, b, out, gates, w_step, n_in):  # noqa: ARG001
    """dense8 with on/off genes: out[j] = 0 where gates[j] (a float32 address) is not > 0.5."""
    sig = types.void(*([types.uint64] * 7))

    def codegen(context, builder, signature, args):
        w, x, b, out, gates, w_step, n_in = args
        _dense8_body(builder, [(w, x, b, out)], w_step, n_in, [gates])
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def dense8x2g(typingctx, w1, x1, b1, out1, g1, w2, x2, b2, out2, g2, w_step, n_in):  # noqa: ARG001
    """dense8x2 with on/off genes (g1, g2), as dense8g."""
    sig = types.void(*([types.uint64] * 12))

    def codegen(context, builder, signature, args):
        w1, x1, b1, out1, g1, w2, x2, b2, out2, g2, w_step, n_in = args
        _dense8_body(builder, [(w1, x1, b1, out1), (w2, x2, b2, out2)], w_step, n_in, [g1, g2])
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
