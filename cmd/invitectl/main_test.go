package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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
			env.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
			env.Setenv("HOME", env.WorkDir)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"emulator":  cmdEmulator,
			"account":   cmdAccount,
			"calls":     cmdCalls,
			"status":    cmdStatus,
			"mode":      cmdMode,
			"genkey":    cmdGenkey,
			"authstate": cmdAuthState,
			"nosecrets": cmdNoSecrets,
			"waitfile":  cmdWaitFile,
			"genline":   cmdGenline,
			"change":    cmdChange,
			"sheet":     cmdSheet,
			"genworld":  cmdGenworld,
		},
	})
}

// emulators holds the running emulator of each script, by work directory;
// scripts run in parallel.
var emulators sync.Map

// cmdEmulator starts an emulator on a world file of the script (default: the
// embedded sample world) and points INVITECTL_ENDPOINT and _CUSTOMER at it
// (and INVITECTL_AUTH_ENDPOINT with require-auth). Options: read-qps=N
// write-qps=N fault-429=P fault-503=P fault-503-after=P fault-reset=P
// seed=N require-auth trust-key=FILE delegated=SCOPE,... impersonable=SA
// token-lifetime=D api-disabled login=REFRESH_TOKEN:USER:SCOPE,...
func cmdEmulator(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! emulator")
	}
	var cfg emulator.Config
	path := ""
	num := func(v string) float64 {
		f, err := strconv.ParseFloat(v, 64)
		ts.Check(err)
		return f
	}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		switch {
		case !ok && k == "require-auth":
			cfg.Auth.Require = true
		case !ok && k == "api-disabled":
			cfg.Auth.Disabled = true
		case !ok:
			path = ts.MkAbs(a)
		case k == "quota":
			q, err := emulator.ParseQuota(v)
			ts.Check(err)
			cfg.Quota = q
		case k == "fault-429":
			cfg.Fault429 = num(v)
		case k == "fault-503":
			cfg.Fault503 = num(v)
		case k == "fault-503-after":
			cfg.Fault503After = num(v)
		case k == "fault-reset":
			cfg.FaultReset = num(v)
		case k == "seed":
			cfg.Seed = uint64(num(v))
		case k == "latency":
			d, err := time.ParseDuration(v)
			ts.Check(err)
			cfg.Latency = d
		case k == "trust-key":
			b, err := os.ReadFile(ts.MkAbs(v))
			ts.Check(err)
			email, key, err := emulator.ParsePublicKey(b)
			ts.Check(err)
			if cfg.Auth.Keys == nil {
				cfg.Auth.Keys = map[string]*rsa.PublicKey{}
			}
			cfg.Auth.Keys[email] = key
		case k == "delegated":
			cfg.Auth.Delegated = map[string][]string{}
			for email := range cfg.Auth.Keys {
				cfg.Auth.Delegated[email] = strings.Split(v, ",")
			}
		case k == "impersonable":
			cfg.Auth.Impersonable = append(cfg.Auth.Impersonable, v)
		case k == "token-lifetime":
			d, err := time.ParseDuration(v)
			ts.Check(err)
			cfg.Auth.TokenLifetime = d
		case k == "login":
			parts := strings.SplitN(v, ":", 3)
			if len(parts) != 3 {
				ts.Fatalf("login=REFRESH_TOKEN:USER:SCOPES")
			}
			if cfg.Auth.Logins == nil {
				cfg.Auth.Logins = map[string]emulator.Login{}
			}
			cfg.Auth.Logins[parts[0]] = emulator.Login{Subject: parts[1], Scopes: strings.Split(parts[2], ",")}
		default:
			ts.Fatalf("emulator: unknown option %s", k)
		}
	}
	world, err := loadWorld(path)
	ts.Check(err)
	srv, err := emulator.New(world, cfg)
	ts.Check(err)
	hs := httptest.NewServer(srv)
	ts.Defer(hs.Close)
	emulators.Store(ts.Getenv("WORK"), srv)
	ts.Setenv("INVITECTL_ENDPOINT", hs.URL)
	ts.Setenv("INVITECTL_CUSTOMER", world.Customer)
	ts.Setenv("EMULATOR", hs.URL)
	if cfg.Auth.Require || cfg.Auth.Disabled {
		ts.Setenv("INVITECTL_AUTH_ENDPOINT", hs.URL)
	}
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

// cmdGenkey writes a service-account JSON key generated for this test (never
// committed): genkey FILE EMAIL [MODE].
func cmdGenkey(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: genkey FILE EMAIL [MODE]")
	}
	mode := os.FileMode(0o600)
	if len(args) > 2 {
		m, err := strconv.ParseUint(args[2], 8, 32)
		ts.Check(err)
		mode = os.FileMode(m)
	}
	ts.Check(writeKey(ts.MkAbs(args[0]), args[1], mode))
}

// writeKey writes a service-account JSON key generated for the test.
func writeKey(path, email string, mode os.FileMode) error {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return err
	}
	b, err := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "test-project", "private_key_id": "k-" + email,
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": email, "client_id": "100000000000000000001",
		"token_uri": "https://oauth2.googleapis.com/token",
	})
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, mode); err != nil {
		return err
	}
	return os.Chmod(path, mode)
}

// cmdAuthState asserts what the emulator's token endpoint saw:
// authstate actor EMAIL (made at least one API call),
// authstate scopes "SCOPE SCOPE" (a token was issued for exactly these), or
// authstate only "SCOPE SCOPE" (tokens were issued, all for exactly these).
func cmdAuthState(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: authstate actor|scopes|only VALUE")
	}
	st := server(ts).State().Auth
	if st == nil {
		ts.Fatalf("the emulator does not require auth")
	}
	var ok bool
	switch args[0] {
	case "actor":
		ok = st.Actors[args[1]] > 0
	case "scopes":
		ok = st.Scopes[args[1]] > 0
	case "only":
		ok = len(st.Scopes) == 1 && st.Scopes[args[1]] > 0
	default:
		ts.Fatalf("authstate: unknown field %s", args[0])
	}
	if ok == neg {
		b, _ := json.Marshal(st)
		ts.Fatalf("authstate %s %q: %v, want %v (%s)", args[0], args[1], ok, !neg, b)
	}
}

// cmdNoSecrets fails if any of the files holds an issued access token, a
// private key, or a signed JWT: nosecrets FILE...
func cmdNoSecrets(ts *testscript.TestScript, neg bool, args []string) {
	tokens := server(ts).IssuedTokens()
	if len(tokens) == 0 {
		ts.Fatalf("no token was issued: the test proves nothing")
	}
	for _, f := range args {
		b, err := os.ReadFile(ts.MkAbs(f))
		ts.Check(err)
		text := string(b)
		for _, t := range tokens {
			if strings.Contains(text, t) {
				ts.Fatalf("%s contains an access token", f)
			}
		}
		for _, marker := range []string{"PRIVATE KEY", "eyJhbGci", "assertion=", "emu-token-"} {
			if strings.Contains(text, marker) {
				ts.Fatalf("%s contains %q", f, marker)
			}
		}
	}
}

// cmdWaitFile waits up to a minute for a file to exist: waitfile FILE.
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile FILE")
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(ts.MkAbs(args[0])); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	ts.Fatalf("%s did not appear", args[0])
}

// cmdGenline writes a campaign whose second line is one cell of N bytes:
// genline FILE N.
func cmdGenline(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: genline FILE BYTES")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte("email\n"+strings.Repeat("a", n)+"@example.org\n"), 0o600))
}
