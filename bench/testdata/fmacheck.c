/* fmacheck.c: an independent check of nnkern's FMA peak probe.
 *
 * A C loop of 12 independent accumulator chains acc = acc*m + c, each one
 * 256-bit FMA (_mm256_fmadd_ps / _mm256_fmadd_pd), written with intrinsics
 * and compiled by gcc -O2 -mavx2 -mfma; nothing in it comes from nnkern's
 * generator. It times `samples` calls of `trips` loop trips (4 rounds over
 * the 12 chains per trip, the same work as one bench probe operation) and
 * prints the best and the median rate in GFLOP/s:
 *
 *     fmacheck f32|f64 trips samples  ->  "best_gflops median_gflops checksum"
 */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

#define CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

static float run_ps(long trips) {
	__m256 m = _mm256_set1_ps(0.5f), c = _mm256_set1_ps(1.0f);
/* distinct starting values, so the compiler cannot merge the chains */
#define DECL(i) __m256 a##i = _mm256_set1_ps(0.01f * i);
	CHAINS(DECL)
	for (long t = 0; t < trips; t++) {
		for (int r = 0; r < 4; r++) {
#define STEP(i) a##i = _mm256_fmadd_ps(a##i, m, c);
			CHAINS(STEP)
		}
	}
	__m256 s = _mm256_setzero_ps();
#define ADD(i) s = _mm256_add_ps(s, a##i);
	CHAINS(ADD)
	float out[8], sum = 0;
	_mm256_storeu_ps(out, s);
	for (int i = 0; i < 8; i++) sum += out[i];
	return sum;
}

static double run_pd(long trips) {
	__m256d m = _mm256_set1_pd(0.5), c = _mm256_set1_pd(1.0);
#define DECLD(i) __m256d a##i = _mm256_set1_pd(0.01 * i);
	CHAINS(DECLD)
	for (long t = 0; t < trips; t++) {
		for (int r = 0; r < 4; r++) {
#define STEPD(i) a##i = _mm256_fmadd_pd(a##i, m, c);
			CHAINS(STEPD)
		}
	}
	__m256d s = _mm256_setzero_pd();
#define ADDD(i) s = _mm256_add_pd(s, a##i);
	CHAINS(ADDD)
	double out[4], sum = 0;
	_mm256_storeu_pd(out, s);
	for (int i = 0; i < 4; i++) sum += out[i];
	return sum;
}

static int cmp(const void *a, const void *b) {
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv) {
	if (argc != 4 || (strcmp(argv[1], "f32") && strcmp(argv[1], "f64"))) {
		fprintf(stderr, "usage: fmacheck f32|f64 trips samples\n");
		return 2;
	}
	int f64 = !strcmp(argv[1], "f64");
	long trips = atol(argv[2]);
	int samples = atoi(argv[3]);
	if (trips < 1 || samples < 1) {
		fprintf(stderr, "fmacheck: trips and samples must be positive\n");
		return 2;
	}
	double *ts = malloc(sizeof(double) * samples), check = 0;
	double flops = (double)trips * 4 * 12 * (f64 ? 4 : 8) * 2;
	for (int i = 0; i < samples; i++) {
		double t0 = now();
		check += f64 ? run_pd(trips) : run_ps(trips);
		ts[i] = now() - t0;
	}
	qsort(ts, samples, sizeof(double), cmp);
	printf("%.4f %.4f %.1f\n", flops / ts[0] / 1e9, flops / ts[samples / 2] / 1e9, check);
	free(ts);
	return 0;
}
