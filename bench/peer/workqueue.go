package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
)

// The operations of bench/workqueue.ts, on client-go's rate-limiting queue (controller-runtime's
// queue before v0.23) and on controller-runtime's priority queue (its default since v0.23).
// Single producer and consumer, as there; Go's queues also run goroutines of their own (the
// delaying loop, the priority queue's buffers), which may use the second core.

type queue interface {
	Add(string)
	AddAfter(string, time.Duration)
	Get() (string, bool)
	Done(string)
	Len() int
	ShutDown()
}

func newClientGo(metrics bool) queue {
	cfg := workqueue.TypedRateLimitingQueueConfig[string]{}
	if metrics {
		// Importing the priority queue installs controller-runtime's metrics provider, so a
		// named client-go queue records controller-runtime's workqueue_* metrics.
		cfg.Name = "bench-client-go"
	}
	return workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](), cfg)
}

func newPriorityQueue(metrics bool) queue {
	name := "" // no name: no metrics
	if metrics {
		name = "bench-priority-queue"
	}
	return priorityqueue.New[string](name)
}

func keys(n int, prefix string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i)
	}
	return out
}

func cycle(q queue) float64 {
	for _, k := range keys(10_000, "ns/object-") {
		q.Add(k)
	}
	run := func(n int) {
		for i := 0; i < n; i++ {
			item, _ := q.Get()
			q.Done(item)
			q.Add(item)
		}
	}
	run(100_000)
	const rounds = 500_000
	t0 := time.Now()
	run(rounds)
	ns := float64(time.Since(t0).Nanoseconds()) / rounds
	q.ShutDown()
	return ns
}

func addQueued(q queue) float64 {
	ks := keys(10_000, "ns/object-")
	for _, k := range ks {
		q.Add(k)
	}
	const rounds = 2_000_000
	t0 := time.Now()
	for i := 0; i < rounds; i++ {
		q.Add(ks[i%len(ks)])
	}
	q.Len() // the priority queue buffers adds for a goroutine: Len() flushes them
	ns := float64(time.Since(t0).Nanoseconds()) / rounds
	q.ShutDown()
	return ns
}

// cpuTime is the process's CPU time so far, user and system, every thread: what the work cost
// the machine, whichever core its goroutines (and the collector's) ran on.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// timing is a loop's cost per operation: elapsed and CPU nanoseconds.
type timing struct {
	Wall float64
	CPU  float64
}

func bestTiming(n int, f func() timing) timing {
	m := timing{math.Inf(1), math.Inf(1)}
	for i := 0; i < n; i++ {
		t := f()
		m = timing{math.Min(m.Wall, t.Wall), math.Min(m.CPU, t.CPU)}
	}
	return m
}

func addAfter(q queue) timing {
	hour := float64(time.Hour)
	for _, k := range keys(100_000, "w-") {
		q.AddAfter(k, time.Duration(hour+rand.Float64()*hour))
	}
	fresh := keys(100_000, "f-")
	delays := make([]time.Duration, len(fresh))
	for i := range delays {
		delays[i] = time.Duration(hour + rand.Float64()*hour)
	}
	t0 := time.Now()
	c0 := cpuTime()
	for i, k := range fresh {
		q.AddAfter(k, delays[i])
	}
	// The priority queue buffers adds for a goroutine: Len() flushes them. client-go's hands
	// them to its waiting loop through a channel of 1,000, so all but those are in its heap.
	q.Len()
	n := float64(len(fresh))
	t := timing{float64(time.Since(t0).Nanoseconds()) / n, float64((cpuTime() - c0).Nanoseconds()) / n}
	q.ShutDown()
	return t
}

func heapMiB() float64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

type drained struct {
	NsPerKey    float64 `json:"nsPerKey"`
	CPUNsPerKey float64 `json:"cpuNsPerKey"`
	Before      float64 `json:"heapBeforeMiB"`
	Peak        float64 `json:"heapQueuedMiB"`
	After       float64 `json:"heapAfterMiB"`
}

func drainMillion(newQueue func(bool) queue) drained {
	var d drained
	d.Before = heapMiB()
	q := newQueue(false)
	const n = 1_000_000
	t0 := time.Now()
	c0 := cpuTime()
	for i := 0; i < n; i++ {
		q.Add("ns/object-" + strconv.Itoa(i))
	}
	q.Len()
	elapsed := time.Since(t0)
	cpu := cpuTime() - c0
	d.Peak = heapMiB()
	t1 := time.Now()
	c1 := cpuTime()
	for i := 0; i < n; i++ {
		item, _ := q.Get()
		q.Done(item)
	}
	elapsed += time.Since(t1)
	cpu += cpuTime() - c1
	d.NsPerKey = float64(elapsed.Nanoseconds()) / n
	d.CPUNsPerKey = float64(cpu.Nanoseconds()) / n
	// The drained queue stays alive: its own memory must be back, not just the collector's.
	d.After = heapMiB()
	runtime.KeepAlive(q)
	q.ShutDown()
	return d
}

func best(n int, f func() float64) float64 {
	m := math.Inf(1)
	for i := 0; i < n; i++ {
		m = math.Min(m, f())
	}
	return m
}

type queueResults struct {
	Cycle        float64  `json:"cycleNs"`
	CycleMetrics float64  `json:"cycleMetricsNs"`
	AddQueued    float64  `json:"addQueuedNs"`
	AddAfter     float64  `json:"addAfterNs"`
	AddAfterCPU  float64  `json:"addAfterCpuNs"`
	Drain        *drained `json:"drain,omitempty"`
}

func measureQueue(newQueue func(bool) queue, trials int, drain bool) queueResults {
	after := bestTiming(trials, func() timing { return addAfter(newQueue(false)) })
	r := queueResults{
		Cycle:        best(trials, func() float64 { return cycle(newQueue(false)) }),
		CycleMetrics: best(trials, func() float64 { return cycle(newQueue(true)) }),
		AddQueued:    best(trials, func() float64 { return addQueued(newQueue(false)) }),
		AddAfter:     after.Wall,
		AddAfterCPU:  after.CPU,
	}
	if drain {
		d := drainMillion(newQueue)
		r.Drain = &d
	}
	return r
}

func runWorkqueue(args []string) error {
	fs := flag.NewFlagSet("peer workqueue", flag.ContinueOnError)
	// bench/workqueue.ts runs one trial at a time, alternating with its own, so that a change in
	// the machine's load hits both columns alike; it takes the best of each.
	trials := fs.Int("trials", 5, "timed trials of each loop; the best is reported")
	drain := fs.Bool("drain", true, "also drain 1M distinct keys (once)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *trials < 1 {
		return usageError{fmt.Errorf("-trials must be at least 1, got %d", *trials)}
	}
	out := map[string]any{
		"go":            runtime.Version(),
		"gomaxprocs":    runtime.GOMAXPROCS(0),
		"clientGo":      measureQueue(newClientGo, *trials, *drain),
		"priorityQueue": measureQueue(newPriorityQueue, *trials, *drain),
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}
