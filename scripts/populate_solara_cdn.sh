#!/usr/bin/env bash
# Fill Solara's CDN proxy cache from the npm registry, so Solara pages render offline.
#
# usage: scripts/populate_solara_cdn.sh VENV
#
# Why: solara-server serves its front-end assets under /_solara/cdn/<npm-pkg>@<ver>/<file>.
# On a miss it fetches <file> from cdn.jsdelivr.net and stores it at
#     <cache>/<npm-pkg>@<ver>/<file>          (solara/server/cdn_helper.py: get_path)
# where <cache> is settings.assets.proxy_cache_dir = <sys.prefix>/share/solara/cdn,
# overridable with SOLARA_ASSETS_PROXY_CACHE_DIR. This machine reaches no CDN, so every
# asset 404s and the page stays blank. jsdelivr's /npm/ tree is just the unpacked npm
# tarball, so `npm pack` + untar into <cache>/<URL spec>/ gives the same files.
#
# The folder name must be the spec exactly as it appears in the URL: a range such as
# vega@5 is cached under vega@5/, not vega@5.33.1/. Scoped packages nest:
# @widgetti/solara-vuetify-app@10.1.1/ lives in <cache>/@widgetti/.
#
# Idempotent: each filled folder gets a .npm-pack marker (holding the resolved version);
# packages that have one are skipped, so a second run does no network access at all.
set -euo pipefail

# URL specs requested by solara 1.64.1 (grep its source for `{{cdn}}/` and `getCdn()}/`):
PACKAGES=(
    @widgetti/solara-vuetify-app@10.1.1    # Vuetify 2 app bundle, css, fonts (solara.html.j2)
    @widgetti/solara-vuetify3-app@5.2.0    # Vuetify 3 variant of the same (solara.html.j2)
    @widgetti/vue-grid-layout@2.3.13-alpha.2  # solara.GridLayout (widgets/vue/gridlayout.vue)
    requirejs@2.3.6                        # module loader used by the page and most widgets
    font-awesome@4.5.0                     # settings.assets.fontawesome_path
    vega@5                                 # solara.FigureAltair (widgets/vue/vegalite.vue)
    vega-lite@5                            #   "
    vega-embed@6                           #   "
    mermaid@10.8.0                         # solara.Markdown mermaid blocks (components/markdown.py)
    katex@0.16.9                           # solara.Markdown math (components/markdown.py)
)
# Not cached: echarts, codemirror and @widgetti/solara-milkdown, whose versions are set at
# run time (FigureEcharts, SqlCode, MarkdownEditor); this project uses none of them.

venv=${1:?usage: $0 VENV}
py=$venv/bin/python
[[ -x $py ]] || { echo "populate_solara_cdn: no python in $venv" >&2; exit 1; }
command -v npm >/dev/null || { echo "populate_solara_cdn: npm not found (apt-get install nodejs)" >&2; exit 1; }

# Ask the installed solara where its cache is, and which specs its source requests with a
# literal version; a spec missing from PACKAGES (solara was upgraded) is cached too, with a
# note, so the page keeps rendering until the list is updated.
mapfile -t info < <("$py" - "${PACKAGES[@]}" <<'EOF'
import pathlib, re, sys
import solara, solara.server.settings as settings

print(settings.assets.proxy_cache_dir)
root = pathlib.Path(solara.__file__).parent
spec = r"((?:@[\w.-]+/)?[\w.-]+@[0-9][\w.+-]*)/"
pattern = re.compile(r"(?:\{\{\s*cdn\s*\}\}|\$\{this\.getCdn\(\)\})/" + spec)
found = set(re.findall("^/?" + spec, settings.assets.fontawesome_path))
for path in root.rglob("*"):
    if "website" in path.relative_to(root).parts or path.suffix not in {".py", ".vue", ".j2", ".html", ".js"}:
        continue
    found.update(pattern.findall(path.read_text(errors="replace")))
for extra in sorted(found - set(sys.argv[1:])):
    print(extra)
EOF
)
cache=${info[0]}
for extra in "${info[@]:1}"; do
    echo "populate_solara_cdn: solara requests $extra, not in PACKAGES; caching it too (add it to $0)" >&2
    PACKAGES+=("$extra")
done

todo=()
for spec in "${PACKAGES[@]}"; do
    [[ -f $cache/$spec/.npm-pack ]] || todo+=("$spec")
done
((${#todo[@]})) || exit 0

mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.populate.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# One npm call for all packages; --json tells which tarball each one became.
(cd "$tmp" && npm pack --json --silent --no-update-notifier "${todo[@]}" >pack.json)

for spec in "${todo[@]}"; do
    name=${spec%@*}
    read -r tgz version < <("$py" -c '
import json, sys
for p in json.load(open(sys.argv[1])):
    if p["name"] == sys.argv[2]:
        print(p["filename"], p["version"])
' "$tmp/pack.json" "$name")
    unpacked=$tmp/unpacked
    mkdir "$unpacked"
    # tarballs have one top folder, usually package/; keep what is inside it
    tar -xzf "$tmp/$tgz" -C "$unpacked" --strip-components=1 --no-same-owner
    chmod -R u+rwX,go+rX "$unpacked"
    # jsdelivr minifies on the fly: requirejs ships no require.min.js, which Markdown asks for
    if [[ $name == requirejs && ! -e $unpacked/require.min.js ]]; then
        cp "$unpacked/require.js" "$unpacked/require.min.js"
    fi
    echo "$name@$version" >"$unpacked/.npm-pack"
    # replace whatever a live proxy may have half-cached there, then move in whole
    mkdir -p "$(dirname "$cache/$spec")"
    rm -rf "${cache:?}/$spec"
    mv "$unpacked" "$cache/$spec"
done
