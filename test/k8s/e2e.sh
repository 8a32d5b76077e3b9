#!/usr/bin/env bash
# e2e.sh is the one entry point for the Kubernetes end-to-end tests:
#
#   e2e.sh [--smoke] [CMD [ARG...]]
#
# 1. build.sh (a no-op once the binaries are cached), outside any namespace,
#    since it may need the module proxy; the same goes for the modules of the
#    Go e2e tests, downloaded and compiled here;
# 2. then, in a fresh network namespace with only loopback (netns.sh): up.sh,
#    smoke.sh if --smoke is given, then CMD, by default
#      go test -tags k8se2e ./test/k8s/e2e/... -count=1
#    with KUBECONFIG, TUNE_K8S_DIR and TUNE_K8S_RUNDIR exported and the
#    stack's bin/ (kubectl) first on PATH; GOPROXY=off there, so a missing
#    module fails at once instead of hanging;
# 3. down.sh, always. The run directory (TUNE_K8S_RUNDIR, default a fresh
#    temporary one) keeps the components' logs; it is removed after a
#    successful run that did not name it.
#
# The exit status is the first failure's (up, smoke or CMD).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
smoke=
if [ "${1:-}" = --smoke ]; then
	smoke=1
	shift
fi
[ $# -gt 0 ] || set -- go test -tags k8se2e ./test/k8s/e2e/... -count=1

dir=$("$here/build.sh" | tail -n 1)
cd "$root"
go test -tags k8se2e -count=1 -run '^$' ./test/k8s/e2e/... >/dev/null

run=${TUNE_K8S_RUNDIR:-}
keep=${run:+1}
[ -n "$run" ] || run=$(mktemp -d "${TMPDIR:-/tmp}/tune-k8s-e2e.XXXXXX")
mkdir -p "$run"
export TUNE_K8S_DIR=$dir TUNE_K8S_RUNDIR=$run KUBECONFIG=$run/kubeconfig
export PATH=$dir/bin:$PATH GOPROXY=off
export E2E_SMOKE=$smoke E2E_HERE=$here

status=0
# The inner script runs as the namespace's init: when it exits, the kernel
# kills anything up.sh left behind, even if down.sh could not.
"$here/netns.sh" bash -c '
	set -e
	trap "\"$E2E_HERE/down.sh\" \"$TUNE_K8S_RUNDIR\"" EXIT
	"$E2E_HERE/up.sh" "$TUNE_K8S_RUNDIR"
	if [ -n "$E2E_SMOKE" ]; then "$E2E_HERE/smoke.sh"; fi
	"$@"
' e2e "$@" || status=$?

if [ "$status" -ne 0 ]; then
	echo "e2e.sh: failed (exit $status); component logs in $run/logs" >&2
elif [ -z "$keep" ]; then
	rm -rf "$run"
fi
exit "$status"
