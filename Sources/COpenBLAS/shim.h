#ifndef FLAMINGO_COPENBLAS_SHIM_H
#define FLAMINGO_COPENBLAS_SHIM_H
// Debian's libopenblas-dev puts cblas.h under the openblas-pthread include dir
// that pkg-config adds; it declares openblas_set_num_threads as well.
#include <cblas.h>
#endif
