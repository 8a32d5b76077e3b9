//go:build k8se2e

package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tune-hpo/tune/internal/testutil"
)

// simplePBTImage is the trial image of Katib's simple-pbt.yaml; the pod
// runner runs it as the host's python3 with /opt/pbt/pbt_test.py the
// standard-library stand-in internal/cli/testdata/pbt/pbt_trial.py.
const simplePBTImage = "ghcr.io/kubeflow/katib/simple-pbt:latest"

// The lineage keys pbt adds to each trial's parameters.
const (
	pbtGeneration = "pbt.suggestion.katib.kubeflow.org/generation"
	pbtParent     = "pbt.suggestion.katib.kubeflow.org/parent"
)

// hostPython returns the host's python3 interpreter itself (not a shim
// that finds it), skipping the test where there is none.
func hostPython(t *testing.T) string {
	t.Helper()
	py := testutil.Python3(t) // the stand-in of Katib's simple-pbt image needs it
	out, err := exec.Command(py, "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestSimplePBTExample runs Katib's simple-pbt.yaml on the cluster with
// only the edits a cluster run needs: the test's namespace, a population
// of 5 and 10 trials 5 at a time (two generations), the pods held for the
// pod runner, and a ReadWriteMany claim mounted at suggestion_trial_dir
// (on Kubernetes tune needs the template to mount a volume there; Katib's
// file as shipped, which mounts none, is refused). The pod runner runs
// every trial pod for real, Katib's image being python3 and the
// standard-library stand-in of its pbt_test.py, which resumes from
// training.ckpt in its checkpoint directory and writes it back.
//
// Every trial Succeeded with the accuracy its process printed; each wrote
// its checkpoint to the claim's <experiment>/<trial>; the stored lineage
// is PBT's (generation 0 without parents, each member's generation-1
// trial continuing from its own trial but for the last-ranked member's,
// which continues from the best); and each trial's output and checkpoint
// are byte for byte those of the stand-in run by hand with the trial's
// stored learning rate from a copy of its parent's replayed checkpoint:
// a generation-1 trial reaches epoch 41 only from its parent's copied
// checkpoint (epoch 21 from none).
func TestSimplePBTExample(t *testing.T) {
	py := hostPython(t)
	prog, err := filepath.Abs("../../../internal/cli/testdata/pbt/pbt_trial.py")
	if err != nil {
		t.Fatal(err)
	}
	cp, err := exec.LookPath("cp")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("../../../internal/cli/testdata/pbt/simple-pbt.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := newCluster(t)
	ns := c.namespace(t)
	c.provisionVolumes(t, ns, t.TempDir())
	pods := c.runPodsOf(t, ns, "app.kubernetes.io/managed-by=tune", map[string]podImage{
		simplePBTImage: {
			Path:  map[string]string{"python3": py, "cp": cp},
			Files: map[string]string{"/opt/pbt/pbt_test.py": prog},
		},
	})
	claim := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "pbt-checkpoints"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}
	if _, err := c.kube.CoreV1().PersistentVolumeClaims(ns).Create(t.Context(), claim, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var volume string
	c.waitFor(t, 60*time.Second, "the checkpoints' claim to be bound", func() bool {
		volume, err = c.claimDir(t.Context(), ns, claim.Name)
		return err == nil
	})

	edit := func(y string, edits [][2]string) string {
		t.Helper()
		for _, e := range edits {
			if !strings.Contains(y, e[0]) {
				t.Fatalf("simple-pbt.yaml has no %q", e[0])
			}
			y = strings.Replace(y, e[0], e[1], 1)
		}
		return y
	}
	dir := t.TempDir()
	y := edit(string(src), [][2]string{{"  namespace: kubeflow\n", "  namespace: " + ns + "\n"}})
	code, out, errOut := runTune(t, dir, "validate", "--executor", "kubernetes", writeExperiment(t, dir, y))
	if code == 0 || !strings.Contains(errOut, "mounts no volume at /var/log/katib/checkpoints/") {
		t.Errorf("tune validate of Katib's file as shipped (no volume at suggestion_trial_dir): exit %d, want it refused naming the path\n%s%s", code, out, errOut)
	}
	y = edit(y, [][2]string{
		{"maxTrialCount: 2\n", "maxTrialCount: 10\n"},
		{"parallelTrialCount: 2\n", "parallelTrialCount: 5\n"},
		{"value: '40'", "value: '5'"},
		{"        template:\n          spec:\n", `        template:
          metadata:
            annotations: {tune.test/hold: "true"}  # for the test's pod runner
          spec:
            # On Kubernetes tune needs the template to mount a volume all
            # trials share at suggestion_trial_dir: it gives each trial its
            # <experiment>/<trial> of it (subPath) and copies the parent's
            # there first (init container tune-checkpoint-copy).
            volumes:
              - name: checkpoints
                persistentVolumeClaim: {claimName: pbt-checkpoints}
`},
		{`                  - "--checkpoint=/var/log/katib/checkpoints/"` + "\n", `                  - "--checkpoint=/var/log/katib/checkpoints/"
                volumeMounts:
                  - {name: checkpoints, mountPath: /var/log/katib/checkpoints/}
`},
	})
	start := time.Now()
	code, out, errOut = runTune(t, dir, "run", "--executor", "kubernetes", writeExperiment(t, dir, y))
	if code != 0 {
		t.Fatalf("tune run: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("tune run: %s\n%s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(out))

	ts := trials(t, dir, "simple-pbt")
	slices.SortFunc(ts, func(a, b jsonTrial) int { return strings.Compare(a.Name, b.Name) })
	if len(ts) != 10 {
		t.Fatalf("%d trials, want 10: %+v", len(ts), ts)
	}
	runs := map[string]podRun{}
	for _, r := range pods.ran() {
		name := r.Pod.Labels["katib.kubeflow.org/trial"]
		if _, dup := runs[name]; dup {
			t.Errorf("trial %s ran in more than one pod", name)
		}
		runs[name] = r
	}
	if len(runs) != len(ts) {
		t.Errorf("the pod runner ran %d trials' pods, want %d", len(runs), len(ts))
	}

	// The lineage: generation 0 (the first 5 trials, in member order)
	// has no parents; in generation 1 member i continues from its own
	// trial, but for the last-ranked member (ties: the later member),
	// which continues from the best (ties: the earlier member), the top
	// ⌊5·0.2⌋ = 1.
	acc := func(tr jsonTrial) float64 { return tr.Metrics["Validation-accuracy"] }
	gen0, gen1 := ts[:5], ts[5:]
	best, worst := 0, 0
	for i, tr := range gen0 {
		if acc(tr) > acc(gen0[best]) {
			best = i
		}
		if acc(tr) <= acc(gen0[worst]) {
			worst = i
		}
	}
	for i, tr := range gen0 {
		if tr.Parameters[pbtGeneration] != "0" || tr.Parameters[pbtParent] != "" {
			t.Errorf("trial %s: generation %q, parent %q; want 0 and none", tr.Name, tr.Parameters[pbtGeneration], tr.Parameters[pbtParent])
		}
		want := tr.Name
		if i == worst {
			want = gen0[best].Name
		}
		if g := gen1[i]; g.Parameters[pbtGeneration] != "1" || g.Parameters[pbtParent] != want {
			t.Errorf("trial %s (member %d): generation %q, parent %q; want 1 and %s (generation 0's accuracies: best %s, last %s)",
				g.Name, i, g.Parameters[pbtGeneration], g.Parameters[pbtParent], want, gen0[best].Name, gen0[worst].Name)
		}
	}

	// Each trial against the stand-in run by hand, in name order (a
	// parent before its children), from a copy of its parent's replayed
	// checkpoint directory.
	replay := t.TempDir()
	entries, err := os.ReadDir(filepath.Join(volume, "simple-pbt"))
	if err != nil {
		t.Fatalf("the claim's volume holds no directory of the experiment: %v", err)
	}
	var onVolume []string
	for _, e := range entries {
		onVolume = append(onVolume, e.Name())
	}
	var names []string
	for _, tr := range ts {
		names = append(names, tr.Name)
	}
	if !slices.Equal(onVolume, names) {
		t.Errorf("the claim's simple-pbt/ holds %q, want the trials' directories %q", onVolume, names)
	}
	for _, tr := range ts {
		r, ok := runs[tr.Name]
		if !ok {
			t.Errorf("trial %s: no pod of it ran", tr.Name)
			continue
		}
		var stdout []string
		for _, l := range r.Log {
			if l.stream == "stdout" {
				stdout = append(stdout, l.text)
			}
		}
		got := strings.Join(stdout, "\n")
		printed := ""
		for _, l := range stdout {
			if v, ok := strings.CutPrefix(l, "Validation-accuracy="); ok {
				printed = v
			}
		}
		if v, err := strconv.ParseFloat(printed, 64); err != nil || tr.Status != "Succeeded" || tr.Metrics["Validation-accuracy"] != v || r.ExitCode != 0 {
			t.Errorf("trial %s: %s with Validation-accuracy %v; its pod exited %d printing Validation-accuracy=%q; want Succeeded with that value",
				tr.Name, tr.Status, tr.Metrics["Validation-accuracy"], r.ExitCode, printed)
		}
		epoch := "epoch 21:"
		if tr.Parameters[pbtParent] != "" {
			epoch = "epoch 41:"
		}
		if !strings.HasPrefix(got, epoch) {
			t.Errorf("trial %s (parent %q) printed %q, want %q: it did not start from its parent's checkpoint (20 epochs each)", tr.Name, tr.Parameters[pbtParent], got, epoch)
		}

		own := filepath.Join(replay, tr.Name)
		if p := tr.Parameters[pbtParent]; p != "" {
			if err := os.CopyFS(own, os.DirFS(filepath.Join(replay, p))); err != nil {
				t.Fatalf("replay of %s: copy of its parent %s: %v", tr.Name, p, err)
			}
		}
		cmd := exec.Command(py, prog, "--epochs=20", "--lr="+tr.Parameters["lr"], "--checkpoint="+own)
		want, err := cmd.Output()
		if err != nil {
			t.Fatalf("replay of %s: %v", tr.Name, err)
		}
		if got != strings.TrimSpace(string(want)) {
			t.Errorf("trial %s (lr %s, parent %q) printed\n%s\nthe stand-in by hand from its parent's replayed checkpoint prints\n%s",
				tr.Name, tr.Parameters["lr"], tr.Parameters[pbtParent], got, want)
		}
		ckpt, err := os.ReadFile(filepath.Join(volume, "simple-pbt", tr.Name, "training.ckpt"))
		if err != nil {
			t.Errorf("trial %s: no checkpoint in its directory of the claim: %v", tr.Name, err)
			continue
		}
		if replayed, err := os.ReadFile(filepath.Join(own, "training.ckpt")); err != nil || !bytes.Equal(ckpt, replayed) {
			t.Errorf("trial %s: the checkpoint on the claim differs from the replayed one (%v)", tr.Name, err)
		}
	}
}
