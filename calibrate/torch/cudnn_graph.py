"""cuDNN's fused attention through the cuDNN frontend's graph API, for hcpcal_torch.py.

PyTorch's SDPA asks cuDNN only for a top-left causal mask, so it cannot run the bottom-right
causal kernels Transformer Engine's all_gather CP runs (c queries against a gathered prefix of
the keys). cudnn_graph_sdpa.cpp builds those graphs with the cuDNN frontend (header-only,
NVIDIA/cudnn-frontend, fetched by get-cudnn-frontend.sh) the way TE sets the mask: diagonal
alignment BOTTOM_RIGHT, right bound 0. This module compiles it on first use against the cuDNN
library PyTorch has loaded (the same libcudnn.so.9 in the same process), and wraps it as an
autograd function on PyTorch tensors, stream and allocator, so that hcpcal_torch's timing and
checks run it exactly as they run SDPA.
"""
import ctypes
import hashlib
import json
import os
import re
import shutil
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "cudnn_graph_sdpa.cpp")
VERSION_SCRIPT = os.path.join(HERE, "cudnn_graph_sdpa.map")  # exports hcpcal_sdpa_* alone
DEFAULT_FRONTEND = os.path.join(HERE, "third_party", "cudnn-frontend")
MASKS = {"none": 0, "causal": 1, "causal_bottom_right": 2}
IMPLEMENTATIONS = {"composite": 0, "unified": 1, "auto": 2}


class GraphUnavailable(Exception):
    """The graph path cannot be built or loaded here; the message says why and what to do."""


class _Shape(ctypes.Structure):  # HcpcalSdpaShape in cudnn_graph_sdpa.cpp, field by field
    _fields_ = [(n, ctypes.c_int64) for n in ("batch", "heads_q", "heads_kv", "sq", "skv", "head_dim")] + \
               [(n, ctypes.c_int64 * 4) for n in ("q_stride", "k_stride", "v_stride", "o_stride",
                                                   "do_stride", "dq_stride", "dk_stride", "dv_stride")] + \
               [("mask", ctypes.c_int32), ("backward", ctypes.c_int32), ("implementation", ctypes.c_int32),
                ("scale", ctypes.c_float)]


def loaded_cudnn_library():
    """The libcudnn.so.9 this process has mapped (PyTorch's), from /proc/self/maps; None if none."""
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if re.fullmatch(r"libcudnn\.so(\.\d+)*", os.path.basename(path)):
                    return os.path.realpath(path)
    except OSError:
        pass
    return None


def header_defines(path, names):
    """The integer values of `#define NAME <digits>` for each of `names` in the header at `path`;
    None when the file cannot be read or any of them is missing."""
    try:
        text = open(path).read()
    except OSError:
        return None
    found = [re.search(rf"#define {n}\s+(\d+)", text) for n in names]
    return tuple(int(m.group(1)) for m in found) if all(found) else None


def header_version(include_dir):
    """cuDNN's (major, minor, patch) from cudnn_version.h, or None."""
    return header_defines(os.path.join(include_dir, "cudnn_version.h"),
                          ("CUDNN_MAJOR", "CUDNN_MINOR", "CUDNN_PATCHLEVEL"))


def frontend_version(frontend_dir):
    """The cuDNN frontend's "major.minor.patch", or None."""
    v = header_defines(os.path.join(frontend_dir, "include", "cudnn_frontend_version.h"),
                       tuple(f"CUDNN_FRONTEND_{k}_VERSION" for k in ("MAJOR", "MINOR", "PATCH")))
    return ".".join(map(str, v)) if v else None


def cuda_runtime_major(include_dir):
    """CUDA's major version from cuda_runtime_api.h (CUDART_VERSION 13000 -> 13), or None."""
    v = header_defines(os.path.join(include_dir, "cuda_runtime_api.h"), ("CUDART_VERSION",))
    return v[0] // 1000 if v else None


def _cuda_home(torch):
    try:
        from torch.utils.cpp_extension import CUDA_HOME
        if CUDA_HOME:
            return CUDA_HOME
    except Exception:
        pass
    return os.environ.get("CUDA_HOME", "/usr/local/cuda")


def build_library(torch, frontend_dir, build_dir, log):
    """Compile cudnn_graph_sdpa.cpp (unless an up-to-date build is there) and return its path and
    a description of what it was built against. Raises GraphUnavailable."""
    fe_include = os.path.join(frontend_dir, "include")
    if not os.path.isfile(os.path.join(fe_include, "cudnn_frontend.h")):
        raise GraphUnavailable(f"no cuDNN frontend headers at {fe_include} (run calibrate/torch/get-cudnn-frontend.sh, "
                               "or pass --cudnn-frontend DIR)")
    torch.backends.cudnn.version()  # makes sure PyTorch has loaded its cuDNN
    lib = loaded_cudnn_library()
    if not lib:
        raise GraphUnavailable("PyTorch has no libcudnn.so loaded in this process")
    runtime = torch.backends.cudnn.version()
    cuda_home = _cuda_home(torch)
    lib_dir = os.path.dirname(lib)
    candidates = [os.path.join(os.path.dirname(lib_dir), "include"), os.path.join(cuda_home, "include"),
                  "/usr/include/x86_64-linux-gnu", "/usr/include"]
    include = next((d for d in candidates if header_version(d)), None)
    if not include:
        raise GraphUnavailable(f"no cudnn_version.h in {candidates}")
    hv = header_version(include)
    if hv[0] * 10000 + hv[1] * 100 + hv[2] > runtime:
        raise GraphUnavailable(f"cuDNN headers {'.'.join(map(str, hv))} at {include} are newer than the runtime "
                               f"PyTorch loaded ({runtime}, {lib}); install headers of that version")
    cuda_lib = next((d for d in (os.path.join(cuda_home, "lib64"), os.path.join(cuda_home, "lib"))
                     if os.path.isfile(os.path.join(d, "libnvrtc.so"))), None)
    if not cuda_lib:
        raise GraphUnavailable(f"no libnvrtc.so under {cuda_home}/lib64 (the CUDA toolkit; set CUDA_HOME)")
    toolkit = cuda_runtime_major(os.path.join(cuda_home, "include"))
    torch_cuda = int(str(torch.version.cuda).split(".")[0]) if torch.version.cuda else None
    if toolkit != torch_cuda:  # the library's libcudart.so.<major> must be the one PyTorch loaded
        raise GraphUnavailable(f"the CUDA toolkit at {cuda_home} is CUDA {toolkit}, PyTorch runs CUDA {torch_cuda}: "
                               "set CUDA_HOME to a toolkit of PyTorch's major version")
    cxx = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if not cxx:
        raise GraphUnavailable("no C++ compiler (g++) on PATH")
    # hidden by default, bound to itself: PyTorch's libtorch_cuda carries an older copy of the same
    # header-only frontend, whose exported inline functions would otherwise replace ours
    cmd = [cxx, "-O2", "-std=c++17", "-shared", "-fPIC", "-fvisibility=hidden", "-fvisibility-inlines-hidden",
           "-Wl,-Bsymbolic", f"-Wl,--version-script={VERSION_SCRIPT}", SOURCE, f"-I{fe_include}", f"-I{include}",
           f"-I{os.path.join(cuda_home, 'include')}", f"-L{lib_dir}", f"-l:{os.path.basename(lib)}",
           f"-Wl,-rpath,{lib_dir}",
           # the frontend's own code calls the CUDA runtime, and NVRTC for its open-source engines
           # (never asked for here); the process's libcudart (PyTorch's: the same major version,
           # checked above, so the same soname) serves it
           f"-L{cuda_lib}", "-lcudart", "-lnvrtc", f"-Wl,-rpath,{cuda_lib}"]
    desc = {"cudnn_library": lib, "cudnn_headers": include, "cudnn_header_version": ".".join(map(str, hv)),
            "cudnn_frontend": frontend_version(frontend_dir), "compiler": cxx}
    stamp = hashlib.sha256((open(SOURCE).read() + open(VERSION_SCRIPT).read() + json.dumps(cmd) + json.dumps(desc)).encode()).hexdigest()[:16]
    out = os.path.join(build_dir, f"libhcpcal_cudnn_graph-{stamp}.so")
    if not os.path.isfile(out):
        os.makedirs(build_dir, exist_ok=True)
        log(f"# cudnn graph: compiling {os.path.basename(SOURCE)} against {lib} (cuDNN frontend "
            f"{desc['cudnn_frontend']}; about 30 s, once)")
        tmp = out + f".{os.getpid()}.tmp"
        r = subprocess.run(cmd + ["-o", tmp], capture_output=True, text=True)
        if r.returncode != 0:
            raise GraphUnavailable(f"compiling {SOURCE} failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
        os.replace(tmp, out)
    desc["library"] = out
    return out, desc


class CudnnGraph:
    """One context of the compiled library: a cuDNN handle and its graphs, built once per shape."""

    def __init__(self, torch, library_path, implementation="composite"):
        self.torch = torch
        self.lib = ctypes.CDLL(library_path)
        self.lib.hcpcal_sdpa_create.restype = ctypes.c_void_p
        self.lib.hcpcal_sdpa_create.argtypes = [ctypes.c_char_p, ctypes.c_int]
        self.lib.hcpcal_sdpa_destroy.argtypes = [ctypes.c_void_p]
        self.lib.hcpcal_sdpa_versions.argtypes = [ctypes.POINTER(ctypes.c_int64)] * 2
        self.lib.hcpcal_sdpa_prepare.restype = ctypes.c_int64
        self.lib.hcpcal_sdpa_prepare.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Shape), ctypes.c_char_p, ctypes.c_int]
        self.lib.hcpcal_sdpa_run.restype = ctypes.c_int
        self.lib.hcpcal_sdpa_run.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Shape), ctypes.POINTER(ctypes.c_void_p),
                                             ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        self.err = ctypes.create_string_buffer(4096)
        self.ctx = self.lib.hcpcal_sdpa_create(self.err, len(self.err))
        if not self.ctx:
            raise GraphUnavailable(self.err.value.decode(errors="replace"))
        self.implementation = IMPLEMENTATIONS[implementation]
        self.workspace = {}  # shape bytes -> workspace bytes
        self.function = _make_function(torch)

    def __del__(self):
        ctx, self.ctx = getattr(self, "ctx", None), None
        if ctx and getattr(self, "lib", None) is not None:
            self.lib.hcpcal_sdpa_destroy(ctx)

    def versions(self):
        rt, fe = ctypes.c_int64(), ctypes.c_int64()
        self.lib.hcpcal_sdpa_versions(ctypes.byref(rt), ctypes.byref(fe))
        return {"cudnn_runtime": rt.value, "cudnn_frontend": fe.value}

    def attention(self, q, k, v, mask):
        """Attention on [b, h, s, d] views (bf16, head dim last and contiguous), autograd-aware."""
        return self.function.apply(q, k, v, self, MASKS[mask])

    def _run(self, shape, ptrs, device):
        key = bytes(shape)
        ws = self.workspace.get(key)
        if ws is None:
            ws = self.lib.hcpcal_sdpa_prepare(self.ctx, ctypes.byref(shape), self.err, len(self.err))
            if ws < 0:
                raise RuntimeError(self.err.value.decode(errors="replace"))
            self.workspace[key] = ws
        buf = self.torch.empty(max(ws, 1), dtype=self.torch.uint8, device=device)
        arr = (ctypes.c_void_p * len(ptrs))(*ptrs)
        stream = self.torch.cuda.current_stream(device).cuda_stream
        if self.lib.hcpcal_sdpa_run(self.ctx, ctypes.byref(shape), arr, buf.data_ptr(), stream, self.err,
                                    len(self.err)):
            raise RuntimeError(self.err.value.decode(errors="replace"))

    def _shape(self, q, k, mask, backward):
        b, hq, sq, d = q.shape
        return _Shape(batch=b, heads_q=hq, heads_kv=k.shape[1], sq=sq, skv=k.shape[2], head_dim=d, mask=mask,
                      backward=int(backward), implementation=self.implementation, scale=d ** -0.5)

    def forward(self, q, k, v, mask):
        t = self.torch
        b, hq, sq, d = q.shape
        o = t.empty((b, sq, hq, d), dtype=q.dtype, device=q.device).transpose(1, 2)  # bshd, as TE
        stats = t.empty((b, hq, sq, 1), dtype=t.float32, device=q.device)
        s = self._shape(q, k, mask, False)
        for name, x in (("q_stride", q), ("k_stride", k), ("v_stride", v), ("o_stride", o)):
            getattr(s, name)[:] = x.stride()
        self._run(s, [q.data_ptr(), k.data_ptr(), v.data_ptr(), o.data_ptr(), stats.data_ptr()], q.device)
        return o, stats

    def backward(self, q, k, v, o, do, stats, mask):
        t = self.torch
        if do.stride(-1) != 1:
            do = do.contiguous()
        dq = t.empty((q.shape[0], q.shape[2], q.shape[1], q.shape[3]), dtype=q.dtype, device=q.device).transpose(1, 2)
        dk = t.empty((k.shape[0], k.shape[2], k.shape[1], k.shape[3]), dtype=k.dtype, device=k.device).transpose(1, 2)
        dv = t.empty((v.shape[0], v.shape[2], v.shape[1], v.shape[3]), dtype=v.dtype, device=v.device).transpose(1, 2)
        s = self._shape(q, k, mask, True)
        for name, x in (("q_stride", q), ("k_stride", k), ("v_stride", v), ("o_stride", o), ("do_stride", do),
                        ("dq_stride", dq), ("dk_stride", dk), ("dv_stride", dv)):
            getattr(s, name)[:] = x.stride()
        self._run(s, [q.data_ptr(), k.data_ptr(), v.data_ptr(), o.data_ptr(), do.data_ptr(), stats.data_ptr(),
                      dq.data_ptr(), dk.data_ptr(), dv.data_ptr()], q.device)
        return dq, dk, dv


def _make_function(torch):
    class GraphAttention(torch.autograd.Function):
        """Forward keeps O and the softmax stats, as cuDNN's training forward; backward is cuDNN's."""

        @staticmethod
        def forward(ctx, q, k, v, graph, mask):
            o, stats = graph.forward(q, k, v, mask)
            ctx.save_for_backward(q, k, v, o, stats)
            ctx.graph, ctx.mask = graph, mask
            return o

        @staticmethod
        def backward(ctx, do):
            q, k, v, o, stats = ctx.saved_tensors
            dq, dk, dv = ctx.graph.backward(q, k, v, o, do, stats, ctx.mask)
            return dq, dk, dv, None, None

    return GraphAttention
