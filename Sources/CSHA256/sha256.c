#include "cove_sha256.h"

#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t ror(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void blocks_portable(uint32_t state[8], const uint8_t *p, size_t n) {
    uint32_t w[64];
    while (n--) {
        for (int i = 0; i < 16; i++)
            w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
        for (int i = 16; i < 64; i++) {
            uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
            uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
        uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
        for (int i = 0; i < 64; i++) {
            uint32_t t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
            uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            h = g; g = f; f = e; e = d + t1;
            d = c; c = b; b = a; a = t1 + t2;
        }
        state[0] += a; state[1] += b; state[2] += c; state[3] += d;
        state[4] += e; state[5] += f; state[6] += g; state[7] += h;
        p += 64;
    }
}

#if defined(__x86_64__)
/* The SHA extensions keep the state as two registers, ABEF and CDGH (lane 3
   highest); each sha256rnds2 does two rounds from the low two dwords of
   W+K. Four message registers hold W[4g..4g+3] for the last four groups. */
__attribute__((target("sha,sse4.1,ssse3")))
static void blocks_shani(uint32_t state[8], const uint8_t *p, size_t n) {
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i t = _mm_loadu_si128((const __m128i *)&state[0]);  /* a b c d */
    __m128i s1 = _mm_loadu_si128((const __m128i *)&state[4]); /* e f g h */
    t = _mm_shuffle_epi32(t, 0xB1);                           /* b a d c */
    s1 = _mm_shuffle_epi32(s1, 0x1B);                         /* h g f e */
    __m128i s0 = _mm_alignr_epi8(t, s1, 8);                   /* f e b a: ABEF */
    s1 = _mm_blend_epi16(s1, t, 0xF0);                        /* h g d c: CDGH */
    while (n--) {
        __m128i abef = s0, cdgh = s1;
        __m128i m[4];
        for (int g = 0; g < 16; g++) {
            __m128i *cur = &m[g & 3];
            if (g < 4) {
                *cur = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), bswap);
            } else {
                __m128i w16 = m[g & 3], w12 = m[(g + 1) & 3], w8 = m[(g + 2) & 3], w4 = m[(g + 3) & 3];
                __m128i x = _mm_add_epi32(_mm_sha256msg1_epu32(w16, w12), _mm_alignr_epi8(w4, w8, 4));
                *cur = _mm_sha256msg2_epu32(x, w4);
            }
            __m128i wk = _mm_add_epi32(*cur, _mm_loadu_si128((const __m128i *)&K[4 * g]));
            s1 = _mm_sha256rnds2_epu32(s1, s0, wk);
            s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(wk, 0x0E));
        }
        s0 = _mm_add_epi32(s0, abef);
        s1 = _mm_add_epi32(s1, cdgh);
        p += 64;
    }
    t = _mm_shuffle_epi32(s0, 0x1B);                          /* a b e f */
    s1 = _mm_shuffle_epi32(s1, 0xB1);                         /* g h c d */
    _mm_storeu_si128((__m128i *)&state[0], _mm_blend_epi16(t, s1, 0xF0)); /* a b c d */
    _mm_storeu_si128((__m128i *)&state[4], _mm_alignr_epi8(s1, t, 8));   /* e f g h */
}

static int known = -1;

static int has_shani(void) {
    if (known < 0) {
        unsigned a, b, c, d;
        int sha = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29));
        int sse41 = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 19)) && (c & (1u << 9));
        known = sha && sse41;
    }
    return known;
}
#endif

static void blocks(uint32_t state[8], const uint8_t *p, size_t n) {
#if defined(__x86_64__)
    if (has_shani()) { blocks_shani(state, p, n); return; }
#endif
    blocks_portable(state, p, n);
}

void cove_sha256_portable_only(void) {
#if defined(__x86_64__)
    known = 0;
#endif
}

int cove_sha256_accelerated(void) {
#if defined(__x86_64__)
    return has_shani();
#else
    return 0;
#endif
}

void cove_sha256_init(cove_sha256_ctx *ctx) {
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(ctx->state, iv, sizeof iv);
    ctx->length = 0;
    ctx->used = 0;
}

void cove_sha256_update(cove_sha256_ctx *ctx, const void *data, size_t len) {
    const uint8_t *p = data;
    ctx->length += len;
    if (ctx->used) {
        size_t take = 64 - ctx->used < len ? 64 - ctx->used : len;
        memcpy(ctx->pending + ctx->used, p, take);
        ctx->used += (uint32_t)take;
        p += take;
        len -= take;
        if (ctx->used < 64) return;
        blocks(ctx->state, ctx->pending, 1);
        ctx->used = 0;
    }
    if (len >= 64) {
        blocks(ctx->state, p, len / 64);
        p += len / 64 * 64;
        len %= 64;
    }
    memcpy(ctx->pending, p, len);
    ctx->used = (uint32_t)len;
}

void cove_sha256_final(cove_sha256_ctx *ctx, uint8_t digest[32]) {
    uint64_t bits = ctx->length * 8;
    uint8_t tail[128] = {0};
    size_t n = ctx->used;
    memcpy(tail, ctx->pending, n);
    tail[n] = 0x80;
    size_t total = n + 1 + 8 <= 64 ? 64 : 128;
    for (int i = 0; i < 8; i++) tail[total - 1 - i] = (uint8_t)(bits >> (8 * i));
    blocks(ctx->state, tail, total / 64);
    for (int i = 0; i < 8; i++) {
        digest[4 * i] = (uint8_t)(ctx->state[i] >> 24);
        digest[4 * i + 1] = (uint8_t)(ctx->state[i] >> 16);
        digest[4 * i + 2] = (uint8_t)(ctx->state[i] >> 8);
        digest[4 * i + 3] = (uint8_t)ctx->state[i];
    }
}
