#!/usr/bin/env python3
"""Writes the test pickles of lib/apparate/pickle_test.go.

Small stand-ins, in the formats of specs/apparate.md section 3, for the
Apparate artifact's pickles. Standard library only: run it from this folder
with `python3 make.py`; the files it writes are committed, so the Go tests
never need Python. The values are hand-known numbers that pickle_test.go
repeats.

NumPy is not needed: numpy scalars are pickled by numpy as
    REDUCE numpy.core.multiarray.scalar(dtype, raw bytes)
with the dtype itself pickled as
    REDUCE numpy.dtype("f4", False, True) + BUILD (3, "<", None, None, None, -1, -1, 0).
Stand-in modules named numpy, numpy.core and numpy.core.multiarray reproduce
exactly these reductions, so the opcodes are those real numpy 1.x writes.
The same trick supplies the `profiler` module whose `Profile` objects make up
the profile pickles (specs 3.4).
"""

import pickle
import struct
import sys
import types


def module(name):
    m = types.ModuleType(name)
    sys.modules[name] = m
    return m


# --- stand-in numpy ---------------------------------------------------------

np = module("numpy")
np_core = module("numpy.core")
np_multiarray = module("numpy.core.multiarray")
np.core = np_core
np_core.multiarray = np_multiarray


class dtype:
    """Pickles like numpy.dtype: REDUCE dtype(spec, False, True), BUILD state."""

    def __init__(self, spec, order):
        self.spec, self.order = spec, order

    def __reduce__(self):
        return (dtype, (self.spec, False, True), (3, self.order, None, None, None, -1, -1, 0))


dtype.__module__ = "numpy"
np.dtype = dtype


def scalar(dt, raw):  # never called here; only its name is pickled
    raise NotImplementedError


scalar.__module__ = "numpy.core.multiarray"
np_multiarray.scalar = scalar


def _reconstruct(cls, shape, typecode):  # numpy.ndarray's reduction
    raise NotImplementedError


_reconstruct.__module__ = "numpy.core.multiarray"
np_multiarray._reconstruct = _reconstruct


class ndarray:
    pass


ndarray.__module__ = "numpy"
np.ndarray = ndarray

F4, F8, F8BIG, B1 = dtype("f4", "<"), dtype("f8", "<"), dtype("f8", ">"), dtype("b1", "|")


class Scalar:
    """Pickles like a numpy scalar of dtype dt holding raw."""

    def __init__(self, dt, raw):
        self.dt, self.raw = dt, raw

    def __reduce__(self):
        return (scalar, (self.dt, self.raw))


def f32(x):
    return Scalar(F4, struct.pack("<f", x))


def f64(x):
    return Scalar(F8, struct.pack("<d", x))


def f64big(x):
    return Scalar(F8BIG, struct.pack(">d", x))


def bool_(x):
    return Scalar(B1, bytes([1 if x else 0]))


class Logits:
    """Pickles like a float32 numpy array: what the final output's conf may hold."""

    def __init__(self, values):
        self.values = values

    def __reduce__(self):
        raw = struct.pack("<%df" % len(self.values), *self.values)
        return (_reconstruct, (ndarray, (0,), b"b"), (1, (len(self.values),), F4, False, raw))


# --- stand-in profiler.Profile ----------------------------------------------

profiler = module("profiler")


class Profile:
    """The fields of the artifact's profiling/profiler.py Profile."""

    def __init__(self, name, full_name, type, fwd, up, children=(), orig=None):
        self.name = name
        self.full_name = full_name
        self.type = type
        self.depth = full_name.count(".") + (0 if full_name == "model" else 1)
        self.num_params = 10
        self.num_params_pctg = None
        self.input_shape = [1, 4]
        self.output_shape = [1, 4]
        self.input_elem_bytes = 4
        self.output_elem_bytes = 4
        self.fwd_latency = fwd
        self.fwd_latency_orig = fwd if orig is None else orig
        self.fwd_latency_pctg = 0.0
        self.vanilla_latency_up_until_me = up
        self.ramp_latencies_up_until_me = []
        self.macs = 0.0
        self.macs_pctg = None
        self.fwd_flops = 0.0
        self.fwd_flops_pctg = None
        self.children = list(children)


Profile.__module__ = "profiler"
profiler.Profile = Profile


def dump(name, obj, protocol=4):
    with open(name, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)


# --- specs 3.1: batch_decisions ---------------------------------------------

# 8 requests; request 3 dropped; batches of 2, 1, 4 serve the other 7.
schedule = {
    "batching_decision": [2, 1, 4],
    "per_request_stats": [
        (0.5, 2.0), (0.25, 2.0), (1.0, 1.5), None,
        (0.0, 3.0), (0.75, 3.0), (1.25, 3.0), (2.5, 3.0),
    ],
    "total_num_requests": 8,
    "batching_scheme": "clockwork",
    "arch": "tiny",
    "dataset": "video",
    "slo": 30,
    "avg_qps": 30.0,
    "end_time": 12.5,
    "max_batch_size": 8,
    "batch_timeout_ms": 60,
    "max_enqueued_batches": 2,
}
dump("schedule.pickle", schedule)

missing = dict(schedule)
del missing["per_request_stats"]
dump("schedule_missing_key.pickle", missing)

# --- specs 3.2: bootstrap/simulation tables ---------------------------------

# R = 2 candidate ramps, N = 3 samples; index 2 is the final output.
dump("table.pickle", {
    "conf": [[0.5, 0.75, 1.0], [0.625, 0.875, 0.25], [None, None, None]],
    "acc": [[True, False, True], [False, True, True], [True, True, True]],
})

# numpy scalars: float32, float64 (both byte orders) and bool_, beside
# Python values; the final output's conf holds logits arrays.
numpy_table = {
    "conf": [
        [f32(0.5), f32(0.75), f32(0.125)],
        [f64(0.625), f64big(0.875), 0.25],
        [Logits([1.5, -1.5]), Logits([0.5, -0.5]), Logits([2.0, -2.0])],
    ],
    "acc": [
        [bool_(True), bool_(False), bool_(True)],
        [False, bool_(True), True],
        [True, True, True],
    ],
}
dump("table_numpy.pickle", numpy_table)
dump("table_numpy_p2.pickle", numpy_table, protocol=2)

dump("table_wrong_type.pickle", {
    "conf": [[0.5, 0.75, 1.0], [0.625, 0.875, "x"], [None, None, None]],
    "acc": [[True, False, True], [False, True, True], [True, True, True]],
})

# --- specs 3.3, 3.5: latency lists ------------------------------------------

dump("latency.pickle", [1.5, 2.25, 3, 4.125])
dump("latency_numpy.pickle", [f64(1.5), f32(2.25), 3.0])
dump("latency_p0.pickle", [1.5, 2.25], protocol=0)

# --- specs 3.4: profiles ----------------------------------------------------

# A three-layer model "tiny": layer0 (with a child fc), layer1, layer2 and a
# head. The early-exit model wraps layer0 and layer1 in BranchPoints whose
# branch_net is the ramp. At batch size b every latency is multiplied by b.


def vanilla(s):
    return Profile("model", "model", "Tiny", 6.5 * s, 6.5 * s, orig=6.75 * s, children=[
        Profile("layer0", "layer0", "Block", 1.0 * s, 1.0 * s, children=[
            Profile("fc", "layer0.fc", "Linear", 1.0 * s, 1.0 * s),
        ]),
        Profile("layer1", "layer1", "Linear", 2.0 * s, 3.0 * s),
        Profile("layer2", "layer2", "Linear", 3.0 * s, 6.0 * s),
        Profile("head", "head", "Linear", 0.5 * s, 6.5 * s),
    ])


def branch(name, fwd, up, ramp, s):
    return Profile(name, name, "BranchPoint", (fwd + ramp) * s, up * s, children=[
        Profile("branched_module", name + ".branched_module", "Linear", fwd * s, up * s),
        Profile("branch_net", name + ".branch_net", "Sequential", ramp * s, up * s, children=[
            Profile("0", name + ".branch_net.0", "Linear", ramp * s, up * s),
        ]),
    ])


def earlyexit(s):
    return Profile("model", "model", "TinyEE", 7.75 * s, 7.0 * s, orig=8.0 * s, children=[
        branch("layer0", 1.125, 1.125, 0.25, s),
        branch("layer1", 2.125, 3.25, 0.5, s),
        Profile("layer2", "layer2", "Linear", 3.25 * s, 6.5 * s),
        Profile("head", "head", "Linear", 0.5 * s, 7.0 * s),
    ])


for b in (1, 2, 4, 8, 16, 32, 64):
    protocol = 2 if b == 2 else 4
    dump("tiny_%d_profile.pickle" % b, vanilla(b), protocol)
    dump("tiny_%d_earlyexit_profile.pickle" % b, earlyexit(b), protocol)

# An early-exit profile without ramps, and one whose ramp lacks fwd_latency.
dump("noramps_1_earlyexit_profile.pickle", vanilla(1))
bad = earlyexit(1)
del bad.children[1].children[1].fwd_latency
dump("badramp_1_earlyexit_profile.pickle", bad)
