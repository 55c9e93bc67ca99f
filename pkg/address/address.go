// Package address normalises and validates the plain e-mail addresses that
// name user invitations. Key is the one normal form: the input readers, the
// plan, the results journal, the ledger and the API port all key on it, so
// that two spellings of one address can never become two emails.
package address

import (
	"fmt"
	"net"
	"strings"
	"unicode"
)

// Key returns the canonical form of an address, or why it has none: the
// surrounding white space (any Unicode space, no-break spaces included) is
// trimmed, the rest is validated, and only then lower-cased, because Google
// compares account addresses without case. Validating first matters:
// strings.ToLower turns U+212A KELVIN SIGN into an ASCII "k", which would
// make a refused spelling collide with a real address. Key is idempotent.
func Key(s string) (string, error) {
	t := Trim(s)
	if err := Validate(t); err != nil {
		return "", err
	}
	return strings.ToLower(t), nil // ASCII only once validated
}

// IsKey reports whether s is already in the form Key returns.
func IsKey(s string) bool {
	k, err := Key(s)
	return err == nil && k == s
}

// Trim removes surrounding Unicode white space. It is what is kept of an
// address that Key refuses, so a report shows it as it was written.
func Trim(s string) string {
	return strings.TrimFunc(s, unicode.IsSpace)
}

// Validate reports why s is not a plain address, or nil. It accepts what can
// travel unescaped as the last segment of a resource name: exactly one '@',
// a local part of ASCII RFC 5322 atoms separated by single dots, and a
// dotted domain of ASCII letters, digits and hyphens. Case is not folded.
func Validate(s string) error {
	if s == "" {
		return fmt.Errorf("empty address")
	}
	if strings.ContainsAny(s, "<>\"") {
		return fmt.Errorf("%q is not a plain address (display names and quotes are not accepted)", s)
	}
	if strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return fmt.Errorf("%q contains white space", s)
	}
	if n := strings.Count(s, "@"); n != 1 {
		return fmt.Errorf("%q has %d '@' signs, want exactly one", s, n)
	}
	if len(s) > 254 {
		return fmt.Errorf("address is %d characters long, the limit is 254", len(s))
	}
	local, domain, _ := strings.Cut(s, "@")
	if err := validateLocal(local); err != nil {
		return fmt.Errorf("%q: %w", s, err)
	}
	if err := validateDomain(domain); err != nil {
		return fmt.Errorf("%q: %w", s, err)
	}
	return nil
}

func validateLocal(local string) error {
	switch {
	case local == "":
		return fmt.Errorf("empty local part")
	case len(local) > 64:
		return fmt.Errorf("local part is %d characters long, the limit is 64", len(local))
	case local[0] == '.' || local[len(local)-1] == '.':
		return fmt.Errorf("local part starts or ends with a dot")
	case strings.Contains(local, ".."):
		return fmt.Errorf("local part has two dots in a row")
	}
	for _, r := range local {
		if !isAtext(r) && r != '.' {
			return fmt.Errorf("local part contains %q", r)
		}
	}
	return nil
}

func validateDomain(domain string) error {
	if domain == "" {
		return fmt.Errorf("empty domain")
	}
	if strings.HasPrefix(domain, "[") && strings.HasSuffix(domain, "]") {
		return errIPDomain(domain) // an address literal (RFC 5321 section 4.1.3)
	}
	if !strings.Contains(domain, ".") {
		return fmt.Errorf("domain %q is not dotted", domain)
	}
	var tld string
	for l := range strings.SplitSeq(domain, ".") { // no slice: millions of addresses are checked
		tld = l
		if l == "" {
			return fmt.Errorf("domain %q has an empty label", domain)
		}
		if len(l) > 63 {
			return fmt.Errorf("domain label %q is longer than 63 characters", l)
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("domain label %q starts or ends with a hyphen", l)
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("domain %q contains %q", domain, r)
			}
		}
	}
	// RFC 3696 section 2: a top-level domain is never all digits.
	if strings.Trim(tld, "0123456789") == "" {
		if net.ParseIP(domain) != nil {
			return errIPDomain(domain)
		}
		return fmt.Errorf("domain %q ends in the numeric label %q, which no domain name has", domain, tld)
	}
	return nil
}

// errIPDomain refuses a domain that is an IP address: Google accounts are
// named by domain names only, so it is never an invitation's address.
func errIPDomain(domain string) error {
	return fmt.Errorf("domain %q is an IP address: a Google account's address has a domain name", domain)
}

// isAtext reports whether r may appear in an RFC 5322 atom, without the
// characters that would split or end a URL path ('/', '?', '#', '%').
func isAtext(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("!$&'*+-=^_`{|}~", r)
}
