#!/bin/sh
# tests/layers/check_layers.sh -- the layer rule of src/ (doc/DESIGN.md):
# each folder of src/ is a layer and may include only its own headers and
# those of the layers listed before it below; every include of a project
# header names its folder ("queue/queue.h"). Prints each include that
# breaks the rule (file:line: what and why) and fails if there is one.
# Run by `make check`; by hand: sh tests/layers/check_layers.sh [SRCDIR]
LAYERS="base proto queue mercure conf runtime metrics cluster stream publish cli"
top=${1:-${srcdir:-.}}
cd "$top/src" || { echo "check_layers: no src/ under $top" >&2; exit 2; }

rank() {
    i=0
    for l in $LAYERS; do
        [ "$l" = "$1" ] && { echo $i; return; }
        i=$((i + 1))
    done
    echo -1
}

out=$(mktemp) || exit 2
bad=0
for dir in */; do
    dir=${dir%/}
    own=$(rank "$dir")
    if [ "$own" -lt 0 ]; then
        echo "src/$dir/: a folder that is no layer: add it to LAYERS in $0"
        bad=1
        continue
    fi
    for f in "$dir"/*.c "$dir"/*.h; do
        [ -e "$f" ] || continue
        grep -n '^#[[:space:]]*include[[:space:]]*"' "$f" |
        while IFS= read -r hit; do
            line=${hit%%:*}
            inc=$(printf '%s\n' "$hit" | sed 's/^[^"]*"\([^"]*\)".*/\1/')
            [ "$inc" = ac_config.h ] && continue
            case $inc in
            */*) ;;
            *) echo "src/$f:$line: \"$inc\": name the header's folder"
               echo x; continue ;;
            esac
            layer=${inc%%/*}
            r=$(rank "$layer")
            if [ "$r" -lt 0 ]; then
                echo "src/$f:$line: \"$inc\": no such layer"
                echo x
            elif [ "$r" -gt "$own" ]; then
                echo "src/$f:$line: \"$inc\": $dir/ may not include $layer/ (a layer above it)"
                echo x
            fi
        done
    done
done >"$out" 2>&1
grep -v '^x$' "$out"
grep -q '^x$' "$out" && bad=1
rm -f "$out"
[ "$bad" = 0 ] && echo "check_layers: every include of src/ follows the layers: $LAYERS"
exit $bad
