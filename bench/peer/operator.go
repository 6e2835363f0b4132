package main

import (
	"context"
	"errors"
	"flag"
	"net/http"
	"strings"
	"sync/atomic"

	"go.uber.org/zap/zapcore"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

func runOperator(args []string) error {
	fs := flag.NewFlagSet("peer operator", flag.ContinueOnError)
	var cf clientFlags
	cf.register(fs)
	workers := fs.Int("max-concurrent-reconciles", 10, "Sessions reconciled in parallel")
	metricsAddr := fs.String("metrics-bind-address", ":8080", "address of /metrics; 0 disables it")
	probeAddr := fs.String("health-probe-bind-address", ":8081", "address of /healthz and /readyz; 0 disables it")
	namespaces := fs.String("namespace", "", "comma-separated namespaces to watch (default: all)")
	runnerImage := fs.String("runner-image", "", "image for Sessions that name none")
	logLevel := fs.String("log-level", "info", "error, warn, info or debug")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	level, ok := map[string]zapcore.Level{"error": zapcore.ErrorLevel, "warn": zapcore.WarnLevel,
		"info": zapcore.InfoLevel, "debug": zapcore.DebugLevel}[*logLevel]
	if !ok {
		return usageError{errors.New("--log-level must be error, warn, info or debug")}
	}
	ctrl.SetLogger(zap.New(zap.Level(level)))
	cfg, err := cf.restConfig()
	if err != nil {
		return err
	}

	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := addToScheme(scheme); err != nil {
		return err
	}
	// Jobs and pods are cached only when Steward-managed, as Steward's operator does; every
	// object drops managedFields, as Steward's cache does by default.
	managed := labels.SelectorFromSet(labels.Set{labelManagedBy: managedBy})
	cacheOpts := cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&batchv1.Job{}: {Label: managed},
			&corev1.Pod{}:  {Label: managed},
		},
	}
	if *namespaces != "" {
		cacheOpts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range strings.Split(*namespaces, ",") {
			cacheOpts.DefaultNamespaces[strings.TrimSpace(ns)] = cache.Config{}
		}
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Cache:                  cacheOpts,
		Metrics:                metricsserver.Options{BindAddress: *metricsAddr},
		HealthProbeBindAddress: *probeAddr,
	})
	if err != nil {
		return err
	}
	r := &SessionReconciler{
		Client:      mgr.GetClient(),
		Recorder:    mgr.GetEventRecorder("steward-session"),
		RunnerImage: *runnerImage,
	}
	err = ctrl.NewControllerManagedBy(mgr).
		Named("session").
		// Spec changes, creations and deletions; our own status writes need no reconcile.
		For(&Session{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Owns(&batchv1.Job{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(podToSession)).
		WithOptions(controller.Options{MaxConcurrentReconciles: *workers}).
		Complete(r)
	if err != nil {
		return err
	}
	var synced atomic.Bool
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		if mgr.GetCache().WaitForCacheSync(ctx) {
			synced.Store(true)
		}
		<-ctx.Done()
		return nil
	})); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("ping", func(*http.Request) error { return nil }); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("cache-sync", func(*http.Request) error {
		if !synced.Load() {
			return errors.New("caches have not synced yet")
		}
		return nil
	}); err != nil {
		return err
	}
	return mgr.Start(ctrl.SetupSignalHandler())
}

// podToSession maps an attempt's pod to its Session through the annotation Steward sets.
func podToSession(_ context.Context, o client.Object) []reconcile.Request {
	name := o.GetAnnotations()[annotationSession]
	if name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: o.GetNamespace(), Name: name}}}
}
