/* scripts/kdrun.py, the Python reader of a run: a committed run as DataFrames (rows,
 * per-trial risks, fits, w2s rows) against the files read another way; lists of dicts
 * without pandas; columns a newer kdbench appends and a pipeline's several rows at a
 * point; bad input as one RunError naming the file. Skipped without Debian's python3
 * (and, for the DataFrames, python3-pandas), which scripts/setup.sh installs. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "kd_test.h"

#define PY "/usr/bin/python3"

TestSuite(kdrun, .init = kd_test_dir_make, .fini = kd_test_dir_remove);

/* Runs a Python program (written to t.py) with kdrun importable: its exit status. */
static int python(const char *program) {
  kd_test_write("t.py", program);
  return kd_test_sh("PYTHONPATH=%s/scripts " PY " t.py", KDBENCH_SOURCE_DIR);
}

Test(kdrun, a_committed_run_as_data_frames) {
  if (system(PY " -c 'import pandas' 2>/dev/null") != 0)
    cr_skip_test("no pandas for " PY " (scripts/setup.sh installs python3-pandas)");
  kd_test_write("run.txt", KDBENCH_SOURCE_DIR "/results/w2s/grid.csv");
  cr_assert_eq(python("import csv, json, kdrun\n"
                      "path = open('run.txt').read()\n"
                      "run = kdrun.load(path)\n"
                      "stem = path[:-4]\n"
                      "lines = list(csv.DictReader(open(stem + '.csv')))\n"
                      "assert len(run.rows) == len(lines), (len(run.rows), len(lines))\n"
                      "assert list(run.rows['pipeline']) == [l['pipeline'] for l in lines]\n"
                      "assert list(run.rows['sim_mean']) == [float(l['sim_mean']) for l in lines]\n"
                      "rows = [json.loads(l) for l in open(stem + '.jsonl')]\n"
                      "assert len(run.risks) == sum(len(r['risks']) for r in rows)\n"
                      "first = run.risks[(run.risks.point == 0) & (run.risks.pipeline == 'w2s')]\n"
                      "w2s0 = [r for r in rows if r['point'] == 0 and r['pipeline'] == 'w2s'][0]\n"
                      "assert list(first['risk']) == w2s0['risks']\n"
                      "assert list(first['trial']) == list(range(len(w2s0['risks'])))\n"
                      "fit = json.load(open(stem + '.fit.json'))\n"
                      "assert len(run.fits) == len(fit['fits']) and len(run.w2s) == len(fit['w2s'])\n"
                      "assert list(run.w2s['ratio']) == [w['ratio'] for w in fit['w2s']]\n"
                      "assert run.meta['scenario_hash'] == fit['scenario_hash']\n"),
               0, "%s", kd_test_err);
}

/* Without pandas (frames=False) the same rows as lists of dicts; a run without
 * NAME.fit.json or per-trial risks has fit None and no risks. */
Test(kdrun, lists_of_dicts_and_what_a_run_lacks) {
  cr_assert_eq(python("import kdrun\n"
                      "run = kdrun.load('" KDBENCH_SOURCE_DIR "/results/fig1/sweep-n.meta.json', frames=False)\n"
                      "assert isinstance(run.rows, list) and len(run.rows) == 17 * 4, len(run.rows)\n"
                      "assert run.fit is None and run.risks == [] and run.fits == []\n"
                      "peak = [r for r in run.rows if r['flag'] == 'peak']\n"
                      "assert len(peak) == 4 and all(r['theory'] == float('inf') for r in peak)\n"
                      "assert all(r['m'] is None for r in run.rows if r['pipeline'] == 'strong')\n"),
               0, "%s", kd_test_err);
}

/* Columns a newer kdbench appends are read (numbers as numbers, text as text, empty as
 * None) and a pipeline's several rows at a point (generations) stay in one point; a
 * theory-only run's empty simulation cells are None. */
Test(kdrun, new_columns_several_rows_a_point_and_theory_only) {
  kd_test_run_ok("--sweep n --p 40 --n 20,60 --pipelines strong,optimal --theory-only --quiet "
                 "--csv th.csv");
  cr_assert_eq(python("import kdrun\n"
                      "rows = kdrun.read_rows('th.csv', ['strong', 'optimal'])\n"
                      "assert len(rows) == 4 and all(r['sim_mean'] is None and r['trials'] == 0 for r in rows)\n"
                      "assert kdrun.read_meta('th.meta.json')['theory_only']\n"
                      "lines = open('th.csv').read().splitlines()\n"
                      "out = [lines[0] + ',generation,schedule']\n"
                      "for l in lines[1:]:\n"
                      "    out += [l + ',1,fresh', l + ',2,fresh']\n"
                      "open('g.csv', 'w').write('\\n'.join(out) + '\\n')\n"
                      "rows = kdrun.read_rows('g.csv', ['strong', 'optimal'])\n"
                      "assert rows[0]['generation'] == 1.0 and rows[0]['schedule'] == 'fresh'\n"
                      "points = kdrun.points(rows, ['strong', 'optimal'])\n"
                      "assert [len(p) for p in points] == [4, 4], [len(p) for p in points]\n"
                      "assert [kdrun.axis_value(p, 'n') for p in points] == [20, 60]\n"
                      "keys = {kdrun.series_key(r) for r in points[0]}\n"
                      "assert len(keys) == 4, keys\n"),
               0, "%s", kd_test_err);
}

Test(kdrun, bad_input_names_the_file) {
  kd_test_write("bad.csv", "pipeline,n\nstrong,1\n");
  cr_assert_eq(python("import kdrun\n"
                      "for call, want in ((lambda: kdrun.read_meta('none.meta.json'), 'none.meta.json: cannot open'),\n"
                      "                   (lambda: kdrun.read_rows('bad.csv'), 'bad.csv:1: column p is missing'),\n"
                      "                   (lambda: kdrun.stem('dir/'), \"run 'dir/': no name\")):\n"
                      "    try:\n"
                      "        call()\n"
                      "    except kdrun.RunError as e:\n"
                      "        assert str(e).startswith(want), str(e)\n"
                      "    else:\n"
                      "        raise AssertionError(want)\n"),
               0, "%s", kd_test_err);
}

/* backend_name (the figures' captions) names every backend that computed the run's
 * points, earliest first and each once: those a resume kept (their merged shards' and
 * what those resumed), the merged shards', then the metadata's own. */
Test(kdrun, backend_name_of_resumed_and_merged_runs) {
  cr_assert_eq(python("import json, kdrun\n"
                      "meta = json.load(open('" KDBENCH_SOURCE_DIR "/results/fig1/sweep-n.meta.json'))\n"
                      "def name(**keys):\n"
                      "    json.dump(dict(meta, **keys), open('m.meta.json', 'w'))\n"
                      "    return kdrun.read_meta('m.meta.json')['backend_name']\n"
                      "assert name() == 'cpu'\n"
                      "assert name(resumed_from=[{'backend': {'name': 'cuda'}}, {'backend': None}]) == 'cuda, cpu'\n"
                      "shards = [{'backend': 'cpu', 'resumed_from': [{'backend': {'name': 'cuda'}}]},\n"
                      "          {'backend': 'opencl'}]\n"
                      "assert name(merged={'shards': shards}) == 'cuda, cpu, opencl'\n"
                      "assert name(resumed_from=[{'shards': shards[1:]}]) == 'opencl, cpu'\n"),
               0, "%s", kd_test_err);
}
