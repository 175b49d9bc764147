#ifndef MLUNG_CCAIRO_SHIM_H
#define MLUNG_CCAIRO_SHIM_H
#include <cairo.h>
#include <cairo-pdf.h>
#endif
