#ifndef MLUNG_CBLAS_SHIM_H
#define MLUNG_CBLAS_SHIM_H
#include <cblas.h>
// Declared by OpenBLAS; repeated here so the module sees it whatever cblas.h exposes.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
#endif
