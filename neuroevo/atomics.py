"""Atomic operations on int64 array elements, for compiled code that threads share (step.agents_team).

numba has no atomics of its own; these intrinsics emit LLVM's (sequentially consistent: every thread sees every
atomic operation in one order, and nothing the compiler or the CPU would move crosses one). An element is named
by its array and index, and the caller guarantees the index lies inside the array (there is no bounds check).
"""

from __future__ import annotations

import platform

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

_SEQ = "seq_cst"
_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")
_LINUX = platform.system() == "Linux"


def _check(arr) -> None:
    if not (isinstance(arr, types.Array) and arr.dtype == types.int64 and arr.ndim == 1):
        raise TypeError("atomics work on 1-d int64 arrays")


def _elem(context, builder, arrty, arr, i):
    """Pointer to arr[i] (no bounds check, no wraparound)."""
    ary = context.make_array(arrty)(context, builder, arr)
    return cgutils.get_item_pointer(context, builder, arrty, ary, [i], wraparound=False)


@intrinsic
def load(typingctx, arr, i):  # noqa: ARG001
    """arr[i], read atomically."""
    _check(arr)
    sig = types.int64(arr, types.intp)

    def codegen(context, builder, signature, args):
        p = _elem(context, builder, signature.args[0], args[0], args[1])
        return builder.load_atomic(p, _SEQ, 8)

    return sig, codegen


@intrinsic
def store(typingctx, arr, i, v):  # noqa: ARG001
    """arr[i] = v, written atomically."""
    _check(arr)
    sig = types.void(arr, types.intp, types.int64)

    def codegen(context, builder, signature, args):
        p = _elem(context, builder, signature.args[0], args[0], args[1])
        builder.store_atomic(args[2], p, _SEQ, 8)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def add(typingctx, arr, i, v):  # noqa: ARG001
    """arr[i] += v atomically; returns the value before."""
    _check(arr)
    sig = types.int64(arr, types.intp, types.int64)

    def codegen(context, builder, signature, args):
        p = _elem(context, builder, signature.args[0], args[0], args[1])
        return builder.atomic_rmw("add", p, args[2], _SEQ)

    return sig, codegen


@intrinsic
def cas(typingctx, arr, i, expected, new):  # noqa: ARG001
    """If arr[i] == expected, set it to new; atomically. Returns whether it was set."""
    _check(arr)
    sig = types.boolean(arr, types.intp, types.int64, types.int64)

    def codegen(context, builder, signature, args):
        p = _elem(context, builder, signature.args[0], args[0], args[1])
        pair = builder.cmpxchg(p, args[2], args[3], _SEQ, _SEQ)
        return builder.extract_value(pair, 1)

    return sig, codegen


@intrinsic
def pause(typingctx):  # noqa: ARG001
    """A spin-wait hint (x86 PAUSE: the waiting core yields to its sibling and leaves the loop without a memory
    order stall); nothing elsewhere."""
    sig = types.void()

    def codegen(context, builder, signature, args):
        if _X86:
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), []),
                                                "llvm.x86.sse2.pause")
            builder.call(fn, [])
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def yield_cpu(typingctx):  # noqa: ARG001
    """Give the core to another runnable thread, if any (the C library's sched_yield on Linux, a spin-wait hint
    elsewhere): a thread that has waited long is likely waiting for one that another process keeps off the cores."""
    sig = types.void()

    def codegen(context, builder, signature, args):
        if _LINUX:
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32), []), "sched_yield")
            builder.call(fn, [])
        elif _X86:
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), []),
                                                "llvm.x86.sse2.pause")
            builder.call(fn, [])
        return context.get_dummy_value()

    return sig, codegen
