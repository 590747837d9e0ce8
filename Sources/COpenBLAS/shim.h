#ifndef FLAMINGO_COPENBLAS_SHIM_H
#define FLAMINGO_COPENBLAS_SHIM_H
// Debian's libopenblas-dev puts cblas.h under the openblas-pthread include dir
// that pkg-config adds; it declares openblas_set_num_threads and
// openblas_get_corename as well.
#include <cblas.h>
// mallopt (glibc) for AllocatorTuning, which Swift's Glibc module does not export.
#include <malloc.h>
// LAPACK's symmetric eigensolver, which libopenblas includes (Fortran calling convention; Debian
// ships no lapacke.h with libopenblas-dev): the in-domain statistics' covariance (DomainStatistics).
void ssyev_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda, float *w, float *work,
            const int *lwork, int *info);
#endif
