package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/go-logr/logr"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// The controller-runtime side of bench/latency.ts: a controller over ConfigMaps labelled
// bench=latency whose handler stamps each event as the informer hands it over, and whose
// reconciler measures how long after that it started. A ConfigMap named lat-end ends the
// run: the latencies are printed as one JSON object and the process exits.

type stamps struct {
	mu      sync.Mutex
	pending map[types.NamespacedName]time.Time
	lat     []float64
	starts  [][2]float64 // seq read from the cache, wall-clock ms at the reconcile's start
}

func (s *stamps) stamp(key types.NamespacedName) {
	now := time.Now()
	s.mu.Lock()
	if _, ok := s.pending[key]; !ok {
		s.pending[key] = now // the oldest event not yet reconciled
	}
	s.mu.Unlock()
}

func (s *stamps) started(key types.NamespacedName) {
	now := time.Now()
	s.mu.Lock()
	if at, ok := s.pending[key]; ok {
		delete(s.pending, key)
		s.lat = append(s.lat, float64(now.Sub(at).Microseconds())/1000)
	}
	s.mu.Unlock()
}

func runLatency(args []string) error {
	fs := flag.NewFlagSet("peer latency", flag.ContinueOnError)
	var cf clientFlags
	cf.register(fs)
	namespace := fs.String("namespace", "bench", "namespace of the ConfigMaps")
	workers := fs.Int("max-concurrent-reconciles", 10, "workers")
	probeAddr := fs.String("health-probe-bind-address", ":8081", "address of /readyz")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	ctrl.SetLogger(logr.Discard())
	cfg, err := cf.restConfig()
	if err != nil {
		return err
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: scheme,
		Cache: cache.Options{
			DefaultNamespaces: map[string]cache.Config{*namespace: {}},
			DefaultTransform:  cache.TransformStripManagedFields(),
			ByObject: map[client.Object]cache.ByObject{
				&corev1.ConfigMap{}: {Label: labels.SelectorFromSet(labels.Set{"bench": "latency"})},
			},
		},
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: *probeAddr,
	})
	if err != nil {
		return err
	}
	st := &stamps{pending: map[types.NamespacedName]time.Time{}}
	ctx, cancel := context.WithCancel(ctrl.SetupSignalHandler())
	defer cancel()
	enqueue := func(o client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request], stamp bool) {
		key := types.NamespacedName{Namespace: o.GetNamespace(), Name: o.GetName()}
		if stamp {
			st.stamp(key)
		}
		q.Add(reconcile.Request{NamespacedName: key})
	}
	h := handler.TypedFuncs[client.Object, reconcile.Request]{
		CreateFunc: func(_ context.Context, e event.TypedCreateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			// The initial list is not part of the measurement.
			enqueue(e.Object, q, !e.IsInInitialList)
		},
		UpdateFunc: func(_ context.Context, e event.TypedUpdateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(e.ObjectNew, q, true)
		},
	}
	var result []byte
	r := reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
		wall := float64(time.Now().UnixMicro()) / 1000
		st.started(req.NamespacedName)
		var cm corev1.ConfigMap
		if err := mgr.GetClient().Get(ctx, req.NamespacedName, &cm); err != nil {
			return reconcile.Result{}, client.IgnoreNotFound(err)
		}
		if seq, err := strconv.Atoi(cm.Data["seq"]); err == nil && seq > 0 {
			st.mu.Lock()
			st.starts = append(st.starts, [2]float64{float64(seq), wall})
			st.mu.Unlock()
		}
		if req.Name == "lat-end" {
			st.mu.Lock()
			result = summary(st.lat, st.starts)
			st.mu.Unlock()
			cancel()
		}
		return reconcile.Result{}, nil
	})
	err = ctrl.NewControllerManagedBy(mgr).
		Named("latency").
		Watches(&corev1.ConfigMap{}, h).
		WithOptions(controller.Options{MaxConcurrentReconciles: *workers}).
		Complete(r)
	if err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("cache-sync", func(req *http.Request) error {
		if !mgr.GetCache().WaitForCacheSync(req.Context()) {
			return fmt.Errorf("caches have not synced")
		}
		return nil
	}); err != nil {
		return err
	}
	if err := mgr.Start(ctx); err != nil {
		return err
	}
	if result == nil {
		return fmt.Errorf("stopped before the end marker")
	}
	_, err = os.Stdout.Write(append(result, '\n'))
	return err
}

// summary is the JSON bench/latency.ts reads: count and quantiles in milliseconds, and the
// reconciles' starts.
func summary(lat []float64, starts [][2]float64) []byte {
	sorted := append([]float64(nil), lat...)
	sort.Float64s(sorted)
	q := func(p float64) float64 {
		if len(sorted) == 0 {
			return 0
		}
		i := int(p * float64(len(sorted)))
		if i >= len(sorted) {
			i = len(sorted) - 1
		}
		return sorted[i]
	}
	out, _ := json.Marshal(map[string]any{
		"count": len(sorted), "p50": q(0.5), "p99": q(0.99), "max": q(1), "starts": starts,
	})
	return out
}
