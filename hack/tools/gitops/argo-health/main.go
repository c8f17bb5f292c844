// Command argo-health runs Argo CD resource-health Lua scripts outside Argo CD, the way Argo CD
// runs them (argo-cd util/lua: ExecuteHealthLua), so FlexCore's health checks for its custom
// resources are tested before anyone pastes them into argocd-cm.
//
//	argo-health [-open-libs] run SCRIPT OBJECT.yaml   prints {"status":..,"message":..}
//	argo-health [-open-libs] test DIR                 DIR holds health.lua, health_test.yaml and
//	                                                  the inputs it names (Argo's layout)
//
// As in Argo CD: the object is decoded from YAML through JSON into map[string]any and handed
// to the script as the global table obj (numbers as Lua numbers, arrays 1-based); the script
// must return a table whose status is Healthy, Progressing, Degraded, Suspended, Missing or
// Unknown (anything else becomes Unknown, "Lua returned an invalid health status"); it runs
// for at most 1 s. A custom health check in argocd-cm gets only the base, table and package
// libraries and require("os") with os.time and os.date; -open-libs gives all of gopher-lua's
// standard libraries, as Argo CD does for built-in checks and for useOpenLibs: true.
//
// Exit codes: 0 ok; 1 a test case failed or the script failed; 2 bad usage or unreadable input.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	lua "github.com/yuin/gopher-lua"
	"sigs.k8s.io/yaml"
)

// healthStatus is the result of a script, and the expectation in health_test.yaml.
type healthStatus struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// testFile is health_test.yaml.
type testFile struct {
	Tests []struct {
		InputPath    string       `json:"inputPath"`
		HealthStatus healthStatus `json:"healthStatus"`
	} `json:"tests"`
}

// errInput marks unreadable input (exit 2), as opposed to a failing script (exit 1).
var errInput = errors.New("unreadable input")

const invalidHealthStatus = "Lua returned an invalid health status"

var validStatuses = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true,
	"Suspended": true, "Missing": true, "Unknown": true,
}

func main() {
	openLibs := flag.Bool("open-libs", false, "open all standard Lua libraries (Argo CD's useOpenLibs: true)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: argo-health [-open-libs] run SCRIPT OBJECT.yaml | test DIR")
	}
	flag.Parse()
	args := flag.Args()
	var err error
	switch {
	case len(args) == 3 && args[0] == "run":
		err = runOne(args[1], args[2], *openLibs)
	case len(args) == 2 && args[0] == "test":
		err = runTests(args[1], *openLibs)
	default:
		flag.Usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "argo-health: %v\n", err)
		if errors.Is(err, errInput) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func runOne(scriptPath, objPath string, openLibs bool) error {
	script, err := readInput(scriptPath)
	if err != nil {
		return err
	}
	obj, err := readObject(objPath)
	if err != nil {
		return err
	}
	res, err := evaluate(string(script), obj, openLibs)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// runTests checks every case of DIR/health_test.yaml, comparing status and message as Argo
// CD's TestLuaHealthScript does.
func runTests(dir string, openLibs bool) error {
	script, err := readInput(filepath.Join(dir, "health.lua"))
	if err != nil {
		return err
	}
	raw, err := readInput(filepath.Join(dir, "health_test.yaml"))
	if err != nil {
		return err
	}
	var tf testFile
	if err := yaml.Unmarshal(raw, &tf); err != nil {
		return fmt.Errorf("%w: health_test.yaml: %v", errInput, err)
	}
	if len(tf.Tests) == 0 {
		return fmt.Errorf("%s/health_test.yaml has no tests", dir)
	}
	failed := 0
	for _, tc := range tf.Tests {
		got, err := evaluateFile(string(script), filepath.Join(dir, tc.InputPath), openLibs)
		switch {
		case err != nil:
			failed++
			fmt.Printf("FAIL %s: %v\n", tc.InputPath, err)
		case got != tc.HealthStatus:
			failed++
			fmt.Printf("FAIL %s: want %s %q, got %s %q\n", tc.InputPath,
				tc.HealthStatus.Status, tc.HealthStatus.Message, got.Status, got.Message)
		default:
			fmt.Printf("ok   %s: %s %q\n", tc.InputPath, got.Status, got.Message)
		}
	}
	fmt.Printf("%d passed, %d failed\n", len(tf.Tests)-failed, failed)
	if failed > 0 {
		return fmt.Errorf("%d of %d health tests failed", failed, len(tf.Tests))
	}
	return nil
}

func evaluateFile(script, objPath string, openLibs bool) (healthStatus, error) {
	obj, err := readObject(objPath)
	if err != nil {
		return healthStatus{}, err
	}
	return evaluate(script, obj, openLibs)
}

func readInput(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errInput, err)
	}
	return b, nil
}

func readObject(path string) (map[string]any, error) {
	b, err := readInput(path)
	if err != nil {
		return nil, err
	}
	obj := map[string]any{}
	if err := yaml.Unmarshal(b, &obj); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", errInput, path, err)
	}
	return obj, nil
}

// evaluate runs script with the global obj and reads the table it returns.
func evaluate(script string, obj map[string]any, openLibs bool) (healthStatus, error) {
	L := newState(openLibs)
	defer L.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	L.SetContext(ctx)
	L.SetGlobal("obj", toLua(L, obj))
	if err := L.DoString(script); err != nil {
		return healthStatus{}, err
	}
	ret, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		return healthStatus{}, fmt.Errorf("expect table output from Lua script, not %s", L.Get(-1).Type())
	}
	status, err := stringField(ret, "status")
	if err != nil {
		return healthStatus{}, err
	}
	message, err := stringField(ret, "message")
	if err != nil {
		return healthStatus{}, err
	}
	if !validStatuses[status] {
		return healthStatus{Status: "Unknown", Message: invalidHealthStatus}, nil
	}
	return healthStatus{Status: status, Message: message}, nil
}

func stringField(t *lua.LTable, key string) (string, error) {
	switch v := t.RawGetString(key).(type) {
	case lua.LString:
		return string(v), nil
	case *lua.LNilType:
		return "", nil
	default:
		return "", fmt.Errorf("the returned %s is a %s, not a string", key, v.Type())
	}
}

// newState opens the libraries Argo CD gives a health script (see the header).
func newState(openLibs bool) *lua.LState {
	if openLibs {
		return lua.NewState()
	}
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	safe := safeOsFuncs()
	L.PreloadModule(lua.OsLibName, func(L *lua.LState) int {
		L.Push(L.SetFuncs(L.NewTable(), safe))
		return 1
	})
	return L
}

// safeOsFuncs borrows os.time and os.date from gopher-lua's os library, nothing that can
// exit, run commands or touch files.
func safeOsFuncs() map[string]lua.LGFunction {
	full := lua.NewState()
	defer full.Close()
	osLib := full.GetGlobal(lua.OsLibName).(*lua.LTable)
	funcs := map[string]lua.LGFunction{}
	for _, name := range []string{"time", "date"} {
		funcs[name] = osLib.RawGetString(name).(*lua.LFunction).GFunction
	}
	return funcs
}

// toLua converts decoded JSON to Lua values as Argo CD's decodeValue does: maps become
// tables keyed by string, arrays 1-based tables, numbers Lua numbers.
func toLua(L *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case bool:
		return lua.LBool(x)
	case float64:
		return lua.LNumber(x)
	case int64:
		return lua.LNumber(x)
	case string:
		return lua.LString(x)
	case []any:
		t := L.CreateTable(len(x), 0)
		for _, item := range x {
			t.Append(toLua(L, item))
		}
		return t
	case map[string]any:
		t := L.CreateTable(0, len(x))
		for k, item := range x {
			t.RawSetH(lua.LString(k), toLua(L, item))
		}
		return t
	default:
		return lua.LNil
	}
}
