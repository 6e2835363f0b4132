// Command peer is the controller-runtime side of Steward's benchmarks (make bench): a Session
// operator written with controller-runtime's usual idioms, and Go measurements of client-go's
// and controller-runtime's work queues and of controller-runtime's event latency and cache
// memory. See README.md.
//
//	peer operator [flags]    the Session operator (flags as Steward's manager)
//	peer workqueue           work queue micro-benchmarks, one JSON object on stdout
//	peer latency [flags]     event → reconcile start latency at a given event rate
//	peer cache-heap [flags]  heap per cached Session and Job
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: peer operator|workqueue|latency|cache-heap [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "operator":
		err = runOperator(os.Args[2:])
	case "workqueue":
		err = runWorkqueue(os.Args[2:])
	case "latency":
		err = runLatency(os.Args[2:])
	case "cache-heap":
		err = runCacheHeap(os.Args[2:])
	default:
		fmt.Fprintf(os.Stderr, "peer: unknown command %q (operator, workqueue, latency, cache-heap)\n", os.Args[1])
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "peer %s: %v\n", os.Args[1], err)
		if _, usage := err.(usageError); usage {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a bad command line: exit 2.
type usageError struct{ error }
