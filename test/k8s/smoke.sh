#!/usr/bin/env bash
# smoke.sh checks, with kubectl only, that a stack from up.sh does what the
# end-to-end tests rely on. Needs KUBECONFIG; run it in the same netns.sh.
#
#   1. a Job asking for nvidia.com/gpu: 1 lands on a GPU node and completes;
#   2. a pod asking for 99 GPUs stays Pending, reason Unschedulable;
#   3. a Job annotated tune.test/fail: "true" fails (exit code 1);
#   4. a 2-step DAG Workflow reaches Succeeded;
#   5. a held pod's simulated log, given by a Logs object, reads back through
#      kubectl logs (apiserver -> kwok), before and after it completes;
#      a pod without one reads the empty default.
# Everything goes into a namespace of its own, deleted at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${KUBECONFIG:?smoke.sh needs KUBECONFIG}"
dir=${TUNE_K8S_DIR:-$("$here/build.sh" --print-dir)}
ns=smoke-$$
k() { "$dir/bin/kubectl" "$@"; }
logs=$(mktemp -d)
trap 'k delete namespace "$ns" --wait=false >/dev/null 2>&1; rm -rf "$logs"' EXIT
t0=$SECONDS
ok() { echo "ok   $1 ($((SECONDS - t0))s)"; t0=$SECONDS; }
die() { echo "FAIL $1" >&2; exit 1; }

k create namespace "$ns" >/dev/null
# kcm gives the namespace its default service account; pods wait for it.
for _ in $(seq 1 40); do k -n "$ns" get sa default >/dev/null 2>&1 && break; sleep 0.25; done

# job NAME ANNOTATIONS ARGS: a one-pod Job on a GPU node.
job() {
	cat <<EOF
apiVersion: batch/v1
kind: Job
metadata: {name: $1, namespace: $ns}
spec:
  backoffLimit: 0
  template:
    metadata:
      labels: {tune.test/smoke: $1}
      annotations: $2
    spec:
      restartPolicy: Never
      nodeSelector: {tune.test/gpu: "true"}
      containers:
      - name: main
        image: example.invalid/trial
        args: $3
        resources:
          limits: {nvidia.com/gpu: "1"}
EOF
}

# 1. GPU Job completes.
job gpu-job '{}' '["--lr=0.1"]' | k apply -f - >/dev/null
k -n "$ns" wait --for=condition=Complete job/gpu-job --timeout=60s >/dev/null || die "gpu-job did not complete"
node=$(k -n "$ns" get pod -l tune.test/smoke=gpu-job -o jsonpath='{.items[0].spec.nodeName}')
[[ $node == kwok-gpu-* ]] || die "gpu-job ran on $node, not a GPU node"
ok "Job with nvidia.com/gpu: 1 completed on $node"

# 2. 99 GPUs never fit.
k -n "$ns" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: too-big}
spec:
  containers:
  - name: main
    image: example.invalid/trial
    resources:
      limits: {nvidia.com/gpu: "99"}
EOF
k -n "$ns" wait pod/too-big --timeout=30s \
	--for=jsonpath='{.status.conditions[?(@.type=="PodScheduled")].reason}'=Unschedulable >/dev/null ||
	die "too-big was not marked Unschedulable"
sleep 2
phase=$(k -n "$ns" get pod too-big -o jsonpath='{.status.phase}')
[ "$phase" = Pending ] || die "too-big is $phase, want Pending"
ok "pod asking for 99 GPUs is Pending/Unschedulable: $(k -n "$ns" get pod too-big \
	-o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].message}')"

# 3. The fail annotation fails the Job.
job fail-job '{tune.test/fail: "true"}' '[]' | k apply -f - >/dev/null
k -n "$ns" wait --for=condition=Failed job/fail-job --timeout=60s >/dev/null || die "fail-job did not fail"
code=$(k -n "$ns" get pod -l tune.test/smoke=fail-job \
	-o jsonpath='{.items[0].status.containerStatuses[0].state.terminated.exitCode}')
[ "$code" = 1 ] || die "fail-job's container exit code is $code, want 1"
ok "Job annotated tune.test/fail failed with exit code 1"

# 4. A 2-step DAG Workflow succeeds. Argo's controller watches only the argo
# namespace (up.sh), so the Workflow lives there. Its containers name their
# command: without one, Argo looks the image's entrypoint up in its registry,
# which the netns forbids, and the step ends in Error.
k -n argo apply -f - >/dev/null <<EOF
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: $ns-dag}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: a, template: step}
      - {name: b, template: step, dependencies: [a]}
  - name: step
    container:
      image: example.invalid/trial
      command: [train]
      resources:
        limits: {nvidia.com/gpu: "1"}
EOF
k -n argo wait "workflow/$ns-dag" --for=jsonpath='{.status.phase}'=Succeeded --timeout=90s >/dev/null ||
	die "workflow $ns-dag: phase $(k -n argo get workflow "$ns-dag" -o jsonpath='{.status.phase}')"
k -n argo delete workflow "$ns-dag" --wait=false >/dev/null
ok "2-step DAG Workflow Succeeded"

# 5. Simulated logs. The held pod stays Running while its log is set up: the
# file (CRI log format), then a Logs object named after the pod.
job log-job '{tune.test/hold: "true"}' '["--lr=0.01"]' | k apply -f - >/dev/null
k -n "$ns" wait pod -l tune.test/smoke=log-job --for=jsonpath='{.status.phase}'=Running --timeout=60s >/dev/null ||
	die "log-job's pod is not Running"
pod=$(k -n "$ns" get pod -l tune.test/smoke=log-job -o jsonpath='{.items[0].metadata.name}')
lr=$(k -n "$ns" get pod "$pod" -o jsonpath='{.spec.containers[0].args[0]}')
now=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
printf '%s stdout F %s\n' "$now" "epoch=1 ${lr#--} loss=0.50" "$now" "epoch=2 ${lr#--} loss=0.25" >"$logs/$pod.log"
k -n "$ns" apply -f - >/dev/null <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Logs
metadata: {name: $pod}
spec:
  logs: [{containers: [main], logsFile: "$logs/$pod.log"}]
EOF
# kwok picks the Logs object up through a watch: poll until it serves it.
for _ in $(seq 1 40); do
	got=$(k -n "$ns" logs "$pod" 2>&1 || true)
	[[ $got == *loss=0.25* ]] && break
	sleep 0.25
done
[[ $got == *"lr=0.01 loss=0.25"* ]] || die "kubectl logs $pod while Running: $got"
phase=$(k -n "$ns" get pod "$pod" -o jsonpath='{.status.phase}')
[ "$phase" = Running ] || die "held pod $pod is $phase, want Running"
k -n "$ns" annotate pod "$pod" tune.test/hold- >/dev/null
k -n "$ns" wait --for=condition=Complete job/log-job --timeout=60s >/dev/null || die "log-job did not complete once released"
got=$(k -n "$ns" logs "$pod")
[ "$got" = $'epoch=1 lr=0.01 loss=0.50\nepoch=2 lr=0.01 loss=0.25' ] || die "kubectl logs $pod after completion: $got"
default=$(k -n "$ns" logs -l tune.test/smoke=gpu-job) || die "kubectl logs on a pod without Logs failed"
[ -z "$default" ] || die "default log is not empty: $default"
ok "kubectl logs $pod: $(echo "$got" | tail -n 1)"
echo "smoke: all checks passed"
