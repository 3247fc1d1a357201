/* The one place that includes R's BLAS / LAPACK headers: USE_FC_LEN_T must
 * come before <Rconfig.h> so that character lengths are passed (FCONE). */
#ifndef HOTALIGN_BLAS_LAPACK_H
#define HOTALIGN_BLAS_LAPACK_H
#define USE_FC_LEN_T
#include <Rconfig.h>
#include <R_ext/BLAS.h>
#include <R_ext/Lapack.h>
#ifndef FCONE
#define FCONE
#endif
#endif
