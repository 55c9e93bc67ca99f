package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/invitectl/invitectl/pkg/emulator"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"invitectl": func() { os.Exit(run(os.Args[1:], newSystemIO())) },
	})
}

// TestScripts runs the end-to-end scripts in testdata/script against the
// real binary entry point and an emulator per script.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("INVITECTL_ENDPOINT", "")
			env.Setenv("INVITECTL_CUSTOMER", "")
			env.Setenv("GOOGLE_APPLICATION_CREDENTIALS", env.WorkDir+"/no-adc.json")
			env.Setenv("HOME", env.WorkDir)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"emulator": cmdEmulator,
			"account":  cmdAccount,
			"calls":    cmdCalls,
			"status":   cmdStatus,
			"mode":     cmdMode,
		},
	})
}

// emulators holds the running emulator of each script, by work directory;
// scripts run in parallel.
var emulators sync.Map

// cmdEmulator starts an emulator on a world file of the script (default: the
// embedded sample world) and points INVITECTL_ENDPOINT and _CUSTOMER at it.
// Flags: latency=D read-qps=N write-qps=N fault-429=P ... seed=N.
func cmdEmulator(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! emulator")
	}
	var world emulator.World
	var err error
	var cfg emulator.Config
	path := ""
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			path = ts.MkAbs(a)
			continue
		}
		f, perr := strconv.ParseFloat(v, 64)
		switch k {
		case "read-qps":
			cfg.ReadQPS = f
		case "write-qps":
			cfg.WriteQPS = f
		case "fault-429":
			cfg.Fault429 = f
		case "fault-503":
			cfg.Fault503 = f
		case "fault-503-after":
			cfg.Fault503After = f
		case "fault-reset":
			cfg.FaultReset = f
		case "seed":
			cfg.Seed = uint64(f)
		default:
			ts.Fatalf("emulator: unknown option %s", k)
		}
		ts.Check(perr)
	}
	world, err = loadWorld(path)
	ts.Check(err)
	srv, err := emulator.New(world, cfg)
	ts.Check(err)
	hs := httptest.NewServer(srv)
	ts.Defer(hs.Close)
	emulators.Store(ts.Getenv("WORK"), srv)
	ts.Setenv("INVITECTL_ENDPOINT", hs.URL)
	ts.Setenv("INVITECTL_CUSTOMER", world.Customer)
	ts.Setenv("EMULATOR", hs.URL)
}

func server(ts *testscript.TestScript) *emulator.Server {
	srv, ok := emulators.Load(ts.Getenv("WORK"))
	if !ok {
		ts.Fatalf("no emulator started in this script")
	}
	return srv.(*emulator.Server)
}

// cmdAccount asserts one account: account EMAIL STATE MAILS [sends=N] [cancels=N].
func cmdAccount(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 3 {
		ts.Fatalf("usage: account EMAIL STATE MAILS [sends=N] [cancels=N]")
	}
	a, ok := server(ts).State().Account(args[0])
	if !ok {
		ts.Fatalf("no account %s", args[0])
	}
	got := fmt.Sprintf("%s %d", a.State, a.Mails)
	want := args[1] + " " + args[2]
	for _, extra := range args[3:] {
		k, _, _ := strings.Cut(extra, "=")
		switch k {
		case "sends":
			got += fmt.Sprintf(" sends=%d", a.Sends)
		case "cancels":
			got += fmt.Sprintf(" cancels=%d", a.Cancels)
		default:
			ts.Fatalf("account: unknown field %s", k)
		}
		want += " " + extra
	}
	if (got == want) == neg {
		ts.Fatalf("account %s is %q, want %s%q", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// cmdCalls asserts call counters: calls METHOD N (METHOD "mutations" sums
// send and cancel).
func cmdCalls(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: calls METHOD N")
	}
	st := server(ts).State()
	n := st.Calls[args[0]]
	if args[0] == "mutations" {
		n = st.Calls["send"] + st.Calls["cancel"]
	}
	if (strconv.Itoa(n) == args[1]) == neg {
		b, _ := json.Marshal(st.Calls)
		ts.Fatalf("calls %s = %d, want %s (all: %s)", args[0], n, args[1], b)
	}
}

// cmdStatus runs a program and asserts its exit code: status N PROG ARGS...
// Its output can be checked by stdout and stderr as after exec.
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: status CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

// cmdMode asserts a file's permission bits: mode FILE 0600.
func cmdMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mode FILE PERM")
	}
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	if (uint64(fi.Mode().Perm()) == want) == neg {
		ts.Fatalf("%s has mode %o, want %s%o", args[0], fi.Mode().Perm(), map[bool]string{true: "not ", false: ""}[neg], want)
	}
}
