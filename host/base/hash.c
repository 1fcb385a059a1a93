/* FNV-1a, 64 and 32 bits (include/kdbench/hash.h). */
#include "kdbench/hash.h"

#include <stdio.h>

uint64_t kd_fnv1a(uint64_t h, const void *data, size_t len) {
  const unsigned char *b = data;
  for (size_t i = 0; i < len; ++i) h = (h ^ b[i]) * 0x100000001b3ull;
  return h;
}

uint32_t kd_hash32(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; ++s) {
    h ^= (uint8_t)*s;
    h *= 16777619u;
  }
  return h;
}

void kd_hash_hex(uint64_t h, char out[17]) { snprintf(out, 17, "%016llx", (unsigned long long)h); }
