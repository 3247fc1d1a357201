/* The one reconstruction-and-correlation kernel of hotalign.  A source layer
 * is rebuilt from the target system,
 *   X^_l = sum_m (L W[l, m]) * Y~_m (n_l Q_lm)^T [ R_lm^T ]
 * where W is the outer plan P (or a baseline's weights), Q_lm the sparse
 * inner plans stored as triplets (i, j, x) with pair offsets `start`, and
 * R_lm the HOT+R rotations (NULL: none, or R = I); each unit is scored by
 * the Pearson correlation of its reconstruction with the truth.
 *
 * The rule of an undefined correlation (one rule, for every caller): a
 * vector v is constant when its centred norm is at most UNDEFINED_TOL times
 * a bound on the magnitude of what it is computed from,
 *   || v - mean(v) || <= 1e-10 * B(v),
 * with B = ||v|| for the held-out truth and, for a reconstruction
 * v = sum_k c_k y_k (c_k the weights L W n Q of the target units y_k it
 * adds), B = sum_k |c_k| ||y_k||; with a rotation, v_i = sum_q R_iq b_q for
 * the columns b_q of Y (n Q)' (bounds B_q as above), and
 * B = sum_m L W ||(B_q)_q||_2 >= sum_q |R_iq| B_q (Cauchy-Schwarz: the rows
 * of R have unit norm), the same whether R is dense or compact.  Rounding perturbs v by about T eps B, far
 * below 1e-10 B, so a vector that is constant in exact arithmetic (an exactly
 * constant column, a reconstruction whose terms cancel to a constant, or no
 * term at all) is undefined whatever the rounding; a unit whose truth or
 * reconstruction is constant gets NA and is left out of the layer mean.
 */
#include <math.h>
#include <string.h>
#include <R.h>
#include <Rinternals.h>
#include "blas_lapack.h"
#include "hotalign.h"

#define UNDEFINED_TOL 1e-10

#if defined(__x86_64__) && defined(__GNUC__) && !defined(HOTALIGN_NO_AVX2)
#define HOT_SCORE_AVX2 1
#include <immintrin.h>

/* out[r] += c * y[r], r < T: a multiplication then an addition per value,
 * as the scalar loop (AVX2 without FMA: nothing can be contracted) */
__attribute__((target("avx2")))
static void axpy_avx2(int T, double c, const double *y, double *out) {
  const __m256d cc = _mm256_set1_pd(c);
  int r = 0;
  for (; r + 4 <= T; r += 4)
    _mm256_storeu_pd(out + r, _mm256_add_pd(_mm256_loadu_pd(out + r),
                                            _mm256_mul_pd(cc, _mm256_loadu_pd(y + r))));
  for (; r < T; r++) out[r] += c * y[r];
}
#endif

void column_norms(const double *Y, int T, int n, double *norm) {
  for (int j = 0; j < n; j++) {
    const double *y = Y + (R_xlen_t) j * T;
    double s = 0;
    for (int r = 0; r < T; r++) s += y[r] * y[r];
    norm[j] = sqrt(s);
  }
}

sparse_plans plans_from_list(SEXP list, int first) {
  sparse_plans sp;
  sp.i = INTEGER(VECTOR_ELT(list, first));
  sp.j = INTEGER(VECTOR_ELT(list, first + 1));
  sp.x = REAL(VECTOR_ELT(list, first + 2));
  sp.start = REAL(VECTOR_ELT(list, first + 3));
  return sp;
}

size_t score_scratch_doubles(int T, int n, int rotated, int max_r) {
  size_t Tn = (size_t) T * (size_t) n;
  return Tn + 2 * (size_t) n +
         (rotated ? Tn + (size_t) n +
                        (max_r >= 1 && max_r < n ? rotation_compact_work(n, max_r, T) : 0)
                  : 0);
}

/* Layer l rebuilt under weights W, and/or the bounds of its columns:
 * Xhat (T x n_l, or NULL) the reconstruction, bound (n_l, or NULL) the
 * bound B of each column (see the rule at the top) from the norms `ynorm`
 * of the target units.  One walk over the terms serves both, so that the
 * bound is always that of the reconstruction.  Scratch for rotated pairs:
 * B (T x n_l, with Xhat), work (rotation_compact_work(n_l, r, T) doubles,
 * with Xhat, for compact rotations of rank r) and bound_B (n_l, with
 * bound).  A compact rotation
 * (job->rot_r[k] = r >= 1) is applied through its Householder factors,
 * O(T n_l r), never as a dense n_l x n_l matrix. */
static void rebuild_layer(const score_job *job, int l, const double *W,
                          const double *const *ynorm, double *B, double *bound_B,
                          double *work, double *Xhat, double *bound) {
  const int L = job->L, M = job->M, T = job->T, n_l = job->nx[l];
  const sparse_plans *sp = &job->sp;
  if (Xhat) memset(Xhat, 0, sizeof(double) * (size_t) T * n_l);
  if (bound) memset(bound, 0, sizeof(double) * (size_t) n_l);
  for (int m = 0; m < M; m++) {
    double w = W[l + (R_xlen_t) m * L];
    if (w == 0) continue;
    R_xlen_t k = l + (R_xlen_t) m * L;
    const double *R = job->rot ? job->rot[k] : NULL;
    /* without rotation, accumulate straight into Xhat; with it, B = Y (n Q)'
     * first and then Xhat += L w B R' */
    double s = R ? (double) n_l : (double) L * w * n_l;
    double *dest = R ? B : Xhat, *dest_bound = R ? bound_B : bound;
    if (R && Xhat) memset(B, 0, sizeof(double) * (size_t) T * n_l);
    if (R && bound) memset(bound_B, 0, sizeof(double) * (size_t) n_l);
    for (R_xlen_t t = (R_xlen_t) sp->start[k]; t < (R_xlen_t) sp->start[k + 1]; t++) {
      double c = s * sp->x[t];
      int i = sp->i[t] - 1, j = sp->j[t] - 1;
      if (Xhat) {
        double *out = dest + (R_xlen_t) i * T;
        const double *y = job->Y[m] + (R_xlen_t) j * T;
#ifdef HOT_SCORE_AVX2
        if (cpu_has_avx2()) {
          axpy_avx2(T, c, y, out);
        } else
#endif
          for (int r = 0; r < T; r++) out[r] += c * y[r];
      }
      if (bound) dest_bound[i] += fabs(c) * ynorm[m][j];
    }
    if (!R) continue;
    const double alpha = (double) L * w;
    const int r = job->rot_r ? job->rot_r[k] : 0;
    if (Xhat && T > 0 && r > 0) { /* B := B R' in place, then Xhat += alpha B */
      const R_xlen_t Tn = (R_xlen_t) T * n_l;
      (void) rotation_compact_apply(R, n_l, r, B, T, work);
      for (R_xlen_t e = 0; e < Tn; e++) Xhat[e] += alpha * B[e];
    } else if (Xhat && T > 0) {
      const double one = 1.0;
      F77_CALL(dgemm)("N", "T", &T, &n_l, &n_l, &alpha, B, &T, R, &n_l, &one,
                      Xhat, &T FCONE FCONE);
    }
    if (bound) {
      double b2 = 0;
      for (int q = 0; q < n_l; q++) b2 += bound_B[q] * bound_B[q];
      const double b = fabs(alpha) * sqrt(b2);
      for (int i = 0; i < n_l; i++) bound[i] += b;
    }
  }
}

/* Pearson correlation of reconstruction x (bound bx) and truth y, NA when
 * either is constant by the rule at the top of the file */
static double unit_correlation(const double *x, double bx, const double *y, int T) {
  double mx = 0, my = 0, yy = 0;
  for (int r = 0; r < T; r++) {
    mx += x[r];
    my += y[r];
    yy += y[r] * y[r];
  }
  mx /= T;
  my /= T;
  double sxy = 0, sxx = 0, syy = 0;
  for (int r = 0; r < T; r++) {
    double dx = x[r] - mx, dy = y[r] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (!(sqrt(sxx) > UNDEFINED_TOL * bx) || !(sqrt(syy) > UNDEFINED_TOL * sqrt(yy)))
    return NA_REAL;
  return sxy / sqrt(sxx * syy);
}

/* unit_correlation() of four units at once: the same operations in the
 * same order for each unit, so the same bits, as four independent chains
 * of additions (a sum is bound by the latency of its adds) */
static void unit_correlation_four(const double *const *x, const double *bx,
                                  const double *const *y, int T, double *r) {
  double mx[4] = {0, 0, 0, 0}, my[4] = {0, 0, 0, 0}, yy[4] = {0, 0, 0, 0};
  for (int t = 0; t < T; t++)
    for (int c = 0; c < 4; c++) {
      mx[c] += x[c][t];
      my[c] += y[c][t];
      yy[c] += y[c][t] * y[c][t];
    }
  double sxy[4] = {0, 0, 0, 0}, sxx[4] = {0, 0, 0, 0}, syy[4] = {0, 0, 0, 0};
  for (int c = 0; c < 4; c++) {
    mx[c] /= T;
    my[c] /= T;
  }
  for (int t = 0; t < T; t++)
    for (int c = 0; c < 4; c++) {
      double dx = x[c][t] - mx[c], dy = y[c][t] - my[c];
      sxy[c] += dx * dy;
      sxx[c] += dx * dx;
      syy[c] += dy * dy;
    }
  for (int c = 0; c < 4; c++)
    r[c] = (!(sqrt(sxx[c]) > UNDEFINED_TOL * bx[c]) ||
            !(sqrt(syy[c]) > UNDEFINED_TOL * sqrt(yy[c])))
               ? NA_REAL
               : sxy[c] / sqrt(sxx[c] * syy[c]);
}

#ifdef HOT_SCORE_AVX2
/* four rows of four columns c[0..3] (from row t) as four vectors of the
 * columns' values at rows t .. t + 3 */
#define LOAD_T4(c, t, q0, q1, q2, q3)                                          \
  do {                                                                         \
    const __m256d a0_ = _mm256_loadu_pd((c)[0] + (t)), a1_ = _mm256_loadu_pd((c)[1] + (t)); \
    const __m256d a2_ = _mm256_loadu_pd((c)[2] + (t)), a3_ = _mm256_loadu_pd((c)[3] + (t)); \
    const __m256d u0_ = _mm256_unpacklo_pd(a0_, a1_), u1_ = _mm256_unpackhi_pd(a0_, a1_); \
    const __m256d u2_ = _mm256_unpacklo_pd(a2_, a3_), u3_ = _mm256_unpackhi_pd(a2_, a3_); \
    q0 = _mm256_permute2f128_pd(u0_, u2_, 0x20);                               \
    q1 = _mm256_permute2f128_pd(u1_, u3_, 0x20);                               \
    q2 = _mm256_permute2f128_pd(u0_, u2_, 0x31);                               \
    q3 = _mm256_permute2f128_pd(u1_, u3_, 0x31);                               \
  } while (0)

/* unit_correlation_four() with the four units in the lanes of AVX2
 * vectors: per unit the same operations in the same order (the rows in
 * order, a multiplication then an addition, no FMA), so the same bits */
__attribute__((target("avx2")))
static void unit_correlation_four_avx2(const double *const *x, const double *bx,
                                       const double *const *y, int T, double *r) {
  __m256d mx = _mm256_setzero_pd(), my = mx, yy = mx;
  int t = 0;
  for (; t + 4 <= T; t += 4) {
    __m256d x0, x1, x2, x3, y0, y1, y2, y3;
    LOAD_T4(x, t, x0, x1, x2, x3);
    LOAD_T4(y, t, y0, y1, y2, y3);
    mx = _mm256_add_pd(mx, x0);
    my = _mm256_add_pd(my, y0);
    yy = _mm256_add_pd(yy, _mm256_mul_pd(y0, y0));
    mx = _mm256_add_pd(mx, x1);
    my = _mm256_add_pd(my, y1);
    yy = _mm256_add_pd(yy, _mm256_mul_pd(y1, y1));
    mx = _mm256_add_pd(mx, x2);
    my = _mm256_add_pd(my, y2);
    yy = _mm256_add_pd(yy, _mm256_mul_pd(y2, y2));
    mx = _mm256_add_pd(mx, x3);
    my = _mm256_add_pd(my, y3);
    yy = _mm256_add_pd(yy, _mm256_mul_pd(y3, y3));
  }
  for (; t < T; t++) {
    const __m256d xv = _mm256_set_pd(x[3][t], x[2][t], x[1][t], x[0][t]);
    const __m256d yv = _mm256_set_pd(y[3][t], y[2][t], y[1][t], y[0][t]);
    mx = _mm256_add_pd(mx, xv);
    my = _mm256_add_pd(my, yv);
    yy = _mm256_add_pd(yy, _mm256_mul_pd(yv, yv));
  }
  const __m256d nt = _mm256_set1_pd((double) T);
  mx = _mm256_div_pd(mx, nt);
  my = _mm256_div_pd(my, nt);
  __m256d sxy = _mm256_setzero_pd(), sxx = sxy, syy = sxy;
#define CORR_STEP(xv, yv)                                  \
  do {                                                     \
    const __m256d dx_ = _mm256_sub_pd(xv, mx), dy_ = _mm256_sub_pd(yv, my); \
    sxy = _mm256_add_pd(sxy, _mm256_mul_pd(dx_, dy_));     \
    sxx = _mm256_add_pd(sxx, _mm256_mul_pd(dx_, dx_));     \
    syy = _mm256_add_pd(syy, _mm256_mul_pd(dy_, dy_));     \
  } while (0)
  for (t = 0; t + 4 <= T; t += 4) {
    __m256d x0, x1, x2, x3, y0, y1, y2, y3;
    LOAD_T4(x, t, x0, x1, x2, x3);
    LOAD_T4(y, t, y0, y1, y2, y3);
    CORR_STEP(x0, y0);
    CORR_STEP(x1, y1);
    CORR_STEP(x2, y2);
    CORR_STEP(x3, y3);
  }
  for (; t < T; t++)
    CORR_STEP(_mm256_set_pd(x[3][t], x[2][t], x[1][t], x[0][t]),
              _mm256_set_pd(y[3][t], y[2][t], y[1][t], y[0][t]));
#undef CORR_STEP
  double yy4[4], sxy4[4], sxx4[4], syy4[4];
  _mm256_storeu_pd(yy4, yy);
  _mm256_storeu_pd(sxy4, sxy);
  _mm256_storeu_pd(sxx4, sxx);
  _mm256_storeu_pd(syy4, syy);
  for (int c = 0; c < 4; c++)
    r[c] = (!(sqrt(sxx4[c]) > UNDEFINED_TOL * bx[c]) ||
            !(sqrt(syy4[c]) > UNDEFINED_TOL * sqrt(yy4[c])))
               ? NA_REAL
               : sxy4[c] / sqrt(sxx4[c] * syy4[c]);
}
#endif

/* The weighted Pearson correlation (row weights w >= 0, not all zero) of
 * reconstruction x (bound bx, from weighted norms) and truth y, NA by the
 * rule at the top with weighted norms: the correlation of a resample that
 * takes row t w[t] times. */
static double weighted_correlation(const double *x, double bx, const double *y,
                                   const double *w, int T) {
  double sw = 0, mx = 0, my = 0, yy = 0;
  for (int r = 0; r < T; r++) {
    sw += w[r];
    mx += w[r] * x[r];
    my += w[r] * y[r];
    yy += w[r] * y[r] * y[r];
  }
  if (!(sw > 0)) return NA_REAL;
  mx /= sw;
  my /= sw;
  double sxy = 0, sxx = 0, syy = 0;
  for (int r = 0; r < T; r++) {
    double dx = x[r] - mx, dy = y[r] - my;
    sxy += w[r] * dx * dy;
    sxx += w[r] * dx * dx;
    syy += w[r] * dy * dy;
  }
  if (!(sqrt(sxx) > UNDEFINED_TOL * bx) || !(sqrt(syy) > UNDEFINED_TOL * sqrt(yy)))
    return NA_REAL;
  return sxy / sqrt(sxx * syy);
}

/* mean of the non-NA values, as R's mean(x[!is.na(x)]) (long double sum,
 * then one correction pass); NA_REAL when there is none */
static double mean_defined(const double *r, int n) {
  long double s = 0;
  int count = 0;
  for (int i = 0; i < n; i++)
    if (!ISNAN(r[i])) {
      s += r[i];
      count++;
    }
  if (count == 0) return NA_REAL;
  s /= count;
  if (R_FINITE((double) s)) {
    long double t = 0;
    for (int i = 0; i < n; i++)
      if (!ISNAN(r[i])) t += (r[i] - s);
    s += t / count;
  }
  return (double) s;
}

double score_layer(const score_job *job, int l, const double *W, double *scratch,
                   double *r, double *Xhat) {
  const int T = job->T, n_l = job->nx[l];
  const size_t Tn = (size_t) T * (size_t) n_l;
  double *bound = scratch, *rr = scratch + n_l, *xh = scratch + 2 * (size_t) n_l;
  double *B = xh + Tn, *bound_B = B + Tn, *work = bound_B + n_l;
  if (Xhat) xh = Xhat;
  if (!r) r = rr;
  rebuild_layer(job, l, W, job->ynorm, B, bound_B, work, xh, bound);
  int i = 0;
  for (; i + 4 <= n_l; i += 4) {
    const double *x4[4], *y4[4];
    for (int c = 0; c < 4; c++) {
      x4[c] = xh + (R_xlen_t) (i + c) * T;
      y4[c] = job->X[l] + (R_xlen_t) (i + c) * T;
    }
#ifdef HOT_SCORE_AVX2
    if (cpu_has_avx2()) {
      unit_correlation_four_avx2(x4, bound + i, y4, T, r + i);
      continue;
    }
#endif
    unit_correlation_four(x4, bound + i, y4, T, r + i);
  }
  for (; i < n_l; i++)
    r[i] = unit_correlation(xh + (R_xlen_t) i * T, bound[i],
                            job->X[l] + (R_xlen_t) i * T, T);
  return mean_defined(r, n_l);
}

/* ------------------------------------------------------------ .Call entries */

/* r when R is the compact form of a rotation of n units (a double vector,
 * not a matrix, of rotation_compact_doubles(n, r) = 2 n r + 3 r entries
 * with 1 <= r < n), else 0 */
static int compact_rank(SEXP R, int n) {
  if (!Rf_isReal(R) || Rf_isMatrix(R)) return 0;
  const R_xlen_t len = XLENGTH(R), per = 2 * (R_xlen_t) n + 3;
  if (len < per || len % per != 0 || len / per >= n) return 0;
  return (int) (len / per);
}

/* R has checked everything; a direct .Call with anything else is refused
 * here rather than read out of bounds.  inner: list(i, j, x, start, ...) with
 * start L*M + 1 non-decreasing whole offsets into i, j, x, and pair k's
 * entries in 1..n_source[l] x 1..ncol(Ys[[m]]); W: L x M doubles; rotations:
 * NULL or a list of L*M entries, each NULL or an n_l x n_l double matrix. */
static void check_plans(SEXP Ys, SEXP inner, SEXP W, const int *n_source, int L,
                        SEXP rotations) {
  const int M = Rf_length(Ys);
  const R_xlen_t LM = (R_xlen_t) L * M;
  if (!Rf_isReal(W) || XLENGTH(W) != LM)
    Rf_error("`W` must be a double matrix with %d x %d entries", L, M);
  if (TYPEOF(inner) != VECSXP || XLENGTH(inner) < 4 ||
      !Rf_isInteger(VECTOR_ELT(inner, 0)) || !Rf_isInteger(VECTOR_ELT(inner, 1)) ||
      !Rf_isReal(VECTOR_ELT(inner, 2)) || !Rf_isReal(VECTOR_ELT(inner, 3)))
    Rf_error("`inner` must be list(i = integer, j = integer, x = double, "
             "start = double)");
  R_xlen_t nnz = XLENGTH(VECTOR_ELT(inner, 0));
  if (XLENGTH(VECTOR_ELT(inner, 1)) != nnz || XLENGTH(VECTOR_ELT(inner, 2)) != nnz ||
      XLENGTH(VECTOR_ELT(inner, 3)) != LM + 1)
    Rf_error("`inner`: `i`, `j`, `x` must have equal lengths and `start` %d + 1",
             (int) LM);
  const int *pi = INTEGER(VECTOR_ELT(inner, 0)), *pj = INTEGER(VECTOR_ELT(inner, 1));
  const double *start = REAL(VECTOR_ELT(inner, 3));
  if (!(start[0] == 0)) Rf_error("`inner$start` must begin at 0");
  for (R_xlen_t k = 0; k < LM; k++) {
    double s0 = start[k], s1 = start[k + 1];
    if (!(s1 >= s0) || s1 > (double) nnz || s1 != floor(s1))
      Rf_error("`inner$start` must be non-decreasing whole offsets <= %.0f",
               (double) nnz);
    int l = (int) (k % L), m = (int) (k / L), nm = Rf_ncols(VECTOR_ELT(Ys, m));
    for (R_xlen_t t = (R_xlen_t) s0; t < (R_xlen_t) s1; t++)
      if (pi[t] == NA_INTEGER || pi[t] < 1 || pi[t] > n_source[l] ||
          pj[t] == NA_INTEGER || pj[t] < 1 || pj[t] > nm)
        Rf_error("`inner` entry %.0f is outside the units of pair %d", (double) t + 1,
                 (int) k + 1);
  }
  if (Rf_isNull(rotations)) return;
  if (TYPEOF(rotations) != VECSXP || XLENGTH(rotations) != LM)
    Rf_error("`rotations` must be NULL or a list of %d entries", (int) LM);
  for (R_xlen_t k = 0; k < LM; k++) {
    SEXP R = VECTOR_ELT(rotations, k);
    int n = n_source[k % L];
    if (Rf_isNull(R) || compact_rank(R, n) > 0) continue;
    if (!Rf_isReal(R) || !Rf_isMatrix(R) || Rf_nrows(R) != n || Rf_ncols(R) != n)
      Rf_error("`rotations[[%d]]` must be NULL, a %d x %d double matrix or the "
               "compact factors of one", (int) k + 1, n, n);
  }
}

/* The kernel of predict(), the bootstrap of hot_inference() and tests:
 * the source layers rebuilt from Ys (T x n'_m each) under weights W, with
 * the plans `inner` and `rotations`.  n_source: the source widths.  Xs:
 * NULL (no scores) or the truth (T x n_l each): then `units` (per-unit
 * correlations) and `layers` (their means over defined units); with
 * `weights` (NULL or a T x B matrix of row weights) `layers` is L x B, the
 * layer means under each column of weights.  rebuild: also return the
 * reconstructions. */
SEXP ffi_reconstruct_scores(SEXP Xs, SEXP Ys, SEXP inner, SEXP W, SEXP rotations,
                            SEXP rebuild, SEXP n_source, SEXP weights) {
  const int T0 = check_layer_list(Ys, "Ys", -1);
  if (!Rf_isInteger(n_source) || XLENGTH(n_source) < 1)
    Rf_error("`n_source` must be a non-empty integer vector");
  const int L = Rf_length(n_source), M = Rf_length(Ys);
  const int *nx = INTEGER(n_source);
  for (int l = 0; l < L; l++)
    if (nx[l] == NA_INTEGER || nx[l] < 1) Rf_error("`n_source` must be whole numbers >= 1");
  const int scored = !Rf_isNull(Xs), keep = Rf_asLogical(rebuild) == 1;
  if (scored) {
    check_layer_list(Xs, "Xs", T0);
    if (Rf_length(Xs) != L) Rf_error("`Xs` must have %d layers", L);
    for (int l = 0; l < L; l++)
      if (Rf_ncols(VECTOR_ELT(Xs, l)) != nx[l])
        Rf_error("`Xs[[%d]]` must have %d columns (`n_source`)", l + 1, nx[l]);
  }
  if (!Rf_isNull(weights)) {
    if (!Rf_isReal(weights) || !Rf_isMatrix(weights) || Rf_nrows(weights) != T0)
      Rf_error("`weights` must be NULL or a double matrix with %d rows", T0);
    for (R_xlen_t e = 0; e < XLENGTH(weights); e++)
      if (!(REAL(weights)[e] >= 0) || !R_FINITE(REAL(weights)[e]))
        Rf_error("`weights` must be finite and >= 0");
  }
  const int B = Rf_isNull(weights) ? 0 : Rf_ncols(weights);
  check_plans(Ys, inner, W, nx, L, rotations);
  score_job job;
  job.L = L;
  job.M = M;
  job.T = T0;
  int *ny = (int *) R_alloc(M, sizeof(int));
  const double **X = (const double **) R_alloc(L, sizeof(double *));
  const double **Y = (const double **) R_alloc(M, sizeof(double *));
  const double **yn = (const double **) R_alloc(M, sizeof(double *));
  int max_n = 0;
  for (int l = 0; l < L; l++) {
    X[l] = scored ? REAL(VECTOR_ELT(Xs, l)) : NULL;
    if (nx[l] > max_n) max_n = nx[l];
  }
  for (int m = 0; m < M; m++) {
    ny[m] = Rf_ncols(VECTOR_ELT(Ys, m));
    Y[m] = REAL(VECTOR_ELT(Ys, m));
    double *norm = (double *) R_alloc(ny[m], sizeof(double));
    column_norms(Y[m], T0, ny[m], norm);
    yn[m] = norm;
  }
  job.X = X;
  job.Y = Y;
  job.ynorm = yn;
  job.nx = nx;
  job.ny = ny;
  job.sp = plans_from_list(inner, 0);
  job.rot = NULL;
  job.rot_r = NULL;
  if (!Rf_isNull(rotations)) {
    const double **rot = (const double **) R_alloc((size_t) L * M, sizeof(double *));
    int *rot_r = (int *) R_alloc((size_t) L * M, sizeof(int));
    for (R_xlen_t k = 0; k < (R_xlen_t) L * M; k++) {
      SEXP R = VECTOR_ELT(rotations, k);
      rot[k] = Rf_isNull(R) ? NULL : REAL(R);
      rot_r[k] = Rf_isNull(R) ? 0 : compact_rank(R, nx[k % L]);
    }
    job.rot = rot;
    job.rot_r = rot_r;
  }
  int max_r = 0;
  if (job.rot_r)
    for (R_xlen_t k = 0; k < (R_xlen_t) L * M; k++)
      if (job.rot_r[k] > max_r) max_r = job.rot_r[k];
  double *scratch = (double *) R_alloc(score_scratch_doubles(T0, max_n, job.rot != NULL, max_r),
                                       sizeof(double));
  SEXP units = PROTECT(scored ? Rf_allocVector(VECSXP, L) : R_NilValue);
  SEXP means = PROTECT(!scored ? R_NilValue : B ? Rf_allocMatrix(REALSXP, L, B)
                                                : Rf_allocVector(REALSXP, L));
  SEXP rebuilt = PROTECT(Rf_allocVector(VECSXP, L));
  double **xhat = (double **) R_alloc(L, sizeof(double *));
  for (int l = 0; l < L; l++) {
    SEXP Xhat = Rf_allocMatrix(REALSXP, T0, nx[l]);
    SET_VECTOR_ELT(rebuilt, l, Xhat);
    xhat[l] = REAL(Xhat);
    if (!scored) {
      rebuild_layer(&job, l, REAL(W), NULL, scratch, NULL,
                    scratch + (size_t) T0 * (size_t) max_n, xhat[l], NULL);
      continue;
    }
    SEXP r = Rf_allocVector(REALSXP, nx[l]);
    SET_VECTOR_ELT(units, l, r);
    double mean = score_layer(&job, l, REAL(W), scratch, REAL(r), xhat[l]);
    if (!B) REAL(means)[l] = mean;
  }
  if (scored && B) {
    /* per resample: weighted norms of the target units, the bounds, the
     * weighted correlations of every unit and their layer means */
    double **ynw = (double **) R_alloc(M, sizeof(double *));
    for (int m = 0; m < M; m++) ynw[m] = (double *) R_alloc(ny[m], sizeof(double));
    double *bound = (double *) R_alloc(max_n, sizeof(double));
    double *bound_B = (double *) R_alloc(max_n, sizeof(double));
    double *rr = (double *) R_alloc(max_n, sizeof(double));
    for (int b = 0; b < B; b++) {
      const double *w = REAL(weights) + (R_xlen_t) b * T0;
      for (int m = 0; m < M; m++)
        for (int j = 0; j < ny[m]; j++) {
          const double *y = Y[m] + (R_xlen_t) j * T0;
          double s2 = 0;
          for (int t = 0; t < T0; t++) s2 += w[t] * y[t] * y[t];
          ynw[m][j] = sqrt(s2);
        }
      for (int l = 0; l < L; l++) {
        rebuild_layer(&job, l, REAL(W), (const double *const *) ynw, NULL, bound_B,
                      NULL, NULL, bound);
        for (int i = 0; i < nx[l]; i++)
          rr[i] = weighted_correlation(xhat[l] + (R_xlen_t) i * T0, bound[i],
                                       X[l] + (R_xlen_t) i * T0, w, T0);
        REAL(means)[l + (R_xlen_t) b * L] = mean_defined(rr, nx[l]);
      }
      if (b % 16 == 15) R_CheckUserInterrupt();
    }
  }
  const char *names[] = {"units", "layers", "rebuilt", ""};
  SEXP out = PROTECT(Rf_mkNamed(VECSXP, names));
  SET_VECTOR_ELT(out, 0, units);
  SET_VECTOR_ELT(out, 1, means);
  SET_VECTOR_ELT(out, 2, keep ? rebuilt : R_NilValue);
  UNPROTECT(4);
  return out;
}

/* The correlation of the matching columns of a (predictions) and b (truth),
 * T x n each, by the rule at the top: `bound` (n) is the bound B of each
 * column of a (NULL: its norm, a prediction taken as one term).  The kernel
 * of layer_similarity(metric = "linear"). */
SEXP ffi_correlations(SEXP a, SEXP b, SEXP bound) {
  if (!Rf_isReal(a) || !Rf_isMatrix(a) || !Rf_isReal(b) || !Rf_isMatrix(b) ||
      Rf_nrows(a) != Rf_nrows(b) || Rf_ncols(a) != Rf_ncols(b))
    Rf_error("`a` and `b` must be double matrices of the same size");
  const int T = Rf_nrows(a), n = Rf_ncols(a);
  if (!Rf_isNull(bound) && (!Rf_isReal(bound) || XLENGTH(bound) != n))
    Rf_error("`bound` must be NULL or a double vector of length %d", n);
  double *norm = (double *) R_alloc(n > 0 ? n : 1, sizeof(double));
  if (Rf_isNull(bound)) column_norms(REAL(a), T, n, norm);
  else for (int i = 0; i < n; i++) norm[i] = REAL(bound)[i];
  SEXP r = PROTECT(Rf_allocVector(REALSXP, n));
  for (int i = 0; i < n; i++)
    REAL(r)[i] = unit_correlation(REAL(a) + (R_xlen_t) i * T, norm[i],
                                  REAL(b) + (R_xlen_t) i * T, T);
  UNPROTECT(1);
  return r;
}
