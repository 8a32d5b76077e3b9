#!/usr/bin/env bash
# netns.sh CMD [ARG...] runs CMD in fresh network, PID and mount namespaces.
#
# The network namespace has only the loopback interface, brought up here, so
# nothing CMD starts can reach anything but 127.0.0.1 (the network-safety
# rule in README.md). The PID namespace makes CMD its init: when CMD exits,
# or netns.sh itself is killed (--kill-child), the kernel kills every process
# still running in it, so no stray apiserver outlives a test run.
#
# Root (as here and in CI) uses plain unshare; anyone else gets a user
# namespace that maps them to root (--map-root-user). Needs util-linux's
# unshare and iproute2's ip.
set -euo pipefail
if [ $# -eq 0 ]; then
	echo "usage: netns.sh CMD [ARG...]" >&2
	exit 2
fi
for tool in unshare ip; do
	if ! command -v "$tool" >/dev/null; then
		echo "netns.sh: $tool not found (apt-get install util-linux iproute2)" >&2
		exit 1
	fi
done
user=()
[ "$(id -u)" -eq 0 ] || user=(--map-root-user)
exec unshare "${user[@]}" --net --pid --fork --kill-child --mount-proc -- \
	bash -c 'ip link set lo up && exec "$@"' netns.sh "$@"
