// Package e2e holds the Kubernetes end-to-end tests. They are built only with
// the k8se2e build tag and expect a cluster from test/k8s/up.sh; run them with
// test/k8s/e2e.sh, which builds and starts that cluster in a network
// namespace of their own (see test/k8s/README.md).
package e2e
