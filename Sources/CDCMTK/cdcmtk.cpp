// C shim over DCMTK 3.6.x: reading (header and HU pixels) and writing CT image files.
// Every extern "C" entry point catches C++ exceptions; errors are copied into caller buffers.

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmdata/dcrledrg.h"
#include "dcmtk/dcmdata/dcrleerg.h"
#include "dcmtk/dcmdata/dcrlerp.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmjpeg/djdecode.h"
#include "dcmtk/dcmjpeg/djencode.h"
#include "dcmtk/dcmjpeg/djrplol.h"
#include "dcmtk/dcmjpls/djdecode.h"
#include "dcmtk/dcmjpls/djencode.h"
#include "dcmtk/dcmjpls/djrparam.h"
#include "dcmtk/oflog/oflog.h"

#include "CDCMTK.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <new>
#include <string>
#include <vector>

struct CDCMTK_File {
    DcmFileFormat fileFormat;
    bool headerOnly = false;
    std::string path;
};

struct CDCMTK_Writer {
    DcmFileFormat fileFormat;
};

namespace {

std::once_flag codecsOnce;

/// Registers the decoders and encoders once per process and quietens DCMTK's logger (its
/// messages come back to the caller through the error buffers instead).
void ensureInitialized() {
    std::call_once(codecsOnce, [] {
        OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
        DJDecoderRegistration::registerCodecs();    // JPEG baseline, extended, lossless
        DJLSDecoderRegistration::registerCodecs();  // JPEG-LS
        DcmRLEDecoderRegistration::registerCodecs();
        DJEncoderRegistration::registerCodecs();
        DJLSEncoderRegistration::registerCodecs();
        DcmRLEEncoderRegistration::registerCodecs();
    });
}

void setError(char *err, size_t capacity, const std::string &message) {
    if (err == nullptr || capacity == 0) return;
    size_t n = message.size() < capacity - 1 ? message.size() : capacity - 1;
    std::memcpy(err, message.data(), n);
    err[n] = '\0';
}

void clearError(char *err, size_t capacity) {
    if (err != nullptr && capacity > 0) err[0] = '\0';
}

std::string trim(const std::string &s) {
    size_t b = 0, e = s.size();
    while (b < e && (s[b] == ' ' || s[b] == '\0')) ++b;
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\0')) --e;
    return s.substr(b, e - b);
}

std::string syntaxDescription(E_TransferSyntax xfer) {
    DcmXfer x(xfer);
    std::string name = x.getXferName() ? x.getXferName() : "unknown";
    std::string uid = x.getXferID() ? x.getXferID() : "";
    if (uid.empty()) return name;
    return name + " (" + uid + ")";
}

/// The transfer syntax the dataset was read in, preferring the meta header's UID (which also
/// names syntaxes DCMTK does not know).
std::string declaredSyntaxUID(CDCMTK_File *file) {
    OFString uid;
    DcmMetaInfo *meta = file->fileFormat.getMetaInfo();
    if (meta != nullptr && meta->findAndGetOFString(DCM_TransferSyntaxUID, uid).good() && !uid.empty())
        return trim(std::string(uid.c_str()));
    DcmXfer x(file->fileFormat.getDataset()->getOriginalXfer());
    return x.getXferID() ? x.getXferID() : "";
}

/// Reads a US attribute; returns false when absent or unreadable.
bool getUint16(DcmItem *item, const DcmTagKey &key, Uint16 &value) {
    return item->findAndGetUint16(key, value).good();
}

int readPixelInfo(CDCMTK_File *file, CDCMTK_PixelInfo *info, char *err, size_t cap) {
    std::memset(info, 0, sizeof(*info));
    DcmDataset *ds = file->fileFormat.getDataset();
    Uint16 rows = 0, cols = 0, ba = 0, bs = 0, hb = 0, pr = 0, spp = 1;
    if (!getUint16(ds, DCM_Rows, rows) || !getUint16(ds, DCM_Columns, cols)) {
        setError(err, cap, "missing or malformed Rows/Columns");
        return CDCMTK_ERR_MISSING;
    }
    if (!getUint16(ds, DCM_BitsAllocated, ba)) {
        setError(err, cap, "missing or malformed BitsAllocated");
        return CDCMTK_ERR_MISSING;
    }
    if (!getUint16(ds, DCM_BitsStored, bs)) bs = ba;
    if (!getUint16(ds, DCM_HighBit, hb)) hb = bs > 0 ? bs - 1 : 0;
    if (!getUint16(ds, DCM_PixelRepresentation, pr)) pr = 0;
    if (!getUint16(ds, DCM_SamplesPerPixel, spp)) spp = 1;
    info->rows = rows;
    info->columns = cols;
    info->bits_allocated = ba;
    info->bits_stored = bs;
    info->high_bit = hb;
    info->pixel_representation = pr;
    info->samples_per_pixel = spp;

    info->frames = 1;
    if (ds->tagExistsWithValue(DCM_NumberOfFrames)) {
        Sint32 frames = 0;
        if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1) {
            setError(err, cap, "malformed NumberOfFrames");
            return CDCMTK_ERR_MISSING;
        }
        info->frames = static_cast<uint32_t>(frames);
    }

    info->rescale_slope = 1.0;
    info->rescale_intercept = 0.0;
    if (ds->tagExistsWithValue(DCM_RescaleSlope)) {
        Float64 v = 0;
        if (ds->findAndGetFloat64(DCM_RescaleSlope, v).bad() || !std::isfinite(v)) {
            setError(err, cap, "malformed RescaleSlope");
            return CDCMTK_ERR_MISSING;
        }
        info->rescale_slope = v;
    }
    if (ds->tagExistsWithValue(DCM_RescaleIntercept)) {
        Float64 v = 0;
        if (ds->findAndGetFloat64(DCM_RescaleIntercept, v).bad() || !std::isfinite(v)) {
            setError(err, cap, "malformed RescaleIntercept");
            return CDCMTK_ERR_MISSING;
        }
        info->rescale_intercept = v;
    }

    DcmElement *padding = nullptr;
    if (ds->findAndGetElement(DCM_PixelPaddingValue, padding).good() && padding != nullptr &&
        padding->getVM() >= 1) {
        Uint16 u = 0;
        Sint16 s = 0;
        if (padding->ident() == EVR_SS && padding->getSint16(s).good()) {
            info->has_padding = 1;
            info->padding_value = s;
        } else if (padding->getUint16(u).good()) {
            info->has_padding = 1;
            info->padding_value = u;
        } else if (padding->getSint16(s).good()) {
            info->has_padding = 1;
            info->padding_value = s;
        }
    }

    E_TransferSyntax xfer = ds->getOriginalXfer();
    DcmXfer x(xfer);
    std::string declared = declaredSyntaxUID(file);
    DcmXfer declaredX(declared.c_str());
    info->encapsulated = x.isEncapsulated() || (declaredX.getXfer() == EXS_Unknown && !declared.empty() &&
                                                 declared != x.getXferID());
    if (declaredX.getXfer() == EXS_Unknown && !declared.empty() && declared != x.getXferID()) {
        info->decodable = 0;  // a syntax DCMTK has never heard of
    } else if (x.isEncapsulated()) {
        info->decodable = DcmCodecList::canChangeCoding(xfer, EXS_LittleEndianExplicit) ? 1 : 0;
    } else {
        info->decodable = 1;
    }
    info->has_pixel_data = (!file->headerOnly && ds->tagExists(DCM_PixelData)) ? 1 : 0;
    return CDCMTK_OK;
}

/// Validates the layout and returns a pointer to frame `frame`'s samples (8- or 16-bit) in
/// the uncompressed representation, decoding the whole pixel data first if it is encapsulated.
int locateFrame(CDCMTK_File *file, uint32_t frame, size_t count, CDCMTK_PixelInfo &info,
                const void *&samples, char *err, size_t cap) {
    if (file->headerOnly) {
        setError(err, cap, "file was opened header-only; reopen it with pixels to decode");
        return CDCMTK_ERR_ARGUMENT;
    }
    int status = readPixelInfo(file, &info, err, cap);
    if (status != CDCMTK_OK) return status;
    if (!info.has_pixel_data) {
        setError(err, cap, "no Pixel Data element (7FE0,0010)");
        return CDCMTK_ERR_MISSING;
    }
    if (info.samples_per_pixel != 1) {
        setError(err, cap, "SamplesPerPixel " + std::to_string(info.samples_per_pixel) +
                               " (colour) is not supported; CT images are monochrome");
        return CDCMTK_ERR_PIXEL_FORMAT;
    }
    if (info.bits_allocated != 8 && info.bits_allocated != 16) {
        setError(err, cap, "BitsAllocated " + std::to_string(info.bits_allocated) +
                               " is not supported (only 8 and 16)");
        return CDCMTK_ERR_PIXEL_FORMAT;
    }
    if (info.bits_stored < 1 || info.bits_stored > info.bits_allocated) {
        setError(err, cap, "BitsStored " + std::to_string(info.bits_stored) + " is invalid for BitsAllocated " +
                               std::to_string(info.bits_allocated));
        return CDCMTK_ERR_PIXEL_FORMAT;
    }
    if (info.pixel_representation > 1) {
        setError(err, cap, "PixelRepresentation " + std::to_string(info.pixel_representation) + " is invalid");
        return CDCMTK_ERR_PIXEL_FORMAT;
    }
    if (info.rows == 0 || info.columns == 0) {
        setError(err, cap, "empty image (Rows or Columns is 0)");
        return CDCMTK_ERR_PIXEL_FORMAT;
    }
    if (frame >= info.frames) {
        setError(err, cap, "frame " + std::to_string(frame) + " out of range (NumberOfFrames " +
                               std::to_string(info.frames) + ")");
        return CDCMTK_ERR_ARGUMENT;
    }
    const size_t pixels = static_cast<size_t>(info.rows) * info.columns;
    if (count < pixels) {
        setError(err, cap, "output buffer holds " + std::to_string(count) + " values, need " + std::to_string(pixels));
        return CDCMTK_ERR_ARGUMENT;
    }

    DcmDataset *ds = file->fileFormat.getDataset();
    E_TransferSyntax xfer = ds->getOriginalXfer();
    if (!info.decodable) {
        std::string declared = declaredSyntaxUID(file);
        DcmXfer dx(declared.c_str());
        std::string name = dx.getXfer() != EXS_Unknown ? syntaxDescription(dx.getXfer())
                                                       : std::string("unknown transfer syntax (") + declared + ")";
        setError(err, cap, "transfer syntax " + name +
                               " cannot be decoded: DCMTK has no decoder for it here (JPEG 2000 is not in the free toolkit)");
        return CDCMTK_ERR_UNSUPPORTED_SYNTAX;
    }
    if (DcmXfer(xfer).isEncapsulated()) {
        OFCondition cond = ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
        if (cond.bad() || !ds->hasRepresentation(EXS_LittleEndianExplicit, nullptr)) {
            setError(err, cap, "decoding " + syntaxDescription(xfer) + " failed: " +
                                   (cond.bad() ? cond.text() : "no uncompressed representation produced"));
            return CDCMTK_ERR_READ;
        }
    }
    DcmElement *element = nullptr;
    if (ds->findAndGetElement(DCM_PixelData, element).bad() || element == nullptr) {
        setError(err, cap, "no Pixel Data element (7FE0,0010)");
        return CDCMTK_ERR_MISSING;
    }
    const size_t bytesPerSample = info.bits_allocated / 8;
    const size_t frameBytes = pixels * bytesPerSample;
    const size_t needed = frameBytes * (static_cast<size_t>(frame) + 1);
    const void *base = nullptr;
    OFCondition cond;
    if (info.bits_allocated == 16) {
        Uint16 *p = nullptr;
        cond = element->getUint16Array(p);
        base = p;
    } else {
        Uint8 *p = nullptr;
        cond = element->getUint8Array(p);
        base = p;
    }
    if (cond.bad() || base == nullptr) {
        setError(err, cap, std::string("pixel data unreadable: ") + (cond.bad() ? cond.text() : "empty value"));
        return CDCMTK_ERR_MISSING;
    }
    size_t length = element->getLength();
    if (length < needed) {
        setError(err, cap, "pixel data holds " + std::to_string(length) + " bytes, frame " + std::to_string(frame) +
                               " needs " + std::to_string(needed) + " (" + std::to_string(info.rows) + "x" +
                               std::to_string(info.columns) + ", " + std::to_string(info.bits_allocated) +
                               " bits; truncated file?)");
        return CDCMTK_ERR_MISSING;
    }
    samples = static_cast<const unsigned char *>(base) + frameBytes * frame;
    return CDCMTK_OK;
}

/// Calls `body(storedValue, isPadding)` for every sample of the frame, in order.
template <typename Body>
void forEachStored(const CDCMTK_PixelInfo &info, const void *samples, size_t pixels, Body body) {
    const unsigned bs = info.bits_stored;
    const uint32_t mask = bs >= 32 ? 0xFFFFFFFFu : ((1u << bs) - 1u);
    const bool isSigned = info.pixel_representation == 1;
    const uint32_t signBit = 1u << (bs - 1);
    auto toStored = [&](uint32_t raw) -> int32_t {
        uint32_t v = raw & mask;
        if (isSigned && (v & signBit)) return static_cast<int32_t>(v) - static_cast<int32_t>(mask) - 1;
        return static_cast<int32_t>(v);
    };
    const bool hasPadding = info.has_padding != 0;
    const int32_t padding = toStored(static_cast<uint32_t>(info.padding_value));
    if (info.bits_allocated == 16) {
        const Uint16 *p = static_cast<const Uint16 *>(samples);
        for (size_t i = 0; i < pixels; ++i) {
            int32_t v = toStored(p[i]);
            body(i, v, hasPadding && v == padding);
        }
    } else {
        const Uint8 *p = static_cast<const Uint8 *>(samples);
        for (size_t i = 0; i < pixels; ++i) {
            int32_t v = toStored(p[i]);
            body(i, v, hasPadding && v == padding);
        }
    }
}

}  // namespace

extern "C" const char *CDCMTK_version(void) { return OFFIS_DCMTK_VERSION_STRING; }

extern "C" int CDCMTK_dictionary_loaded(void) {
    try {
        return dcmDataDict.isDictionaryLoaded() ? 1 : 0;
    } catch (...) {
        return 0;
    }
}

extern "C" int CDCMTK_generate_uid(const char *root, char *out, size_t capacity) {
    try {
        char buffer[100];
        dcmGenerateUniqueIdentifier(buffer, root != nullptr ? root : SITE_INSTANCE_UID_ROOT);
        if (capacity < std::strlen(buffer) + 1) return CDCMTK_ERR_ARGUMENT;
        std::strcpy(out, buffer);
        return CDCMTK_OK;
    } catch (...) {
        return CDCMTK_ERR_INTERNAL;
    }
}

extern "C" CDCMTK_File *CDCMTK_file_open(const char *path, int header_only, char *err, size_t err_capacity) {
    clearError(err, err_capacity);
    CDCMTK_File *file = nullptr;
    try {
        ensureInitialized();
        if (!dcmDataDict.isDictionaryLoaded()) {
            setError(err, err_capacity,
                     "DCMTK's data dictionary is not loaded (install libdcmtk17 or set DCMDICTPATH)");
            return nullptr;
        }
        file = new CDCMTK_File();
        file->headerOnly = header_only != 0;
        file->path = path;
        OFCondition cond;
        if (file->headerOnly) {
            cond = file->fileFormat.loadFileUntilTag(path, EXS_Unknown, EGL_noChange, DCM_MaxReadLength,
                                                     ERM_autoDetect, DCM_PixelData);
        } else {
            cond = file->fileFormat.loadFile(path, EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect);
        }
        if (cond.bad()) {
            setError(err, err_capacity, std::string("cannot read DICOM: ") + cond.text());
            delete file;
            return nullptr;
        }
        return file;
    } catch (const std::exception &e) {
        setError(err, err_capacity, std::string("cannot read DICOM: ") + e.what());
    } catch (...) {
        setError(err, err_capacity, "cannot read DICOM: unknown C++ exception");
    }
    delete file;
    return nullptr;
}

extern "C" void CDCMTK_file_free(CDCMTK_File *file) {
    try {
        delete file;
    } catch (...) {
    }
}

extern "C" long CDCMTK_file_get_string(CDCMTK_File *file, uint16_t group, uint16_t element, char *out,
                                       size_t capacity) {
    if (out != nullptr && capacity > 0) out[0] = '\0';
    if (file == nullptr) return -1;
    try {
        DcmItem *item = group == 0x0002 ? static_cast<DcmItem *>(file->fileFormat.getMetaInfo())
                                        : static_cast<DcmItem *>(file->fileFormat.getDataset());
        if (item == nullptr) return -1;
        DcmElement *el = nullptr;
        if (item->findAndGetElement(DcmTagKey(group, element), el, OFFalse).bad() || el == nullptr) return -1;
        OFString value;
        std::string text;
        if (el->getLength() > 0 && el->getOFStringArray(value).good()) text = trim(std::string(value.c_str(), value.length()));
        if (out != nullptr && capacity > 0) {
            size_t n = text.size() < capacity - 1 ? text.size() : capacity - 1;
            std::memcpy(out, text.data(), n);
            out[n] = '\0';
        }
        return static_cast<long>(text.size());
    } catch (...) {
        return -1;
    }
}

extern "C" int CDCMTK_file_transfer_syntax(CDCMTK_File *file, char *uid, size_t uid_capacity, char *name,
                                           size_t name_capacity) {
    clearError(uid, uid_capacity);
    clearError(name, name_capacity);
    if (file == nullptr) return CDCMTK_ERR_ARGUMENT;
    try {
        std::string declared = declaredSyntaxUID(file);
        DcmXfer x(declared.c_str());
        setError(uid, uid_capacity, declared);
        setError(name, name_capacity, x.getXfer() != EXS_Unknown && x.getXferName() ? x.getXferName() : "Unknown");
        return CDCMTK_OK;
    } catch (...) {
        return CDCMTK_ERR_INTERNAL;
    }
}

extern "C" int CDCMTK_file_pixel_info(CDCMTK_File *file, CDCMTK_PixelInfo *info, char *err, size_t err_capacity) {
    clearError(err, err_capacity);
    if (file == nullptr || info == nullptr) {
        setError(err, err_capacity, "null argument");
        return CDCMTK_ERR_ARGUMENT;
    }
    try {
        return readPixelInfo(file, info, err, err_capacity);
    } catch (const std::exception &e) {
        setError(err, err_capacity, std::string("C++ exception: ") + e.what());
    } catch (...) {
        setError(err, err_capacity, "unknown C++ exception");
    }
    return CDCMTK_ERR_INTERNAL;
}

extern "C" int CDCMTK_file_decode_hu(CDCMTK_File *file, uint32_t frame, float *out, size_t count, char *err,
                                     size_t err_capacity) {
    clearError(err, err_capacity);
    if (file == nullptr || out == nullptr) {
        setError(err, err_capacity, "null argument");
        return CDCMTK_ERR_ARGUMENT;
    }
    try {
        CDCMTK_PixelInfo info;
        const void *samples = nullptr;
        int status = locateFrame(file, frame, count, info, samples, err, err_capacity);
        if (status != CDCMTK_OK) return status;
        const double slope = info.rescale_slope, intercept = info.rescale_intercept;
        const size_t pixels = static_cast<size_t>(info.rows) * info.columns;
        forEachStored(info, samples, pixels, [&](size_t i, int32_t v, bool isPadding) {
            float hu = isPadding ? -1024.0f : static_cast<float>(static_cast<double>(v) * slope + intercept);
            if (!(hu >= -1024.0f)) hu = -1024.0f;  // also maps NaN to -1024
            if (hu > 3071.0f) hu = 3071.0f;
            out[i] = hu;
        });
        return CDCMTK_OK;
    } catch (const std::bad_alloc &) {
        setError(err, err_capacity, "out of memory while decoding pixel data");
    } catch (const std::exception &e) {
        setError(err, err_capacity, std::string("C++ exception while decoding: ") + e.what());
    } catch (...) {
        setError(err, err_capacity, "unknown C++ exception while decoding");
    }
    return CDCMTK_ERR_INTERNAL;
}

extern "C" int CDCMTK_file_decode_stored(CDCMTK_File *file, uint32_t frame, int32_t *out, size_t count, char *err,
                                         size_t err_capacity) {
    clearError(err, err_capacity);
    if (file == nullptr || out == nullptr) {
        setError(err, err_capacity, "null argument");
        return CDCMTK_ERR_ARGUMENT;
    }
    try {
        CDCMTK_PixelInfo info;
        const void *samples = nullptr;
        int status = locateFrame(file, frame, count, info, samples, err, err_capacity);
        if (status != CDCMTK_OK) return status;
        const size_t pixels = static_cast<size_t>(info.rows) * info.columns;
        forEachStored(info, samples, pixels, [&](size_t i, int32_t v, bool) { out[i] = v; });
        return CDCMTK_OK;
    } catch (const std::exception &e) {
        setError(err, err_capacity, std::string("C++ exception while decoding: ") + e.what());
    } catch (...) {
        setError(err, err_capacity, "unknown C++ exception while decoding");
    }
    return CDCMTK_ERR_INTERNAL;
}

extern "C" CDCMTK_Writer *CDCMTK_writer_open(char *err, size_t err_capacity) {
    clearError(err, err_capacity);
    try {
        ensureInitialized();
        return new CDCMTK_Writer();
    } catch (const std::exception &e) {
        setError(err, err_capacity, std::string("cannot create dataset: ") + e.what());
    } catch (...) {
        setError(err, err_capacity, "cannot create dataset: unknown C++ exception");
    }
    return nullptr;
}

extern "C" void CDCMTK_writer_free(CDCMTK_Writer *writer) {
    try {
        delete writer;
    } catch (...) {
    }
}

extern "C" int CDCMTK_writer_set_string(CDCMTK_Writer *writer, uint16_t group, uint16_t element, const char *value,
                                        char *err, size_t err_capacity) {
    clearError(err, err_capacity);
    if (writer == nullptr || value == nullptr) {
        setError(err, err_capacity, "null argument");
        return CDCMTK_ERR_ARGUMENT;
    }
    try {
        char tagText[32];
        std::snprintf(tagText, sizeof tagText, "(%04X,%04X)", group, element);
        if (group == 0x0002 || (group == 0x7FE0 && element == 0x0010)) {
            setError(err, err_capacity, std::string("tag ") + tagText + " cannot be set as text");
            return CDCMTK_ERR_ARGUMENT;
        }
        DcmTag tag(group, element);
        if (tag.getEVR() == EVR_UNKNOWN || tag.getEVR() == EVR_UN || tag.getEVR() == EVR_SQ) {
            setError(err, err_capacity, std::string("tag ") + tagText + " is unknown to the dictionary or a sequence");
            return CDCMTK_ERR_ARGUMENT;
        }
        if (tag.getEVR() == EVR_xs) {
            // US or SS by PixelRepresentation (PixelPaddingValue, SmallestImagePixelValue, ...)
            Uint16 pr = 0;
            writer->fileFormat.getDataset()->findAndGetUint16(DCM_PixelRepresentation, pr);
            tag.setVR(DcmVR(pr == 1 ? EVR_SS : EVR_US));
        }
        OFCondition cond = writer->fileFormat.getDataset()->putAndInsertString(tag, value);
        if (cond.bad()) {
            setError(err, err_capacity, std::string("cannot set ") + tagText + ": " + cond.text());
            return CDCMTK_ERR_ARGUMENT;
        }
        return CDCMTK_OK;
    } catch (const std::exception &e) {
        setError(err, err_capacity, std::string("C++ exception: ") + e.what());
    } catch (...) {
        setError(err, err_capacity, "unknown C++ exception");
    }
    return CDCMTK_ERR_INTERNAL;
}

extern "C" int CDCMTK_writer_set_pixels(CDCMTK_Writer *writer, uint32_t rows, uint32_t columns, uint16_t bits_stored,
                                        uint16_t pixel_representation, const int32_t *stored, size_t count, char *err,
                                        size_t err_capacity) {
    clearError(err, err_capacity);
    if (writer == nullptr || stored == nullptr) {
        setError(err, err_capacity, "null argument");
        return CDCMTK_ERR_ARGUMENT;
    }
    try {
        if (rows == 0 || columns == 0 || rows > 65535 || columns > 65535) {
            setError(err, err_capacity, "Rows and Columns must be in 1...65535");
            return CDCMTK_ERR_ARGUMENT;
        }
        if (bits_stored < 1 || bits_stored > 16 || pixel_representation > 1) {
            setError(err, err_capacity, "BitsStored must be in 1...16 and PixelRepresentation 0 or 1");
            return CDCMTK_ERR_ARGUMENT;
        }
        const size_t pixels = static_cast<size_t>(rows) * columns;
        if (count != pixels) {
            setError(err, err_capacity, "got " + std::to_string(count) + " values for a " + std::to_string(rows) + "x" +
                                            std::to_string(columns) + " image");
            return CDCMTK_ERR_ARGUMENT;
        }
        const int64_t lo = pixel_representation ? -(int64_t(1) << (bits_stored - 1)) : 0;
        const int64_t hi = pixel_representation ? (int64_t(1) << (bits_stored - 1)) - 1 : (int64_t(1) << bits_stored) - 1;
        std::vector<Uint16> words(pixels);
        for (size_t i = 0; i < pixels; ++i) {
            int64_t v = stored[i];
            if (v < lo || v > hi) {
                setError(err, err_capacity, "stored value " + std::to_string(v) + " at index " + std::to_string(i) +
                                                " does not fit " + std::to_string(bits_stored) + " bits " +
                                                (pixel_representation ? "signed" : "unsigned"));
                return CDCMTK_ERR_ARGUMENT;
            }
            words[i] = static_cast<Uint16>(static_cast<uint32_t>(v) & 0xFFFFu);
        }
        DcmDataset *ds = writer->fileFormat.getDataset();
        OFCondition cond = EC_Normal;
        cond = ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
        if (cond.good()) cond = ds->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
        if (cond.good()) cond = ds->putAndInsertUint16(DCM_Rows, static_cast<Uint16>(rows));
        if (cond.good()) cond = ds->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(columns));
        if (cond.good()) cond = ds->putAndInsertUint16(DCM_BitsAllocated, 16);
        if (cond.good()) cond = ds->putAndInsertUint16(DCM_BitsStored, bits_stored);
        if (cond.good()) cond = ds->putAndInsertUint16(DCM_HighBit, static_cast<Uint16>(bits_stored - 1));
        if (cond.good()) cond = ds->putAndInsertUint16(DCM_PixelRepresentation, pixel_representation);
        if (cond.good()) cond = ds->putAndInsertUint16Array(DCM_PixelData, words.data(), static_cast<unsigned long>(pixels));
        if (cond.bad()) {
            setError(err, err_capacity, std::string("cannot set pixel data: ") + cond.text());
            return CDCMTK_ERR_ARGUMENT;
        }
        return CDCMTK_OK;
    } catch (const std::exception &e) {
        setError(err, err_capacity, std::string("C++ exception: ") + e.what());
    } catch (...) {
        setError(err, err_capacity, "unknown C++ exception");
    }
    return CDCMTK_ERR_INTERNAL;
}

extern "C" int CDCMTK_writer_save(CDCMTK_Writer *writer, const char *path, CDCMTK_Syntax syntax, char *err,
                                  size_t err_capacity) {
    clearError(err, err_capacity);
    if (writer == nullptr || path == nullptr) {
        setError(err, err_capacity, "null argument");
        return CDCMTK_ERR_ARGUMENT;
    }
    try {
        DcmDataset *ds = writer->fileFormat.getDataset();
        E_TransferSyntax xfer = EXS_LittleEndianExplicit;
        OFCondition cond = EC_Normal;
        switch (syntax) {
        case CDCMTK_SYNTAX_EXPLICIT_LITTLE: xfer = EXS_LittleEndianExplicit; break;
        case CDCMTK_SYNTAX_IMPLICIT_LITTLE: xfer = EXS_LittleEndianImplicit; break;
        case CDCMTK_SYNTAX_EXPLICIT_BIG: xfer = EXS_BigEndianExplicit; break;
        case CDCMTK_SYNTAX_DEFLATED: xfer = EXS_DeflatedLittleEndianExplicit; break;
        case CDCMTK_SYNTAX_JPEG_LOSSLESS_SV1: xfer = EXS_JPEGProcess14SV1; break;
        case CDCMTK_SYNTAX_JPEGLS_LOSSLESS: xfer = EXS_JPEGLSLossless; break;
        case CDCMTK_SYNTAX_RLE: xfer = EXS_RLELossless; break;
        default:
            setError(err, err_capacity, "unknown output syntax " + std::to_string(static_cast<int>(syntax)));
            return CDCMTK_ERR_ARGUMENT;
        }
        if (xfer == EXS_JPEGProcess14SV1) {
            DJ_RPLossless params(1, 0);
            cond = ds->chooseRepresentation(xfer, &params);
        } else if (xfer == EXS_JPEGLSLossless) {
            DJLSRepresentationParameter params(0, OFTrue);
            cond = ds->chooseRepresentation(xfer, &params);
        } else if (xfer == EXS_RLELossless) {
            DcmRLERepresentationParameter params;
            cond = ds->chooseRepresentation(xfer, &params);
        } else {
            cond = ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
        }
        if (cond.bad() || !ds->canWriteXfer(xfer)) {
            setError(err, err_capacity, "cannot encode as " + syntaxDescription(xfer) + ": " +
                                            (cond.bad() ? cond.text() : "encoder refused the dataset"));
            return CDCMTK_ERR_WRITE;
        }
        cond = writer->fileFormat.saveFile(path, xfer, EET_ExplicitLength, EGL_recalcGL, EPD_noChange, 0, 0,
                                           EWM_fileformat);
        if (cond.bad()) {
            setError(err, err_capacity, std::string("cannot write ") + path + ": " + cond.text());
            return CDCMTK_ERR_WRITE;
        }
        return CDCMTK_OK;
    } catch (const std::exception &e) {
        setError(err, err_capacity, std::string("C++ exception: ") + e.what());
    } catch (...) {
        setError(err, err_capacity, "unknown C++ exception");
    }
    return CDCMTK_ERR_INTERNAL;
}
