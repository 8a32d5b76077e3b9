//go:build k8se2e

package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"testing"
)

// TestClusterNodes checks the stack that e2e.sh started: four Ready kwok
// nodes, of which the two labelled tune.test/gpu offer 8 nvidia.com/gpu each
// and carry the nvidia.com/gpu NoSchedule taint, the others none.
// It is a placeholder until the suite talks to the cluster with client-go.
func TestClusterNodes(t *testing.T) {
	if os.Getenv("KUBECONFIG") == "" {
		t.Fatal("KUBECONFIG is not set; run the suite with test/k8s/e2e.sh")
	}
	out, err := exec.Command("kubectl", "get", "nodes", "-o", "json").Output()
	if err != nil {
		t.Fatalf("kubectl get nodes: %v", err)
	}
	var list struct {
		Items []struct {
			Metadata struct {
				Name   string            `json:"name"`
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Spec struct {
				Taints []struct {
					Key    string `json:"key"`
					Effect string `json:"effect"`
				} `json:"taints"`
			} `json:"spec"`
			Status struct {
				Allocatable map[string]string `json:"allocatable"`
				Conditions  []struct {
					Type   string `json:"type"`
					Status string `json:"status"`
				} `json:"conditions"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatalf("decoding nodes: %v", err)
	}
	if len(list.Items) != 4 {
		t.Errorf("got %d nodes, want 4", len(list.Items))
	}
	gpuNodes := 0
	for _, n := range list.Items {
		ready := false
		for _, c := range n.Status.Conditions {
			ready = ready || c.Type == "Ready" && c.Status == "True"
		}
		if !ready {
			t.Errorf("node %s is not Ready", n.Metadata.Name)
		}
		gpuTaint := false
		for _, tt := range n.Spec.Taints {
			gpuTaint = gpuTaint || tt.Key == "nvidia.com/gpu" && tt.Effect == "NoSchedule"
		}
		if gpu := n.Metadata.Labels["tune.test/gpu"] == "true"; gpuTaint != gpu {
			t.Errorf("node %s: GPU node %v, nvidia.com/gpu NoSchedule taint %v; want the taint on GPU nodes only", n.Metadata.Name, gpu, gpuTaint)
		}
		if n.Metadata.Labels["tune.test/gpu"] != "true" {
			continue
		}
		gpuNodes++
		if got := n.Status.Allocatable["nvidia.com/gpu"]; got != "8" {
			t.Errorf("node %s: allocatable nvidia.com/gpu = %q, want 8", n.Metadata.Name, got)
		}
	}
	if gpuNodes != 2 {
		t.Errorf("got %d GPU nodes, want 2", gpuNodes)
	}
}
