/* The symmetric eigendecomposition of the HOT+R Procrustes step
 * (rotation.c, polar_eig()): H = Z diag(lam) Z' for the r x r matrix
 * B B', the algorithm of LAPACK's dsyevr (Householder tridiagonal
 * reduction, dstemr's MRRR on the tridiagonal, the reflectors applied to
 * its eigenvectors) with the two parts that are level-2 and level-3 BLAS
 * in dsyevr written for the internal kernel: in the reference BLAS they
 * were most of the time of a Procrustes step.  Under an optimised BLAS
 * (the caller's kernel COST_BLAS) the tridiagonal reduction is LAPACK's
 * dsytrd, whose BLAS is then the faster.
 *
 * Pure C on caller-provided workspace, deterministic (the same H gives the
 * same Z on any thread): runs inside the OpenMP region of pair_loop.c.
 */
#include <stddef.h>
#include <string.h>
#include "blas_lapack.h"
#include <R.h>
#include <Rinternals.h>
#include "hotalign.h"

#define TRD_NB 32 /* the panel width of both blocked parts */

/* ---- the tridiagonal reduction -----------------------------------------
 * H = Q T Q' for the symmetric H (r x r, lower triangle), left as
 * dsytrd("L") leaves it (d, e, tau, the reflectors below the subdiagonal),
 * by dsytrd's blocked algorithm:
 *  - panels of TRD_NB columns reduced as dlatrd does (panel_reduce()),
 *    with its matrix-vector products (dsymv, dgemv: the other half of
 *    dsytrd's time in the reference BLAS) written here with AVX2 where the
 *    processor has it;
 *  - after each panel the update of what is left, A22 := A22 - V W' - W V',
 *    which dsytrd does by dsyr2k and this does as one product [V W] [W V]'
 *    through the kernel (its lower triangle: the tiles above the diagonal
 *    are skipped);
 *  - the last TRD_NB columns or fewer by dsytd2.
 * The same backward-stable reduction: only the order of the sums in each
 * product differs from dsytrd's, and it is fixed, so that the result does
 * not depend on the thread.  tests/testthat/test-symmetric-eigen.R checks
 * the eigenvalues against LAPACK's dsyevr (R's eigen()) and the vectors'
 * residual and orthogonality. */

/* y = A x for the symmetric A (p x p, lower triangle, leading dimension
 * lda) */
static void symv_lower_plain(int p, const double *A, int lda, const double *x, double *y) {
  for (int i = 0; i < p; i++) y[i] = 0.0;
  for (int j = 0; j < p; j++) {
    const double *a = A + (R_xlen_t) j * lda, xj = x[j];
    double s = 0.0;
    y[j] += xj * a[j];
    for (int i = j + 1; i < p; i++) {
      y[i] += xj * a[i];
      s += a[i] * x[i];
    }
    y[j] += s;
  }
}

/* y += alpha A x for A (p x c, leading dimension lda), x contiguous */
static void gemv_n_plain(int p, int c, double alpha, const double *A, int lda,
                         const double *x, double *y) {
  for (int k = 0; k < c; k++) {
    const double *a = A + (R_xlen_t) k * lda, s = alpha * x[k];
    for (int i = 0; i < p; i++) y[i] += s * a[i];
  }
}

/* y = A' x for A (p x c, leading dimension lda) */
static void gemv_t_plain(int p, int c, const double *A, int lda, const double *x,
                         double *y) {
  for (int k = 0; k < c; k++) {
    const double *a = A + (R_xlen_t) k * lda;
    double s = 0.0;
    for (int i = 0; i < p; i++) s += a[i] * x[i];
    y[k] = s;
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(HOTALIGN_NO_AVX2)
#define TRD_AVX2 1
#include <immintrin.h>

__attribute__((target("avx2,fma")))
static double hsum4(__m256d v) {
  __m128d lo = _mm256_castpd256_pd128(v), hi = _mm256_extractf128_pd(v, 1);
  lo = _mm_add_pd(lo, hi);
  return _mm_cvtsd_f64(_mm_add_sd(lo, _mm_unpackhi_pd(lo, lo)));
}

__attribute__((target("avx2,fma")))
static void symv_lower_avx2(int p, const double *A, int lda, const double *x, double *y) {
  for (int i = 0; i < p; i++) y[i] = 0.0;
  for (int j = 0; j < p; j++) {
    const double *a = A + (R_xlen_t) j * lda, xj = x[j];
    const __m256d vx = _mm256_set1_pd(xj);
    __m256d acc = _mm256_setzero_pd();
    double s = 0.0;
    y[j] += xj * a[j];
    int i = j + 1;
    for (; i + 4 <= p; i += 4) {
      const __m256d ai = _mm256_loadu_pd(a + i);
      _mm256_storeu_pd(y + i, _mm256_fmadd_pd(vx, ai, _mm256_loadu_pd(y + i)));
      acc = _mm256_fmadd_pd(ai, _mm256_loadu_pd(x + i), acc);
    }
    for (; i < p; i++) {
      y[i] += xj * a[i];
      s += a[i] * x[i];
    }
    y[j] += hsum4(acc) + s;
  }
}

__attribute__((target("avx2,fma")))
static void gemv_n_avx2(int p, int c, double alpha, const double *A, int lda,
                        const double *x, double *y) {
  for (int k = 0; k < c; k++) {
    const double *a = A + (R_xlen_t) k * lda, s = alpha * x[k];
    const __m256d vs = _mm256_set1_pd(s);
    int i = 0;
    for (; i + 4 <= p; i += 4)
      _mm256_storeu_pd(y + i, _mm256_fmadd_pd(vs, _mm256_loadu_pd(a + i),
                                              _mm256_loadu_pd(y + i)));
    for (; i < p; i++) y[i] += s * a[i];
  }
}

__attribute__((target("avx2,fma")))
static void gemv_t_avx2(int p, int c, const double *A, int lda, const double *x,
                        double *y) {
  for (int k = 0; k < c; k++) {
    const double *a = A + (R_xlen_t) k * lda;
    __m256d acc = _mm256_setzero_pd();
    double s = 0.0;
    int i = 0;
    for (; i + 4 <= p; i += 4)
      acc = _mm256_fmadd_pd(_mm256_loadu_pd(a + i), _mm256_loadu_pd(x + i), acc);
    for (; i < p; i++) s += a[i] * x[i];
    y[k] = hsum4(acc) + s;
  }
}
#endif

static void symv_lower(int p, const double *A, int lda, const double *x, double *y) {
#ifdef TRD_AVX2
  if (cpu_has_avx2()) {
    symv_lower_avx2(p, A, lda, x, y);
    return;
  }
#endif
  symv_lower_plain(p, A, lda, x, y);
}
static void gemv_n(int p, int c, double alpha, const double *A, int lda, const double *x,
                   double *y) {
#ifdef TRD_AVX2
  if (cpu_has_avx2()) {
    gemv_n_avx2(p, c, alpha, A, lda, x, y);
    return;
  }
#endif
  gemv_n_plain(p, c, alpha, A, lda, x, y);
}
static void gemv_t(int p, int c, const double *A, int lda, const double *x, double *y) {
#ifdef TRD_AVX2
  if (cpu_has_avx2()) {
    gemv_t_avx2(p, c, A, lda, x, y);
    return;
  }
#endif
  gemv_t_plain(p, c, A, lda, x, y);
}

/* dlatrd("L", ni, nb, A, lda, e, tau, W, ldw) in C: the first nb columns
 * of A (ni x ni, lower) reduced, the reflectors in them (A[c + 1, c] set to
 * 1 as dlatrd leaves it), W (ni x nb) such that the rest of A is updated by
 * A22 - V W' - W V'.  Scratch xr, tmp: nb doubles each. */
static void panel_reduce(int ni, int nb, double *A, int lda, double *e, double *tau,
                         double *W, int ldw, double *xr, double *tmp) {
  const int one = 1;
  for (int c = 0; c < nb; c++) {
    double *acol = A + c + (R_xlen_t) c * lda; /* A[c.., c] */
    const int len = ni - c;
    /* A[c.., c] -= A[c.., 0:c] W[c, 0:c]' + W[c.., 0:c] A[c, 0:c]' */
    for (int k = 0; k < c; k++) xr[k] = W[c + (R_xlen_t) k * ldw];
    gemv_n(len, c, -1.0, A + c, lda, xr, acol);
    for (int k = 0; k < c; k++) xr[k] = A[c + (R_xlen_t) k * lda];
    gemv_n(len, c, -1.0, W + c, ldw, xr, acol);
    if (c < ni - 1) {
      const int q = ni - c - 1;
      double *v = acol + 1;                      /* A[c + 1.., c] */
      double *w = W + (c + 1) + (R_xlen_t) c * ldw; /* W[c + 1.., c] */
      F77_CALL(dlarfg)(&q, v, q > 1 ? v + 1 : v, &one, tau + c);
      e[c] = v[0];
      v[0] = 1.0;
      symv_lower(q, A + (c + 1) + (R_xlen_t) (c + 1) * lda, lda, v, w);
      gemv_t(q, c, W + (c + 1), ldw, v, tmp);
      gemv_n(q, c, -1.0, A + (c + 1), lda, tmp, w);
      gemv_t(q, c, A + (c + 1), lda, v, tmp);
      gemv_n(q, c, -1.0, W + (c + 1), ldw, tmp, w);
      const double t = tau[c];
      double dot = 0.0;
      for (int i = 0; i < q; i++) {
        w[i] *= t;
        dot += w[i] * v[i];
      }
      const double alpha = -0.5 * t * dot;
      for (int i = 0; i < q; i++) w[i] += alpha * v[i];
    }
  }
}

static size_t tridiagonal_work(int r) {
  return (size_t) 5 * TRD_NB * (size_t) r + 2 * TRD_NB;
}

/* Scratch: C of r^2 doubles, work of tridiagonal_work(r).  Returns 1, or 0
 * when dsytd2 reports an error. */
static int tridiagonalise(double *H, int r, double *d, double *e, double *tau, double *C,
                          double *work) {
  const int nb = TRD_NB, nx = TRD_NB, two = 2 * TRD_NB;
  double *Wp = work, *Xt = Wp + (size_t) r * nb, *Yt = Xt + (size_t) two * r,
         *xr = Yt + (size_t) two * r, *tmp = xr + nb;
  int i = 0, info = 0;
  for (; i < r - nx; i += nb) {
    const int ni = r - i, p = r - i - nb;
    panel_reduce(ni, nb, H + i + (R_xlen_t) i * r, r, e + i, tau + i, Wp, r, xr, tmp);
    /* V = H[i + nb .., i .. i + nb - 1] (its unit entry in place), W =
     * Wp[nb .., ]: Xt = [V W]', Yt = [W V]' (2 nb x p) */
    for (int q = 0; q < p; q++) {
      double *xt = Xt + (R_xlen_t) q * two, *yt = Yt + (R_xlen_t) q * two;
      for (int c = 0; c < nb; c++) {
        const double v = H[(i + nb + q) + (R_xlen_t) (i + c) * r];
        const double w = Wp[(nb + q) + (R_xlen_t) c * r];
        xt[c] = v;
        xt[nb + c] = w;
        yt[c] = w;
        yt[nb + c] = v;
      }
    }
    kernel_product_lower(Xt, Yt, two, p, C, COST_INTERNAL);
    for (int c = 0; c < p; c++) {
      double *a = H + (i + nb) + (R_xlen_t) (i + nb + c) * r;
      const double *u = C + (R_xlen_t) c * p;
      for (int q = c; q < p; q++) a[q] -= u[q];
    }
    for (int j = i; j < i + nb; j++) {
      H[(j + 1) + (R_xlen_t) j * r] = e[j];
      d[j] = H[j + (R_xlen_t) j * r];
    }
  }
  const int rest = r - i;
  F77_CALL(dsytd2)("L", &rest, H + i + (R_xlen_t) i * r, &r, d + i, e + i, tau + i,
                   &info FCONE);
  return info == 0;
}

/* ---- the eigendecomposition --------------------------------------------- */
/* dstemr is in every LAPACK R links against (dsyevr calls it), but not
 * declared in R_ext/Lapack.h */
extern void F77_NAME(dstemr)(const char *jobz, const char *range, const int *n,
                             double *d, double *e, const double *vl, const double *vu,
                             const int *il, const int *iu, int *m, double *w, double *z,
                             const int *ldz, const int *nzc, int *isuppz, int *tryrac,
                             double *work, const int *lwork, int *iwork,
                             const int *liwork, int *info FCLEN FCLEN);

/* The eigendecomposition H = Z diag(lam) Z' (ascending) of the symmetric
 * H (r x r, overwritten) as dsyevr computes it (dsytrd, dstemr, then Q of
 * the tridiagonal reduction applied to the tridiagonal's eigenvectors) but
 * with that last step, the bulk of dsyevr's time in the reference BLAS
 * (dormtr), in blocks of BACK_NB reflectors through the internal
 * kernel: Q_b = I - Y T Y' (dlarft), C := C - Y (T (Y' C)).  Scratch: C of
 * r^2 doubles, work of lw doubles.  Returns 1, or 0 when LAPACK fails (the
 * caller then falls back to dgesdd).  Where the workspace is too small
 * (small r, eigen_kernel_fits()) the caller uses dsyevr itself. */
#define BACK_NB 32 /* reflectors per block of the back-transformation */
static size_t eigen_fixed(int r) {
  const int q = r - 1, nb0 = q < BACK_NB ? (q > 0 ? q : 1) : BACK_NB;
  return 3 * (size_t) r + 4 * (size_t) r * nb0 + 2 * (size_t) nb0 * nb0;
}
/* whether eigen_kernel() has the workspace (depends on r and lw only) */
/* the workspace eigen_kernel() takes its fastest route with (the own
 * tridiagonal reduction) */
size_t eigen_kernel_lwork(int r) {
  const size_t a = 18 * (size_t) r, b = tridiagonal_work(r);
  return eigen_fixed(r) + (a > b ? a : b);
}
int eigen_kernel_fits(int r, int lw) {
  return r >= 2 && (size_t) lw >= eigen_fixed(r) + 18 * (size_t) r;
}
int eigen_kernel(double *H, int r, double *lam, double *Z, int *isuppz,
                        int *iwork, int liwork, double *C, double *work, int lw,
                        int kernel) {
  const int q = r - 1, nb0 = q < BACK_NB ? (q > 0 ? q : 1) : BACK_NB;
  const size_t fixed = eigen_fixed(r);
  if (!eigen_kernel_fits(r, lw)) return 0;
  double *d = work, *e = d + r, *tau = e + r, *Yb = tau + r, *Ybt = Yb + (size_t) r * nb0,
         *W1 = Ybt + (size_t) r * nb0, *W2 = W1 + (size_t) r * nb0,
         *Tb = W2 + (size_t) r * nb0, *Tt = Tb + (size_t) nb0 * nb0,
         *rest = Tt + (size_t) nb0 * nb0;
  int lrest = lw - (int) fixed, info = 0;
  /* with an optimised BLAS (kernel COST_BLAS) its dsytrd is the faster */
  if (kernel == COST_INTERNAL && (size_t) lrest >= tridiagonal_work(r)) {
    if (!tridiagonalise(H, r, d, e, tau, C, rest)) return 0;
  } else {
    F77_CALL(dsytrd)("L", &r, H, &r, d, e, tau, rest, &lrest, &info FCONE);
    if (info != 0) return 0;
  }
  /* tryrac = 0: no test for, and no bisection refinement (dlarrj) to,
   * eigenvalues of high relative accuracy.  The reduction to tridiagonal
   * form is only normwise backward stable, so relative accuracy beyond
   * eps ||H|| is not there to keep; the polar step measures and corrects
   * what its eigenvalues miss.  10-15% of a 64-128 unit descent. */
  int m = 0, il = 1, tryrac = 0;
  double vl = 0;
  F77_CALL(dstemr)("V", "A", &r, d, e, &vl, &vl, &il, &il, &m, lam, Z, &r, &r, isuppz,
                   &tryrac, rest, &lrest, iwork, &liwork, &info FCONE FCONE);
  if (info != 0 || m != r) return 0;
  /* Z := Q Z, Q = diag(1, H_0 .. H_{q-1}); reflector i acts on rows
   * i + 1 .. r - 1 of Z, its vector (1, H[i + 2 .., i]) */
  const int kern = COST_INTERNAL;
  const int nblocks = (q + nb0 - 1) / nb0;
  for (int b = nblocks - 1; b >= 0; b--) {
    const int j0 = b * nb0, k = q - j0 < nb0 ? q - j0 : nb0, rows = q - j0;
    /* explicit Y (rows x k) and Y' (k x rows) */
    for (int c = 0; c < k; c++)
      for (int t = 0; t < rows; t++) {
        double y = t < c ? 0.0 : (t == c ? 1.0 : H[(j0 + t + 1) + (R_xlen_t) (j0 + c) * r]);
        Yb[t + (R_xlen_t) c * rows] = y;
        Ybt[c + (R_xlen_t) t * k] = y;
      }
    memset(Tb, 0, sizeof(double) * (size_t) k * k);
    F77_CALL(dlarft)("F", "C", &rows, &k, Yb, &rows, tau + j0, Tb, &k FCONE FCONE);
    mat_transpose(Tb, k, k, Tt);
    /* the rows of Z the block acts on, contiguous: C (rows x r) */
    for (int c = 0; c < r; c++)
      memcpy(C + (R_xlen_t) c * rows, Z + (j0 + 1) + (R_xlen_t) c * r,
             sizeof(double) * rows);
    kernel_product(Yb, C, rows, k, r, W1, kern);  /* W1 = Y' C */
    kernel_product(Tt, W1, k, k, r, W2, kern);    /* W2 = T W1 */
    kernel_product(Ybt, W2, k, rows, r, C, kern); /* C = Y W2 */
    for (int c = 0; c < r; c++) {
      double *z = Z + (j0 + 1) + (R_xlen_t) c * r;
      const double *y = C + (R_xlen_t) c * rows;
      for (int t = 0; t < rows; t++) z[t] -= y[t];
    }
  }
  return 1;
}


/* ---- test entry point ----------------------------------------------------
 * ffi_symmetric_eigen(H, blocked): list(values, vectors, ok) of eigen_kernel()
 * on a copy of the symmetric H (its lower triangle is read); blocked = FALSE
 * gives it just too little workspace for tridiagonalise(), so that the
 * dsytrd route (that of an optimised BLAS) is taken. */
SEXP ffi_symmetric_eigen(SEXP H, SEXP blocked) {
  if (!Rf_isReal(H) || !Rf_isMatrix(H) || Rf_nrows(H) != Rf_ncols(H) || Rf_nrows(H) < 2)
    Rf_error("symmetric_eigen: expected a square double matrix of order >= 2");
  const int r = Rf_nrows(H), use_blocked = Rf_asLogical(blocked) == 1;
  /* one double short of the own reduction's workspace still fits dstemr's
   * (tridiagonal_work(r) > 18 r) */
  const size_t lw = eigen_kernel_lwork(r) - (use_blocked ? 0 : 1);
  const size_t rr = (size_t) r * r;
  double *A = (double *) R_alloc(rr, sizeof(double));
  double *C = (double *) R_alloc(rr, sizeof(double));
  double *work = (double *) R_alloc(lw, sizeof(double));
  int *iwork = (int *) R_alloc(10 * (size_t) r, sizeof(int));
  int *isuppz = (int *) R_alloc(2 * (size_t) r, sizeof(int));
  memcpy(A, REAL(H), sizeof(double) * rr);
  SEXP values = PROTECT(Rf_allocVector(REALSXP, r));
  SEXP vectors = PROTECT(Rf_allocMatrix(REALSXP, r, r));
  const int ok = eigen_kernel(A, r, REAL(values), REAL(vectors), isuppz, iwork, 10 * r,
                              C, work, (int) lw, COST_INTERNAL);
  SEXP out = PROTECT(Rf_allocVector(VECSXP, 3));
  SET_VECTOR_ELT(out, 0, values);
  SET_VECTOR_ELT(out, 1, vectors);
  SET_VECTOR_ELT(out, 2, Rf_ScalarLogical(ok));
  SEXP nm = PROTECT(Rf_allocVector(STRSXP, 3));
  SET_STRING_ELT(nm, 0, Rf_mkChar("values"));
  SET_STRING_ELT(nm, 1, Rf_mkChar("vectors"));
  SET_STRING_ELT(nm, 2, Rf_mkChar("ok"));
  Rf_setAttrib(out, R_NamesSymbol, nm);
  UNPROTECT(4);
  return out;
}
