// Command kstatus prints the kstatus verdict (sigs.k8s.io/cli-utils/pkg/kstatus) for each
// Kubernetes object it reads, one JSON line per object:
//
//	{"kind":"Deployment","namespace":"ns","name":"web","status":"Current","message":"..."}
//
// Why: kstatus is the readiness rule Flux and kpt apply to what they deploy ("Current" means
// the controller has observed the latest spec and reports success). Tests that check
// FlexCore's status fields against it need it on objects in files; upstream's status
// commands (kpt live status) only read a live cluster.
//
// Usage: kstatus [FILE...]   (no FILE or "-" reads stdin). Input is JSON or YAML: one object,
// a List, or several YAML documents. Exit 0, or 2 when the input cannot be read or parsed.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type verdict struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	Message   string `json:"message"`
}

func main() {
	args := os.Args[1:]
	if len(args) == 0 {
		args = []string{"-"}
	}
	out := json.NewEncoder(os.Stdout)
	for _, arg := range args {
		objs, err := readFile(arg)
		if err != nil {
			fmt.Fprintf(os.Stderr, "kstatus: cannot read %s: %v\n", arg, err)
			os.Exit(2)
		}
		for _, obj := range objs {
			if err := out.Encode(compute(obj)); err != nil {
				fmt.Fprintf(os.Stderr, "kstatus: %v\n", err)
				os.Exit(2)
			}
		}
	}
}

func compute(obj *unstructured.Unstructured) verdict {
	v := verdict{Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
	res, err := status.Compute(obj)
	if err != nil {
		// A malformed status field (e.g. a string observedGeneration) is a verdict, not bad input.
		v.Status, v.Message = string(status.UnknownStatus), err.Error()
		return v
	}
	v.Status, v.Message = string(res.Status), res.Message
	return v
}

func readFile(arg string) ([]*unstructured.Unstructured, error) {
	if arg == "-" {
		return readObjects(os.Stdin)
	}
	f, err := os.Open(arg)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readObjects(f)
}

// readObjects splits a YAML or JSON stream into documents and decodes each with the
// unstructured JSON scheme, which keeps integers as int64 (kstatus reads observedGeneration
// as int64) and expands List kinds into their items.
func readObjects(r io.Reader) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bufio.NewReader(r), 4096)
	var objs []*unstructured.Unstructured
	for {
		var raw runtime.RawExtension
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			return objs, nil
		} else if err != nil {
			return nil, err
		}
		if len(raw.Raw) == 0 || string(raw.Raw) == "null" {
			continue // an empty YAML document
		}
		decoded, _, err := unstructured.UnstructuredJSONScheme.Decode(raw.Raw, nil, nil)
		if err != nil {
			return nil, err
		}
		switch o := decoded.(type) {
		case *unstructured.UnstructuredList:
			for i := range o.Items {
				objs = append(objs, &o.Items[i])
			}
		case *unstructured.Unstructured:
			objs = append(objs, o)
		}
	}
}
