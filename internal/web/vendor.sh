#!/bin/sh
# vendor.sh refreshes static/vendor from the npm registry (development
# time only: the files are committed, so go build needs no node or npm).
# Usage: internal/web/vendor.sh   (from anywhere; needs npm and sha256sum)
set -eu
version=6.1.0
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack "echarts@$version" >/dev/null
tar xzf "echarts-$version.tgz" package/dist/echarts.min.js package/LICENSE package/NOTICE
cp package/dist/echarts.min.js "$here/static/vendor/echarts.min.js"
cp package/LICENSE "$here/static/vendor/echarts.LICENSE"
cp package/NOTICE "$here/static/vendor/echarts.NOTICE"
sum=$(sha256sum package/dist/echarts.min.js | cut -d' ' -f1)
printf '# Vendored browser libraries: npm package, version, licence, file, sha256.\n# Update with internal/web/vendor.sh; TestVendoredAssets checks the sums.\necharts\t%s\tApache-2.0\techarts.min.js\t%s\n' "$version" "$sum" >"$here/static/vendor/VERSIONS"
