#ifndef MLUNG_CSQLITE_SHIM_H
#define MLUNG_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
