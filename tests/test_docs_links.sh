#!/usr/bin/env bash
# ctest test_docs_links: the repository carries its own references. It fails, naming
# the file and line, where a tracked file under README.md, docs, include, host, cuda,
# scripts, bench, tests or results
#   1. cites design notes kept outside the repository: a path into the shared spec
#      folder, or the theory and GPU notes kept there, by their file names;
#   2. cites docs/<page>.md, or docs/<page>.md#<anchor>, where that page or that anchor
#      does not exist; inside docs/ also the Markdown links (<page>.md#<anchor>) and
#      (#<anchor>).
# Anchors are the <a id="..."> (or name=) tags of a page and GitHub's slugs of its
# headings. Before looking at the repository it runs the same checks on a small planted
# tree and insists that they find every planted defect and nothing else.
#   tests/test_docs_links.sh SOURCE_DIR
set -uo pipefail
export LC_ALL=C
src=$(cd "${1:?usage: tests/test_docs_links.sh SOURCE_DIR}" && pwd)

# The forbidden citations, written so that this file does not match them itself.
outside='shared/spe[c]|kd-theor[y]|gpu-pipelin[e]'

# The files to check under ROOT: tracked ones in a git checkout, else all of them.
files_of() {
  local root=$1 f
  if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$root" ls-files -- README.md docs include host cuda scripts bench tests results
  else
    (cd "$root" && find README.md docs include host cuda scripts bench tests results \
       -type f 2>/dev/null | sort)
  fi | while IFS= read -r f; do [[ -f $root/$f ]] && printf '%s\n' "$f"; done
}

# The anchors of one Markdown page, one a line.
anchors_of() {
  grep -oE '<a (id|name)="[^"]+"' "$1" | sed -E 's/^<a (id|name)="//; s/"$//'
  grep -E '^#{1,6}[[:space:]]' "$1" | sed -E 's/^#+[[:space:]]+//; s/[[:space:]]+$//' |
    tr '[:upper:]' '[:lower:]' | sed -E 's/[^a-z0-9 _-]//g; s/ /-/g'
}

# One link: FILE:LINE cites page PAGE (a path under ROOT) at ANCHOR (may be empty).
check_target() {
  local root=$1 where=$2 page=$3 anchor=$4 text=$5
  if [[ ! -f $root/$page ]]; then
    echo "$where: $text: there is no $page"
  elif [[ -n $anchor ]] && ! grep -qxF -- "$anchor" <<<"$(anchors_of "$root/$page")"; then
    echo "$where: $text: $page has no anchor '$anchor'"
  fi
}

# All checks on ROOT; prints one line per problem.
check_tree() {
  local root=$1 f hit text page anchor
  while IFS= read -r f; do
    while IFS= read -r hit; do
      echo "$f:${hit%%:*}: cites a note outside the repository: ${hit#*:}"
    done < <(grep -nIoE ".{0,40}($outside).{0,40}" "$root/$f")
    while IFS= read -r hit; do
      text=${hit#*:}
      page=${text%%#*}
      anchor=; [[ $text == *#* ]] && anchor=${text#*#}
      check_target "$root" "$f:${hit%%:*}" "$page" "$anchor" "$text"
    done < <(grep -nIoE 'docs/[A-Za-z0-9_.-]+\.md(#[A-Za-z0-9_-]+)?' "$root/$f")
    [[ $f == docs/*.md ]] || continue
    while IFS= read -r hit; do
      text=${hit#*:}
      text=${text#](}
      text=${text%)}
      page=${text%%#*}
      anchor=${text#*#}
      check_target "$root" "$f:${hit%%:*}" "docs/${page:-${f#docs/}}" "$anchor" "$text"
    done < <(grep -nIoE '\]\(([A-Za-z0-9_.-]+\.md)?#[A-Za-z0-9_-]+\)' "$root/$f")
  done < <(files_of "$root")
}

# ---- the checker on a planted tree ---------------------------------------------------
plant=$(mktemp -d /tmp/kdbench-docs-links-XXXXXX)
trap 'rm -rf "$plant"' EXIT
mkdir -p "$plant/docs" "$plant/host"
spec_dir="../shared/sp""ec"
d="doc""s" # the planted citations must not be citations of this file itself
{
  echo "line 1: the theory is in $spec_dir/notes.md"
  echo "line 2: good, $d/good.md#there and $d/good.md#a-heading and $d/good.md"
  echo "line 3: bad anchor $d/good.md#missing"
  echo "line 4: bad page $d/absent.md#x"
} >"$plant/README.md"
{
  echo '<a id="there"></a>'
  echo '## A Heading'
  echo 'see [here](#a-heading), [there](good.md#there), [nope](#nope), [far](other.md#x)'
} >"$plant/$d/good.md"
{
  echo "/* see kd-theo""ry.md section 3 */"
  echo "/* see gpu-pipel""ine.md 2.6 */"
  echo "/* see $d/good.md#there */"
} >"$plant/host/x.c"
report=$(check_tree "$plant")
want=(
  "README.md:1: cites a note outside"
  "README.md:3: $d/good.md#missing: $d/good.md has no anchor 'missing'"
  "README.md:4: $d/absent.md#x: there is no $d/absent.md"
  "$d/good.md:3: #nope: $d/good.md has no anchor 'nope'"
  "$d/good.md:3: other.md#x: there is no $d/other.md"
  "host/x.c:1: cites a note outside"
  "host/x.c:2: cites a note outside"
)
self_ok=1
for w in "${want[@]}"; do
  grep -qF -- "$w" <<<"$report" || { echo "self-test: the checker missed: $w"; self_ok=0; }
done
n=$(grep -c . <<<"$report")
if [[ $n -ne ${#want[@]} ]]; then
  echo "self-test: ${#want[@]} planted defects, $n reported:"
  echo "$report"
  self_ok=0
fi
[[ $self_ok -eq 1 ]] || { echo "test_docs_links: FAILED (the checker itself is broken)"; exit 1; }

# ---- the repository ----------------------------------------------------------------------
report=$(check_tree "$src")
count=$(grep -c . <<<"$report")
if [[ $count -gt 0 ]]; then
  echo "$report"
  echo "test_docs_links: FAILED: $count citation(s) that a clone of kdbench cannot follow"
  exit 1
fi
echo "test_docs_links: passed ($(files_of "$src" | wc -l) files; the planted defects were all found)"
