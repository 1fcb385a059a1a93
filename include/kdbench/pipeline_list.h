/* The registry of pipelines, one line each, in the order of the rows (and of the
 * student's right-hand sides, so of its numbers: append, do not reorder):
 * KD_PIPELINE(ID, name) for a descriptor kd_pipeline_name in host/sim/pipeline_name.c,
 * numbered KD_PIPE_ID. Included by pipeline.h and host/sim/pipeline_registry.c only. */
KD_PIPELINE(STRONG, strong)
KD_PIPELINE(OPTIMAL, optimal)
KD_PIPELINE(MASK, mask)
KD_PIPELINE(W2S, w2s)
KD_PIPELINE(WEAK, weak)
KD_PIPELINE(MIX, mix)
KD_PIPELINE(RECURSIVE, recursive)
KD_PIPELINE(CURRICULUM, curriculum)
KD_PIPELINE(FEATURES, features)
