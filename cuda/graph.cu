/* A stage as a CUDA graph, one per shape: its ~40 launches, copies and library calls
 * cost one graph launch once captured. Nothing a trial changes is a launch parameter
 * (the stream addresses travel in the uploaded inputs, every buffer stays put until a
 * reservation grows it, which drops the graphs), so one capture serves every trial of
 * a shape.
 *
 * A shape's first stage runs directly, so that the libraries' lazy set-up (module
 * loading, first-use allocations) happens outside any capture; its second is captured
 * and replayed from then on. A capture that fails turns graphs off for the state,
 * keeping the reason for describe, and the stage runs directly: graphs may only make a
 * stage faster, never make it fail. */
#include <stdio.h>

#include "kd_cuda.h"

static int same_shape(const kd_cuda_graph *g, const kd_stage *st) {
  return g->n == st->n && g->p == st->p && g->k == st->k && g->ridge == st->ridge &&
         g->beta == (st->beta_hat != NULL);
}

void kd_cuda_drop_graphs(kd_cuda_state *s) {
  for (int i = 0; i < KD_CUDA_GRAPHS; ++i) {
    if (s->graphs[i].exec) cudaGraphExecDestroy(s->graphs[i].exec);
    s->graphs[i] = kd_cuda_graph{0, 0, 0, 0, 0, NULL};
  }
  s->next_graph = 0;
}

static kd_status capture(kd_cuda_state *s, const kd_stage *st, kd_cuda_enqueue_fn enqueue,
                         cudaGraphExec_t *exec) {
  cudaGraph_t graph = NULL;
  KD_CUDA(cudaStreamBeginCapture(s->stream, cudaStreamCaptureModeThreadLocal));
  kd_status rc = enqueue(s, st);
  const cudaError_t end = cudaStreamEndCapture(s->stream, &graph); /* always ends it */
  if (rc == KD_OK) rc = kd_cuda_check(end, "cudaStreamEndCapture");
  if (rc == KD_OK) rc = kd_cuda_check(cudaGraphInstantiate(exec, graph, 0), "cudaGraphInstantiate");
  if (graph) cudaGraphDestroy(graph);
  return rc;
}

kd_status kd_cuda_launch(kd_cuda_state *s, const kd_stage *st, kd_cuda_enqueue_fn enqueue) {
  if (!s->use_graphs) return enqueue(s, st);
  kd_cuda_graph *g = NULL;
  for (int i = 0; i < KD_CUDA_GRAPHS && !g; ++i)
    if (s->graphs[i].n && same_shape(&s->graphs[i], st)) g = &s->graphs[i];
  if (!g) { /* first seen: remember the shape, run directly */
    g = &s->graphs[s->next_graph];
    s->next_graph = (s->next_graph + 1) % KD_CUDA_GRAPHS;
    if (g->exec) cudaGraphExecDestroy(g->exec);
    *g = kd_cuda_graph{st->n, st->p, st->k, st->ridge, st->beta_hat != NULL, NULL};
    return enqueue(s, st);
  }
  if (!g->exec && capture(s, st, enqueue, &g->exec) != KD_OK) {
    snprintf(s->graph_off, sizeof s->graph_off, "capture failed: %s", kd_last_error());
    cudaGetLastError(); /* the capture's error is not the stage's */
    g->exec = NULL;
    kd_cuda_drop_graphs(s);
    s->use_graphs = 0;
    return enqueue(s, st);
  }
  return kd_cuda_check(cudaGraphLaunch(g->exec, s->stream), "cudaGraphLaunch");
}
