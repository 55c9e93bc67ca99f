// Package profile reads and writes invitectl's named profiles: the settings
// of one tenant (customer, credentials, acting administrator, endpoint,
// ledger folder, rates) kept under a name, as gcloud keeps configurations
// and GAM keeps sections, so that an administrator of several tenants
// switches with one flag.
//
// The profiles live in config.json in invitectl's configuration folder
// (Dir), beside the stored logins of `invitectl auth login`, one per
// profile (LoginPath):
//
//	{
//	  "profiles": {
//	    "default": {"customer": "C03abc123", "credentials": "~/keys/acme.json", "subject": "admin@acme.example"},
//	    "globex":  {"customer": "C04xyz789", "impersonateServiceAccount": "invitectl@globex-it.iam.gserviceaccount.com",
//	                "subject": "it@globex.example", "writeQps": 2}
//	  }
//	}
//
// The profile named "default" is used when none is selected. Flags and
// environment variables override a profile's settings.
package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/invitectl/invitectl/pkg/atomicfile"
)

// Default is the profile used when none is selected.
const Default = "default"

// FileName is the name of the configuration file in Dir.
const FileName = "config.json"

// Profile is one tenant's settings; an empty field is not set.
type Profile struct {
	Customer                  string `json:"customer,omitempty"`
	Credentials               string `json:"credentials,omitempty"`
	Subject                   string `json:"subject,omitempty"`
	ImpersonateServiceAccount string `json:"impersonateServiceAccount,omitempty"`
	Endpoint                  string `json:"endpoint,omitempty"`
	APIVersion                string `json:"apiVersion,omitempty"`
	StateDir                  string `json:"stateDir,omitempty"`
	// ReadQPS and WriteQPS are the default --read-qps and --write-qps, in
	// calls per second.
	ReadQPS  *float64 `json:"readQps,omitempty"`
	WriteQPS *float64 `json:"writeQps,omitempty"`
}

// Config is the whole configuration file.
type Config struct {
	Profiles map[string]Profile `json:"profiles"`
}

// Keys are the settings `invitectl profile set` takes, named as the global
// flags they stand for.
var Keys = []string{"customer", "credentials", "subject", "impersonate-service-account", "endpoint", "api-version", "state-dir", "read-qps", "write-qps"}

// Dir is invitectl's configuration folder: INVITECTL_CONFIG_DIR, or the
// folder os.UserConfigDir names followed by "invitectl" ($XDG_CONFIG_HOME
// or ~/.config on Linux and BSD, ~/Library/Application Support on macOS,
// %AppData% on Windows). It reads the environment only through getenv, so
// that a caller decides what it sees.
func Dir(getenv func(string) string) (string, error) {
	if d := getenv("INVITECTL_CONFIG_DIR"); d != "" {
		return d, nil
	}
	var base string
	switch runtime.GOOS {
	case "windows":
		base = getenv("AppData")
		if base == "" {
			return "", errors.New("no configuration folder: %AppData% is not set (set INVITECTL_CONFIG_DIR)")
		}
	case "darwin", "ios":
		if home := getenv("HOME"); home != "" {
			base = filepath.Join(home, "Library", "Application Support")
		}
	default:
		if d := getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
			base = d
		} else if home := getenv("HOME"); home != "" {
			base = filepath.Join(home, ".config")
		}
	}
	if base == "" {
		return "", errors.New("no configuration folder: $HOME is not set (set INVITECTL_CONFIG_DIR)")
	}
	return filepath.Join(base, "invitectl"), nil
}

// LoginPath is the file that holds the stored login of profile name.
func LoginPath(dir, name string) string {
	return filepath.Join(dir, "logins", name+".json")
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidName checks a profile name: letters, digits, '.', '_' and '-', at
// most 64, starting with a letter or digit (it names a file).
func ValidName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("profile name %q: use letters, digits, '.', '_' and '-' (at most 64, starting with a letter or digit)", name)
	}
	return nil
}

// Load reads dir's configuration file; a missing file is an empty
// configuration. An unknown setting is an error, so that a misspelt one
// is not silently ignored.
func Load(dir string) (Config, error) {
	path := filepath.Join(dir, FileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Config{Profiles: map[string]Profile{}}, nil
	}
	if err != nil {
		return Config{}, err
	}
	var c Config
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	if c.Profiles == nil {
		c.Profiles = map[string]Profile{}
	}
	for name := range c.Profiles {
		if err := ValidName(name); err != nil {
			return Config{}, fmt.Errorf("%s: %w", path, err)
		}
	}
	return c, nil
}

// Save writes the configuration to dir, whole or not at all, readable by
// its owner only (it names key files and administrators).
func (c Config) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, FileName), func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// Names are the profiles' names, sorted.
func (c Config) Names() []string {
	names := make([]string, 0, len(c.Profiles))
	for n := range c.Profiles {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Set sets one of Keys to value; an empty value unsets it.
func (p *Profile) Set(key, value string) error {
	str := map[string]*string{
		"customer": &p.Customer, "credentials": &p.Credentials, "subject": &p.Subject,
		"impersonate-service-account": &p.ImpersonateServiceAccount, "endpoint": &p.Endpoint,
		"api-version": &p.APIVersion, "state-dir": &p.StateDir,
	}
	if dst, ok := str[key]; ok {
		*dst = value
		return nil
	}
	num := map[string]**float64{"read-qps": &p.ReadQPS, "write-qps": &p.WriteQPS}
	dst, ok := num[key]
	if !ok {
		return fmt.Errorf("unknown setting %q: want one of %s", key, strings.Join(Keys, ", "))
	}
	if value == "" {
		*dst = nil
		return nil
	}
	f, err := strconv.ParseFloat(value, 64)
	if err != nil || f < 0 {
		return fmt.Errorf("%s %q: want a number of calls per second, 0 or more", key, value)
	}
	*dst = &f
	return nil
}

// Path resolves a file or folder named in a profile: "~/" is the home
// folder, and a relative path is relative to the configuration folder dir,
// wherever invitectl runs from.
func Path(p, dir string, getenv func(string) string) string {
	switch {
	case p == "":
		return ""
	case p == "~" || strings.HasPrefix(p, "~/") || strings.HasPrefix(p, `~\`):
		home := getenv("HOME")
		if runtime.GOOS == "windows" && getenv("USERPROFILE") != "" {
			home = getenv("USERPROFILE")
		}
		if home == "" {
			return p
		}
		return filepath.Join(home, p[1:])
	case filepath.IsAbs(p):
		return p
	}
	return filepath.Join(dir, p)
}
