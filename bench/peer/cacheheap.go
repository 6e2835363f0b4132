package main

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"runtime"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/labels"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// runCacheHeap measures what the operator's cache holds per object: the heap after a
// controller-runtime cache with the operator's options (Sessions; Steward-managed Jobs; no
// managedFields) has synced, minus the heap before, divided by the objects cached.
func runCacheHeap(args []string) error {
	fs := flag.NewFlagSet("peer cache-heap", flag.ContinueOnError)
	var cf clientFlags
	cf.register(fs)
	namespace := fs.String("namespace", "bench", "namespace to cache")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	cfg, err := cf.restConfig()
	if err != nil {
		return err
	}
	scheme := kruntime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := addToScheme(scheme); err != nil {
		return err
	}
	out := map[string]float64{}
	for _, kind := range []struct {
		name string
		obj  client.Object
		list client.ObjectList
	}{
		{"session", &Session{}, &SessionList{}},
		{"job", &batchv1.Job{}, &batchv1.JobList{}},
	} {
		before := heapBytes()
		c, err := cache.New(cfg, cache.Options{
			Scheme:            scheme,
			DefaultNamespaces: map[string]cache.Config{*namespace: {}},
			DefaultTransform:  cache.TransformStripManagedFields(),
			ByObject: map[client.Object]cache.ByObject{
				&batchv1.Job{}: {Label: labels.SelectorFromSet(labels.Set{labelManagedBy: managedBy})},
			},
		})
		if err != nil {
			return err
		}
		ctx, cancel := context.WithCancel(context.Background())
		if _, err := c.GetInformer(ctx, kind.obj); err != nil {
			cancel()
			return err
		}
		go func() { _ = c.Start(ctx) }()
		c.WaitForCacheSync(ctx)
		after := heapBytes()
		// Counted after the measurement: the list is a deep copy of the cache.
		if err := c.List(ctx, kind.list); err != nil {
			cancel()
			return err
		}
		n := float64(len(listItems(kind.list)))
		out[kind.name+"Count"] = n
		out[kind.name+"BytesPerObject"] = (after - before) / n
		runtime.KeepAlive(c)
		cancel()
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

func listItems(l client.ObjectList) []any {
	var items []any
	switch v := l.(type) {
	case *SessionList:
		for i := range v.Items {
			items = append(items, &v.Items[i])
		}
	case *batchv1.JobList:
		for i := range v.Items {
			items = append(items, &v.Items[i])
		}
	}
	return items
}

func heapBytes() float64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc)
}
