#!/usr/bin/env python3
"""Independent PyTorch reference of the MLung-Sys inference contract.

The contract is docs/spec (shared/spec/mlung-sys.md): this file implements all of it, in
plain, readable PyTorch, so that the Swift engine in Sources/Model can be checked against
it.  It is DEVELOPMENT TOOLING ONLY: the shipped program and its tests never run Python;
they read the fixtures that tools/make_model_fixtures.py writes with this module.

Sections of the spec and where they live here:
  1 preprocessing ........... hu_from_raw, preprocess_slice, window_normalize
  2 slice network ........... Bottleneck, Backbone, SliceNet, slice_four_class
  3 patient network ......... RefineLayer, Aggregate, PatientNet
  4 non-parametric .......... assess_nonparametric
  5 weight file ............. Config, expected_shapes, load_weights, save_weights,
                              read_safetensors, network_digests
  everything together ....... run_model

Command line (for poking at files by hand):
  python tools/mlung_ref.py digests WEIGHTS
  python tools/mlung_ref.py run WEIGHTS INPUT.safetensors [OUT.safetensors]
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import scipy.ndimage as ndi
import torch
import torch.nn as nn
import torch.nn.functional as F

# --------------------------------------------------------------------------------------
# Section 5: configuration
# --------------------------------------------------------------------------------------

FORMAT_NAME = "mlung-sys"
FORMAT_VERSION = "1"
DEFAULT_CLASSES = ["healthy", "covid19", "h1n1", "cap"]
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
BN_EPS = 1e-5
COS_EPS = 1e-8


@dataclass
class Config:
    """Every key of the weight file's `config`, with the spec's defaults (section 5)."""

    input_size: int = 224
    window_width: float = 1200
    window_centers: List[float] = field(default_factory=lambda: [-600, -500])
    lung_threshold_hu: float = -320
    opening_kernel: int = 5
    crop_margin: int = 10
    min_component_fraction: float = 0.0025
    stem_width: int = 64
    stage_blocks: List[int] = field(default_factory=lambda: [3, 4, 6, 3])
    stage_widths: List[int] = field(default_factory=lambda: [64, 128, 256, 512])
    expansion: int = 4
    reduced_dim: int = 512
    heads: int = 8
    scales: List[int] = field(default_factory=lambda: [1, 2, 3, 4])
    refine_layers: int = 2
    nonparam_tau: float = 0.95

    # Derived sizes.
    @property
    def c3(self) -> int:
        return self.expansion * self.stage_widths[2]

    @property
    def c4(self) -> int:
        return self.expansion * self.stage_widths[3]

    @property
    def feature_dim(self) -> int:
        return self.c3 + self.c4

    @classmethod
    def from_dict(cls, d: Optional[dict]) -> "Config":
        """Missing keys take their default; an unknown key is an error (a typo would
        otherwise silently fall back to a default)."""
        d = dict(d or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise WeightFileError(f"invalid config: unknown key '{unknown[0]}'")
        cfg = cls(**d)
        cfg.validate()
        return cfg

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def validate(self) -> None:
        def need(cond, msg):
            if not cond:
                raise WeightFileError(f"invalid config: {msg}")

        need(self.input_size >= 32, "input_size must be at least 32")
        need(self.window_width > 0, "window_width must be positive")
        need(len(self.window_centers) >= 1, "window_centers must not be empty")
        need(self.opening_kernel >= 1, "opening_kernel must be at least 1")
        need(self.crop_margin >= 0, "crop_margin must not be negative")
        need(len(self.stage_blocks) == 4 and min(self.stage_blocks) >= 1, "stage_blocks: 4 positive ints")
        need(len(self.stage_widths) == 4 and min(self.stage_widths) >= 1, "stage_widths: 4 positive ints")
        need(self.reduced_dim >= 1 and self.heads >= 1 and self.reduced_dim % self.heads == 0,
             "reduced_dim must be a positive multiple of heads")
        need(len(self.scales) >= 1 and min(self.scales) >= 1, "scales must be positive ints")
        need(self.refine_layers >= 0, "refine_layers must not be negative")


DEFAULT_CONFIG = Config().to_dict()


class WeightFileError(ValueError):
    """A weight file that is not a valid MLung-Sys file (message names the problem)."""


# --------------------------------------------------------------------------------------
# Section 1: preprocessing of one axial slice
# --------------------------------------------------------------------------------------

def hu_from_raw(raw: np.ndarray, slope: float = 1.0, intercept: float = 0.0,
                padding_value: Optional[float] = None) -> np.ndarray:
    """Step 1. Computed in float64, rounded once to float32, clamped to [-1024, 3071].
    PixelPaddingValue is compared with the stored (raw) value."""
    raw = np.asarray(raw)
    hu = raw.astype(np.float64) * float(slope) + float(intercept)
    if padding_value is not None:
        hu[raw == padding_value] = -1024.0
    return np.clip(hu, -1024.0, 3071.0).astype(np.float32)


def _opening(mask: np.ndarray, k: int) -> np.ndarray:
    return ndi.binary_opening(mask, structure=np.ones((k, k), dtype=bool), border_value=0)


def lung_mask(hu2d: np.ndarray, cfg: Config) -> np.ndarray:
    """Steps 2-5: the final lung mask used for the crop box."""
    rows, cols = hu2d.shape
    m = hu2d < np.float32(cfg.lung_threshold_hu)                          # step 2
    m = _opening(m, cfg.opening_kernel)                                    # step 3
    labels, n = ndi.label(m, structure=np.ones((3, 3), dtype=int))         # step 4
    keep = np.zeros(n + 1, dtype=bool)
    if n > 0:
        sizes = np.bincount(labels.ravel(), minlength=n + 1)
        border = np.unique(np.concatenate([labels[0, :], labels[-1, :], labels[:, 0], labels[:, -1]]))
        min_size = cfg.min_component_fraction * rows * cols
        keep[1:] = sizes[1:] >= min_size          # "smaller than" is dropped
        keep[border] = False
        keep[0] = False
    m = keep[labels]
    return _opening(m, cfg.opening_kernel)                                 # step 5


def preprocess_slice(hu2d: np.ndarray, cfg: Config) -> Tuple[np.ndarray, List[int], bool]:
    """Section 1 steps 2-7 on one HU slice (rows x cols).

    Returns (resized HU, S x S float32; crop box [row0, col0, row1, col1] inclusive;
    crop_failed).  The input is clamped to [-1024, 3071] first (the end of step 1), which is
    a no-op for the output of hu_from_raw."""
    hu = np.clip(np.asarray(hu2d, dtype=np.float32), -1024.0, 3071.0)
    rows, cols = hu.shape
    m = lung_mask(hu, cfg)
    rr, cc = np.nonzero(m)                                                 # step 6
    if rr.size == 0:
        box, failed = [0, 0, rows - 1, cols - 1], True
    else:
        g = cfg.crop_margin
        box = [max(int(rr.min()) - g, 0), max(int(cc.min()) - g, 0),
               min(int(rr.max()) + g, rows - 1), min(int(cc.max()) + g, cols - 1)]
        failed = False
    crop = hu[box[0]:box[2] + 1, box[1]:box[3] + 1]
    S = cfg.input_size                                                     # step 7
    t = torch.from_numpy(np.ascontiguousarray(crop))[None, None]
    resized = F.interpolate(t, size=(S, S), mode="bilinear", align_corners=False, antialias=False)
    return resized[0, 0].numpy().astype(np.float32), box, failed


def window_normalize(hu: torch.Tensor, cfg: Config) -> torch.Tensor:
    """Steps 8-9 on resized HU [N, S, S] -> [W, N, 3, S, S] (one entry per window centre)."""
    hu = hu.to(torch.float32)
    w = float(cfg.window_width)
    mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=torch.float32).view(1, 3, 1, 1)
    out = []
    for c in cfg.window_centers:
        lo = float(c) - w / 2.0
        v = torch.clamp((hu - lo) / w, 0.0, 1.0)                           # step 8
        x = (v[:, None, :, :] - mean) / std                                # step 9
        out.append(x)
    return torch.stack(out, 0)


# --------------------------------------------------------------------------------------
# Section 2: slice network
# --------------------------------------------------------------------------------------

class Bottleneck(nn.Module):
    """torchvision's Bottleneck (v1.5: the stride is on the 3x3 conv)."""

    def __init__(self, inplanes: int, width: int, expansion: int, stride: int):
        super().__init__()
        out = width * expansion
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width, eps=BN_EPS)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width, eps=BN_EPS)
        self.conv3 = nn.Conv2d(width, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out, eps=BN_EPS)
        self.relu = nn.ReLU(inplace=False)
        # torchvision's rule: a projection when the stride or the channel count changes.
        if stride != 1 or inplanes != out:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, out, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out, eps=BN_EPS))
        else:
            self.downsample = None

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + identity)


def _make_stage(inplanes: int, width: int, expansion: int, blocks: int, stride: int) -> nn.Sequential:
    layers = [Bottleneck(inplanes, width, expansion, stride)]
    for _ in range(1, blocks):
        layers.append(Bottleneck(width * expansion, width, expansion, 1))
    return nn.Sequential(*layers)


class Backbone(nn.Module):
    """ResNet stem + 4 stages; layer4 takes C3 + 4 input channels ([F3, A, X, Y, R])."""

    def __init__(self, cfg: Config):
        super().__init__()
        e, w, b = cfg.expansion, cfg.stage_widths, cfg.stage_blocks
        self.conv1 = nn.Conv2d(3, cfg.stem_width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(cfg.stem_width, eps=BN_EPS)
        self.relu = nn.ReLU(inplace=False)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = _make_stage(cfg.stem_width, w[0], e, b[0], 1)
        self.layer2 = _make_stage(w[0] * e, w[1], e, b[1], 2)
        self.layer3 = _make_stage(w[1] * e, w[2], e, b[2], 2)
        self.layer4 = _make_stage(w[2] * e + 4, w[3], e, b[3], 2)

    def stem(self, x):
        return self.maxpool(self.relu(self.bn1(self.conv1(x))))


def cosine_map(w: torch.Tensor, feat: torch.Tensor) -> torch.Tensor:
    """(cos(w_b, feat[b, :, i, j]) + 1) / 2 for w [B, C], feat [B, C, H, W] -> [B, H, W];
    cos(a, b) = a.b / max(|a| |b|, 1e-8)."""
    dot = (w[:, :, None, None] * feat).sum(1)
    nw = torch.sqrt((w * w).sum(1))[:, None, None]
    nf = torch.sqrt((feat * feat).sum(1))
    return (dot / torch.clamp(nw * nf, min=COS_EPS) + 1.0) / 2.0


def coordinate_maps(h: int, w: int, dtype=torch.float32) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """X, Y, R on an h x w grid (spec section 2 step 4). A side of length 1 (impossible with
    input_size >= 32) would divide by zero; this reference then uses 0 there."""
    j = torch.arange(w, dtype=dtype)
    i = torch.arange(h, dtype=dtype)
    xs = -1.0 + 2.0 * j / (w - 1) if w > 1 else torch.zeros(w, dtype=dtype)
    ys = -1.0 + 2.0 * i / (h - 1) if h > 1 else torch.zeros(h, dtype=dtype)
    X = xs[None, :].expand(h, w)
    Y = ys[:, None].expand(h, w)
    R = torch.sqrt(X * X + Y * Y) / math.sqrt(2.0)
    return X, Y, R


class SliceNet(nn.Module):
    """One window pass: normalised x [B, 3, S, S] -> lesion_logits [B,2], class_logits [B,4],
    f [B, C3+C4], L [B, H3, W3] (and the intermediates when debug=True)."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.backbone = Backbone(cfg)
        self.lesion_head = nn.Linear(cfg.c3, 2)
        self.class_head = nn.Linear(cfg.c4, 4)

    def to_layer3(self, x):
        """Step 1: returns (stem, layer1, layer2, F3)."""
        bb = self.backbone
        stem = bb.stem(x)
        l1 = bb.layer1(stem)
        l2 = bb.layer2(l1)
        return stem, l1, l2, bb.layer3(l2)

    def from_layer3(self, F3):
        """Steps 2-8 from F3 [B, C3, H3, W3]."""
        B, C3, H3, W3 = F3.shape
        g3 = F3.mean(dim=(2, 3))                                            # step 2
        wl = self.lesion_head.weight
        lesion_logits = F.linear(g3, wl, self.lesion_head.bias)
        chat_is_1 = lesion_logits[:, 1] > lesion_logits[:, 0]              # step 3: ties -> 0
        w_chat = torch.where(chat_is_1[:, None], wl[1][None, :], wl[0][None, :])
        A = cosine_map(w_chat, F3)
        X, Y, R = coordinate_maps(H3, W3, dtype=F3.dtype)                   # step 4
        coords = torch.stack([X, Y, R], 0)[None].expand(B, 3, H3, W3)
        F4 = self.backbone.layer4(torch.cat([F3, A[:, None], coords], 1))   # step 5
        g4 = F4.mean(dim=(2, 3))                                            # step 6
        class_logits = F.linear(g4, self.class_head.weight, self.class_head.bias)
        f = torch.cat([g3, g4], 1)                                          # step 7
        L = cosine_map(wl[1][None, :].expand(B, C3), F3)                    # step 8
        return {"lesion_logits": lesion_logits, "class_logits": class_logits, "f": f, "L": L,
                "A": A, "F4": F4}

    def forward(self, x, debug: bool = False):
        stem, l1, l2, F3 = self.to_layer3(x)
        out = self.from_layer3(F3)
        if debug:
            out.update({"x": x, "stem": stem, "layer1": l1, "layer2": l2, "F3": F3})
        else:
            del out["A"], out["F4"]
        return out


def slice_four_class(p: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Appendix A: q0 = p0, qc = p1 * rc / (r1 + r2 + r3). p [N,2], r [N,4] -> q [N,4]."""
    p = np.asarray(p)
    r = np.asarray(r)
    denom = r[:, 1] + r[:, 2] + r[:, 3]
    q = np.empty((p.shape[0], 4), dtype=p.dtype)
    q[:, 0] = p[:, 0]
    for c in (1, 2, 3):
        q[:, c] = p[:, 1] * r[:, c] / denom
    return q


# --------------------------------------------------------------------------------------
# Section 3: patient network
# --------------------------------------------------------------------------------------

class RefineLayer(nn.Module):
    def __init__(self, D: int, d: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(D, d)
        self.k = nn.Linear(D, d)
        self.v = nn.Linear(D, d)
        self.o = nn.Linear(d, D)

    def forward(self, X):                     # X [n, D]
        n = X.shape[0]
        d = self.q.out_features
        dh = d // self.heads
        Q = self.q(X).view(n, self.heads, dh).transpose(0, 1)          # [h, n, dh]
        K = self.k(X).view(n, self.heads, dh).transpose(0, 1)
        V = self.v(X).view(n, self.heads, dh).transpose(0, 1)
        att = torch.softmax(Q @ K.transpose(1, 2) / math.sqrt(dh), dim=-1)  # over keys
        Hc = (att @ V).transpose(0, 1).reshape(n, d)                    # heads back in order
        return X + self.o(Hc)


class Aggregate(nn.Module):
    def __init__(self, D: int, d: int):
        super().__init__()
        self.query = nn.Parameter(torch.zeros(1, d))
        self.k = nn.Linear(D, d)
        self.v = nn.Linear(D, d)

    def forward(self, X):                     # X [n, D] -> z [d]
        d = self.query.shape[1]
        K = self.k(X)
        V = self.v(X)
        a = torch.softmax(self.query @ K.t() / math.sqrt(d), dim=-1)   # [1, n], over slices
        return (a @ V)[0]


class PatientNet(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        D, d = cfg.feature_dim, cfg.reduced_dim
        self.scales = list(cfg.scales)
        self.refine = nn.ModuleList([RefineLayer(D, d, cfg.heads) for _ in range(cfg.refine_layers)])
        self.aggregate = Aggregate(D, d)
        self.fuse = nn.Linear(d * sum(cfg.scales), d)
        self.classifier = nn.Linear(d, 4)

    @staticmethod
    def parts(N: int, s: int) -> List[Tuple[int, int]]:
        return [((i * N) // s, ((i + 1) * N) // s) for i in range(s)]

    def forward(self, X):                     # X [N, D] -> logits [4]
        N = X.shape[0]
        if N < max(self.scales):
            raise ValueError(f"a series of {N} slices is shorter than the largest scale {max(self.scales)}")
        zs = []
        for s in self.scales:
            for a, b in self.parts(N, s):
                part = X[a:b]
                for layer in self.refine:
                    part = layer(part)
                zs.append(self.aggregate(part))
        u = F.relu(self.fuse(torch.cat(zs, 0)))
        return self.classifier(u)


class MLungSys(nn.Module):
    """Both networks; state_dict() names are exactly the weight file's tensor names
    (plus num_batches_tracked, which files may omit)."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.slice_net = SliceNet(cfg)
        self.patient = PatientNet(cfg)

    # Flatten slice_net's names so they read backbone.*, lesion_head.*, class_head.*.
    def named_weights(self, with_num_batches_tracked: bool = False) -> Dict[str, torch.Tensor]:
        out = {}
        for k, v in self.slice_net.state_dict().items():
            out[k] = v
        for k, v in self.patient.state_dict().items():
            out["patient." + k] = v
        if not with_num_batches_tracked:
            out = {k: v for k, v in out.items() if not k.endswith("num_batches_tracked")}
        return out

    def load_named_weights(self, tensors: Dict[str, torch.Tensor]) -> None:
        sd_slice = {k: v for k, v in tensors.items() if not k.startswith("patient.")}
        sd_pat = {k[len("patient."):]: v for k, v in tensors.items() if k.startswith("patient.")}
        missing, unexpected = self.slice_net.load_state_dict(sd_slice, strict=False)
        missing = [k for k in missing if not k.endswith("num_batches_tracked")]
        if missing or unexpected:
            raise WeightFileError(f"state dict mismatch: missing {missing[:3]}, unexpected {unexpected[:3]}")
        self.patient.load_state_dict(sd_pat, strict=True)


def expected_shapes(cfg: Config) -> Dict[str, Tuple[int, ...]]:
    """Every tensor a weight file of this config must hold (without num_batches_tracked)."""
    m = MLungSys(cfg)
    return {k: tuple(v.shape) for k, v in m.named_weights().items()}


# --------------------------------------------------------------------------------------
# Section 4: non-parametric patient assessment
# --------------------------------------------------------------------------------------

def assess_nonparametric(q: np.ndarray, tau: float) -> Tuple[np.ndarray, int]:
    """q [N, 4] -> (scores s0..s3 float32, prediction)."""
    q = np.asarray(q, dtype=np.float32)
    pred = np.argmax(q, axis=1)                    # ties: lowest index
    N = q.shape[0]
    H = float(np.sum(pred == 0)) / N
    sick = pred != 0
    if np.any(sick):
        m = q[sick][:, 1:4].astype(np.float64).mean(axis=0)
    else:
        m = np.full(3, 1.0 / 3.0)
    s = np.empty(4, dtype=np.float64)
    s[0] = H
    s[1:] = (1.0 - H) * m / m.sum()
    if H >= tau:
        p = 0
    else:
        p = 1 + int(np.argmax(s[1:]))
    return s.astype(np.float32), p


# --------------------------------------------------------------------------------------
# Section 5: weight file (safetensors)
# --------------------------------------------------------------------------------------

DTYPE_SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2,
               "I8": 1, "U8": 1, "BOOL": 1}
FLOAT_DTYPES = ("F32", "F16", "BF16")


@dataclass
class SafetensorsFile:
    header: dict                 # name -> {"dtype", "shape", "data_offsets"} (no __metadata__)
    metadata: dict               # __metadata__ (strings)
    data: bytes                  # the data section, as stored

    def raw(self, name: str) -> bytes:
        b, e = self.header[name]["data_offsets"]
        return self.data[b:e]

    def array(self, name: str) -> np.ndarray:
        """One tensor as stored, converted to float32 for F32/F16/BF16."""
        info = self.header[name]
        raw, shape, dt = self.raw(name), tuple(info["shape"]), info["dtype"]
        if dt == "F32":
            a = np.frombuffer(raw, dtype="<f4")
        elif dt == "F16":
            a = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        elif dt == "BF16":
            a = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        elif dt == "I64":
            a = np.frombuffer(raw, dtype="<i8")
        elif dt == "I32":
            a = np.frombuffer(raw, dtype="<i4")
        else:
            raise WeightFileError(f"tensor '{name}' has unsupported dtype {dt}")
        return a.reshape(shape).copy()


def read_safetensors(path_or_bytes) -> SafetensorsFile:
    """Parses the container by hand (no library), checking every structural rule."""
    buf = path_or_bytes if isinstance(path_or_bytes, (bytes, bytearray)) else Path(path_or_bytes).read_bytes()
    if len(buf) < 8:
        raise WeightFileError(f"file is {len(buf)} bytes, shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", buf[:8])
    if n > len(buf) - 8:
        raise WeightFileError(f"header length {n} exceeds the {len(buf) - 8} bytes after the length field")
    try:
        hdr = json.loads(buf[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise WeightFileError(f"header is not valid JSON ({e})") from None
    if not isinstance(hdr, dict):
        raise WeightFileError("header is not a JSON object")
    meta = hdr.pop("__metadata__", {}) or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise WeightFileError("__metadata__ must map strings to strings")
    data = bytes(buf[8 + n:])
    for name, info in hdr.items():
        try:
            dt, shape, (b, e) = info["dtype"], list(info["shape"]), info["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise WeightFileError(f"tensor '{name}' lacks dtype, shape or data_offsets") from None
        if dt not in DTYPE_SIZES:
            raise WeightFileError(f"tensor '{name}' has unknown dtype {dt}")
        if not (isinstance(b, int) and isinstance(e, int) and 0 <= b <= e <= len(data)):
            raise WeightFileError(f"tensor '{name}' has data_offsets {[b, e]} outside the {len(data)} data bytes")
        need = int(np.prod(shape, dtype=np.int64)) * DTYPE_SIZES[dt]
        if e - b != need:
            raise WeightFileError(f"tensor '{name}' holds {e - b} bytes, but {dt} {shape} needs {need}")
    return SafetensorsFile(hdr, meta, data)


def write_safetensors(path, tensors: Dict[str, Tuple[str, List[int], bytes]], metadata: Optional[dict]) -> None:
    """Writes name -> (dtype, shape, raw bytes) in name order, header padded with spaces to a
    multiple of 8 (as the safetensors library does)."""
    header, chunks, off = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        dt, shape, raw = tensors[name]
        header[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [off, off + len(raw)]}
        chunks.append(raw)
        off += len(raw)
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(hb)) + hb + b"".join(chunks))


def tensor_bytes(t: torch.Tensor, dtype: str) -> bytes:
    """Raw little-endian bytes of t converted to the given safetensors float dtype."""
    t = t.detach().cpu().contiguous()
    if dtype == "F32":
        return t.to(torch.float32).numpy().astype("<f4").tobytes()
    if dtype == "F16":
        return t.to(torch.float16).numpy().astype("<f2").tobytes()
    if dtype == "BF16":
        return t.to(torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes()
    if dtype == "I64":
        return t.to(torch.int64).numpy().astype("<i8").tobytes()
    if dtype == "I32":
        return t.to(torch.int32).numpy().astype("<i4").tobytes()
    raise ValueError(dtype)


def make_metadata(cfg: Config, model_name: str, model_version: str,
                  classes: Optional[List[str]] = None, config_json: Optional[dict] = None) -> Dict[str, str]:
    """config_json: the (possibly partial) dict to store; default: every key of cfg."""
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "model_name": model_name,
        "model_version": model_version,
        "classes": json.dumps(classes or DEFAULT_CLASSES),
        "config": json.dumps(cfg.to_dict() if config_json is None else config_json, sort_keys=True),
    }


def save_weights(path, tensors: Dict[str, torch.Tensor], cfg: Config, model_name: str = "mlung-sys-test",
                 model_version: str = "0", dtype: str = "F32", classes: Optional[List[str]] = None,
                 config_json: Optional[dict] = None) -> None:
    """Saves float tensors in `dtype` (F32/F16/BF16); integer tensors (num_batches_tracked)
    are kept as I64 like PyTorch saves them."""
    out = {}
    for name, t in tensors.items():
        if t.is_floating_point():
            out[name] = (dtype, list(t.shape), tensor_bytes(t, dtype))
        else:
            out[name] = ("I64", list(t.shape), tensor_bytes(t, "I64"))
    write_safetensors(path, out, make_metadata(cfg, model_name, model_version, classes, config_json))


@dataclass
class LoadedWeights:
    cfg: Config
    tensors: Dict[str, torch.Tensor]          # float32, validated, no num_batches_tracked
    metadata: Dict[str, str]
    classes: List[str]


def load_weights(path) -> LoadedWeights:
    """Reads and validates an MLung-Sys weight file (section 5); errors name the problem."""
    st = read_safetensors(path)
    meta = st.metadata
    if meta.get("format") != FORMAT_NAME:
        raise WeightFileError(f"__metadata__ format is {meta.get('format')!r}, expected '{FORMAT_NAME}'")
    if meta.get("format_version") != FORMAT_VERSION:
        raise WeightFileError(f"format_version is {meta.get('format_version')!r}, expected '{FORMAT_VERSION}'")
    try:
        cfg_dict = json.loads(meta.get("config", "{}"))
        classes = json.loads(meta.get("classes", json.dumps(DEFAULT_CLASSES)))
    except json.JSONDecodeError as e:
        raise WeightFileError(f"invalid config or classes JSON ({e})") from None
    if not isinstance(cfg_dict, dict):
        raise WeightFileError("invalid config: not a JSON object")
    cfg = Config.from_dict(cfg_dict)
    expected = expected_shapes(cfg)
    tensors = {}
    for name in sorted(st.header):
        info = st.header[name]
        if name.endswith("num_batches_tracked"):
            continue                                   # may be present, ignored
        if name not in expected:
            raise WeightFileError(f"unexpected tensor '{name}'")
        if info["dtype"] not in FLOAT_DTYPES:
            raise WeightFileError(f"tensor '{name}' has dtype {info['dtype']}; expected F32, F16 or BF16")
        if tuple(info["shape"]) != expected[name]:
            raise WeightFileError(f"tensor '{name}' has shape {list(info['shape'])}, expected {list(expected[name])}")
        tensors[name] = torch.from_numpy(st.array(name))
    for name in expected:
        if name not in tensors:
            raise WeightFileError(f"missing tensor '{name}'")
    return LoadedWeights(cfg, tensors, meta, classes)


def _digest(st: SafetensorsFile, names: List[str]) -> str:
    h = hashlib.sha256()
    for name in sorted(names, key=lambda s: s.encode("utf-8")):
        info = st.header[name]
        raw = st.raw(name)
        h.update(name.encode("utf-8") + b"\x00")
        h.update(info["dtype"].encode("ascii") + b"\x00")
        h.update(",".join(str(int(x)) for x in info["shape"]).encode("ascii") + b"\x00")
        h.update(struct.pack("<Q", len(raw)))
        h.update(raw)
    return h.hexdigest()


def network_digests(path) -> Tuple[str, str]:
    """(slice-network digest, patient-network digest), lowercase hex SHA-256.

    For each tensor of the group, sorted by the byte-wise order of its UTF-8 name:
    name, 0x00, dtype as in the header ("F32"/"F16"/"BF16"), 0x00, shape as decimal integers
    joined by "," ("" for a scalar), 0x00, data byte length as u64 little-endian, then the raw
    data bytes as stored. Names ending in num_batches_tracked are left out. The slice group is
    every name not starting with "patient.", the patient group every name that does."""
    st = read_safetensors(path)
    names = [n for n in st.header if not n.endswith("num_batches_tracked")]
    slice_names = [n for n in names if not n.startswith("patient.")]
    patient_names = [n for n in names if n.startswith("patient.")]
    return _digest(st, slice_names), _digest(st, patient_names)


def file_sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------
# Everything together
# --------------------------------------------------------------------------------------

def build_model(lw: LoadedWeights, dtype=torch.float32) -> MLungSys:
    m = MLungSys(lw.cfg)
    m.load_named_weights(lw.tensors)
    return m.to(dtype).eval()


@torch.inference_mode()
def run_model_loaded(model: MLungSys, hu: np.ndarray, debug: bool = False,
                     dtype=torch.float32) -> dict:
    cfg = model.cfg
    hu_t = torch.as_tensor(np.asarray(hu, dtype=np.float32))
    if hu_t.ndim != 3 or hu_t.shape[1] != cfg.input_size or hu_t.shape[2] != cfg.input_size:
        raise ValueError(f"hu must be [N, {cfg.input_size}, {cfg.input_size}], got {list(hu_t.shape)}")
    N = hu_t.shape[0]
    if N < max(cfg.scales):
        raise ValueError(f"a series of {N} slices is shorter than the largest scale {max(cfg.scales)}")
    xs = window_normalize(hu_t, cfg).to(dtype)              # [W, N, 3, S, S]
    per_window = [model.slice_net(xs[w], debug=(debug and w == 0)) for w in range(xs.shape[0])]
    mean = lambda key_fn: torch.stack([key_fn(o) for o in per_window], 0).mean(0)
    p = mean(lambda o: torch.softmax(o["lesion_logits"], dim=1))
    r = mean(lambda o: torch.softmax(o["class_logits"], dim=1))
    f = mean(lambda o: o["f"])
    L = mean(lambda o: o["L"])
    q = slice_four_class(p.numpy(), r.numpy())
    slice_pred = np.argmax(q, axis=1).astype(np.int64)
    patient_logits = model.patient(f)
    patient_probs = torch.softmax(patient_logits, dim=0)
    s, np_pred = assess_nonparametric(q, cfg.nonparam_tau)
    out = {
        "lesion_probs": p.float().numpy(),
        "class_probs": r.float().numpy(),
        "slice_probs": np.asarray(q, dtype=np.float32),
        "slice_features": f.float().numpy(),
        "lesion_maps": L.float().numpy(),
        "patient_probs": patient_probs.float().numpy(),
        "patient_nonparam_probs": s,
        "slice_pred": slice_pred,
        "patient_pred": np.int64(int(torch.argmax(patient_probs))),   # first maximum
        "patient_nonparam_pred": np.int64(np_pred),
    }
    if debug:
        o = per_window[0]
        out["debug"] = {
            "debug.x": o["x"][0], "debug.stem": o["stem"][0], "debug.layer1": o["layer1"][0],
            "debug.layer2": o["layer2"][0], "debug.F3": o["F3"][0],
            "debug.lesion_logits": o["lesion_logits"][0], "debug.A": o["A"][0],
            "debug.F4": o["F4"][0], "debug.class_logits": o["class_logits"][0],
        }
        out["debug"] = {k: v.float().numpy().copy() for k, v in out["debug"].items()}
        out["debug_patient_logits"] = patient_logits.float().numpy()
    return out


def run_model(weights_path, hu: np.ndarray, threads: Optional[int] = None, debug: bool = False,
              dtype=torch.float32) -> dict:
    """Loads the weight file and runs the whole contract on hu [N, S, S] (already cropped and
    resized; section 1 steps 8-9 are applied here). Returns float32 numpy arrays lesion_probs,
    class_probs, slice_probs, slice_features, lesion_maps, patient_probs,
    patient_nonparam_probs, and int64 slice_pred, patient_pred, patient_nonparam_pred."""
    if threads is not None:
        torch.set_num_threads(int(threads))
    lw = load_weights(weights_path)
    return run_model_loaded(build_model(lw, dtype), hu, debug=debug, dtype=dtype)


OUTPUT_FLOAT_NAMES = ["lesion_probs", "class_probs", "slice_probs", "slice_features", "lesion_maps",
                      "patient_probs", "patient_nonparam_probs"]
OUTPUT_INT_NAMES = ["slice_pred", "patient_pred", "patient_nonparam_pred"]


def _main(argv: List[str]) -> int:
    if len(argv) >= 2 and argv[0] == "digests":
        s, p = network_digests(argv[1])
        print(json.dumps({"file_sha256": file_sha256(argv[1]), "slice": s, "patient": p}))
        return 0
    if len(argv) >= 3 and argv[0] == "run":
        st = read_safetensors(argv[2])
        out = run_model(argv[1], st.array("hu").astype(np.float32))
        for k in OUTPUT_FLOAT_NAMES + OUTPUT_INT_NAMES:
            v = np.asarray(out[k])
            print(k, list(v.shape), np.array2string(v.ravel()[:8], precision=5))
        if len(argv) >= 4:
            t = {k: ("F32", list(np.asarray(out[k]).shape), np.asarray(out[k], "<f4").tobytes())
                 for k in OUTPUT_FLOAT_NAMES}
            t.update({k: ("I32", list(np.atleast_1d(out[k]).shape), np.atleast_1d(out[k]).astype("<i4").tobytes())
                      for k in OUTPUT_INT_NAMES})
            write_safetensors(argv[3], t, None)
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
