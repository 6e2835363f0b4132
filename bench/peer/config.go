package main

import (
	"errors"
	"flag"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/flowcontrol"
)

// clientFlags are the API client flags every subcommand that talks to a server takes.
type clientFlags struct {
	kubeconfig string
	qps        float64
	burst      int
	shared     bool
}

func (c *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, in-cluster)")
	fs.Float64Var(&c.qps, "kube-api-qps", 20,
		"client-side rate limit per REST client, as client-go applies it; <= 0 disables it")
	fs.IntVar(&c.burst, "kube-api-burst", 30, "burst of the client-side rate limit")
	fs.BoolVar(&c.shared, "shared-rate-limiter", false,
		"one token bucket for every REST client of the process instead of one per client")
}

// restConfig builds the client config. client-go gives every REST client built from a config
// without a RateLimiter its own token bucket of QPS/Burst; controller-runtime builds one REST
// client per group-version (plus the event broadcaster's), so --kube-api-qps 20 allows 20
// requests per second to each API group. --shared-rate-limiter puts one bucket in the config,
// which every client copied from it shares.
func (c *clientFlags) restConfig() (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = c.kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, err
	}
	if c.burst < 1 {
		return nil, usageError{errors.New("--kube-api-burst must be >= 1")}
	}
	if c.qps <= 0 {
		cfg.QPS = -1 // no client-side limit, as controller-runtime's GetConfig does by default
	} else {
		cfg.QPS, cfg.Burst = float32(c.qps), c.burst
		if c.shared {
			cfg.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(cfg.QPS, cfg.Burst)
		}
	}
	cfg.UserAgent = "steward-peer"
	return cfg, nil
}
