#!/usr/bin/env python3
"""Builds Tests/Fixtures/dicom/: real DICOM files and the HU values pydicom reads from them.

Sources (never typed by hand):
  * pydicom's own test files (PyPI `pydicom`) and PyPI `pydicom-data` (module `data_store`):
    real CT, MR, NM and OT images in many transfer syntaxes, plus malformed ones;
  * CT_small.dcm transcoded with DCMTK's command-line tools (Debian `dcmtk`) into implicit VR,
    big endian, deflated, JPEG lossless, JPEG-LS and RLE;
  * truncated copies and a non-DICOM file for the error paths.

Expected values come from pydicom (with pylibjpeg, pylibjpeg-libjpeg, pylibjpeg-rle and
pyjpegls as its decoders, which are independent of DCMTK) followed by the spec's modality
transform, section 1 step 1: stored value = low BitsStored bits, sign-extended when
PixelRepresentation is 1; samples equal to PixelPaddingValue -> -1024; otherwise
float64(stored) * RescaleSlope + RescaleIntercept, rounded once to float32; clamped to
[-1024, 3071].

Outputs:
  Tests/Fixtures/dicom/files/*          the DICOM fixtures
  Tests/Fixtures/dicom/expected_hu.safetensors
      one tensor `hu.<id>` per decodable fixture, shape [frames, rows, cols], I16 when every
      value is an integer (always the case here), else F32
  Tests/Fixtures/dicom/expected.json    per fixture: file, status (ok | unsupported_syntax |
      unreadable), tensor name, transfer syntax, tolerance (0 except lossy JPEG), and header
      values as pydicom reads them

Run with the project venv:  /work/venv/bin/python tools/dicom_make_fixtures.py
Requires: pydicom, pydicom-data, pylibjpeg, pylibjpeg-libjpeg, pylibjpeg-rle, pyjpegls,
numpy, safetensors; the dcmtk command-line tools on PATH.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pydicom
from pydicom.data import get_testdata_file
from safetensors.numpy import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "dicom")
FILES = os.path.join(OUT, "files")

# (fixture id, source, origin): origin "pydicom" = pydicom test file, "data_store" = pydicom-data.
REAL = [
    ("ct_small_explicit_le", "CT_small.dcm", "pydicom"),
    ("ct_siemens_jpeg_lossless", "bad_sequence.dcm", "data_store"),
    ("ct_jpeg2000_lossy", "693_J2KI.dcm", "pydicom"),
    ("mr_small_explicit_le", "MR_small.dcm", "pydicom"),
    ("mr_small_implicit_le", "MR_small_implicit.dcm", "pydicom"),
    ("mr_small_explicit_be", "MR_small_bigendian.dcm", "pydicom"),
    ("mr_small_rle", "MR_small_RLE.dcm", "pydicom"),
    ("mr_small_jpeg_ls_lossless", "MR_small_jpeg_ls_lossless.dcm", "pydicom"),
    ("mr_small_jpeg2000_lossless", "MR_small_jp2klossless.dcm", "pydicom"),
    ("mr_small_truncated", "MR_truncated.dcm", "pydicom"),
    ("emri_multiframe_jpeg_ls", "emri_small_jpeg_ls_lossless.dcm", "data_store"),
    ("nm_jpeg_extended_lossy", "JPGExtended.dcm", "pydicom"),
    ("jpeg_ls_near_lossless_16", "JPEGLSNearLossless_16.dcm", "pydicom"),
    ("ot_deflated_8bit", "image_dfl.dcm", "pydicom"),
    ("rtplan_non_image", "rtplan.dcm", "pydicom"),
]

# CT_small.dcm transcoded by DCMTK's tools: (fixture id, command, transfer syntax name).
TRANSCODED = [
    ("ct_small_implicit_le", ["dcmconv", "+ti"]),
    ("ct_small_explicit_be", ["dcmconv", "+tb"]),
    ("ct_small_deflated", ["dcmconv", "+td"]),
    ("ct_small_jpeg_lossless", ["dcmcjpeg", "+e1"]),      # lossless, selection value 1
    ("ct_small_jpeg_ls_lossless", ["dcmcjpls", "+el"]),   # JPEG-LS lossless
    ("ct_small_rle", ["dcmcrle"]),
]

# Lossy JPEG decoders may differ in their IDCT: ISO/IEC 10918-2 lets a compliant decoder be
# off by one sample unit; allow 2 stored units (times |RescaleSlope|).
LOSSY_JPEG_TOLERANCE_UNITS = 2
LOSSY_JPEG_SYNTAXES = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51"}

HEADER_TAGS = [
    # (keyword, kind) kind: "string" (compared after strip) or "numbers" (DS/IS/US lists)
    ("SOPClassUID", "string"), ("SOPInstanceUID", "string"), ("Modality", "string"),
    ("PatientID", "string"), ("StudyInstanceUID", "string"), ("SeriesInstanceUID", "string"),
    ("ImageType", "string"), ("Manufacturer", "string"), ("ManufacturerModelName", "string"),
    ("ConvolutionKernel", "string"), ("BodyPartExamined", "string"), ("AcquisitionDate", "string"),
    ("SliceThickness", "numbers"), ("PixelSpacing", "numbers"), ("KVP", "numbers"),
    ("Exposure", "numbers"), ("XRayTubeCurrent", "numbers"), ("ImagePositionPatient", "numbers"),
    ("ImageOrientationPatient", "numbers"), ("Rows", "numbers"), ("Columns", "numbers"),
    ("InstanceNumber", "numbers"), ("RescaleSlope", "numbers"), ("RescaleIntercept", "numbers"),
]


def source_path(name, origin):
    if origin == "pydicom":
        return get_testdata_file(name)
    import data_store  # pydicom-data
    return os.path.join(os.path.dirname(data_store.__file__), "data", name)


def stored_values(ds):
    """Pixel samples as int64 [frames, rows, cols], masked to BitsStored, sign-extended."""
    arr = ds.pixel_array
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    arr = np.asarray(arr).reshape(frames, int(ds.Rows), int(ds.Columns)).astype(np.int64)
    bits = int(ds.BitsStored)
    mask = (1 << bits) - 1
    v = arr & mask
    if int(ds.PixelRepresentation) == 1:
        v = np.where(v & (1 << (bits - 1)), v - (1 << bits), v)
    return v


def stored_padding(ds):
    if "PixelPaddingValue" not in ds:
        return None
    p = int(ds.PixelPaddingValue)
    bits = int(ds.BitsStored)
    p &= (1 << bits) - 1
    if int(ds.PixelRepresentation) == 1 and p & (1 << (bits - 1)):
        p -= 1 << bits
    return p


def hu_from_dataset(ds):
    stored = stored_values(ds)
    slope = float(ds.get("RescaleSlope", 1) or 1) if "RescaleSlope" in ds else 1.0
    intercept = float(ds.get("RescaleIntercept", 0) or 0) if "RescaleIntercept" in ds else 0.0
    hu = stored.astype(np.float64) * slope + intercept
    pad = stored_padding(ds)
    if pad is not None:
        hu[stored == pad] = -1024.0
    hu = hu.astype(np.float32)
    return np.clip(hu, np.float32(-1024.0), np.float32(3071.0)), slope


def header_values(ds):
    out = {}
    for keyword, kind in HEADER_TAGS:
        if keyword not in ds:
            continue
        elem = ds[keyword]
        value = elem.value
        if value is None or value == "":
            continue
        if kind == "numbers":
            vals = list(value) if isinstance(value, (list, pydicom.multival.MultiValue)) else [value]
            try:
                out[keyword] = [float(v) for v in vals]
            except (TypeError, ValueError):
                continue
        else:
            if isinstance(value, (list, pydicom.multival.MultiValue)):
                value = "\\".join(str(v).strip() for v in value)
            out[keyword] = str(value).strip()
    return out


def write_synthetic_pydicom():
    """Small CT files written by pydicom (not DCMTK) that exercise BitsStored masking, sign
    extension from bit 11, PixelPaddingValue and a fractional rescale."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    rng = np.random.default_rng(3)
    out = []
    cases = [
        # id, PixelRepresentation, slope, intercept, padding (stored), value range
        ("synthetic_u12_highbits_padding", 0, 1.0, -1024.0, 4095, (0, 4096)),
        ("synthetic_s12_highbits_fractional", 1, 0.5, -100.5, -2000, (-2048, 2048)),
    ]
    for fid, pr, slope, intercept, padding, (lo, hi) in cases:
        rows, cols = 24, 20
        stored = rng.integers(lo, hi, size=(rows, cols), dtype=np.int64)
        stored[0, :5] = padding
        stored[5, 5] = lo
        stored[6, 6] = hi - 1
        words = (stored & 0x0FFF) | (rng.integers(0, 16, size=(rows, cols)) << 12)  # garbage above bit 11
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=[fid, "sop"])
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID = meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID = generate_uid(entropy_srcs=[fid, "study"])
        ds.SeriesInstanceUID = generate_uid(entropy_srcs=[fid, "series"])
        ds.Modality = "CT"
        ds.PatientID = fid
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.Rows, ds.Columns = rows, cols
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
        ds.PixelRepresentation = pr
        ds.RescaleSlope = f"{slope:g}"
        ds.RescaleIntercept = f"{intercept:g}"
        ds.PixelPaddingValue = padding
        ds["PixelPaddingValue"].VR = "SS" if pr else "US"
        ds.ImagePositionPatient = [0, 0, 0]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [0.5, 0.5]
        ds.PixelData = words.astype("<u2").tobytes()
        dst = f"{fid}.dcm"
        ds.save_as(os.path.join(FILES, dst), enforce_file_format=True)
        out.append((fid, dst))
    return out


def main():
    for tool in ("dcmconv", "dcmcjpeg", "dcmcjpls", "dcmcrle"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: apt-get install dcmtk")
    if os.path.isdir(FILES):
        shutil.rmtree(FILES)
    os.makedirs(FILES)

    fixtures = []  # (id, file name)
    for fid, name, origin in REAL:
        dst = f"{fid}.dcm"
        shutil.copyfile(source_path(name, origin), os.path.join(FILES, dst))
        fixtures.append((fid, dst, f"{origin}:{name}"))

    ct_small = source_path("CT_small.dcm", "pydicom")
    for fid, cmd in TRANSCODED:
        dst = f"{fid}.dcm"
        subprocess.run(cmd + [ct_small, os.path.join(FILES, dst)], check=True)
        fixtures.append((fid, dst, "dcmtk:" + " ".join(cmd) + " CT_small.dcm"))

    data = open(ct_small, "rb").read()
    malformed = [
        ("ct_small_cut_in_header", data[:700]),
        ("ct_small_cut_in_pixels", data[: len(data) - 9000]),
    ]
    for fid, blob in malformed:
        dst = f"{fid}.dcm"
        with open(os.path.join(FILES, dst), "wb") as f:
            f.write(blob)
        fixtures.append((fid, dst, "truncated copy of CT_small.dcm"))
    for fid, dst in write_synthetic_pydicom():
        fixtures.append((fid, dst, "written by pydicom (this script)"))
    with open(os.path.join(FILES, "not_dicom.txt"), "w") as f:
        f.write("this is not a DICOM file\n")
    fixtures.append(("not_dicom", "not_dicom.txt", "text file"))

    tensors = {}
    entries = []
    for fid, file, origin in fixtures:
        path = os.path.join(FILES, file)
        entry = {"id": fid, "file": file, "origin": origin}
        try:
            ds = pydicom.dcmread(path)
        except Exception as e:  # noqa: BLE001 - any reader failure means "unreadable"
            entry["status"] = "unreadable"
            entry["pydicom_error"] = str(e)[:200]
            entries.append(entry)
            continue
        ts = str(ds.file_meta.get("TransferSyntaxUID", "")) if hasattr(ds, "file_meta") else ""
        entry["transfer_syntax"] = ts
        entry["header"] = header_values(ds)
        if "PixelData" not in ds:
            entry["status"] = "no_pixels"
            entries.append(entry)
            continue
        if ts in ("1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91"):
            entry["status"] = "unsupported_syntax"  # DCMTK's free toolkit has no JPEG 2000
            entries.append(entry)
            continue
        try:
            hu, slope = hu_from_dataset(ds)
        except Exception as e:  # noqa: BLE001 - truncated pixel data and the like
            entry["status"] = "unreadable"
            entry["pydicom_error"] = str(e)[:200]
            entries.append(entry)
            continue
        value = hu.astype(np.int16) if np.all(hu == np.round(hu)) else hu
        name = f"hu.{fid}"
        for other, array in tensors.items():  # identical decodes share one tensor
            if array.dtype == value.dtype and array.shape == value.shape and np.array_equal(array, value):
                name = other
                break
        tensors[name] = value
        entry["status"] = "ok"
        entry["tensor"] = name
        entry["shape"] = list(hu.shape)
        entry["tolerance"] = float(LOSSY_JPEG_TOLERANCE_UNITS * abs(slope)) if ts in LOSSY_JPEG_SYNTAXES else 0.0
        entries.append(entry)

    # Every transcoded CT_small must decode to the same values as the original.
    by_id = {e["id"]: e for e in entries}
    for fid, _ in TRANSCODED:
        assert by_id[fid]["tensor"] == "hu.ct_small_explicit_le", fid

    save_file(tensors, os.path.join(OUT, "expected_hu.safetensors"))
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"generator": "tools/dicom_make_fixtures.py", "pydicom": pydicom.__version__,
                   "fixtures": entries}, f, indent=1, sort_keys=True)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(FILES, x)) for x in os.listdir(FILES))
    total += os.path.getsize(os.path.join(OUT, "expected_hu.safetensors"))
    print(f"{len(entries)} fixtures, {total / 1e6:.2f} MB")
    for e in entries:
        print(f"  {e['id']:32s} {e['status']:20s} {e.get('transfer_syntax', '')}")


if __name__ == "__main__":
    main()
