package metrics

import (
	"fmt"
	"io"
)

// SyntheticLog writes a training log of about size bytes to w, the kind a
// deep-learning trial prints: progress bars, warnings and an occasional
// traceback, with one line in every hundred reporting metrics in Katib's
// default format ("epoch 12 step 3400: loss=0.2314 accuracy=0.9132"). It
// is the input of the stream benchmarks: the content does not depend on
// anything but size, and it is generated as it is written, so that gigabytes
// take no memory.
func SyntheticLog(w io.Writer, size int64) error {
	noise := []string{
		"Epoch 3/10 - 1250/1250 [==============================] - 12s 9ms/step - lr: 0.0010\n",
		"WARNING:tensorflow:Callback method `on_train_batch_end` is slow compared to the batch time (batch time: 0.0031s vs `on_train_batch_end` time: 0.0047s). Check your callbacks.\n",
		"  File \"/usr/lib/python3/dist-packages/torch/nn/modules/module.py\", line 1501, in _call_impl\n",
		"    return forward_call(*args, **kwargs)\n",
		"[rank0]: 2026-11-28 12:00:01,234 INFO data loader worker 3 prefetched 64 batches (shard 17 of 128)\n",
		"100%|██████████| 469/469 [00:05<00:00, 83.21it/s]\n",
	}
	buf := make([]byte, 0, 64<<10)
	var written int64
	for i := 0; written < size; i++ {
		if i%100 == 99 {
			buf = fmt.Appendf(buf, "epoch %d step %d: loss=%.4f accuracy=%.4f\n", i/10000, i, 1/float64(i+1), 1-1/float64(i+1))
		} else {
			buf = append(buf, noise[i%len(noise)]...)
		}
		if len(buf) >= 60<<10 {
			n, err := w.Write(buf[:min(int64(len(buf)), size-written)])
			written += int64(n)
			if err != nil {
				return fmt.Errorf("synthetic log: %w", err)
			}
			buf = buf[:0]
		}
	}
	return nil
}
