#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "CDCMTK.h"

extern "C" const char *CDCMTK_version(void) { return OFFIS_DCMTK_VERSION_STRING; }
