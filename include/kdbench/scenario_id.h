/* What a run's scenario hash is made of (docs/run-format.md, scenario_hash and
 * hash_parts): the canonical settings with the grid's points, the numerics version of
 * the kdbench that computed the numbers, and the values read from a spectrum or beta*
 * file. Each part is kept on its own in NAME.meta.json, so that a resume, a merge or
 * `kdbench missing` that meets another hash can say which part changed. */
#ifndef KDBENCH_SCENARIO_ID_H
#define KDBENCH_SCENARIO_ID_H

#include <cJSON.h>
#include <stddef.h>

#include "kdbench/config.h"
#include "kdbench/grid.h"

/* The version of kdbench's numerics. Bump it in the commit that changes any number
 * kdbench writes for the same scenario (a formula, a random stream, a solver or its
 * fallback, the rounding of a grid, the order of a sum, a printed digit): the hash
 * covers it, so runs made before are refused on resume and merge instead of being
 * mixed with new rows. A change that writes the same numbers keeps it. */
#define KD_NUMERICS_VERSION 1

typedef struct {
  char hash[17];      /* the scenario hash, of the parts below (16 hex digits) */
  char settings[17];  /* the canonical scenario text (kd_config_print) and the grid's points */
  int numerics;       /* KD_NUMERICS_VERSION; -1 when a run's metadata records none */
  /* Hashes of the values read from a spectrum file and a beta* file; "" when the
   * spectrum (beta*) is not a file. The paths are those files, as given. */
  char spectrum[17], beta[17];
  char spectrum_path[KD_TEXT_LEN], beta_path[KD_TEXT_LEN];
} kd_scenario_id;

/* The id of c over its grid g (c->p resolved). Reads the spectrum and beta* files;
 * the errors name them. */
kd_status kd_scenario_id_make(const kd_config *c, const kd_grid *g, kd_scenario_id *id);

/* Adds "numerics_version" and "hash_parts" to a run's metadata object. */
void kd_scenario_id_to_json(const kd_scenario_id *id, cJSON *meta);
/* The id a run's metadata records (its scenario_hash and the keys above); what is
 * missing is left empty (numerics -1). meta may be NULL (no readable metadata). */
void kd_scenario_id_from_json(const cJSON *meta, kd_scenario_id *id);

/* What differs between `was` (e.g. a stored run's id) and `now`, as a phrase for an
 * error message: "the values in the --beta file b.txt differ", "computed by numerics
 * version 0, not 1" (was's, then now's), "other settings"; causes joined by "; ". */
void kd_scenario_id_diff(const kd_scenario_id *was, const kd_scenario_id *now, char *buf,
                         size_t len);

/* The hash of what determines a config's numbers (id->hash: 16 hex digits + NUL)
 * and its parts. */
kd_status kd_scenario_hash(const kd_config *cfg, kd_scenario_id *id);

/* c->p from the spectrum when the config leaves it to the spectrum file (p = 0). */
kd_status kd_config_resolve_p(kd_config *c);

#endif
