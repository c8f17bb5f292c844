// Command pause is the sandbox process of every Pod on the test plane's real node: it holds
// the Pod's namespaces, reaps orphaned children (it is PID 1 of the Pod) and exits on
// SIGINT or SIGTERM. Built here because no registry can serve registry.k8s.io/pause.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			return
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
