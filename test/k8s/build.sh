#!/usr/bin/env bash
# build.sh builds the control plane for the Kubernetes end-to-end tests from
# Go modules only (no Docker, no binary downloads): etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl, kwok and Argo's
# workflow-controller, at the versions pinned in modules/*/go.mod.
#
# Usage: build.sh               build if needed; the last stdout line is the directory
#        build.sh --print-dir   print that directory and exit (builds nothing)
#
# The result lives outside the checkout, in
#   ${TUNE_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tune-k8s}/<key>/{bin,crds}
# where <key> hashes this script, the module files and the Go version. A directory
# that exists is complete (it is renamed into place only after a successful
# build), so a second run with the same key does nothing.
#
# Downloads go through the user's GOPROXY into the user's GOMODCACHE, and
# compiling uses the user's GOCACHE, so CI shares them with the rest of its run.
# This needs the network (module proxy): run it outside test/k8s/netns.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

cache=${TUNE_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tune-k8s}
key=$(cd "$here" && { sha256sum build.sh modules/*/*; go env GOVERSION GOOS GOARCH; } | sha256sum | cut -c1-16)
dir=$cache/$key

if [ "${1:-}" = --print-dir ]; then
	echo "$dir"
	exit 0
fi

mkdir -p "$cache"
# One build per cache at a time; a second caller waits, then finds the result.
exec 9>"$cache/.lock"
flock 9
if [ -d "$dir" ]; then
	echo "up to date: $dir/bin" >&2
	echo "$dir"
	exit 0
fi

tmp=$cache/$key.partial
rm -rf "$tmp"
mkdir -p "$tmp/bin" "$tmp/logs"
trap 'rm -rf "$tmp"' EXIT

# -mod=readonly: never rewrite the module files in the checkout;
# GOWORK=off: a go.work above the checkout must not pull these modules in.
export GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false"

# Kubernetes reports its version through -X; without it the binaries say
# v0.0.0 and kubectl warns about version skew.
k8s_version=v1.37.2
k8s_ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	k8s_ldflags+=" -X $p.gitVersion=$k8s_version -X $p.gitMajor=1 -X $p.gitMinor=37"
	k8s_ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=2026-01-01T00:00:00Z"
done

declare -A pkgs=(
	[etcd]="."
	[k8s]="k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl sigs.k8s.io/kwok/cmd/kwok"
	[argo]="github.com/argoproj/argo-workflows/v3/cmd/workflow-controller"
)
declare -A ldflags=([etcd]="-s -w" [k8s]="$k8s_ldflags" [argo]="-s -w")

# step NAME CMD... runs CMD with its output in logs/NAME.log, timed; on
# failure it shows the log's tail.
step() {
	local name=$1 start=$SECONDS
	shift
	if ! "$@" >"$tmp/logs/$name.log" 2>&1; then
		echo "build.sh: $name failed; last lines of its log:" >&2
		tail -n 30 "$tmp/logs/$name.log" >&2
		exit 1
	fi
	echo "$name: $((SECONDS - start))s" >&2
}

total=$SECONDS
# Downloads first (network), then compiling (CPU), so a failure says which.
for m in etcd k8s argo; do
	(cd "$here/modules/$m" && step "download-$m" go list -deps ${pkgs[$m]})
done
for m in etcd k8s argo; do
	# etcd's module builds one binary; go build -o DIR/ names the others.
	out=$tmp/bin/
	[ "$m" = etcd ] && out=$tmp/bin/etcd
	(cd "$here/modules/$m" && step "build-$m" go build -trimpath -ldflags="${ldflags[$m]}" -o "$out" ${pkgs[$m]})
done

# CRDs up.sh applies, from the modules' sources: Argo's "minimal" ones
# (without schemas) and kwok's Logs and ClusterLogs (simulated container logs).
mkdir -p "$tmp/crds"
argo_dir=$(cd "$here/modules/argo" && go list -m -f '{{.Dir}}' github.com/argoproj/argo-workflows/v3)
cp "$argo_dir"/manifests/base/crds/minimal/argoproj.io_*.yaml "$tmp/crds/"
kwok_dir=$(cd "$here/modules/k8s" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
cp "$kwok_dir"/kustomize/crd/bases/kwok.x-k8s.io_{logs,clusterlogs}.yaml "$tmp/crds/"
# kwok's default node stages (up.sh passes them to kwok beside manifests/kwok-stages.yaml).
mkdir -p "$tmp/stages"
cp "$kwok_dir"/kustomize/stage/node/fast/node-initialize.yaml "$kwok_dir"/kustomize/stage/node/heartbeat/node-heartbeat.yaml "$tmp/stages/"
chmod -R u+w "$tmp/crds" "$tmp/stages"

mv "$tmp" "$dir"
trap - EXIT
echo "built in $((SECONDS - total))s: $(du -sh "$dir" | cut -f1) in $dir/bin" >&2
echo "$dir"
