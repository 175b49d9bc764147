#ifndef CDCMTK_H
#define CDCMTK_H
#ifdef __cplusplus
extern "C" {
#endif

/// Pure-C interface to DCMTK. Every entry point catches C++ exceptions.
const char *CDCMTK_version(void);

#ifdef __cplusplus
}
#endif
#endif
