/* strong: the student on ground-truth labels y = X beta* + sigma z. */
#include "internal.h"

const kd_pipeline_type kd_pipeline_strong = {
    .name = "strong",
    .chain = {1, {KD_STUDENT_STAGE(.kind = KD_LABELS_TRUTH, .noise = KD_NOISE_SIGMA)}},
    .theory = kd_pipeline_truth_theory,
};
