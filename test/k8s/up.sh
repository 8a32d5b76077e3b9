#!/usr/bin/env bash
# up.sh RUNDIR starts a Kubernetes control plane for the end-to-end tests, all
# on 127.0.0.1: etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kwok (simulated nodes, pods and container logs) and Argo's
# workflow-controller. It writes RUNDIR/kubeconfig and returns once the four
# fake nodes are Ready; down.sh RUNDIR stops it.
#
# Run it inside netns.sh (see README.md, "Network safety"). It builds
# nothing: the binaries come from build.sh's cache (TUNE_K8S_DIR overrides).
#
# RUNDIR gets: kubeconfig, pki/, logs/<component>.log, pids/, etcd/ and
# pod-logs/ (files that back simulated container logs; see README.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
run=$(mkdir -p "${1:?usage: up.sh RUNDIR}" && cd "$1" && pwd)
dir=${TUNE_K8S_DIR:-$("$here/build.sh" --print-dir)}
bin=$dir/bin
if [ ! -x "$bin/kube-apiserver" ]; then
	echo "up.sh: no binaries in $bin; run test/k8s/build.sh first (outside the netns)" >&2
	exit 1
fi
pki=$run/pki logs=$run/logs kc=$run/kubeconfig
mkdir -p "$pki" "$logs" "$run/pids" "$run/pod-logs"
start=$(date +%s%N)
elapsed() { local ms=$((($(date +%s%N) - start) / 1000000)); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }

# --- PKI: one CA signs the apiserver's and kwok's serving certificates (both
# for 127.0.0.1) and the admin client certificate (group system:masters).
sign() { # sign NAME SUBJECT EXTENSIONS
	openssl req -newkey rsa:2048 -nodes -keyout "$pki/$1.key" -out "$pki/$1.csr" -subj "$2" 2>/dev/null
	printf '%b' "$3" >"$pki/$1.ext"
	openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
		-out "$pki/$1.crt" -days 3650 -extfile "$pki/$1.ext" 2>/dev/null
}
if [ ! -f "$pki/sa.key" ]; then
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -out "$pki/ca.crt" \
		-days 3650 -subj "/CN=tune-e2e-ca" 2>/dev/null
	sign apiserver /CN=kube-apiserver \
		'subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n'
	sign kwok /CN=kwok 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'
	sign admin /O=system:masters/CN=admin 'extendedKeyUsage=clientAuth\n'
	openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
	openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
fi
cat >"$kc" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: tune-e2e, cluster: {server: "https://127.0.0.1:6443", certificate-authority: "$pki/ca.crt"}}]
users: [{name: admin, user: {client-certificate: "$pki/admin.crt", client-key: "$pki/admin.key"}}]
contexts: [{name: tune-e2e, context: {cluster: tune-e2e, user: admin, namespace: default}}]
current-context: tune-e2e
EOF

# start NAME CMD... runs CMD in the background, logging to logs/NAME.log.
start() {
	local name=$1
	shift
	nohup "$@" >"$logs/$name.log" 2>&1 &
	echo $! >"$run/pids/$name.pid"
}
# fail MSG prints MSG and the tail of every component's log, then exits.
fail() {
	echo "up.sh: $1 after $(elapsed)s" >&2
	for f in "$logs"/*.log; do
		echo "--- $f" >&2
		tail -n 15 "$f" >&2
	done
	exit 1
}
# wait_for WHAT CMD... retries CMD for up to 60 s.
wait_for() {
	local what=$1
	shift
	for _ in $(seq 1 240); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.25
	done
	fail "timed out waiting for $what"
}
k() { "$bin/kubectl" --kubeconfig "$kc" "$@"; }

start etcd "$bin/etcd" --name default --data-dir "$run/etcd" --unsafe-no-fsync \
	--listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
	--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
	--initial-cluster default=http://127.0.0.1:2380
# The apiserver reaches a node's "kubelet" (kwok, for pods/log) at its
# InternalIP, 127.0.0.1, and checks kwok's certificate against the CA.
# ExtendedResourceToleration (off by default; on in GKE) gives a pod that
# requests nvidia.com/gpu the toleration of the GPU nodes' taint.
start kube-apiserver "$bin/kube-apiserver" --etcd-servers=http://127.0.0.1:2379 \
	--bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port=6443 \
	--tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
	--client-ca-file="$pki/ca.crt" \
	--service-account-issuer=https://kubernetes.default.svc.cluster.local \
	--service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
	--service-cluster-ip-range=10.0.0.0/24 --authorization-mode=Node,RBAC \
	--kubelet-preferred-address-types=InternalIP --kubelet-certificate-authority="$pki/ca.crt" \
	--endpoint-reconciler-type=none --profiling=false \
	--enable-admission-plugins=ExtendedResourceToleration
wait_for "kube-apiserver /readyz" k get --raw /readyz
echo "apiserver ready after $(elapsed)s" >&2

# The controller manager's default client limit (20 requests a second, burst
# 30) holds back the Job controller at a hundred Jobs at once (TestScaleTrials);
# the scheduler's (50, burst 100) its bindings. Real clusters raise them too.
start kube-controller-manager "$bin/kube-controller-manager" --kubeconfig="$kc" \
	--authentication-kubeconfig="$kc" --authorization-kubeconfig="$kc" \
	--bind-address=127.0.0.1 --secure-port=10257 --leader-elect=false \
	--kube-api-qps=200 --kube-api-burst=400 \
	--service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt"
start kube-scheduler "$bin/kube-scheduler" --kubeconfig="$kc" \
	--authentication-kubeconfig="$kc" --authorization-kubeconfig="$kc" \
	--bind-address=127.0.0.1 --secure-port=10259 --leader-elect=false \
	--kube-api-qps=200 --kube-api-burst=400

# CRDs (Argo's, kwok's Logs and ClusterLogs) before the controllers that watch them.
for f in "$dir"/crds/*.yaml; do
	k apply --server-side -f "$f" >/dev/null
done
wait_for "CRDs to be established" k wait --for condition=established --timeout=1s \
	crd/workflows.argoproj.io crd/logs.kwok.x-k8s.io crd/clusterlogs.kwok.x-k8s.io

# kwok serves the kubelet-like API (containerLogs, ...) on 127.0.0.1:10250 over
# TLS, and advertises that port in each node's status.daemonEndpoints.
start kwok "$bin/kwok" --kubeconfig="$kc" --config="$here/manifests/kwok-stages.yaml" \
	--config="$dir/stages/node-initialize.yaml" --config="$dir/stages/node-heartbeat.yaml" \
	--manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
	--node-ip=127.0.0.1 --node-port=10250 --server-address=127.0.0.1:10250 \
	--tls-cert-file="$pki/kwok.crt" --tls-private-key-file="$pki/kwok.key" \
	--enable-crds=Logs,ClusterLogs --cidr=10.244.0.1/16 --node-lease-duration-seconds=40
k apply -f "$here/manifests/argo.yaml" -f "$here/manifests/nodes.yaml" >/dev/null
# Every pod's log defaults to pod-logs/default.log (empty); a Logs object
# named after a pod overrides it (README.md, "Pod logs").
: >"$run/pod-logs/default.log"
k apply -f - >/dev/null <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata: {name: default}
spec:
  logs: [{logsFile: "$run/pod-logs/default.log"}]
EOF

# DEFAULT_REQUEUE_TIME=1s: the default 10 s costs ~10 s per workflow step.
# Its metrics and telemetry servers are off (manifests/argo.yaml); pprof on
# :6060 stays on, private to the netns.
LEADER_ELECTION_DISABLE=true DEFAULT_REQUEUE_TIME=1s start workflow-controller \
	"$bin/workflow-controller" --kubeconfig="$kc" --namespace=argo \
	--configmap=workflow-controller-configmap --executor-image=quay.io/argoproj/argoexec:v3.7.3

# Ready means: pods can get service accounts (kcm) and all four nodes are
# Ready (kwok); then check every process is still alive.
wait_for "the default service accounts" k -n default get sa default
wait_for "the default service accounts" k -n argo get sa default
wait_for "nodes to be Ready" k wait --for condition=Ready --timeout=1s \
	node/kwok-gpu-0 node/kwok-gpu-1 node/kwok-cpu-0 node/kwok-cpu-1
for f in "$run"/pids/*.pid; do
	kill -0 "$(cat "$f")" 2>/dev/null || fail "$(basename "$f" .pid) exited"
done
echo "stack up after $(elapsed)s; export KUBECONFIG=$kc" >&2
