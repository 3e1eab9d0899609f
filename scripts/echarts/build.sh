#!/bin/sh
# Rebuild app/static/vendor/echarts/echarts.min.js: the ECharts modules of entry.js only
# (bar charts, tooltip, legend, grid, canvas), bundled and minified by esbuild into one
# script exposing the global `echarts`. Needs node and npm; nothing is left behind.
#     sh scripts/echarts/build.sh
set -eu
ECHARTS_VERSION=6.1.0
ESBUILD_VERSION=0.28.2
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../../app/static/vendor/echarts"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/entry.js" "$work/"
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --silent "echarts@$ECHARTS_VERSION" "esbuild@$ESBUILD_VERSION"
npx esbuild entry.js --bundle --minify --format=iife --global-name=echarts --target=es2018 \
    --legal-comments=none --outfile="$out/echarts.min.js"
cp node_modules/echarts/LICENSE node_modules/echarts/NOTICE "$out/"
cp node_modules/echarts/licenses/LICENSE-d3 "$out/"
ls -l "$out/echarts.min.js"
