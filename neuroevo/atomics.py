"""Atomic operations on int64 array elements, for compiled code that threads share (step.agents_team).

numba has no atomics of its own; these intrinsics emit LLVM's (sequentially consistent: every thread sees every
atomic operation in one order, and nothing the compiler or the CPU would move crosses one). An element is named
by its array and index, and the caller guarantees the index lies inside the array (there is no bounds check).
Beside them: a spin-wait hint, a clock in about processor cycles, and a sleep until an element changes with its
wake (Linux's futex), for the team step's waits (teamstep.wait_a_little).
"""

from __future__ import annotations

import os
import platform
import struct
import sys

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

_SEQ = "seq_cst"
_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")
_LINUX = platform.system() == "Linux"
_POSIX = os.name == "posix"
_64BIT = struct.calcsize("P") == 8  # the platform module names the kernel's machine, not this process's


def _check(arr) -> None:
    if not (isinstance(arr, types.Array) and arr.dtype == types.int64 and arr.ndim == 1):
        raise TypeError("atomics work on 1-d int64 arrays")


def _elem(context, builder, arrty, arr, i):
    """Pointer to arr[i] (no bounds check, no wraparound)."""
    ary = context.make_array(arrty)(context, builder, arr)
    return cgutils.get_item_pointer(context, builder, arrty, ary, [i], wraparound=False)


def _on_element(ret, n_values: int, emit, doc: str):
    """An intrinsic f(arr, i, v1 .. v_n_values) on the int64 element arr[i]: emit(builder, pointer, *values)
    gives its LLVM value (ignored when ret is void)."""

    def typed(arr, n: int):
        _check(arr)
        sig = ret(arr, types.intp, *([types.int64] * n))

        def codegen(context, builder, signature, args):
            out = emit(builder, _elem(context, builder, signature.args[0], args[0], args[1]), *args[2:])
            return context.get_dummy_value() if ret == types.void else out

        return sig, codegen

    # numba types an intrinsic by its parameters (no *args), so one typer per arity
    def typer0(typingctx, arr, i):  # noqa: ARG001
        return typed(arr, 0)

    def typer1(typingctx, arr, i, v):  # noqa: ARG001
        return typed(arr, 1)

    def typer2(typingctx, arr, i, v, w):  # noqa: ARG001
        return typed(arr, 2)

    typer = (typer0, typer1, typer2)[n_values]
    typer.__doc__ = doc
    return intrinsic(typer)


load = _on_element(types.int64, 0, lambda b, p: b.load_atomic(p, _SEQ, 8), "arr[i], read atomically.")
store = _on_element(types.void, 1, lambda b, p, v: b.store_atomic(v, p, _SEQ, 8), "arr[i] = v, written atomically.")
add = _on_element(types.int64, 1, lambda b, p, v: b.atomic_rmw("add", p, v, _SEQ),
                  "arr[i] += v atomically; returns the value before.")
cas = _on_element(types.boolean, 2, lambda b, p, old, new: b.extract_value(b.cmpxchg(p, old, new, _SEQ, _SEQ), 1),
                  "If arr[i] == old, set it to new; atomically. Returns whether it was set.")


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


def _emit_yield(builder) -> None:
    """Give the core to another runnable thread, if any (the C library's sched_yield where there is one, a
    spin-wait hint elsewhere): yield_cpu, and sleep_while where there is no futex."""
    if _POSIX:
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32), []), "sched_yield")
        builder.call(fn, [])
    elif _X86:
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), []), "llvm.x86.sse2.pause")
        builder.call(fn, [])


_CLOCK_MONOTONIC = {"Linux": 1, "Darwin": 6, "FreeBSD": 4}.get(platform.system(), -1)


@intrinsic
def yield_cpu(typingctx):  # noqa: ARG001
    """Give the core to another runnable thread, if any (sched_yield where there is one, a spin-wait hint
    elsewhere)."""
    sig = types.void()

    def codegen(context, builder, signature, args):
        _emit_yield(builder)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def ticks(typingctx):  # noqa: ARG001
    """A clock in about processor cycles, for timing a spin-wait: the x86 time-stamp counter (a constant rate on
    current processors; one read ~10 ns), elsewhere clock_gettime(CLOCK_MONOTONIC) in ns x 3 (a nominal 3 GHz),
    or 0 where neither exists (a wait then spins and never sleeps)."""
    sig = types.int64()

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        if _X86:
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(i64, []), "llvm.readcyclecounter")
            return builder.call(fn, [])
        if _CLOCK_MONOTONIC >= 0 and _64BIT:
            ts = cgutils.alloca_once(builder, ir.ArrayType(i64, 2))
            fn = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.IntType(32), [ir.IntType(32), i64]), "clock_gettime")
            builder.call(fn, [ir.Constant(ir.IntType(32), _CLOCK_MONOTONIC), builder.ptrtoint(ts, i64)])
            zero = ir.Constant(ir.IntType(32), 0)
            sec = builder.load(builder.gep(ts, [zero, zero]))
            nsec = builder.load(builder.gep(ts, [zero, ir.Constant(ir.IntType(32), 1)]))
            ns = builder.add(builder.mul(sec, ir.Constant(i64, 1_000_000_000)), nsec)
            return builder.mul(ns, ir.Constant(i64, 3))
        return ir.Constant(i64, 0)

    return sig, codegen


# the futex system call: a thread sleeps until a word changes, without taking a core meanwhile
_SYS_FUTEX = {"x86_64": 202, "amd64": 202, "aarch64": 98, "arm64": 98}.get(platform.machine().lower(), -1)
# (64-bit processes only; on little-endian machines the low half of an int64 is the futex word)
_FUTEX = _LINUX and _SYS_FUTEX >= 0 and _64BIT and sys.byteorder == "little"
_FUTEX_WAIT_PRIVATE = 128
_FUTEX_WAKE_PRIVATE = 129
ETIMEDOUT = 110  # sleep_while's answer when its timeout ended the sleep (Linux, x86-64 and arm64)


def _syscall(builder, args):
    i64 = ir.IntType(64)
    fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(i64, [i64], var_arg=True), "syscall")
    return builder.call(fn, args)


@intrinsic
def sleep_while(typingctx, arr, i, seen, timeout_ns):  # noqa: ARG001
    """Sleep while arr[i]'s low 32 bits equal those of `seen`, at most timeout_ns ns, or until wake_all(arr, i)
    (Linux futex; elsewhere one sched_yield or spin-wait hint). May return early for no reason: callers check
    again. Returns 0 (woken, or no futex here), or minus the error: -ETIMEDOUT when the timeout ended it, -EAGAIN
    (11) when the word no longer held `seen`, -EINTR (4) when a signal came."""
    _check(arr)
    sig = types.int64(arr, types.intp, types.int64, types.int64)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        if not _FUTEX:
            _emit_yield(builder)
            return ir.Constant(i64, 0)
        zero = ir.Constant(ir.IntType(32), 0)
        ptr = _elem(context, builder, signature.args[0], args[0], args[1])
        ts = cgutils.alloca_once(builder, ir.ArrayType(i64, 2))
        ns = args[3]
        billion = ir.Constant(i64, 1_000_000_000)
        builder.store(builder.sdiv(ns, billion), builder.gep(ts, [zero, zero]))
        builder.store(builder.srem(ns, billion), builder.gep(ts, [zero, ir.Constant(ir.IntType(32), 1)]))
        expected = builder.and_(args[2], ir.Constant(i64, 0xFFFFFFFF))
        r = _syscall(builder, [ir.Constant(i64, _SYS_FUTEX), builder.ptrtoint(ptr, i64),
                               ir.Constant(i64, _FUTEX_WAIT_PRIVATE), expected, builder.ptrtoint(ts, i64),
                               ir.Constant(i64, 0), ir.Constant(i64, 0)])
        # the C library's syscall() answers -1 and leaves the error in errno (a thread's own, __errno_location)
        errno_at = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32).as_pointer(), []),
                                                  "__errno_location")
        failed = builder.icmp_signed("==", r, ir.Constant(i64, -1))
        out = cgutils.alloca_once_value(builder, r)
        with builder.if_then(failed):
            err = builder.sext(builder.load(builder.call(errno_at, [])), i64)
            builder.store(builder.neg(err), out)
        return builder.load(out)

    return sig, codegen


@intrinsic
def wake_all(typingctx, arr, i):  # noqa: ARG001
    """Wake every thread asleep in sleep_while(arr, i, ...) (nothing where sleep_while does not sleep)."""
    _check(arr)
    sig = types.void(arr, types.intp)

    def codegen(context, builder, signature, args):
        if _FUTEX:
            i64 = ir.IntType(64)
            ptr = _elem(context, builder, signature.args[0], args[0], args[1])
            _syscall(builder, [ir.Constant(i64, _SYS_FUTEX), builder.ptrtoint(ptr, i64),
                               ir.Constant(i64, _FUTEX_WAKE_PRIVATE), ir.Constant(i64, 2**31 - 1),
                               ir.Constant(i64, 0), ir.Constant(i64, 0), ir.Constant(i64, 0)])
        return context.get_dummy_value()

    return sig, codegen
