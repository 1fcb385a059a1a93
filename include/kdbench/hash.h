/* The project's hashes, both FNV-1a (one file, one family): the 64-bit one names
 * scenarios, points and rows on disk; the 32-bit one is the id of a grid point in the
 * random-number address, so every random stream depends on it and it stays as it is. */
#ifndef KDBENCH_HASH_H
#define KDBENCH_HASH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* FNV-1a 64 of bytes, continuing from h (start with KD_FNV_INIT). */
#define KD_FNV_INIT 0xcbf29ce484222325ull
uint64_t kd_fnv1a(uint64_t h, const void *data, size_t len);

/* h as 16 lower-case hex digits and a NUL: how scenario hashes, point keys and row
 * checks are written. */
void kd_hash_hex(uint64_t h, char out[17]);

/* 32-bit FNV-1a of a string: the id of a grid point from its canonical text. */
uint32_t kd_hash32(const char *s);

#ifdef __cplusplus
}
#endif

#endif
