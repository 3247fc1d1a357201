/* Driver of the prototype (bench/transport18): solves the n x m cost in a
 * raw file of doubles (column-major) with uniform masses, `reps` times,
 * and prints the best time, the work, the plan's size, the optimal cost
 * (masses 1/n, 1/m) and the certificate: the least reduced cost over C and
 * the largest |reduced cost| on the support.
 *   driver FILE n m [reps]      (EPS0, EPSMIN, EPSFAC: the auction start) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "ot_transport.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  int n = atoi(argv[2]), m = atoi(argv[3]), reps = argc > 4 ? atoi(argv[4]) : 3;
  size_t E = (size_t) n * m;
  double *C = malloc(E * sizeof(double));
  FILE *f = fopen(argv[1], "rb");
  if (!f || fread(C, sizeof(double), E, f) != E) return 1;
  fclose(f);
  void *w = malloc(ot_transport_bytes(n, m));
  int *fi = malloc(sizeof(int) * (n + m)), *fj = malloc(sizeof(int) * (n + m));
  double *fx = malloc(sizeof(double) * (n + m)), *u = malloc(sizeof(double) * n),
         *v = malloc(sizeof(double) * m);
  double best = HUGE_VAL;
  int st = 0;
  ot_transport *s = NULL;
  for (int r = 0; r < reps; r++) {
    double t0 = now();
    s = ot_transport_init(w, n, m, C);
    st = ot_transport_run(s, 0);
    double t = now() - t0;
    if (t < best) best = t;
  }
  int nnz = ot_transport_solution(s, fi, fj, fx, u, v);
  double S = ot_transport_unit(s), cost = 0, minr = 0, maxsupp = 0;
  for (int k = 0; k < nnz; k++) cost += C[fi[k] + (size_t) fj[k] * n] * fx[k];
  cost /= (double) n * S; /* a unit carries 1 / (n S) */
  for (size_t e = 0; e < E; e++) {
    double r = C[e] - u[e % n] - v[e / n];
    if (r < minr) minr = r;
  }
  for (int k = 0; k < nnz; k++) {
    double r = fabs(C[fi[k] + (size_t) fj[k] * n] - u[fi[k]] - v[fj[k]]);
    if (r > maxsupp) maxsupp = r;
  }
  printf("%s st=%d best %.4f s work %.0f nnz %d (<= %d) cycles %.0f cost %.15g minr %.2e maxsupp %.2e\n",
         argv[1], st, best, ot_transport_work(s), nnz, n + m - 1, ot_transport_cycles(s), cost,
         minr, maxsupp);
  printf("aug %.0f pops %.0f scans %.0f\n", naug / reps, npop / reps, nscan / reps);
  return 0;
}
