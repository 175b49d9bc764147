#ifndef CDCMTK_H
#define CDCMTK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Pure-C interface to DCMTK (C++). Handles are opaque; each `_open` has a matching `_free`.
 * Every entry point catches C++ exceptions. Functions that can fail return a status code
 * (CDCMTK_OK on success) or NULL and copy a one-line message into the caller's buffer
 * `err` of `err_capacity` bytes (always NUL-terminated when err_capacity > 0).
 */

/** Status codes returned by the entry points. */
enum {
    CDCMTK_OK = 0,
    /** The file could not be read or parsed (I/O error, not DICOM, truncated, malformed). */
    CDCMTK_ERR_READ = 1,
    /** The transfer syntax has no decoder in this DCMTK build (e.g. JPEG 2000). */
    CDCMTK_ERR_UNSUPPORTED_SYNTAX = 2,
    /** The pixel data is present but not in a form this shim handles (colour, 32-bit, ...). */
    CDCMTK_ERR_PIXEL_FORMAT = 3,
    /** A required attribute or the pixel data is missing or malformed. */
    CDCMTK_ERR_MISSING = 4,
    /** Bad argument (buffer too small, frame out of range, header-only handle, ...). */
    CDCMTK_ERR_ARGUMENT = 5,
    /** Writing failed (encoder refused, I/O error). */
    CDCMTK_ERR_WRITE = 6,
    /** Unexpected C++ exception or allocation failure. */
    CDCMTK_ERR_INTERNAL = 7
};

/** Transfer syntaxes the writer can produce. */
typedef enum {
    CDCMTK_SYNTAX_EXPLICIT_LITTLE = 0,
    CDCMTK_SYNTAX_IMPLICIT_LITTLE = 1,
    CDCMTK_SYNTAX_EXPLICIT_BIG = 2,
    CDCMTK_SYNTAX_DEFLATED = 3,
    CDCMTK_SYNTAX_JPEG_LOSSLESS_SV1 = 4,
    CDCMTK_SYNTAX_JPEGLS_LOSSLESS = 5,
    CDCMTK_SYNTAX_RLE = 6
} CDCMTK_Syntax;

/** DCMTK's version string, e.g. "3.6.7". */
const char *CDCMTK_version(void);

/** 1 if DCMTK's data dictionary is loaded (it is read from disk at first use), else 0. */
int CDCMTK_dictionary_loaded(void);

/** Writes a new globally unique UID under DCMTK's root (or `root` if not NULL) into `out`. */
int CDCMTK_generate_uid(const char *root, char *out, size_t capacity);

/* ---------------------------------------------------------------- reading */

/** One opened DICOM file (a dataset plus its meta header). */
typedef struct CDCMTK_File CDCMTK_File;

/**
 * Opens and parses a DICOM file (with or without a meta header; any uncompressed syntax,
 * deflated, or an encapsulated one). With `header_only` != 0 parsing stops before the
 * Pixel Data element (fast discovery); such a handle cannot decode pixels.
 * Returns NULL on failure, with the reason in `err`.
 */
CDCMTK_File *CDCMTK_file_open(const char *path, int header_only, char *err, size_t err_capacity);

/** Frees a handle returned by CDCMTK_file_open (NULL is allowed). */
void CDCMTK_file_free(CDCMTK_File *file);

/**
 * The value of attribute (group, element) as text, all values joined by '\\' (DICOM's
 * multi-value separator), leading and trailing spaces removed. Group 0x0002 is looked up in
 * the meta header. Copies at most capacity-1 bytes into `out` (NUL-terminated) and returns
 * the full length of the value (so a return >= capacity means truncation); returns -1 when
 * the attribute is absent. Only top-level attributes are searched.
 */
long CDCMTK_file_get_string(CDCMTK_File *file, uint16_t group, uint16_t element, char *out,
                            size_t capacity);

/**
 * The transfer syntax the file was encoded in: its UID and DCMTK's name for it.
 * Returns CDCMTK_OK.
 */
int CDCMTK_file_transfer_syntax(CDCMTK_File *file, char *uid, size_t uid_capacity, char *name,
                                size_t name_capacity);

/** Image pixel module attributes and how the pixel data is encoded. */
typedef struct {
    uint32_t rows;
    uint32_t columns;
    /** NumberOfFrames, 1 when absent. */
    uint32_t frames;
    uint16_t bits_allocated;
    uint16_t bits_stored;
    uint16_t high_bit;
    /** 0 unsigned, 1 two's complement. */
    uint16_t pixel_representation;
    uint16_t samples_per_pixel;
    /** RescaleSlope (1 when absent) and RescaleIntercept (0 when absent). */
    double rescale_slope;
    double rescale_intercept;
    /** 1 if PixelPaddingValue is present; then `padding_value` is its stored value. */
    int has_padding;
    int32_t padding_value;
    /** 1 if the transfer syntax is encapsulated (compressed). */
    int encapsulated;
    /** 1 if DCMTK can decode this transfer syntax here. */
    int decodable;
    /** 1 if the Pixel Data element is present (always 0 for a header-only handle). */
    int has_pixel_data;
} CDCMTK_PixelInfo;

/** Fills `info` from the dataset. Fails if Rows/Columns/BitsAllocated are missing. */
int CDCMTK_file_pixel_info(CDCMTK_File *file, CDCMTK_PixelInfo *info, char *err,
                           size_t err_capacity);

/**
 * Decodes frame `frame` (0-based) to Hounsfield units, row-major, `rows * columns` floats:
 * stored value = low BitsStored bits of each sample (sign-extended when PixelRepresentation
 * is 1); samples equal to PixelPaddingValue (same masking) become -1024; every other sample
 * is `float(double(stored) * slope + intercept)`; then everything is clamped to
 * [-1024, 3071]. `count` must be at least rows * columns.
 */
int CDCMTK_file_decode_hu(CDCMTK_File *file, uint32_t frame, float *out, size_t count,
                          char *err, size_t err_capacity);

/** Like CDCMTK_file_decode_hu but returns the stored values (masked, sign-extended). */
int CDCMTK_file_decode_stored(CDCMTK_File *file, uint32_t frame, int32_t *out, size_t count,
                              char *err, size_t err_capacity);

/* ---------------------------------------------------------------- writing */

/** A dataset under construction, saved with CDCMTK_writer_save. */
typedef struct CDCMTK_Writer CDCMTK_Writer;

/** A new, empty dataset. Returns NULL on failure. */
CDCMTK_Writer *CDCMTK_writer_open(char *err, size_t err_capacity);

/** Frees a writer (NULL is allowed). */
void CDCMTK_writer_free(CDCMTK_Writer *writer);

/**
 * Sets a top-level attribute from text (the VR comes from DCMTK's dictionary; multiple values
 * separated by '\\'). Replaces an existing value.
 */
int CDCMTK_writer_set_string(CDCMTK_Writer *writer, uint16_t group, uint16_t element,
                             const char *value, char *err, size_t err_capacity);

/**
 * Sets a single-frame monochrome image: Rows, Columns, SamplesPerPixel 1, MONOCHROME2,
 * BitsAllocated 16, BitsStored `bits_stored` (1...16), HighBit bits_stored-1,
 * PixelRepresentation `pixel_representation` and Pixel Data (OW) from the stored values in
 * `stored` (row-major, rows * columns). Each value must fit the stored bit depth.
 */
int CDCMTK_writer_set_pixels(CDCMTK_Writer *writer, uint32_t rows, uint32_t columns,
                             uint16_t bits_stored, uint16_t pixel_representation,
                             const int32_t *stored, size_t count, char *err,
                             size_t err_capacity);

/**
 * Writes the dataset as a DICOM file (with a meta header built from SOPClassUID and
 * SOPInstanceUID) in the given transfer syntax, compressing losslessly through DCMTK's
 * encoders where the syntax asks for it.
 */
int CDCMTK_writer_save(CDCMTK_Writer *writer, const char *path, CDCMTK_Syntax syntax,
                       char *err, size_t err_capacity);

#ifdef __cplusplus
}
#endif
#endif
