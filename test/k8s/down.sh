#!/usr/bin/env bash
# down.sh RUNDIR stops what up.sh RUNDIR started, by the PIDs in RUNDIR/pids,
# controllers first and etcd last: SIGTERM, then SIGKILL after 10 s.
# It leaves RUNDIR's files (logs, kubeconfig) in place.
# Run it in the same netns.sh namespace as up.sh (PIDs are per namespace).
run=${1:?usage: down.sh RUNDIR}
for name in workflow-controller kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
	f=$run/pids/$name.pid
	[ -f "$f" ] || continue
	pid=$(cat "$f")
	kill "$pid" 2>/dev/null
	for _ in $(seq 1 40); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.25
	done
	kill -9 "$pid" 2>/dev/null
	rm -f "$f"
done
exit 0
